"""The sandbox console as a newcomer meets it: switching people, sending media, the banner."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import pty
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from PIL import Image

from sandbox.console import SAMPLES, run_console
from sandbox.fake_api import FakeBotAPI, FakeUser

ROOT = Path(__file__).resolve().parent.parent
Step = str | Callable[[], Awaitable[object]]


def scripted(steps: list[Step], echo: list[str] | None = None) -> Callable:
    """An input function: lines are typed in order; a callable step runs (awaited) in between.

    With `echo`, each prompt and typed line is added to it as a terminal would show them.
    """
    remaining = iter(steps)

    async def input_fn(prompt: str) -> str | None:
        for step in remaining:
            if callable(step):
                await step()
                continue
            if echo is not None:
                echo.append(prompt + step)
            return step
        return None

    return input_fn


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


@pytest.fixture
async def bot(fake_api: FakeBotAPI) -> AsyncIterator[Bot]:
    """A bare Bot API client: the tests' stand-in for the club bot sending messages."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake_api.base_url))
    bot = Bot("123456:TEST-token_abc", session=session)
    yield bot
    await bot.session.close()


def people(fake: FakeBotAPI) -> dict[str, FakeUser]:
    return {"member": fake.user(1001, "Guest"), "admin": fake.user(1, "Organiser")}


# --------------------------------------------------------------------------- whose messages


async def test_messages_for_another_person_wait_until_you_switch_to_them(
    fake_api: FakeBotAPI, bot: Bot
) -> None:
    out: list[str] = []

    async def announce_to_member() -> None:
        await bot.send_message(1001, "Announcement: the meeting is on Saturday")
        await until(lambda: any("member" in line and "new message" in line for line in out))

    steps: list[Step] = [":as admin", announce_to_member, ":as member", ":quit"]
    await asyncio.wait_for(
        run_console(fake_api, people(fake_api), "member", scripted(steps), out.append), 10
    )

    switched = out.index("-- now chatting as member (user 1001)")
    shown = [i for i, line in enumerate(out) if "Announcement: the meeting is on Saturday" in line]
    assert shown and all(i > switched for i in shown), out  # in the member's chat, not the admin's
    notice = next(line for line in out if "new message" in line)
    assert notice == "-- member has 1 new message; `:as member` shows it", out


async def test_edits_and_replies_for_the_current_person_still_show_at_once(
    fake_api: FakeBotAPI, bot: Bot
) -> None:
    out: list[str] = []

    async def greet_admin() -> None:
        await bot.send_message(1, "Hello, organiser")
        await until(lambda: any("Hello, organiser" in line for line in out))

    steps: list[Step] = [":as admin", greet_admin, ":as member", ":as admin", ":quit"]
    await asyncio.wait_for(
        run_console(fake_api, people(fake_api), "member", scripted(steps), out.append), 10
    )
    assert sum("Hello, organiser" in line for line in out) == 1  # shown once, not again
    assert not any("new message" in line for line in out)


