"""Fresh routers for one dispatcher, built from the handler modules' routers.

aiogram offers an update to the dispatcher's own handlers and then to the routers one after
another, and each visit costs a middleware chain built afresh, even an empty one: a member's
/me visited four routers before it found its handler. Neighbouring routers that have no
middlewares, observer filters, error handlers or sub-routers of their own behave exactly
like one router holding all their handlers in the same order, so they are joined; the first
such group goes straight into the dispatcher, whose own handlers are tried first anyway. The
others are copied as they are.

Building new routers per dispatcher also lets tests, benchmarks and the sandbox build several
dispatchers in one process: aiogram lets a router belong to one parent only.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Dispatcher, Router


def _is_plain(router: Router) -> bool:
    """No middlewares, observer-wide filters, error handlers or sub-routers of its own."""
    if router.sub_routers:
        return False
    for event_name, observer in router.observers.items():
        if len(observer.middleware) or len(observer.outer_middleware):
            return False
        if observer._handler.filters:  # what `observer.filter(...)` added
            return False
        if event_name == "error" and observer.handlers:
            return False  # an error handler answers for its own router's handlers only
    return True


def _copy_into(target: Router, source: Router, *, with_middlewares: bool) -> None:
    for event_name, observer in source.observers.items():
        into = target.observers[event_name]
        into.handlers.extend(observer.handlers)
        if with_middlewares:
            for middleware in observer.middleware:
                into.middleware(middleware)
            for middleware in observer.outer_middleware:
                into.outer_middleware(middleware)
            into._handler.filters = list(observer._handler.filters or [])
    target.startup.handlers.extend(source.startup.handlers)
    target.shutdown.handlers.extend(source.shutdown.handlers)


def fresh_routers(routers: Sequence[Router]) -> list[Router]:
    """New routers that handle updates as `routers` would, in fewer visits."""
    result: list[Router] = []
    group: list[Router] = []

    def close_group() -> None:
        if group:
            joined = Router(name="+".join(router.name for router in group))
            for router in group:
                _copy_into(joined, router, with_middlewares=False)
            result.append(joined)
            group.clear()

    for router in routers:
        if _is_plain(router):
            group.append(router)
            continue
        close_group()
        if router.sub_routers:
            raise ValueError(f"router {router.name!r} has sub-routers; include them directly")
        copy = Router(name=router.name)
        _copy_into(copy, router, with_middlewares=True)
        result.append(copy)
    close_group()
    return result


def include_handler_routers(dispatcher: Dispatcher, routers: Sequence[Router]) -> None:
    """Give the dispatcher these routers' handlers, in as few router visits as possible."""
    fresh = fresh_routers(routers)
    if fresh and _is_plain(fresh[0]) and _has_no_handlers(dispatcher):
        _copy_into(dispatcher, fresh.pop(0), with_middlewares=False)
    if fresh:
        dispatcher.include_routers(*fresh)


def _has_no_handlers(dispatcher: Dispatcher) -> bool:
    # The "update" observer holds the dispatcher's own entry point, not a handler of ours.
    return not dispatcher.sub_routers and not any(
        observer.handlers for name, observer in dispatcher.observers.items() if name != "update"
    )
