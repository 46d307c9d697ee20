"""Updates per second through the whole stack, against a bare aiogram dispatcher.

    .venv/bin/python -m bench.updates            # 100 users, sequential and 16 in flight
    .venv/bin/python -m bench.updates --quick    # a smoke run with a few users
    .venv/bin/python -m bench.updates --profile  # also cProfile the full-stack sequential run

The full stack is the production dispatcher (`open_app`: migrated SQLite file, i18n catalogs,
every middleware and router). Simulated users each go through the /start dialogue by its
buttons (language, name, country, city, confirm, hours, consent) and then send /me a few
times; their updates are randomly interleaved, each user's own order kept. The baseline is a
bare `Dispatcher()` with one echo handler, fed as many text messages by the same users.

The three sides (bare echo; a bare dispatcher making the full stack's Bot API calls; the full
stack) are set up side by side and fed in turns of `--chunk` updates each, so that the
machine's wandering speed falls on all of them alike. Each mode runs `--rounds` such rounds
(a fresh database and app for each) and reports the median round's ratio.

Both bots use `RecordingSession`: it encodes every request and decodes a plausible response
with aiogram's own code (`prepare_value`, `check_response`), so both sides pay the same Bot API
cost minus the network. Updates are parsed before the clock starts; each `feed_update` is
timed on its own (latency) and the whole run together (rate).

After the full-stack run the benchmark checks that it measured working code: every simulated
user is a registered member with consent and the expected name, zone and hours, every /me
reply carries the member's name, each user got exactly the expected Bot API calls, and
nothing was logged as an error. Any failure ends the run with exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import itertools
import logging
import math
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, Update
from sqlalchemy import select

from bot.response_models import pin_response_models
from bot.runner import RunningApp, open_app
from db.models import Member
from ground.clock import FixedClock
from ground.settings import Settings, load_settings
from handlers.callbacks import RegCb

TOKEN = "123456:BENCH-token-for-the-recording-session"
BOT_ID = 123456
BOT_USER: dict[str, Any] = {"id": BOT_ID, "is_bot": True, "first_name": "Harbin Club"}
# Saturday 9 January 2027, 11:32 UTC, as in the end-to-end tests.
NOW = datetime(2027, 1, 9, 11, 32, tzinfo=UTC)
UNIX_NOW = int(NOW.timestamp())
FIRST_USER_ID = 10_000
WARM_USER_ID = 9_000_000
AIM_RATIO = 1 / 3

LANGS = ("en", "ru", "zh")
PLACES = (
    ("AU", "Australia/Sydney"),
    ("RU", "Europe/Moscow"),
    ("DE", "Europe/Berlin"),
    ("CN", "Asia/Shanghai"),
    ("KZ", "Asia/Almaty"),
    ("CA", "America/Vancouver"),
    ("US", "America/Chicago"),
)
HOURS = ("9-21", "10-18", "8-22", "12-20")
FIRST_NAMES = ("Anna", "Boris", "Chen", "Dana", "Елена", "Felix", "Галина", "Hiro")
LAST_NAMES = ("Ivanova", "Li", "Schmidt", "Петров", "王", "O'Brien")


class BenchFailure(Exception):
    """The measured path did not do what it should; its figures mean nothing."""


# ---------------------------------------------------------------- the Bot API, in memory


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API request: `to` is the chat id, or the callback query id."""

    method: str
    to: str
    text: str


