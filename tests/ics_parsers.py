"""Parse an .ics three ways (icalendar, vobject, ical.js under Node) into one shape.

Every feed test runs its body through `parse_all`, which asserts the three agree and
returns their common reading.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import vobject
from icalendar import Calendar

ROOT = Path(__file__).resolve().parent.parent
NODE_SCRIPT = ROOT / "tests" / "js" / "parse_ics.mjs"

Event = dict[str, Any]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def with_icalendar(body: bytes) -> list[Event]:
    cal = Calendar.from_ical(body)
    return [
        {
            "uid": str(ev["UID"]),
            "summary": str(ev["SUMMARY"]),
            "description": _opt(ev.get("DESCRIPTION")),
            "status": str(ev["STATUS"]),
            "sequence": int(ev["SEQUENCE"]),
            "dtstart": _iso(ev["DTSTART"].dt),
            "dtend": _iso(ev["DTEND"].dt),
            "url": _opt(ev.get("URL")),
        }
        for ev in cal.walk("VEVENT")
    ]


def with_vobject(body: bytes) -> list[Event]:
    cal = vobject.readOne(body.decode("utf-8"))
    events = []
    for ev in getattr(cal, "vevent_list", []):
        contents = ev.contents
        events.append(
            {
                "uid": ev.uid.value,
                "summary": ev.summary.value,
                "description": ev.description.value if "description" in contents else None,
                "status": ev.status.value,
                "sequence": int(ev.sequence.value),
                "dtstart": _iso(ev.dtstart.value),
                "dtend": _iso(ev.dtend.value),
                "url": ev.url.value if "url" in contents else None,
            }
        )
    return events


def with_icaljs(body: bytes) -> tuple[dict[str, str], list[Event]]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "ical.js").exists():
        raise AssertionError("node and node_modules/ical.js are needed: run `npm install`")
    done = subprocess.run(
        [node, str(NODE_SCRIPT)], input=body, capture_output=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    data = json.loads(done.stdout)
    events = [
        {
            "uid": e["uid"],
            "summary": e["summary"],
            "description": e["description"],
            "status": e["status"],
            "sequence": e["sequence"],
            "dtstart": e["dtstart"].replace(".000Z", "Z"),
            "dtend": e["dtend"].replace(".000Z", "Z"),
            "url": e["url"],
        }
        for e in data["events"]
    ]
    assert all(e["valarms"] == 0 for e in data["events"])
    return data["calendar"], events


def parse_all(body: bytes) -> list[Event]:
    """The events as all three parsers read them; fails if any parser disagrees."""
    first = with_icalendar(body)
    second = with_vobject(body)
    _calendar, third = with_icaljs(body)
    assert first == second, f"icalendar and vobject disagree:\n{first}\n{second}"
    assert first == third, f"icalendar and ical.js disagree:\n{first}\n{third}"
    return first
