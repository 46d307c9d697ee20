"""One person's updates are handled one at a time, in order (bot/middlewares.Turns)."""

from __future__ import annotations

import asyncio

from bot.middlewares import Turns
from tests.club import Club


async def test_turns_run_one_person_in_order_and_others_alongside() -> None:
    turns = Turns()
    log: list[str] = []

    async def update(user_id: int, name: str, pause: float) -> None:
        async with turns.turn(user_id):
            log.append(f"{name} starts")
            await asyncio.sleep(pause)
            log.append(f"{name} ends")

    await asyncio.gather(
        update(1, "a1", 0.05),  # slow, arrives first
        update(1, "a2", 0.0),
        update(2, "b1", 0.0),  # someone else: need not wait for a1
        update(1, "a3", 0.0),
    )
    assert log.index("b1 ends") < log.index("a1 ends")
    mine = [entry for entry in log if entry.startswith("a")]
    assert mine == ["a1 starts", "a1 ends", "a2 starts", "a2 ends", "a3 starts", "a3 ends"]
    assert len(turns) == 0  # nothing kept once everyone is done


async def test_a_failing_update_releases_the_turn() -> None:
    turns = Turns()

    async def failing() -> None:
        async with turns.turn(7):
            raise RuntimeError("boom")

    results = await asyncio.gather(failing(), failing(), return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
    async with asyncio.timeout(1), turns.turn(7):
        pass
    assert len(turns) == 0


async def test_replies_keep_the_order_of_the_messages(club: Club) -> None:
    """The first reply is slow to send; the second message must still be answered second."""
    user = club.user(4401, first_name="Vera", language_code="en")
    await club.register(user)
    club.fake.inject("sendMessage", chat_id=4401, delay=0.4)
    user.send_text("/me")
    user.send_text("/help")
    first, second = await user.expect_replies(2)
    assert "Name: Vera" in (first.text or "")
    assert "/me" in (second.text or "")  # the help text lists the commands
    assert first.message_id < second.message_id


async def test_two_quick_presses_of_one_button_act_once(club: Club) -> None:
    """The second press sees the step the first one moved to, and is a stale button."""
    user = club.user(4402, first_name="Ivan", language_code="en")
    user.send_text("/start")
    await user.expect_reply()
    first = user.press("English")
    second = user.press("English")  # before the bot has handled the first
    await club.fake.wait_for(lambda: not club.fake.unanswered_callbacks())
    answers = {
        str(r.params["callback_query_id"]): r.params.get("text")
        for r in club.fake.requests_for("answerCallbackQuery")
    }
    assert answers[str(first)] is None  # the press did its work: no message needed
    assert "no longer active" in (answers[str(second)] or "")
    name_prompts = [m for m in user.messages() if "How should we call you" in (m.text or "")]
    assert len(name_prompts) == 1


async def test_a_turn_says_whether_it_waited_for_an_earlier_update() -> None:
    turns = Turns()
    seen: dict[str, bool] = {}

    async def update(name: str) -> None:
        async with turns.turn(1) as waited:
            seen[name] = waited
            await asyncio.sleep(0.01)

    await asyncio.gather(update("first"), update("second"))
    assert seen == {"first": False, "second": True}