@pytest.mark.sqlite_only  # the sandbox's own SQLite file
async def test_a_broadcast_sent_as_organiser_reaches_the_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox delivers on its 2-second tick while you are still the organiser."""
    monkeypatch.chdir(tmp_path)
    await seed_sandbox_member(tmp_path)
    out: list[str] = []

    async def delivered() -> None:
        await until(lambda: any(line.startswith("-- member has 1 new message") for line in out))

    steps: list[Step] = [
        ":as admin",
        "/broadcast Tea and memories on Saturday",
        "1",  # Send
        delivered,
        ":as member",
        ":quit",
    ]
    await run_sandbox_scripted(steps, out)
    switched = out.index("-- now chatting as member (user 1001)")
    after = "\n".join(out[switched:])
    assert "Tea and memories on Saturday" in after, out


# --------------------------------------------------------------------------- media


async def test_media_commands_send_the_samples(fake_api: FakeBotAPI, bot: Bot) -> None:
    out: list[str] = []
    steps: list[Step] = [
        ":photo Sophia cathedral, 1950",
        ":album 3",
        ":voice",
        ":doc",
        ":sticker 🌸",
        ":quit",
    ]
    await asyncio.wait_for(
        run_console(
            fake_api,
            people(fake_api),
            "member",
            scripted(steps),
            out.append,
            reply_timeout=0.05,
        ),
        10,
    )
    sent = [u["message"] for u in fake_api.pending_updates if "message" in u]
    kinds = [next(k for k in ("photo", "voice", "document", "sticker") if k in m) for m in sent]
    assert kinds == ["photo", "photo", "photo", "photo", "voice", "document", "sticker"]
    assert sent[0]["caption"] == "Sophia cathedral, 1950"
    album = {m.get("media_group_id") for m in sent[1:4]}
    assert len(album) == 1 and None not in album
    assert sent[4]["voice"]["duration"] == 3 and sent[4]["voice"]["mime_type"] == "audio/ogg"
    assert sent[5]["document"]["file_name"] == "letter.pdf"
    assert sent[5]["document"]["mime_type"] == "application/pdf"
    assert sent[6]["sticker"]["emoji"] == "🌸"

    # The bot fetches every file through getFile and the download path, as from Telegram.
    async def fetch(file_id: str) -> bytes:
        file = await bot.get_file(file_id)
        assert file.file_path is not None
        downloaded = await bot.download_file(file.file_path)
        assert downloaded is not None
        return downloaded.read()

    assert await fetch(sent[4]["voice"]["file_id"]) == (SAMPLES / "voice.ogg").read_bytes()
    assert await fetch(sent[5]["document"]["file_id"]) == (SAMPLES / "letter.pdf").read_bytes()
    photos = [await fetch(m["photo"][-1]["file_id"]) for m in sent[:4]]
    assert len(set(photos)) == 4  # an album of samples is four photos, not one kept once
    for photo in photos:
        with Image.open(io.BytesIO(photo)) as image:
            assert (image.format, image.size) == ("JPEG", (320, 240))
    assert "-- sent a photo (harbin.jpg, 4 KB) with a caption" in out
    assert "-- sent a voice note (voice.ogg, 3 s)" in out


async def test_media_commands_take_your_own_file_and_refuse_a_missing_one(
    fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    own = tmp_path / "from the album" / "grandmother.jpg"
    own.parent.mkdir()
    own.write_bytes((SAMPLES / "harbin.jpg").read_bytes()[:-10] + b"own-bytes!")
    out: list[str] = []
    steps: list[Step] = [
        f':photo "{own}" Grandmother',
        ":photo Grandmother's house on St.Sophia street",  # no file named: all caption
        ":voice /no/such/file.ogg",
        ":album many",
        ":album 11",
        f":voice '{own}'",
        ":quit",
    ]
    await asyncio.wait_for(
        run_console(
            fake_api, people(fake_api), "member", scripted(steps), out.append, reply_timeout=0.05
        ),
        10,
    )
    sent = [u["message"] for u in fake_api.pending_updates if "message" in u]
    assert [m["caption"] for m in sent] == [
        "Grandmother",
        "Grandmother's house on St.Sophia street",
    ]
    assert "! no such file: /no/such/file.ogg" in out
    assert out.count("! an album has 2 to 10 photos: type :album 3") == 2
    assert (
        "! grandmother.jpg is not Ogg: a voice note is Opus in Ogg (.ogg); "
        "send other recordings with :doc"
    ) in out


async def test_a_location_button_says_how_to_share_one(fake_api: FakeBotAPI, bot: Bot) -> None:
    from aiogram.types import KeyboardButton, ReplyKeyboardMarkup

    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="📍 Share my location", request_location=True)]]
    )
    users = people(fake_api)
    await bot.send_message(1001, "Where are you?", reply_markup=keyboard)
    out: list[str] = []
    steps: list[Step] = ["1", ":loc Harbin", ":loc 145.75 126.65", ":loc 45.75 126.65", ":quit"]
    await asyncio.wait_for(
        run_console(fake_api, users, "member", scripted(steps), out.append, reply_timeout=0.05),
        10,
    )
    assert "-- this button shares your location: type :loc LAT LON, e.g. :loc 45.75 126.65" in out
    assert "! type :loc LATITUDE LONGITUDE, e.g. :loc 45.75 126.65" in out
    assert "! latitude is -90 to 90 and longitude -180 to 180" in out
    sent = [u["message"] for u in fake_api.pending_updates if "message" in u]
    assert [m.get("location") for m in sent] == [{"latitude": 45.75, "longitude": 126.65}]


async def test_an_organiser_forwards_a_members_message(fake_api: FakeBotAPI) -> None:
    """/admins adds an organiser from a forwarded message: the console can forward one."""
    out: list[str] = []
    steps: list[Step] = [
        ":as admin",
        ":forward member Hello from Sydney",
        ":forward nobody",
        ":quit",
    ]
    await asyncio.wait_for(
        run_console(
            fake_api, people(fake_api), "member", scripted(steps), out.append, reply_timeout=0.05
        ),
        10,
    )
    sent = [u["message"] for u in fake_api.pending_updates if "message" in u]
    assert len(sent) == 1
    assert sent[0]["from"]["id"] == 1 and sent[0]["text"] == "Hello from Sydney"
    assert sent[0]["forward_origin"]["sender_user"]["id"] == 1001
    assert "! no user 'nobody'; known: member, admin" in out


@pytest.mark.sqlite_only  # the sandbox's own SQLite file
async def test_a_whole_memoir_with_a_photo_and_a_voice_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    await seed_sandbox_member(tmp_path)
    out: list[str] = []

    def said(text: str) -> Callable[[], Awaitable[None]]:
        async def wait() -> None:
            await until(lambda: any(text in line for line in out))

        return wait

    steps: list[Step] = [
        "/memoir",
        "We lived on Kitaiskaya street, near the Moderne hotel.",
        ":photo Our house",
        said("Photo saved"),
        ":voice",
        said("Recording saved"),
        ":press ✅ Done",
        "Kitaiskaya street",
        ":press Skip",  # the decade
        ":press Skip",  # the place
        ":press Skip",  # the people
        ":press 🌐 Yes, with my name",  # the public website
        said("has been sent to the organisers"),
        ":quit",
    ]
    await run_sandbox_scripted(steps, out)
    transcript = "\n".join(out)
    assert "has been sent to the organisers" in transcript, transcript
    from sqlalchemy import select

    from db.engine import create_engine, create_session_factory
    from db.models import MediaFile, Memoir

    engine = create_engine("sqlite+aiosqlite:///data/sandbox.sqlite3")
    async with create_session_factory(engine)() as session:
        memoir = (await session.scalars(select(Memoir))).one()
        files = (await session.scalars(select(MediaFile))).all()
    await engine.dispose()
    assert memoir.title == "Kitaiskaya street" and memoir.status == "pending"
    assert sorted(f.kind for f in files) == ["photo", "voice"]
    stored = sorted(p.name for p in (tmp_path / "data" / "sandbox-media").rglob("*") if p.is_file())
    assert len(stored) == 2, stored
    assert not (tmp_path / "data" / "media").exists()  # the real bot's folder is untouched


# --------------------------------------------------------------------------- the README


def readme_sample() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- sandbox-transcript[^>]*-->\n```text\n(.*?)```", text, re.S)
    assert match, "README.md: the sandbox's sample screen is marked <!-- sandbox-transcript -->"
    return match.group(1).splitlines()


@pytest.mark.sqlite_only  # the sandbox's own SQLite file
async def test_the_readme_shows_what_the_console_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's sample screen is replayed: the same lines typed print the same screen."""
    monkeypatch.chdir(tmp_path)
    sample = readme_sample()
    typed = [m.group(2) for line in sample if (m := re.match(r"^(member|admin)> (.+)$", line))]
    assert typed, "the sample shows no typed line"
    screen: list[str] = []
    await run_sandbox_scripted([*typed, ":quit"], screen, echo=True)
    printed = "\n".join(screen).splitlines()
    # On a difference, copy the console's screen (printed) into README.md's sample.
    assert printed[: len(sample)] == sample, "\n".join(printed)