class RecordingSession(BaseSession):
    """Answers every request in memory after encoding it and decoding a plausible response
    the way `AiohttpSession` does; only the HTTP round trip is left out."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1000)
        )

    async def close(self) -> None:
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - the base class signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("the benchmark downloads no files")
        yield b""  # an async generator, like the method it overrides

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - the base class signature
    ) -> TelegramType:
        files: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                fields[key] = prepared
        result: Any = True
        if isinstance(method, SendMessage | EditMessageText):
            chat_id = int(fields["chat_id"])
            if isinstance(method, SendMessage):
                message_id = next(self._message_ids[chat_id])
            else:
                message_id = int(fields["message_id"])
            result = {
                "message_id": message_id,
                "date": UNIX_NOW,
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": fields["text"],
            }
            if isinstance(method, EditMessageText):
                result["edit_date"] = UNIX_NOW
            self.calls.append(Call(method.__api_method__, str(chat_id), fields["text"]))
        elif isinstance(method, AnswerCallbackQuery):
            self.calls.append(Call(method.__api_method__, fields["callback_query_id"], ""))
        else:
            self.calls.append(Call(method.__api_method__, str(fields.get("chat_id", "")), ""))
        content = self.json_dumps({"ok": True, "result": result})
        response = self.check_response(bot=bot, method=method, status_code=200, content=content)
        return cast(TelegramType, response.result)


def recording_bot() -> tuple[Bot, RecordingSession]:
    session = RecordingSession()
    bot = Bot(token=TOKEN, session=session, default=DefaultBotProperties(parse_mode=None))
    return bot, session


# ---------------------------------------------------------------- simulated users and updates


@dataclass(frozen=True, slots=True)
class SimUser:
    id: int
    first_name: str
    last_name: str
    lang: str
    country: str
    zone: str
    hours: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def make_users(count: int, first_id: int) -> list[SimUser]:
    users = []
    for i in range(count):
        country, zone = PLACES[i % len(PLACES)]
        users.append(
            SimUser(
                id=first_id + i,
                first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                last_name=f"{LAST_NAMES[i % len(LAST_NAMES)]} {i}",
                lang=LANGS[i % len(LANGS)],
                country=country,
                zone=zone,
                hours=HOURS[i % len(HOURS)],
            )
        )
    return users


class UpdateFactory:
    """Telegram-shaped updates, parsed into `Update` objects bound to the bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._update_ids = itertools.count(1)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )

    @staticmethod
    def _from(user: SimUser) -> dict[str, Any]:
        return {
            "id": user.id,
            "is_bot": False,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "language_code": user.lang,
        }

    @staticmethod
    def _chat(user: SimUser) -> dict[str, Any]:
        return {
            "id": user.id,
            "type": "private",
            "first_name": user.first_name,
            "last_name": user.last_name,
        }

    def message(self, user: SimUser, text: str) -> Update:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[user.id]),
            "date": UNIX_NOW,
            "chat": self._chat(user),
            "from": self._from(user),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        raw = {"update_id": next(self._update_ids), "message": message}
        return Update.model_validate(raw, context={"bot": self.bot})

    def callback(self, user: SimUser, data: str) -> Update:
        update_id = next(self._update_ids)
        raw = {
            "update_id": update_id,
            "callback_query": {
                "id": f"{user.id}:{update_id}",
                "from": self._from(user),
                "chat_instance": f"ci{user.id}",
                "data": data,
                # The bot's dialogue message whose button was pressed.
                "message": {
                    "message_id": 1000,
                    "date": UNIX_NOW,
                    "chat": self._chat(user),
                    "from": BOT_USER,
                    "text": "…",
                },
            },
        }
        return Update.model_validate(raw, context={"bot": self.bot})


def registration_callbacks(user: SimUser) -> list[str]:
    steps = (
        ("lang", user.lang),
        ("name", "profile"),
        ("country", user.country),
        ("zone", user.zone),
        ("confirm", "yes"),
        ("hours", user.hours),
        ("consent", "yes"),
    )
    return [RegCb(step=step, value=value).pack() for step, value in steps]


Schedule = list[tuple[int, Update]]


def interleave(scripts: dict[int, list[Update]], rng: random.Random) -> Schedule:
    """A random merge of the users' scripts; each user's own order is kept."""
    cursors = dict.fromkeys(scripts, 0)
    active = list(scripts)
    schedule: Schedule = []
    while active:
        index = rng.randrange(len(active))
        user_id = active[index]
        position = cursors[user_id]
        schedule.append((user_id, scripts[user_id][position]))
        cursors[user_id] = position + 1
        if position + 1 == len(scripts[user_id]):
            active[index] = active[-1]
            active.pop()
    return schedule


