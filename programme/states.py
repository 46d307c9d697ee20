"""A talk's states: draft → proposed → accepted | changes (back to the speaker) | declined."""

from __future__ import annotations

DRAFT = "draft"
PROPOSED = "proposed"
CHANGES = "changes"
ACCEPTED = "accepted"
DECLINED = "declined"
