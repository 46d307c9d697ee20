"""/calendar through the real bot: links, the one-event file, and the reset button."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp

from sandbox.fake_api import UploadedFile
from scheduling.meetings.lifecycle import create_meeting, set_link
from tests.club import Club
from tests.ics_parsers import parse_all
from web.app import start_web

LINK = "https://meet.example.org/j/42"
FEED = re.compile(r"(https?://\S+/feed/([A-Za-z0-9_-]+)\.ics)")


async def test_calendar_gives_links_file_and_reset(club: Club) -> None:
    ctx = club.app.ctx
    user = club.user(501, language_code="en")
    await club.register(user)
    async with ctx.session_factory() as session:
        meeting = await create_meeting(
            session, club.clock.now() + timedelta(days=4), now=club.clock.now(), theme="Чай, 茶"
        )
        await session.commit()
        await set_link(session, meeting, LINK, now=club.clock.now())
        await session.commit()

    reply = await club.say(user, "/calendar")
    assert reply.text is not None
    https_url, token = FEED.search(reply.text).groups()  # type: ignore[union-attr]
    assert f"webcal://{https_url.split('://', 1)[1]}" in reply.text
    for app_name in ("Google Calendar", "Apple Calendar", "Outlook"):
        assert app_name in reply.text
    assert reply.button_labels == ["Make a new address"]

    document = await user.expect_reply()
    assert document.kind == "document"
    upload = club.fake.requests_for("sendDocument")[-1].params["document"]
    assert isinstance(upload, UploadedFile) and upload.filename.endswith(".ics")
    (event,) = parse_all(upload.data)
    assert event["uid"] == meeting.uid and event["url"] == LINK

    # The same token again on a second /calendar: subscriptions keep working.
    again = await club.say(user, "/calendar")
    assert token in (again.text or "")
    await user.expect_reply()

    runner = await start_web(ctx, "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/feed/{token}.ics") as response:
                assert response.status == 200
                (feed_event,) = parse_all(await response.read())
            assert feed_event["uid"] == meeting.uid

            edited = await club.press(user, "Make a new address")
            assert edited.edited
            new_token = FEED.search(edited.text or "").group(2)  # type: ignore[union-attr]
            assert new_token != token
            async with http.get(f"{base}/feed/{token}.ics") as response:
                assert response.status == 404
            async with http.get(f"{base}/feed/{new_token}.ics") as response:
                assert response.status == 200
    finally:
        await runner.cleanup()


async def test_calendar_in_russian_without_a_meeting(club: Club) -> None:
    user = club.user(502, language_code="ru")
    await club.register(user, lang="Русский", country="Австралия", city_prefix="Сидней")
    reply = await club.say(user, "/calendar")
    assert "Ваш личный календарь" in (reply.text or "")
    assert "/feed/" in (reply.text or "")
    await user.expect_no_reply(within=0.3)  # no meeting yet: no file


async def test_calendar_needs_registration(club: Club) -> None:
    user = club.user(503, language_code="en")
    reply = await club.say(user, "/calendar")
    assert "/start" in (reply.text or "")
