"""Bad input through the real bot: each gets a short, polite answer, or silence in groups."""

from __future__ import annotations

import logging

import pytest

from handlers.commands import MEMBER_COMMANDS, ORGANISER_COMMANDS
from tests.club import ADMIN_ID, Club


async def test_stranger_without_start_is_invited(club: Club) -> None:
    stranger = club.user(201, language_code="ru")
    reply = await club.say(stranger, "привет")
    assert "/start" in (reply.text or "")
    reply = await club.say(stranger, "/me")
    assert "/start" in (reply.text or "")


async def test_stickers_gifs_video_and_unknown_commands(club: Club) -> None:
    user = club.user(202, language_code="en")
    await club.register(user)
    user.send_sticker()
    assert "stickers" in ((await user.expect_reply()).text or "")
    user.send_animation()
    assert "GIFs" in ((await user.expect_reply()).text or "")
    user.send_video()
    assert "videos" in ((await user.expect_reply()).text or "")
    reply = await club.say(user, "/frobnicate")
    assert "don't know that command" in (reply.text or "")


async def test_sticker_inside_the_dialogue_asks_for_text(club: Club) -> None:
    user = club.user(203, language_code="en")
    await club.say(user, "/start")
    await club.press(user, "English")
    user.send_sticker()
    reply = await user.expect_reply()
    assert "Please answer with text or a button" in (reply.text or "")


async def test_huge_text_as_name_is_refused_politely(club: Club) -> None:
    user = club.user(204, language_code="en")
    await club.say(user, "/start")
    await club.press(user, "English")
    reply = await club.say(user, "Я" * 4096)
    assert "too long" in (reply.text or "")
    reply = await club.say(user, "   ")
    assert reply.text


async def test_stale_button_gets_an_alert(club: Club) -> None:
    user = club.user(205, language_code="en")
    reply = await club.say(user, "/start")
    user.press_data(reply.message_id, "reg:hours:9-21")  # a step the member is not at
    answer = await user.expect_callback_answer()
    assert answer.show_alert and "no longer active" in (answer.text or "")
    user.press_data(reply.message_id, "garbage-data")
    answer = await user.expect_callback_answer()
    assert "no longer active" in (answer.text or "")


async def test_group_messages_get_silence(club: Club) -> None:
    user = club.user(206, language_code="en")
    group = user.in_group(-100500, title="Harbin friends")
    group.send_text("/start")
    group.send_text("hello")
    await group.expect_no_reply(within=0.3)


async def test_cancel_leaves_the_dialogue(club: Club) -> None:
    user = club.user(207, language_code="en")
    await club.say(user, "/start")
    await club.press(user, "English")
    reply = await club.say(user, "/cancel")
    assert "Stopped" in (reply.text or "")
    reply = await club.say(user, "Some name")
    assert "/start" in (reply.text or "")  # no longer in the dialogue


async def test_admin_commands_refused_for_members_and_logged(
    club: Club, caplog: pytest.LogCaptureFixture
) -> None:
    user = club.user(208, language_code="en")
    await club.register(user)
    with caplog.at_level(logging.WARNING):
        reply = await club.say(user, "/members")
    assert reply.text == "I don't know that command. /help lists what I can do."
    assert any(
        "refused an organisers' command from user 208" in r.getMessage() for r in caplog.records
    )
    admin = club.user(ADMIN_ID, language_code="en")
    await club.register(admin)
    reply = await club.say(admin, "/members")
    assert "Members: 2" in (reply.text or "")


async def test_command_menus_in_three_languages_and_organiser_scope(club: Club) -> None:
    for code in ("ru", "en", "zh"):
        commands = club.fake.commands({"type": "default"}, language_code=code)
        assert [c["command"] for c in commands] == [name for name, _ in MEMBER_COMMANDS]
    ru = {c["command"]: c["description"] for c in club.fake.commands({"type": "default"}, "ru")}
    zh = {c["command"]: c["description"] for c in club.fake.commands({"type": "default"}, "zh")}
    assert ru["start"] != zh["start"]
    organiser = club.fake.commands({"type": "chat", "chat_id": ADMIN_ID})
    names = [c["command"] for c in organiser]
    assert all(name in names for name, _ in ORGANISER_COMMANDS)


async def test_server_error_during_a_reply_gets_an_apology(
    club: Club, caplog: pytest.LogCaptureFixture
) -> None:
    user = club.user(209, language_code="en")
    club.fake.inject(method="sendMessage", chat_id=209, status=500, times=1)
    with caplog.at_level(logging.ERROR):
        user.send_text("/help")
        reply = await user.expect_reply()
    assert "Sorry, something went wrong" in (reply.text or "")
    assert any("update" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)


async def test_flood_is_throttled_politely(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.club import running_club

    async with running_club(tmp_path, throttle_rate=0.01, throttle_burst=3) as small:
        user = small.user(210, language_code="en")
        for i in range(8):
            user.send_text(f"message {i}")
        replies = await user.expect_replies(4)
        # Three pass, then one warning for the whole burst (updates run concurrently).
        warnings = [r for r in replies if "very fast" in (r.text or "")]
        assert len(warnings) == 1
        await user.expect_no_reply(within=0.3)


async def test_organisers_promote_and_remove(club: Club) -> None:
    admin = club.user(ADMIN_ID, language_code="en")
    await club.register(admin)
    helper = club.user(220, first_name="Vera", language_code="en")
    await club.register(helper)
    reply = await club.say(helper, "/admins")
    assert reply.text == "I don't know that command. /help lists what I can do."

    reply = await club.say(admin, "/admins add 220")
    assert "Added to the organisers" in (reply.text or "")
    assert "admins" in [c["command"] for c in club.fake.commands({"type": "chat", "chat_id": 220})]
    reply = await club.say(helper, "/members")
    assert "Members: 2" in (reply.text or "")
    reply = await club.say(helper, "/admins")
    assert "Vera, Telegram id 220" in (reply.text or "")
    assert f"Telegram id {ADMIN_ID} (from ADMIN_IDS" in (reply.text or "")
    reply = await club.say(helper, f"/admins remove {ADMIN_ID}")
    assert "only be removed there" in (reply.text or "")
    reply = await club.say(admin, "/admins remove 220")
    assert "Removed" in (reply.text or "")
    reply = await club.say(helper, "/members")
    assert reply.text == "I don't know that command. /help lists what I can do."

    # A member's forward is just a message; an organiser's forward promotes its author.
    helper.send_forwarded_text("hello", origin_user_id=ADMIN_ID)
    assert "didn't understand" in ((await helper.expect_reply()).text or "")
    admin.send_forwarded_text("hi from Vera", origin_user_id=220)
    assert "Added to the organisers" in ((await admin.expect_reply()).text or "")


async def test_help_lists_organiser_commands_only_to_organisers(club: Club) -> None:
    member = club.user(230, language_code="en")
    reply = await club.say(member, "/help")
    assert "/broadcast" not in (reply.text or "")
    admin = club.user(ADMIN_ID, language_code="ru")
    reply = await club.say(admin, "/help")
    assert "/broadcast: " in (reply.text or "") and "/plan: " in (reply.text or "")
    assert "Announce something" not in (reply.text or "")  # the Russian description is shown
