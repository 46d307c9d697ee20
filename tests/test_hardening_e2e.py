"""What an attacker or a careless organiser could do, tried through the real bot (issue 14):
far-off dates, numbers out of range, undecodable updates, invisible names, a calendar
address that could not be shown, and what /forget leaves in the database files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Meeting, Organiser
from tests.club import ADMIN_ID, Club
from tests.dburl import on_postgres

STALE_BUTTON = "This button is no longer active. Please send the command again."


async def _organiser(club: Club):  # type: ignore[no-untyped-def]
    admin = club.user(ADMIN_ID, language_code="en")
    await club.register(admin)
    return admin


async def test_dates_outside_a_sane_window_are_refused_with_a_reason(club: Club) -> None:
    admin = await _organiser(club)
    cases = {
        "/meeting 9999-12-31 23:00 UTC": "too far ahead",
        "/meeting 2031-01-01 10:00 UTC": "too far ahead",
        "/meeting 1800-01-01 10:00 UTC": "already passed",
        "/plan 9999-12": "Please choose a month from 2027-01 to 2029-12.",
        "/plan 1800-01": "Please choose a month from 2027-01 to 2029-12.",
    }
    for command, expected in cases.items():
        reply = await club.say(admin, command)
        assert expected in (reply.text or ""), (command, reply.text)
    reply = await club.say(admin, "/meeting 2027-02-13 10:00 UTC")
    assert "The meeting is set" in (reply.text or "")
    reply = await club.say(admin, "/reschedule 9999-12-31 20:00 Pacific/Kiritimati")
    assert "too far ahead" in (reply.text or "")
    async with club.app.ctx.session_factory() as session:
        meeting = await session.scalar(select(Meeting))
    assert meeting is not None and meeting.starts_at.year == 2027


async def test_a_bad_date_is_reported_before_a_missing_zone(club: Club) -> None:
    stranger_admin = club.user(ADMIN_ID, language_code="en")  # an organiser not registered
    reply = await club.say(stranger_admin, "/meeting 2027-13-45 10:00")
    assert "can't read that date" in (reply.text or "")


async def test_forged_numbers_out_of_range_are_a_stale_button_not_an_error(club: Club) -> None:
    member = club.user(1401, language_code="en")
    await club.register(member)
    message_id = member.messages()[-1].message_id
    for data in ("rsvp:99999999999999999999999:yes", "plan:99999999999999999999", "att:-1:1"):
        member.press_data(message_id, data)
        answer = await member.expect_callback_answer()
        assert answer.text == STALE_BUTTON, data
    assert not any("Sorry" in (m.text or "") for m in member.messages())


async def test_organiser_ids_out_of_range_are_refused(club: Club) -> None:
    admin = await _organiser(club)
    for command in ("/admins add 99999999999999999999999", "/admins add -5", "/admins add 0"):
        reply = await club.say(admin, command)
        assert reply.text == "Please write /admins add 123456789 or /admins remove 123456789."
    async with club.app.ctx.session_factory() as session:
        assert list(await session.scalars(select(Organiser))) == []


async def test_an_undecodable_update_is_skipped_and_the_rest_flow(club: Club, caplog) -> None:  # type: ignore[no-untyped-def]
    member = club.user(1402, language_code="en")
    bad = club.fake.push_raw_update(
        {"message": {"message_id": "not a number", "date": "yesterday", "chat": {"id": 1402}}}
    )
    # A private message without a sender: nobody to answer, and nothing breaks.
    club.fake.push_raw_update(
        {
            "message": {
                "message_id": 77,
                "date": 1_800_000_000,
                "chat": {"id": 1402, "type": "private"},
                "text": "/help",
            }
        }
    )
    reply = await club.say(member, "/help")
    assert "Here is what I can do" in (reply.text or "")
    assert f"skipped update {bad}" in caplog.text
    assert len([m for m in member.messages() if "Here is what I can do" in (m.text or "")]) == 1


@pytest.mark.parametrize(
    "typed", ["\u200b\u200b", "\u2060 \u200d", "Anna\x00", "...", "\u202e\u202d"]
)
async def test_names_of_invisible_characters_or_with_nul_are_refused(
    club: Club, typed: str
) -> None:
    member = club.user(1403, language_code="en")
    await club.register(member)
    reply = await club.say(member, f"/name {typed}")
    assert "Please write your name after the command" in (reply.text or "")
    saved = await club.member(1403)
    assert saved is not None and saved.name == "Anna"


async def test_a_new_calendar_address_is_always_delivered_before_the_old_one_stops(
    club: Club,
) -> None:
    member = club.user(1404, language_code="en")
    await club.register(member)
    first = await club.say(member, "/calendar")
    old_token = (await club.member(1404)).feed_token  # type: ignore[union-attr]
    club.fake.inject(
        "editMessageText", status=400, description="Bad Request: message can't be edited"
    )
    member.press_data(first.message_id, "cal:reset")
    answer = await member.expect_callback_answer()
    assert "old address no longer works" in (answer.text or "")
    new_token = (await club.member(1404)).feed_token  # type: ignore[union-attr]
    assert new_token and new_token != old_token
    newest = member.messages()[-1]
    assert newest.message_id != first.message_id  # sent as a new message
    assert new_token in (newest.text or "")


@pytest.mark.sqlite_only
async def test_forget_leaves_no_readable_trace_in_the_database_files(
    club: Club, tmp_path: Path
) -> None:
    assert not on_postgres()
    member = club.user(1405, first_name="Zyxwaldemar", language_code="en")
    await club.register(member)
    await club.say(member, "/name Qwertinskaya Zyxwaldemar")
    await club.say(member, "/forget")
    await club.press(member, "Yes, delete everything")
    assert await club.member(1405) is None
    for name, content in _sqlite_files(tmp_path):
        assert b"Qwertinskaya" not in content, name
        assert b"Zyxwaldemar" not in content, name


def _sqlite_files(folder: Path) -> list[tuple[str, bytes]]:
    found = [(p.name, p.read_bytes()) for p in folder.rglob("*.sqlite3*") if p.is_file()]
    assert found, "the test's SQLite files were not found"
    return found