def full_stack_schedule(
    factory: UpdateFactory, users: Sequence[SimUser], me_count: int, rng: random.Random
) -> Schedule:
    scripts: dict[int, list[Update]] = {}
    for user in users:
        script = [factory.message(user, "/start")]
        script += [factory.callback(user, data) for data in registration_callbacks(user)]
        script += [factory.message(user, "/me") for _ in range(me_count)]
        scripts[user.id] = script
    return interleave(scripts, rng)


def echo_texts(user: SimUser, count: int) -> list[str]:
    return [f"hello {i} from {user.first_name}" for i in range(count)]


def bare_schedule(
    factory: UpdateFactory, users: Sequence[SimUser], per_user: int, rng: random.Random
) -> Schedule:
    scripts = {
        user.id: [factory.message(user, text) for text in echo_texts(user, per_user)]
        for user in users
    }
    return interleave(scripts, rng)


# ---------------------------------------------------------------- driving and timing


@dataclass
class Result:
    scenario: str
    seconds: float
    cpu_seconds: float  # the process's CPU time, all threads: steadier on a busy machine
    latencies: list[float] = field(repr=False)

    @property
    def updates(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(q * len(ordered)))  # nearest rank
        return ordered[rank - 1] * 1000


async def drive(
    dp: Dispatcher,
    bot: Bot,
    schedule: Schedule,
    concurrency: int,
    profiler: cProfile.Profile | None = None,
) -> tuple[float, float, list[float]]:
    """Feed the schedule; return the wall time, the CPU time and each update's latency (s).

    With concurrency > 1, up to that many updates are in flight, taken in schedule order;
    a user's next update waits for the previous one, as a person waits for the reply.
    """
    latencies: list[float] = []
    if profiler is not None:
        profiler.enable()
    cpu_start = time.process_time()
    start = time.perf_counter()
    if concurrency <= 1:
        for _, update in schedule:
            t0 = time.perf_counter()
            await dp.feed_update(bot, update)
            latencies.append(time.perf_counter() - t0)
    else:
        slots = asyncio.Semaphore(concurrency)
        in_flight: dict[int, asyncio.Task[None]] = {}

        async def one(update: Update) -> None:
            try:
                t0 = time.perf_counter()
                await dp.feed_update(bot, update)
                latencies.append(time.perf_counter() - t0)
            finally:
                slots.release()

        for user_id, update in schedule:
            previous = in_flight.get(user_id)
            if previous is not None:
                await previous
            await slots.acquire()
            in_flight[user_id] = asyncio.create_task(one(update))
        await asyncio.gather(*in_flight.values())
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    if profiler is not None:
        profiler.disable()
    return seconds, cpu_seconds, latencies


class ErrorCounter(logging.Handler):
    """Counts ERROR records: the app's error handler logs every failed update."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def median_round(rounds: Sequence[Result]) -> Result:
    """The round with the median rate (the lower middle one for an even count)."""
    ordered = sorted(rounds, key=lambda result: result.rate)
    return ordered[(len(ordered) - 1) // 2]


def mode_name(concurrency: int) -> str:
    return "sequential" if concurrency <= 1 else f"{concurrency} in flight"


# ---------------------------------------------------------------- the two sides


def bare_dispatcher() -> Dispatcher:
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dp = Dispatcher()
    dp.include_router(router)
    return dp


def same_calls_dispatcher() -> Dispatcher:
    """A bare dispatcher that makes the full stack's Bot API calls for the same updates:
    a message gets a message back; a button press edits its message and answers the press.
    The gap between it and the full stack is what the stack itself costs."""
    router = Router(name="same-calls")

    @router.message()
    async def reply(message: Message) -> None:
        await message.answer(message.text or "")

    @router.callback_query()
    async def press(query: CallbackQuery) -> None:
        if isinstance(query.message, Message):
            await query.message.edit_text(query.data or "")
        await query.answer()

    dp = Dispatcher()
    dp.include_router(router)
    return dp


MakeSchedule = Callable[[UpdateFactory, Sequence[SimUser], random.Random], Schedule]


@dataclass
class Side:
    """One dispatcher under measurement: its bot, its timed script, and what it took so far."""

    label: str
    dp: Dispatcher
    bot: Bot
    session: RecordingSession
    schedule: Schedule
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)

    @property
    def remaining(self) -> int:
        return len(self.schedule) - len(self.latencies)

    def result(self, concurrency: int) -> Result:
        return Result(
            f"{self.label}, {mode_name(concurrency)}",
            self.seconds,
            self.cpu_seconds,
            self.latencies,
        )


async def prepare_side(
    label: str,
    dp: Dispatcher,
    make_schedule: MakeSchedule,
    warm: Sequence[SimUser],
    users: Sequence[SimUser],
    concurrency: int,
    seed: int,
) -> Side:
    """Run the warm-up users' script, and make the timed one; the same for every side."""
    bot, session = recording_bot()
    factory = UpdateFactory(bot)
    rng = random.Random(seed)
    await drive(dp, bot, make_schedule(factory, warm, rng), concurrency)
    schedule = make_schedule(factory, users, rng)
    session.calls.clear()
    return Side(label, dp, bot, session, schedule)


