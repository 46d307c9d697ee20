"""Terminal sandbox: chat with the bot as a club member, fully offline, through FakeBotAPI.

The bot runs against the fake server as usual; this REPL plays the Telegram clients of a few
people: lines you type are sent as the current person, and every bot message or edit in that
person's chat is printed as it arrives. What the bot sends to someone else meanwhile (an
announcement, a broadcast, a reminder) waits for them: a one-line notice says it came, and
`:as NAME` shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import mimetypes
import os
import stat
import sys
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.fake_api import BotOutput, CallbackAnswer, FakeBotAPI, FakeUser, SentMessage

InputFn = Callable[[str], Awaitable[str | None]]
OutputFn = Callable[[str], Any]

# Small files made by sandbox/samples/make_samples.py: a photo, a voice note, a scanned letter.
SAMPLES = Path(__file__).resolve().parent / "samples"
SAMPLE_PHOTO = SAMPLES / "harbin.jpg"
SAMPLE_VOICE = SAMPLES / "voice.ogg"
SAMPLE_DOCUMENT = SAMPLES / "letter.pdf"
_HARBIN = ":loc 45.75 126.65"

HELP = """\
Type a line to send it as the current person (commands like /start too).
  1..n              press the n-th button of the latest message with buttons
  :press LABEL      press the inline button with this exact label
  :loc LAT LON      share a location, e.g. {harbin}
  :photo [FILE] [CAPTION]   send a photo (default: a sample picture)
  :album [N]        send N photos as one album (default 3)
  :voice [FILE]     send a voice note (default: a 3-second sample; .ogg Opus)
  :doc [FILE] [CAPTION]     send a file as a document (default: a scanned letter, PDF)
  :sticker [EMOJI]  send a sticker
  :forward NAME [TEXT]      forward a message written by NAME (organisers: /admins)
  :as NAME          switch person ({names}); shows what they received meanwhile
  :help             this help
  :quit             leave (Ctrl-D works too)"""


def render_message(msg: SentMessage, *, numbered: bool = False) -> str:
    """Text (or a media placeholder), then inline rows as [ label ], reply keyboard as ( label )."""
    lines = [_body(msg)]
    counter = itertools.count(1)
    for row in msg.inline_keyboard:
        lines.append(" ".join(_button("[", b.get("text", ""), "]", counter, numbered) for b in row))
    for row in msg.reply_keyboard:
        lines.append(" ".join(_button("(", b.get("text", ""), ")", counter, numbered) for b in row))
    return "\n".join(line for line in lines if line)


def _button(
    left: str, label: str, right: str, counter: itertools.count[int], numbered: bool
) -> str:
    number = next(counter)
    return f"{left} {number}. {label} {right}" if numbered else f"{left} {label} {right}"


def _body(msg: SentMessage) -> str:
    raw = msg.raw
    if msg.kind == "text":
        return msg.text or ""
    if msg.kind == "location":
        loc = raw.get("location", {})
        return f"[location {loc.get('latitude')}, {loc.get('longitude')}]"
    label = msg.kind
    if msg.kind == "document" and raw.get("document", {}).get("file_name"):
        label += " " + raw["document"]["file_name"]
    return f"[{label}] {msg.text}" if msg.text else f"[{label}]"


def _buttons(msg: SentMessage) -> list[dict[str, Any]]:
    return [b for row in msg.inline_keyboard or msg.reply_keyboard for b in row]


class _Console:
    def __init__(
        self,
        fake: FakeBotAPI,
        users: dict[str, FakeUser],
        name: str,
        output_fn: OutputFn,
        reply_timeout: float,
    ) -> None:
        self.fake = fake
        self.users = users
        self.name = name
        self.out = output_fn
        self.reply_timeout = reply_timeout
        # Per person: how far into fake.outbox their chat has been shown, and noticed.
        self.shown = dict.fromkeys(users, len(fake.outbox))
        self.noticed = dict.fromkeys(users, len(fake.outbox))
        self.answers_printed = len(fake.callback_answers)

    @property
    def user(self) -> FakeUser:
        return self.users[self.name]

    # ----------------------------------------------------------------- output

    def flush(self) -> None:
        """Print what is new in the current person's chat; note what came for the others.

        Idempotent: each output is shown once, in its person's chat, whenever that is.
        """
        self.show(self.name)
        for name in self.users:
            if name != self.name:
                self.notice(name)
        answers = self.fake.callback_answers[self.answers_printed :]
        self.answers_printed = len(self.fake.callback_answers)
        for answer in answers:
            if answer.user_id == self.user.id and answer.text:
                self.out(_format_answer(answer))

    def show(self, name: str) -> None:
        chat_id = self.users[name].chat_id
        outputs = self.fake.outbox[self.shown[name] :]
        self.shown[name] = self.noticed[name] = len(self.fake.outbox)
        for output in outputs:
            if output.chat_id == chat_id:
                self.out(_format_output(output))

    def notice(self, name: str) -> None:
        """One line when messages arrive for someone you are not chatting as."""
        chat_id = self.users[name].chat_id
        new = self.fake.outbox[self.noticed[name] :]
        self.noticed[name] = len(self.fake.outbox)
        if any(o.chat_id == chat_id and o.action == "send" for o in new):
            waiting = sum(
                o.chat_id == chat_id and o.action == "send"
                for o in self.fake.outbox[self.shown[name] :]
            )
            them = "it" if waiting == 1 else "them"
            messages = "message" if waiting == 1 else "messages"
            self.out(f"-- {name} has {waiting} new {messages}; `:as {name}` shows {them}")

    async def watch(self) -> None:
        """Background printer so messages that arrive while idle show up too."""
        while True:
            self.flush()
            await self.fake.wait_change(3600)

    # ----------------------------------------------------------------- input

    async def handle(self, line: str) -> bool:
        """Run one input line; False means quit."""
        command, _, arg = line.partition(" ")
        arg = arg.strip()
        if command in (":quit", ":q", ":exit"):
            return False
        if command == ":help":
            self.out(HELP.format(names=", ".join(self.users), harbin=f"{_HARBIN} (Harbin)"))
            return True
        if command == ":as":
            self.switch(arg)
            return True
        start = len(self.fake.outbox)
        try:
            acted = self.act(line, command, arg)
        except (AssertionError, ValueError) as exc:
            self.out(f"! {exc}")
            return True
        if acted:
            await self.await_reply(start)
        return True

    def act(self, line: str, command: str, arg: str) -> bool:
        if line.isdigit():
            return self.press_number(int(line))
        if command == ":press":
            self.user.press(arg)
        elif command == ":loc":
            self.user.share_location(*_coordinates(arg))
        elif command == ":forward":
            self.forward(arg)
        elif command in _MEDIA_COMMANDS:
            self.out(_MEDIA_COMMANDS[command](self.user, arg))
        elif command.startswith(":"):
            self.out(f"! unknown command {command}; type :help")
            return False
        else:
            self.user.send_text(line)
        return True

    def forward(self, arg: str) -> None:
        """Forward to the bot a message written by another person (how /admins adds one)."""
        name, _, text = arg.partition(" ")
        if name not in self.users:
            raise ValueError(f"no user {name!r}; known: {', '.join(self.users)}")
        self.user.send_forwarded_text(text.strip() or "(a forwarded message)", self.users[name].id)

    def switch(self, name: str) -> None:
        if name not in self.users:
            self.out(f"! no user {name!r}; known: {', '.join(self.users)}")
            return
        self.flush()
        self.name = name
        self.out(f"-- now chatting as {name} (user {self.user.id})")
        self.flush()  # what came for them while you were someone else

    def press_number(self, number: int) -> bool:
        """Press the n-th button; False when nothing was sent (a button that opens a page)."""
        with_buttons = [m for m in self.fake.chat_messages(self.user.chat_id) if _buttons(m)]
        if not with_buttons:
            raise AssertionError("no message with buttons to press")
        message = with_buttons[-1]
        buttons = _buttons(message)
        if not 1 <= number <= len(buttons):
            raise AssertionError(f"choose a button between 1 and {len(buttons)}")
        button = buttons[number - 1]
        if not message.inline_keyboard and button.get("request_location"):
            # Telegram's client would ask for the place; here it is typed.
            self.out(f"-- this button shares your location: type :loc LAT LON, e.g. {_HARBIN}")
            return False
        if not message.inline_keyboard:
            self.user.choose(button["text"])
        elif "callback_data" in button:
            self.user.press_data(message.message_id, button["callback_data"])
        else:
            self.out(f"-- this button opens {button.get('url') or 'something outside the chat'}")
            return False
        return True

    async def await_reply(self, start: int) -> None:
        """Wait for the first reply so the prompt comes back after it, not before."""
        chat_id = self.user.chat_id
        try:
            await self.fake.wait_for(
                lambda: any(o.chat_id == chat_id for o in self.fake.outbox[start:]),
                self.reply_timeout,
                "a reply",
            )
        except AssertionError:
            self.out(f"-- no reply within {self.reply_timeout:g}s")
        self.flush()


def _coordinates(arg: str) -> tuple[float, float]:
    parts = arg.replace(",", " ").split()
    try:
        latitude, longitude = (float(part) for part in parts)
    except ValueError:
        raise ValueError(f"type :loc LATITUDE LONGITUDE, e.g. {_HARBIN}") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError("latitude is -90 to 90 and longitude -180 to 180")
    return latitude, longitude


# --------------------------------------------------------------------------- media commands


@dataclass(frozen=True)
class _File:
    path: Path
    data: bytes

    @property
    def size(self) -> str:
        kilobytes = len(self.data) / 1024
        return f"{kilobytes:.0f} KB" if kilobytes >= 1 else f"{len(self.data)} bytes"


def _file_and_caption(arg: str, default: Path) -> tuple[_File, str | None]:
    """`[FILE] [CAPTION]`: the first word is the file if it names one ("quote it" if it has
    spaces); otherwise the whole line is the caption of the default sample."""
    if arg[:1] in ("'", '"'):
        end = arg.find(arg[0], 1)
        if end < 0:
            raise ValueError("the file name's closing quote is missing")
        first, rest = arg[1:end], arg[end + 1 :]
    else:
        first, _, rest = arg.partition(" ")
    path = Path(first).expanduser()
    if first and (path.is_file() or "/" in first or mimetypes.guess_type(first)[0]):
        if not path.is_file():
            raise ValueError(f"no such file: {first}")
        return _File(path, path.read_bytes()), rest.strip() or None
    return _File(default, default.read_bytes()), arg or None


_photo_numbers = itertools.count(1)


def sample_photo() -> bytes:
    """The sample picture, a little different each time (a numbered JPEG comment), so an
    album of samples is several photos, not one photo the archive keeps once."""
    data = SAMPLE_PHOTO.read_bytes()
    comment = f"sandbox sample photo {next(_photo_numbers)}".encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return data[:2] + segment + data[2:]  # right after the start-of-image marker


def _send_photo(user: FakeUser, arg: str) -> str:
    file, caption = _file_and_caption(arg, SAMPLE_PHOTO)
    user.send_photo(sample_photo() if file.path == SAMPLE_PHOTO else file.data, caption=caption)
    return f"-- sent a photo ({file.path.name}, {file.size})" + (
        " with a caption" if caption else ""
    )


def _send_album(user: FakeUser, arg: str) -> str:
    count = int(arg) if arg.isdigit() else 3 if not arg else 0
    if not 2 <= count <= 10:
        raise ValueError("an album has 2 to 10 photos: type :album 3")
    group = uuid.uuid4().hex[:12]
    for _ in range(count):
        user.send_photo(sample_photo(), media_group_id=group)
    return f"-- sent an album of {count} photos ({SAMPLE_PHOTO.name})"


def _send_voice(user: FakeUser, arg: str) -> str:
    file, _caption = _file_and_caption(arg, SAMPLE_VOICE)
    if not file.data.startswith(b"OggS"):
        raise ValueError(
            f"{file.path.name} is not Ogg: a voice note is Opus in Ogg (.ogg); "
            "send other recordings with :doc"
        )
    duration = ogg_opus_seconds(file.data)
    user.send_voice(file.data, duration=duration)
    return f"-- sent a voice note ({file.path.name}, {duration} s)"


def _send_document(user: FakeUser, arg: str) -> str:
    file, caption = _file_and_caption(arg, SAMPLE_DOCUMENT)
    mime_type = mimetypes.guess_type(file.path.name)[0] or "application/octet-stream"
    user.send_document(file.data, file_name=file.path.name, mime_type=mime_type, caption=caption)
    return f"-- sent a document ({file.path.name}, {mime_type}, {file.size})"


def _send_sticker(user: FakeUser, arg: str) -> str:
    emoji = arg or "👍"
    user.send_sticker(emoji)
    return f"-- sent a sticker {emoji}"


_MEDIA_COMMANDS: dict[str, Callable[[FakeUser, str], str]] = {
    ":photo": _send_photo,
    ":album": _send_album,
    ":voice": _send_voice,
    ":doc": _send_document,
    ":sticker": _send_sticker,
}


def ogg_opus_seconds(data: bytes) -> int:
    """Whole seconds of an Ogg Opus recording (at least 1), as Telegram reports `duration`.

    The last page's granule position counts 48 kHz samples; the OpusHead's pre-skip
    (bytes 10-11 of the first packet) are priming samples, not sound.
    """
    last = data.rfind(b"OggS")
    head = data.find(b"OpusHead")
    if last < 0 or head < 0 or len(data) < last + 14:
        return 1
    granule = int.from_bytes(data[last + 6 : last + 14], "little")
    pre_skip = int.from_bytes(data[head + 10 : head + 12], "little")
    return max(1, round((granule - pre_skip) / 48_000))


# --------------------------------------------------------------------------- formatting


def _format_output(output: BotOutput) -> str:
    msg = output.message
    if output.action == "delete":
        return f"bot #{msg.message_id} (deleted)"
    header = f"bot #{msg.message_id}" + (" (edited)" if output.action == "edit" else "") + ":"
    body = render_message(msg, numbered=True)
    return header + "\n" + "\n".join(f"  {line}" for line in body.splitlines())


def _format_answer(answer: CallbackAnswer) -> str:
    return f"bot ({'alert' if answer.show_alert else 'popup'}): {answer.text}"


# --------------------------------------------------------------------------- the terminal


class _Terminal:
    """Reads your lines and prints the bot's messages, keeping the bot's loop running.

    On a terminal, input() (with line editing) runs in a daemon thread, since it blocks; a
    message that arrives while you type clears your half-typed line, is printed, and the
    prompt and what you typed are drawn again below it. From a pipe, lines are read
    without a thread; from a file, directly (a file never blocks).
    """

    def __init__(self) -> None:
        self.prompt: str | None = None
        self.interactive = sys.stdin.isatty()
        self.redraw = self.interactive and sys.stdout.isatty()
        self._pipe: asyncio.StreamReader | None = None
        if self.interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  (line editing and history for input())

    async def read(self, prompt: str) -> str | None:
        """The next line, or None at the end of input (Ctrl-D)."""
        self.prompt = prompt
        try:
            line = await (self._typed(prompt) if self.interactive else self._piped(prompt))
        except asyncio.CancelledError:  # Ctrl-C: the shell's prompt gets a line of its own
            print(flush=True)
            raise
        finally:
            self.prompt = None
        if line is None:
            print(flush=True)
        return line

    async def _typed(self, prompt: str) -> str | None:
        loop = asyncio.get_running_loop()
        line: asyncio.Future[str | None] = loop.create_future()

        def deliver(value: str | None) -> None:
            if not line.done():
                line.set_result(value)

        def read_line() -> None:
            try:
                value: str | None = input(prompt)
            except EOFError:
                value = None
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (Ctrl-C)
                loop.call_soon_threadsafe(deliver, value)

        # A daemon thread, not the loop's executor: on Ctrl-C, asyncio.run would wait for
        # the executor's thread, blocked in input() until Enter; a daemon is left behind.
        threading.Thread(target=read_line, name="console-input", daemon=True).start()
        return await line

    async def _piped(self, prompt: str) -> str | None:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        if self._pipe is None and not _is_regular_file(sys.stdin):
            self._pipe = asyncio.StreamReader()
            protocol = asyncio.StreamReaderProtocol(self._pipe)
            await asyncio.get_running_loop().connect_read_pipe(lambda: protocol, sys.stdin)
        if self._pipe is None:
            text = sys.stdin.readline()
        else:
            text = (await self._pipe.readline()).decode("utf-8", "replace")
        return text.rstrip("\r\n") if text else None

    def write(self, text: str) -> None:
        if self.prompt is None or not self.redraw:
            print(text, flush=True)
            return
        typed = ""
        with contextlib.suppress(ImportError):
            import readline

            typed = readline.get_line_buffer()
        sys.stdout.write("\r\x1b[K" + text + "\n" + self.prompt + typed)
        sys.stdout.flush()


def _is_regular_file(stream: Any) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError):
        return True  # no descriptor (a replaced sys.stdin): read it directly


async def run_console(
    fake: FakeBotAPI,
    users: dict[str, FakeUser],
    default: str,
    input_fn: InputFn | None = None,
    output_fn: OutputFn | None = None,
    *,
    reply_timeout: float = 3.0,
) -> None:
    """REPL acting as ``users[default]``; returns on :quit or end of input (None / EOF).

    Without `input_fn` and `output_fn` it reads and writes the terminal.
    """
    if default not in users:
        raise ValueError(f"default user {default!r} is not in users ({', '.join(users)})")
    terminal = _Terminal() if input_fn is None or output_fn is None else None
    read = input_fn or (terminal.read if terminal else None)
    write = output_fn or (terminal.write if terminal else print)
    assert read is not None
    console = _Console(fake, users, default, write, reply_timeout)
    write(f"-- chatting as {default} (user {console.user.id}); :help lists commands")
    watcher = asyncio.create_task(console.watch())
    try:
        while True:
            line = await read(f"{console.name}> ")
            if line is None:
                break
            line = line.strip()
            if line and not await console.handle(line):
                break
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        console.flush()
