"""Terminal sandbox: chat with the bot as a club member, fully offline, through FakeBotAPI.

The bot runs against the fake server as usual; this REPL plays the Telegram client: lines you
type are sent as the current user, and every bot message or edit in that user's chat is printed
as it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.fake_api import BotOutput, CallbackAnswer, FakeBotAPI, FakeUser, SentMessage

InputFn = Callable[[str], Awaitable[str | None]]
OutputFn = Callable[[str], Any]

HELP = """\
Type a line to send it as the current user (commands like /start too).
  1..n            press the n-th button of the latest message with buttons
  :press LABEL    press the inline button with this exact label
  :loc LAT LON    share a location, e.g. :loc 55.75 37.62
  :as NAME        switch user ({names})
  :help           this help
  :quit           leave (Ctrl-D works too)"""


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
        self.printed = len(fake.outbox)
        self.answers_printed = len(fake.callback_answers)

    @property
    def user(self) -> FakeUser:
        return self.users[self.name]

    # ----------------------------------------------------------------- output

    def flush(self) -> None:
        """Print everything new for the current user's chat (idempotent)."""
        outputs, self.printed = self.fake.outbox[self.printed :], len(self.fake.outbox)
        for output in outputs:
            if output.chat_id == self.user.chat_id:
                self.out(_format_output(output))
        answers = self.fake.callback_answers[self.answers_printed :]
        self.answers_printed = len(self.fake.callback_answers)
        for answer in answers:
            if answer.user_id == self.user.id and answer.text:
                self.out(_format_answer(answer))

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
            self.out(HELP.format(names=", ".join(self.users)))
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
            self.press_number(int(line))
        elif command == ":press":
            self.user.press(arg)
        elif command == ":loc":
            lat, lon = (float(part) for part in arg.replace(",", " ").split())
            self.user.share_location(lat, lon)
        elif command.startswith(":"):
            self.out(f"! unknown command {command}; type :help")
            return False
        else:
            self.user.send_text(line)
        return True

    def switch(self, name: str) -> None:
        if name not in self.users:
            self.out(f"! no user {name!r}; known: {', '.join(self.users)}")
            return
        self.flush()
        self.name = name
        self.out(f"-- now chatting as {name} (user {self.user.id})")

    def press_number(self, number: int) -> None:
        with_buttons = [m for m in self.fake.chat_messages(self.user.chat_id) if _buttons(m)]
        if not with_buttons:
            raise AssertionError("no message with buttons to press")
        message = with_buttons[-1]
        buttons = _buttons(message)
        if not 1 <= number <= len(buttons):
            raise AssertionError(f"choose a button between 1 and {len(buttons)}")
        button = buttons[number - 1]
        if not message.inline_keyboard:
            self.user.choose(button["text"])
        elif "callback_data" in button:
            self.user.press_data(message.message_id, button["callback_data"])
        else:
            self.out(f"-- this button opens {button.get('url') or 'something outside the chat'}")

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


def _format_output(output: BotOutput) -> str:
    msg = output.message
    if output.action == "delete":
        return f"bot #{msg.message_id} (deleted)"
    header = f"bot #{msg.message_id}" + (" (edited)" if output.action == "edit" else "") + ":"
    body = render_message(msg, numbered=True)
    return header + "\n" + "\n".join(f"  {line}" for line in body.splitlines())


def _format_answer(answer: CallbackAnswer) -> str:
    return f"bot ({'alert' if answer.show_alert else 'popup'}): {answer.text}"


async def _read_stdin(prompt: str) -> str | None:
    # input() blocks, so it runs in a worker thread to keep the bot's event loop going.
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(None, input, prompt)
    except EOFError:
        return None


async def run_console(
    fake: FakeBotAPI,
    users: dict[str, FakeUser],
    default: str,
    input_fn: InputFn | None = None,
    output_fn: OutputFn = print,
    *,
    reply_timeout: float = 3.0,
) -> None:
    """REPL acting as ``users[default]``; returns on :quit or end of input (None / EOF)."""
    if default not in users:
        raise ValueError(f"default user {default!r} is not in users ({', '.join(users)})")
    console = _Console(fake, users, default, output_fn, reply_timeout)
    read = input_fn or _read_stdin
    output_fn(f"-- chatting as {default} (user {console.user.id}); :help lists commands")
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