async def measure_interleaved(
    sides: Sequence[Side],
    concurrency: int,
    chunk: int,
    profiler: cProfile.Profile | None = None,
    profiled: Side | None = None,
) -> None:
    """Feed the sides' scripts in turns of `chunk` updates each, until all are done.

    The machine's speed wanders by a fifth within a second here (other guests on the host),
    so whole runs taken one after another compared different machines. In turns of a few
    tens of milliseconds each, every side sees the same machine.
    """
    gc.collect()
    while any(side.remaining for side in sides):
        for side in sides:
            done = len(side.latencies)
            part = side.schedule[done : done + chunk]
            if not part:
                continue
            seconds, cpu, latencies = await drive(
                side.dp, side.bot, part, concurrency, profiler if side is profiled else None
            )
            side.seconds += seconds
            side.cpu_seconds += cpu
            side.latencies += latencies


def bare_problems(side: Side, users: Sequence[SimUser], per_user: int) -> list[str]:
    problems: list[str] = []
    replies: defaultdict[str, list[str]] = defaultdict(list)
    for call in side.session.calls:
        if call.method != "sendMessage":
            problems.append(f"unexpected {call.method}")
        replies[call.to].append(call.text)
    for user in users:
        if replies[str(user.id)] != echo_texts(user, per_user):
            problems.append(f"user {user.id}: echo replies {replies[str(user.id)][:3]!r}…")
    return problems


def bench_settings(workdir: Path) -> Settings:
    return load_settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{workdir / 'club.sqlite3'}",
        media_dir=str(workdir / "media"),
        default_locale="ru",
        # Simulated users click far faster than people; flood control is not measured here.
        throttle_rate=1e9,
        throttle_burst=10**9,
    )


@dataclass
class Round:
    bare: Result
    same: Result
    full: Result

    @property
    def ratio(self) -> float:
        return self.full.rate / self.bare.rate

    @property
    def cpu_ratio(self) -> float:
        return self.bare.cpu_seconds / self.full.cpu_seconds

    @property
    def same_ratio(self) -> float:
        return self.full.rate / self.same.rate