# --------------------------------------------------------------------------- helpers


async def seed_sandbox_member(tmp_path: Path) -> None:
    """The sandbox's member, registered in English in Sydney, straight in its database."""
    from db.engine import create_engine, create_session_factory
    from db.migrate import upgrade_to_head
    from db.models import Member

    (tmp_path / "data").mkdir(exist_ok=True)
    url = "sqlite+aiosqlite:///data/sandbox.sqlite3"
    await upgrade_to_head(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with create_session_factory(engine)() as session:
        session.add(
            Member(
                telegram_id=1001,
                locale="en",
                name="Guest",
                country="AU",
                zone="Australia/Sydney",
                city="Sydney",
                consent_at=now,
                registered_at=now,
            )
        )
        await session.commit()
    await engine.dispose()


async def run_sandbox_scripted(steps: list[Step], out: list[str], *, echo: bool = False) -> None:
    from bot.sandbox import run_sandbox
    from ground.settings import load_settings

    input_fn = scripted(steps, out if echo else None)
    await asyncio.wait_for(
        run_sandbox(load_settings(_env_file=None), input_fn=input_fn, output_fn=out.append), 60
    )


CONSOLE_ALONE = """
import asyncio
import contextlib
from sandbox.console import run_console
from sandbox.fake_api import FakeBotAPI

async def main():
    async with FakeBotAPI() as fake:
        await run_console(fake, {"member": fake.user(1001)}, "member")

try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("stopped")
"""


@pytest.mark.parametrize("stdin", ["pipe", "terminal"])
async def test_ctrl_c_leaves_while_the_console_waits_for_a_line(stdin: str) -> None:
    """Ctrl-C at the prompt ends the console at once, typing from a terminal (a thread waits
    in input()) or from a pipe."""
    if stdin == "terminal":
        controller, terminal = pty.openpty()
        streams = {"stdin": terminal, "stdout": terminal, "stderr": terminal}
    else:
        streams = {
            "stdin": asyncio.subprocess.PIPE,  # open and silent: the console waits for a line
            "stdout": asyncio.subprocess.PIPE,
            "stderr": asyncio.subprocess.STDOUT,
        }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CONSOLE_ALONE, cwd=ROOT, **streams
    )
    screen = b""

    async def read_screen() -> bytes:
        if stdin == "terminal":
            with contextlib.suppress(OSError):  # EIO: the terminal's last user is gone
                return await asyncio.to_thread(os.read, controller, 4096)
            return b""
        assert process.stdout is not None
        return await process.stdout.read(4096)

    try:
        async with asyncio.timeout(30):
            while b"member> " not in screen:  # the prompt is up: the reader waits
                screen += await read_screen()
        await asyncio.sleep(0.2)
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(10):
            while b"stopped" not in screen and (chunk := await read_screen()):
                screen += chunk
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
        if stdin == "terminal":
            os.close(controller)
            os.close(terminal)
    assert process.returncode == 0, screen.decode()
    assert screen.decode().splitlines()[-1].strip() == "stopped", screen.decode()
