"""The two gates (handlers/gates.py): one check of registration for every flagged handler,
one organisers' router whose gate refuses everyone else."""

from __future__ import annotations

from tests.club import Club

NOT_REGISTERED = "You are not registered yet. Send /start to join the club."
MEMBERS_ONLY = (
    "/me",
    "/settings",
    "/next",
    "/calendar",
    "/unavailable 2027-02-13",
    "/memoir",
    "/my",
    "/archive",
    "/memoir_prompts",
    "/lang en",
    "/tz Berlin",
    "/name Anna",
    "/hours 10-20",
)


async def test_every_members_command_asks_a_stranger_to_join(club: Club) -> None:
    stranger = club.user(881, language_code="en")
    for command in MEMBERS_ONLY:
        reply = await club.say(stranger, command)
        assert reply.text == NOT_REGISTERED, command
    assert await club.member(881) is None
    # /forget is open to all: a stranger hears that nothing is stored about them.
    assert (await club.say(stranger, "/forget")).text == "I store nothing about you."


async def test_a_members_button_pressed_by_a_stranger_is_answered_not_run(club: Club) -> None:
    stranger = club.user(882, language_code="en")
    await club.say(stranger, "/help")
    stranger.press_data(stranger.messages()[-1].message_id, "rsvp:1:yes")
    answer = await stranger.expect_callback_answer()
    assert answer.text == NOT_REGISTERED


def test_every_members_command_handler_is_gated(unconnected_app_context) -> None:  # type: ignore[no-untyped-def]
    from bot.app import build_dispatcher

    dispatcher = build_dispatcher(unconnected_app_context)
    flagged = {
        handler.callback.__name__
        for router in (dispatcher, *dispatcher.sub_routers)
        for handler in router.message.handlers + router.callback_query.handlers
        if getattr(handler.callback, "needs_registration", False)
    }
    assert {"cmd_next", "cmd_me", "cmd_calendar", "cmd_memoir", "on_rsvp"} <= flagged


async def test_an_unregistered_organiser_gets_notices_in_the_language_they_use(
    club: Club,
) -> None:
    """An organiser from ADMIN_IDS who never registered speaks Chinese to the bot: the
    notice of a new memoir reaches them in Chinese, as their replies do (one place decides)."""
    from tests.club import ADMIN_ID

    organiser = club.user(ADMIN_ID, language_code="zh-hans")
    reply = await club.say(organiser, "/meeting")  # any organiser command
    assert "请" in (reply.text or "")
    anna = club.user(883, first_name="Anna", language_code="en")
    await club.register(anna)
    await club.say(anna, "/memoir")
    await club.say(anna, "Собор на Соборной площади.")
    await club.press(anna, "✅ Done")
    await club.say(anna, "Собор")
    for _ in range(3):
        await club.press(anna, "Skip")
    await club.press(anna, "🌐 Yes, with my name")
    await club.app.delivery.drain()
    notice = organiser.messages()[-1].text or ""
    assert "/review" in notice and "Собор" in notice
    assert "New memoir" not in notice and "新" in notice


async def test_the_language_chosen_at_start_survives_cancel(club: Club) -> None:
    person = club.user(884, language_code="en")
    await club.say(person, "/start")
    await club.press(person, "中文")
    reply = await club.say(person, "/cancel")
    assert "/start" in (reply.text or "") and "Send /start" not in (reply.text or "")