async def run_round(
    args: argparse.Namespace,
    users: Sequence[SimUser],
    warm: Sequence[SimUser],
    per_user: int,
    concurrency: int,
    profiler: cProfile.Profile | None,
) -> Round:
    """The three sides set up side by side, measured in turns, then each checked."""
    me_count, seed = args.me, args.seed
    errors = ErrorCounter()
    logging.getLogger().addHandler(errors)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-updates-") as tmp:
            async with open_app(
                bench_settings(Path(tmp)),
                token=TOKEN,
                api_base="http://127.0.0.1:9",
                clock=FixedClock(NOW),
            ) as app:
                full_script: MakeSchedule = lambda factory, who, rng: full_stack_schedule(  # noqa: E731
                    factory, who, me_count, rng
                )
                bare = await prepare_side(
                    "bare echo",
                    bare_dispatcher(),
                    lambda factory, who, rng: bare_schedule(factory, who, per_user, rng),
                    warm,
                    users,
                    concurrency,
                    seed,
                )
                same = await prepare_side(
                    "bare, same calls",
                    same_calls_dispatcher(),
                    full_script,
                    warm,
                    users,
                    concurrency,
                    seed,
                )
                full = await prepare_side(
                    "full stack", app.dp, full_script, warm, users, concurrency, seed
                )
                await measure_interleaved(
                    (bare, same, full), concurrency, args.chunk, profiler, profiled=full
                )
                full_problems = [
                    f"logged error: {record.getMessage()}" for record in errors.records[:5]
                ] + await full_stack_problems(app, full.session, users, me_count)
    finally:
        logging.getLogger().removeHandler(errors)
    check("bare dispatcher", bare_problems(bare, users, per_user))
    check("bare, same calls", call_count_problems(same.session, users, me_count))
    check("full stack", full_problems)
    return Round(bare.result(concurrency), same.result(concurrency), full.result(concurrency))


async def full_stack_problems(
    app: RunningApp, session: RecordingSession, users: Sequence[SimUser], me_count: int
) -> list[str]:
    problems: list[str] = []
    by_id = {user.id: user for user in users}
    async with app.ctx.session_factory() as db:
        members = list(await db.scalars(select(Member).where(Member.telegram_id.in_(list(by_id)))))
    if len(members) != len(users):
        problems.append(f"{len(members)} members in the database, expected {len(users)}")
    for member in members:
        user = by_id[member.telegram_id]
        start, end = (int(h) * 60 for h in user.hours.split("-"))
        expected = (user.full_name, user.lang, user.country, user.zone, start, end)
        got = (
            member.name,
            member.locale,
            member.country,
            member.zone,
            member.hours_start,
            member.hours_end,
        )
        if member.consent_at is None or not member.is_registered:
            problems.append(f"member {member.telegram_id}: no consent or not registered")
        if got != expected:
            problems.append(f"member {member.telegram_id}: stored {got}, expected {expected}")

    problems += call_count_problems(session, users, me_count)
    sends: defaultdict[int, list[str]] = defaultdict(list)
    for call in session.calls:
        if call.method == "sendMessage":
            sends[int(call.to)].append(call.text)
    for user in users:
        me_replies = sends[user.id][1:]
        if len(me_replies) != me_count or not all(user.full_name in t for t in me_replies):
            problems.append(f"user {user.id}: /me replies lack the name: {me_replies[:1]!r}")
    return problems


def call_count_problems(
    session: RecordingSession, users: Sequence[SimUser], me_count: int
) -> list[str]:
    """Each user got one message per /start and /me, and an edit and an answer per press."""
    problems: list[str] = []
    counts: Counter[tuple[str, int]] = Counter()
    for call in session.calls:
        user_id = int(call.to.split(":", 1)[0])
        counts[call.method, user_id] += 1
    steps = len(registration_callbacks(users[0])) if users else 0
    expected_calls = {
        "sendMessage": 1 + me_count,
        "editMessageText": steps,
        "answerCallbackQuery": steps,
    }
    for method, _user in counts:
        if method not in expected_calls:
            problems.append(f"unexpected Bot API call {method}")
    for user in users:
        for method, expected_count in expected_calls.items():
            if counts[method, user.id] != expected_count:
                problems.append(
                    f"user {user.id}: {counts[method, user.id]} × {method}, "
                    f"expected {expected_count}"
                )
    return problems


def check(side: str, problems: list[str]) -> None:
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  … and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise BenchFailure(f"{side}: the measured path is broken:\n  {shown}{more}")


# ---------------------------------------------------------------- report


