"""Talks and programmes: what the club's meetings are made of.

A member proposes a talk (/talk: title, a few lines, its language, its length, and
materials kept in the media store); organisers review proposals, ask for changes or
decline, or accept one into a slot of a meeting's programme; the speaker is told their
slot in their own time. The published programme lives on the meeting, written through
the meetings domain (scheduling/meetings/agenda.py) by whoever changes it here:

    meeting_id = await slots.accept(session, talk, meeting_id=..., position=2, minutes=20, now=now)
    items = await slots.published_items(session, meeting_id)
    await agenda.set_programme(session, meeting, items, now=now)

- `talks`: proposals (drafts, fields, materials, submitting, the review queue, answers);
- `slots`: programmes (accept into a slot, move, minutes, take out, the published items);
- `notices`: what a speaker is told, rendered when sent (kind "talk:<id>");
- `queries`: `programme_for_meeting` (for the web page of a meeting) and `proceedings`
  (one chapter per meeting for the exported book);
- `forget`: /forget for talks.

Special events (a conference day, a memorial service, an excursion) are meetings of
another kind (scheduling/meetings/lifecycle.py), so a programme belongs to any of them.
No module here imports Telegram, HTTP or another domain.
"""
