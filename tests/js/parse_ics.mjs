// Reads an .ics from stdin, parses it with Mozilla's ical.js and prints JSON:
// {"calendar": {...top-level properties}, "events": [{uid, summary, description, status,
// sequence, dtstart, dtend, url, location}]}. Times are UTC ISO strings. Exit 1 on error.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString("utf8");

const utc = (time) => (time ? time.toJSDate().toISOString() : null);

try {
  const root = new ICAL.Component(ICAL.parse(text));
  const calendar = {};
  for (const prop of root.getAllProperties()) {
    calendar[prop.name] = String(prop.getFirstValue());
  }
  const events = root.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    const value = (name) => {
      const v = vevent.getFirstPropertyValue(name);
      return v === null || v === undefined ? null : String(v);
    };
    return {
      uid: event.uid,
      summary: event.summary,
      description: event.description ?? null,
      status: value("status"),
      sequence: event.sequence,
      dtstart: utc(event.startDate),
      dtend: utc(event.endDate),
      url: value("url"),
      location: event.location ?? null,
      valarms: vevent.getAllSubcomponents("valarm").length,
    };
  });
  process.stdout.write(JSON.stringify({ calendar, events }));
} catch (error) {
  process.stderr.write(`ical.js failed: ${error}\n`);
  process.exit(1);
}
