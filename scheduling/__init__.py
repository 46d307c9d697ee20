"""When the club meets: the fair-time planner and everything around a meeting.

Sub-packages, top to bottom (the import contract in pyproject.toml holds the order):
- `planning/`: the monthly workflow (plan next month, put it before the organisers) and
  the texts of /plan and /fairness; `feeds/`: the iCalendar feeds and their queries;
- `meetings/`: a meeting's lifecycle (create, move, cancel, link, theme, RSVP), its notices
  and reminders as outbox rows and their texts, Zoom;
- `burden/`: the burden ledger in the database (what each meeting cost each member);
- `geo/`: places and time zones, local-time formatting; `planner/`: the pure planner.

No module here imports Telegram or HTTP server types.
"""