def table(results: Sequence[Result]) -> str:
    header = (
        f"{'scenario':<32} {'updates':>7} {'seconds':>8} {'updates/s':>10} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'CPU ms/upd':>10}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.scenario:<32} {r.updates:>7} {r.seconds:>8.2f} {r.rate:>10.1f} "
            f"{r.percentile_ms(0.50):>7.2f} {r.percentile_ms(0.99):>7.2f} "
            f"{r.cpu_seconds / r.updates * 1000:>10.3f}"
        )
    return "\n".join(lines)


def profile_report(profiler: cProfile.Profile, limit: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


async def main_async(args: argparse.Namespace) -> int:
    users = make_users(args.users, FIRST_USER_ID)
    warm = make_users(args.warmup, WARM_USER_ID)
    per_user = 1 + len(registration_callbacks(users[0])) + args.me
    modes = [1] + ([args.concurrency] if args.concurrency > 1 else [])
    # The app pins aiogram's Response models when it builds its dispatcher; pin them first
    # so that the bare dispatcher, measured first, gets the same head start.
    pin_response_models()
    profiler = cProfile.Profile() if args.profile else None
    print(
        f"{args.users} users × (/start + {per_user - 1 - args.me} button presses + "
        f"{args.me} × /me) = {args.users * per_user} updates per scenario; "
        f"{args.warmup} more users warm up first, not counted. "
        f"Python {sys.version.split()[0]}."
    )
    results: list[Result] = []
    verdicts: list[str] = []
    for_information: list[str] = []
    if profiler is not None:
        # A round of its own: the profiler slows the full stack down, so it is not counted.
        await run_round(args, users, warm, per_user, 1, profiler)
    for concurrency in modes:
        rounds = [
            await run_round(args, users, warm, per_user, concurrency, None)
            for _ in range(args.rounds)
        ]
        mode = mode_name(concurrency)
        if args.rounds > 1:
            rates = ", ".join(
                f"{r.bare.rate:.0f}/{r.same.rate:.0f}/{r.full.rate:.0f} ({r.ratio:.3f})"
                for r in rounds
            )
            print(f"rounds, {mode} (bare/same calls/full, updates/s; ratio): {rates}")
        results += [
            median_round([r.bare for r in rounds]),
            median_round([r.same for r in rounds]),
            median_round([r.full for r in rounds]),
        ]
        ratio = statistics.median(r.ratio for r in rounds)
        cpu_ratio = statistics.median(r.cpu_ratio for r in rounds)
        same_ratio = statistics.median(r.same_ratio for r in rounds)
        verdict = "met" if ratio >= AIM_RATIO else "NOT met"
        verdicts.append(
            f"ratio full/bare, {mode}: {ratio:.3f} (aim >= {AIM_RATIO:.3f}: {verdict}); "
            f"by CPU time per update: {cpu_ratio:.3f}"
        )
        for_information.append(
            f"for information, full / bare making the same Bot API calls, {mode}: {same_ratio:.3f}"
        )
    print()
    print(table(results))
    print()
    print("\n".join(verdicts + for_information))
    print(
        f"checked: {args.users} members registered with consent; "
        "every /me reply carried the member's name."
    )
    if profiler is not None:
        print()
        print("cProfile of an extra, uncounted full-stack sequential round:")
        print(profile_report(profiler))
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100, help="simulated users (100)")
    parser.add_argument("--me", type=int, default=4, help="/me per user after registering (4)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="updates in flight in the second run (16)"
    )
    parser.add_argument("--warmup", type=int, default=7, help="warm-up users, not counted (7)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the interleaving (1)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds; the median round's ratio counts (3)"
    )
    parser.add_argument(
        "--chunk", type=int, default=50, help="updates per side per turn within a round (50)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 users, 2 warm-up")
    parser.add_argument("--profile", action="store_true", help="cProfile the full sequential run")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.warmup, args.rounds = 20, 2, 1
    if min(args.users, args.rounds, args.chunk) < 1 or args.me < 0 or args.warmup < 0:
        parser.error(
            "--users, --rounds and --chunk must be at least 1; --me, --warmup not negative"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(main_async(args))
    except BenchFailure as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
