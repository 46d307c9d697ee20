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


def test_every_members_command_handler_carries_the_flag(unconnected_app_context) -> None:  # type: ignore[no-untyped-def]
    from bot.app import build_dispatcher

    dispatcher = build_dispatcher(unconnected_app_context)
    flagged = {
        handler.callback.__name__
        for router in (dispatcher, *dispatcher.sub_routers)
        for handler in router.message.handlers + router.callback_query.handlers
        if handler.flags.get("registered")
    }
    assert {"cmd_next", "cmd_me", "cmd_calendar", "cmd_memoir", "on_rsvp"} <= flagged
