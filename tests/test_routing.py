"""bot/routing.py: joined routers route as the originals did; routers with their own
middlewares, filters or error handlers are kept apart, with those parts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import BaseMiddleware, Bot, Dispatcher, F, Router
from aiogram.filters import Command
from aiogram.types import Message, Update

from bot.app import build_dispatcher
from bot.routing import fresh_routers, include_handler_routers
from ground.context import AppContext

BOT = Bot("123456:routing-test-token")


def _update(text: str, update_id: int = 1) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(datetime(2027, 1, 9, tzinfo=UTC).timestamp()),
                "chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "is_bot": False, "first_name": "Anna"},
                "text": text,
            },
        }
    )


async def _route(routers: list[Router], text: str, *, into_dispatcher: bool = False) -> list[str]:
    dp = Dispatcher()
    if into_dispatcher:
        include_handler_routers(dp, routers)
    else:
        dp.include_routers(*fresh_routers(routers))
    seen: list[str] = []
    dp["seen"] = seen
    await dp.feed_update(BOT, _update(text))
    return seen


def _recording(name: str, *filters: Any) -> Router:
    router = Router(name=name)

    @router.message(*filters)
    async def handle(message: Message, seen: list[str]) -> None:
        seen.append(name)

    return router


async def test_neighbouring_plain_routers_become_one_and_keep_their_order() -> None:
    first, second, third = (
        _recording("first", Command("a")),
        _recording("second", F.text),
        _recording("third"),
    )
    joined = fresh_routers([first, second, third])
    assert [router.name for router in joined] == ["first+second+third"]
    assert len(joined[0].message.handlers) == 3
    assert await _route([first, second, third], "/a") == ["first"]
    assert await _route([first, second, third], "hello") == ["second"]
    # The module routers themselves were not attached to anything: they can serve again.
    assert first.parent_router is None
    assert await _route([first, second, third], "/a") == ["first"]


async def test_a_router_with_a_middleware_keeps_it_and_stays_apart() -> None:
    class Refuse(BaseMiddleware):
        async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
            data["seen"].append("refused")
            return None

    guarded = _recording("guarded", Command("admin"))
    guarded.message.middleware(Refuse())
    plain_before, plain_after = _recording("before", Command("a")), _recording("after")
    routers = [plain_before, guarded, plain_after]
    assert [router.name for router in fresh_routers(routers)] == ["before", "guarded", "after"]
    # The inner middleware still runs for the guarded router's handlers, and only there.
    for into_dispatcher in (False, True):
        assert await _route(routers, "/admin", into_dispatcher=into_dispatcher) == ["refused"]
        assert await _route(routers, "/a", into_dispatcher=into_dispatcher) == ["before"]
        assert await _route(routers, "other", into_dispatcher=into_dispatcher) == ["after"]


async def test_observer_filters_and_error_handlers_keep_a_router_apart() -> None:
    filtered = _recording("filtered")
    filtered.message.filter(F.text == "only this")
    with_errors = _recording("with errors", Command("boom"))

    @with_errors.errors()
    async def on_error(event: Any) -> bool:
        return True

    plain = _recording("plain")
    routers = [filtered, with_errors, plain]
    assert [router.name for router in fresh_routers(routers)] == [
        "filtered",
        "with errors",
        "plain",
    ]
    assert await _route(routers, "only this") == ["filtered"]
    assert await _route(routers, "anything else") == ["plain"]


def test_a_router_with_sub_routers_is_refused() -> None:
    parent = _recording("parent", Command("x"))
    parent.include_router(_recording("child"))
    with pytest.raises(ValueError, match="sub-routers"):
        fresh_routers([parent])


async def test_the_app_dispatcher_joins_the_members_routers(
    unconnected_app_context: AppContext,
) -> None:
    app_context = unconnected_app_context
    dispatcher = build_dispatcher(app_context)
    # The members' routers, joined, are the dispatcher's own handlers: tried first, as
    # they were when they came first among its routers.
    # (+1 the memoir dialogue's question about the public website; club_chat: /next in a
    # group and the /start links; talks: /talk, /mytalks and their steps; /grave,
    # /addgrave and /relatives with their steps and buttons)
    assert len(dispatcher.message.handlers) == 49
    assert len(dispatcher.callback_query.handlers) == 31
    names = [router.name for router in dispatcher.sub_routers]
    assert names == ["organisers", "calendar+webapp+fallback"]
    # Two dispatchers in one process, as tests and the sandbox build them.
    assert [r.name for r in build_dispatcher(app_context).sub_routers] == names


async def test_the_first_plain_group_goes_into_the_dispatcher_only_when_it_comes_first() -> None:
    first, second = _recording("first", Command("a")), _recording("second")
    dp = Dispatcher()
    include_handler_routers(dp, [first, second])
    assert len(dp.message.handlers) == 2 and not dp.sub_routers

    guarded = _recording("guarded", Command("a"))
    guarded.message.middleware(BaseMiddlewareThatPasses())
    dp = Dispatcher()
    include_handler_routers(dp, [guarded, first])
    # The guarded router must still be tried first, so nothing goes into the dispatcher.
    assert not dp.message.handlers
    assert [router.name for router in dp.sub_routers] == ["guarded", "first"]


class BaseMiddlewareThatPasses(BaseMiddleware):
    async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
        return await handler(event, data)
