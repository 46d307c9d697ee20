"""Offline fake of the Telegram Bot API.

The real aiogram HTTP client talks to it over 127.0.0.1, so tests, benchmarks and the sandbox
console exercise the same request encoding, response decoding and error mapping as production:

    async with FakeBotAPI() as fake:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        bot = Bot("123:abc", session=session)
        user = fake.user(42, first_name="Anna")
        user.send_text("/start")
        reply = await user.expect_reply()

Behaviour follows Telegram where it matters for bot code: error shapes and descriptions, per-chat
message ids, edits dropping the inline keyboard unless it is re-sent, "message is not modified",
HTML/MarkdownV2 parsing into plain text + entities, privacy mode in groups, getUpdates offsets.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import ClientSession, web
from aiohttp.web_request import FileField

__all__ = [
    "BotOutput",
    "CallbackAnswer",
    "FakeBotAPI",
    "FakeTimeout",
    "FakeUser",
    "Fault",
    "RecordedRequest",
    "SentMessage",
    "UploadedFile",
]

T = TypeVar("T")

TOKEN_RE = re.compile(r"^\d+:[\w-]+$")
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # Bot API refuses getFile above 20 MB
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Fields aiogram serialises as JSON strings inside form data.
_JSON_FIELDS = _words(
    "reply_markup commands scope allowed_updates media entities caption_entities "
    "reply_parameters link_preview_options menu_button results options permissions rights "
    "message_ids prices"
)
_INT_FIELDS = _words(
    "message_id offset limit timeout user_id duration width height length "
    "reply_to_message_id message_thread_id cache_time max_connections until_date "
    "live_period heading proximity_alert_radius"
)
_FLOAT_FIELDS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
_BOOL_FIELDS = _words(
    "disable_notification protect_content show_alert drop_pending_updates has_spoiler "
    "allow_sending_without_reply disable_web_page_preview disable_content_type_detection "
    "supports_streaming show_caption_above_media allow_paid_broadcast"
)
_CHAT_ID_FIELDS = frozenset({"chat_id", "from_chat_id"})
_INT_RE = re.compile(r"^-?\d+$")

_CHAT_ACTIONS = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice "
    "upload_document choose_sticker find_location record_video_note upload_video_note"
)

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected error",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Where Telegram puts downloadable files, by media kind (only cosmetic).
_FILE_DIRS = {
    "photo": ("photos", ".jpg"),
    "document": ("documents", ""),
    "voice": ("voice", ".oga"),
    "audio": ("music", ".mp3"),
    "video": ("videos", ".mp4"),
    "animation": ("animations", ".mp4"),
    "sticker": ("stickers", ".webp"),
    "video_note": ("video_notes", ".mp4"),
}


# --------------------------------------------------------------------------- public records


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as recorded in ``RecordedRequest.params``."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass
class RecordedRequest:
    """One API call as the fake received it; ``at`` is ``time.monotonic()`` on arrival."""

    method: str
    params: dict[str, Any]
    at: float
    status: int | None = None  # HTTP status of the answer, filled in when answered
    # time.monotonic() when the answer left for the client (after the return half of the
    # latency); None while it has not, or if the client went away first.
    answered_at: float | None = None

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")


@dataclass(frozen=True)
class SentMessage:
    """Snapshot of a message as a chat member sees it (text or caption, keyboard, edit state)."""

    message_id: int
    chat_id: int
    kind: str
    text: str | None
    reply_markup: dict[str, Any] | None = None  # as the bot sent it, reply keyboards included
    edited: bool = False
    from_bot: bool = True
    deleted: bool = False
    date: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # Bot API Message object

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        return list((self.reply_markup or {}).get("inline_keyboard") or [])

    @property
    def reply_keyboard(self) -> list[list[dict[str, Any]]]:
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [[_keyboard_button(b) for b in row] for row in rows]

    @property
    def button_labels(self) -> list[str]:
        """Inline button texts, row by row."""
        return [b.get("text", "") for row in self.inline_keyboard for b in row]

    @property
    def keyboard_labels(self) -> list[str]:
        """Reply keyboard button texts, row by row."""
        return [b.get("text", "") for row in self.reply_keyboard for b in row]


@dataclass(frozen=True)
class BotOutput:
    """One visible change the bot made in a chat: a message sent, edited or deleted."""

    seq: int
    chat_id: int
    action: str  # "send" | "edit" | "delete"
    method: str
    message: SentMessage


@dataclass(frozen=True)
class CallbackAnswer:
    query_id: str
    user_id: int
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class Fault:
    """An injected failure; see ``FakeBotAPI.inject``."""

    method: str | None
    chat_id: int | str | None
    status: int | None
    retry_after: int
    times: int
    delay: float
    description: str | None

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)


class FakeTimeout(AssertionError):
    """A waiting helper gave up; the message lists what the bot did meanwhile."""


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _keyboard_button(button: Any) -> dict[str, Any]:
    # Reply keyboard buttons may be plain strings in the Bot API.
    return {"text": button} if isinstance(button, str) else dict(button)


# --------------------------------------------------------------------------- text formatting


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode())


def _bad_entities(reason: str) -> _ApiError:
    return _bad(f"can't parse entities: {reason}")


class _TextBuilder:
    """Accumulates plain text and entity spans measured in UTF-16 units, as Telegram does."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.units = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.units += _utf16_len(text)

    def entity(self, kind: str | None, start: int, **extra: Any) -> None:
        length = self.units - start
        if kind and length > 0:
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_RE = re.compile(r"<(/?)([A-Za-z][\w-]*)([^<>]*)>")
_ATTR_RE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_CHAR_REF_RE = re.compile(r"&(#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z]+);")
_HTML_PLAIN_RE = re.compile(r"[^<&]+")


def _decode_char_ref(ref: str) -> str | None:
    if ref.startswith(("#x", "#X")):
        return chr(int(ref[2:], 16))
    if ref.startswith("#"):
        return chr(int(ref[1:]))
    return _HTML_NAMED.get(ref.lower())


def _unescape_attr(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return _decode_char_ref(m.group(1)) or m.group(0)

    return _CHAR_REF_RE.sub(repl, value)


def _html_entity_extra(name: str, attrs_src: str) -> dict[str, Any]:
    attrs = {
        m.group(1).lower(): _unescape_attr(next(g for g in m.groups()[1:] if g is not None))
        for m in _ATTR_RE.finditer(attrs_src)
    }
    kind = _HTML_TAGS[name]
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise _bad_entities('Tag "span" must have class "tg-spoiler"')
    if name == "a":
        # An <a> without href is just text for Telegram.
        return {"type": "text_link", "url": attrs["href"]} if attrs.get("href") else {"type": None}
    if name == "code" and attrs.get("class", "").startswith("language-"):
        return {"type": kind, "language": attrs["class"].removeprefix("language-")}
    if name == "blockquote" and "expandable" in attrs_src.lower():
        return {"type": "expandable_blockquote"}
    if name == "tg-emoji":
        return {"type": kind, "custom_emoji_id": attrs.get("emoji-id", "")}
    return {"type": kind}


def _parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _TextBuilder()
    stack: list[tuple[str, int, dict[str, Any]]] = []
    i = 0
    while i < len(src):
        if src[i] == "<":
            m = _TAG_RE.match(src, i)
            if m is None:
                if ">" not in src[i:]:
                    raise _bad_entities(f"Unclosed start tag at byte offset {_byte_offset(src, i)}")
                raise _bad_entities(f"Unsupported start tag at byte offset {_byte_offset(src, i)}")
            closing, name = m.group(1) == "/", m.group(2).lower()
            if closing:
                if not stack or stack[-1][0] != name:
                    raise _bad_entities(f"Unexpected end tag at byte offset {_byte_offset(src, i)}")
                _close_html_tag(out, stack)
            elif name not in _HTML_TAGS:
                offset = _byte_offset(src, i)
                raise _bad_entities(f'Unsupported start tag "{name}" at byte offset {offset}')
            else:
                stack.append((name, out.units, _html_entity_extra(name, m.group(3))))
            i = m.end()
        elif src[i] == "&":
            m = _CHAR_REF_RE.match(src, i)
            decoded = _decode_char_ref(m.group(1)) if m else None
            if m is not None and decoded is not None:
                out.add(decoded)
                i = m.end()
            else:
                out.add("&")  # a lone ampersand is kept as text
                i += 1
        else:
            m = _HTML_PLAIN_RE.match(src, i)
            assert m is not None
            out.add(m.group(0))
            i = m.end()
    if stack:
        raise _bad_entities(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html_tag(out: _TextBuilder, stack: list[tuple[str, int, dict[str, Any]]]) -> None:
    name, start, extra = stack.pop()
    extra = dict(extra)
    kind = extra.pop("type")
    # <pre><code class="language-x"> is one pre entity carrying the language.
    if name == "code" and "language" in extra and stack and stack[-1][0] == "pre":
        stack[-1][2]["language"] = extra["language"]
        return
    if kind == "code":
        extra.pop("language", None)
    out.entity(kind, start, **extra)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}
_ENTITY_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
}
_MDV2_PLAIN_RE = re.compile(r"[^\\`*_~|\[\]()>#+\-={}.!]+")


def _md_code(src: str, i: int, out: _TextBuilder, *, v2: bool) -> int:
    """Parse `code` or ```pre``` starting at i; returns the index after the closing fence."""
    fence = "```" if src.startswith("```", i) else "`"
    kind = "pre" if fence == "```" else "code"
    j = i + len(fence)
    body: list[str] = []
    while j < len(src) and not src.startswith(fence, j):
        if v2 and src[j] == "\\" and j + 1 < len(src):
            j += 1  # inside code MarkdownV2 only escapes ` and \, but any escape is harmless
        body.append(src[j])
        j += 1
    if j >= len(src):
        offset = _byte_offset(src, i)
        if v2:
            raise _bad_entities(
                f"Can't find end of {_ENTITY_NAMES[kind]} entity at byte offset {offset}"
            )
        raise _bad_entities(f"Can't find end of the entity starting at byte offset {offset}")
    text = "".join(body)
    extra: dict[str, Any] = {}
    if kind == "pre":
        first, sep, rest = text.partition("\n")
        if sep and first and " " not in first:
            extra["language"], text = first, rest
    start = out.units
    out.add(text)
    out.entity(kind, start, **extra)
    return j + len(fence)


def _md_url(src: str, i: int) -> tuple[str, int]:
    """Read a link target after '(' at i; returns (url, index after ')')."""
    j = i
    url: list[str] = []
    while j < len(src) and src[j] != ")":
        if src[j] == "\\" and j + 1 < len(src):
            j += 1
        url.append(src[j])
        j += 1
    if j >= len(src):
        raise _bad_entities(f"Can't find end of a url at byte offset {_byte_offset(src, i)}")
    return "".join(url), j + 1


def _parse_markdown_v2(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _TextBuilder()
    stack: list[tuple[str, int, int]] = []  # marker, start in UTF-16 units, byte offset
    i = 0
    while i < len(src):
        ch = src[i]
        pair = src[i : i + 2]
        if ch == "\\":
            if i + 1 >= len(src):
                raise _bad_entities("Character '\\' is reserved and must be escaped")
            out.add(src[i + 1])
            i += 2
        elif ch == "`":
            i = _md_code(src, i, out, v2=True)
        elif pair in ("__", "||") or ch in "*_~":
            marker = pair if pair in ("__", "||") else ch
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                out.entity(_MDV2_MARKERS[marker], start)
            elif any(m == marker for m, _, _ in stack):
                raise _unclosed_markdown(stack[-1])  # entities must nest properly
            else:
                stack.append((marker, out.units, _byte_offset(src, i)))
            i += len(marker)
        elif ch == "[":
            stack.append(("[", out.units, _byte_offset(src, i)))
            i += 1
        elif ch == "]" and stack and stack[-1][0] == "[" and src[i + 1 : i + 2] == "(":
            _, start, _ = stack.pop()
            url, i = _md_url(src, i + 2)
            out.entity("text_link", start, url=url)
        elif ch == ">" and (i == 0 or src[i - 1] == "\n"):
            i += 1  # blockquote marker: kept as plain text without the marker
        elif ch in _MDV2_RESERVED:
            raise _bad_entities(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            m = _MDV2_PLAIN_RE.match(src, i)
            chunk = m.group(0) if m else ch
            out.add(chunk)
            i += len(chunk)
    if stack:
        raise _unclosed_markdown(stack[-1])
    return out.result()


def _unclosed_markdown(opened: tuple[str, int, int]) -> _ApiError:
    marker, _, offset = opened
    name = "TextUrl" if marker == "[" else _ENTITY_NAMES[_MDV2_MARKERS[marker]]
    return _bad_entities(f"Can't find end of {name} entity at byte offset {offset}")


def _parse_markdown_legacy(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _TextBuilder()
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "\\" and i + 1 < len(src) and src[i + 1] in "_*`[":
            out.add(src[i + 1])
            i += 2
        elif ch == "`":
            i = _md_code(src, i, out, v2=False)
        elif ch in "*_[":
            close = "]" if ch == "[" else ch
            end = src.find(close, i + 1)
            if end < 0:
                offset = _byte_offset(src, i)
                raise _bad_entities(
                    f"Can't find end of the entity starting at byte offset {offset}"
                )
            start = out.units
            out.add(src[i + 1 : end])
            if ch == "[":
                if src[end + 1 : end + 2] != "(":
                    i = end + 1
                    continue
                url, i = _md_url(src, end + 2)
                out.entity("text_link", start, url=url)
            else:
                out.entity("bold" if ch == "*" else "italic", start)
                i = end + 1
        else:
            out.add(ch)
            i += 1
    return out.result()


def _format_text(
    params: dict[str, Any], key: str, entities_key: str
) -> tuple[str, list[dict[str, Any]]]:
    """Turn text + parse_mode (or explicit entities) into Telegram's plain text + entities."""
    raw = params.get(key)
    text = "" if raw is None else str(raw)
    explicit = params.get(entities_key)
    if explicit:
        return text, list(explicit)
    mode = str(params.get("parse_mode") or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown_legacy(text)
    raise _bad("unsupported parse_mode")


# --------------------------------------------------------------------------- keyboards


def _validate_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        for button in itertools.chain.from_iterable(rows):
            _validate_inline_button(button)
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse keyboard button: KeyboardButton must be a String or an Object")
        for button in itertools.chain.from_iterable(rows):
            if not _keyboard_button(button).get("text"):
                raise _bad("keyboard button text can't be empty")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise _bad("can't parse reply keyboard markup JSON object")
    return markup


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise _bad("can't parse inline keyboard button: Text must be non-empty")
    actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
    if not actions:
        raise _bad("text buttons are unallowed in the inline keyboard")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
        raise _bad("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
        raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    # Telegram echoes only inline keyboards back in Message.reply_markup.
    if markup and "inline_keyboard" in markup:
        return markup
    return None


# --------------------------------------------------------------------------- internal state


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _StoredMessage:
    raw: dict[str, Any]
    kind: str
    from_bot: bool
    markup: dict[str, Any] | None = None
    edited: bool = False
    deleted: bool = False

    def snapshot(self) -> SentMessage:
        raw = copy.deepcopy(self.raw)
        return SentMessage(
            message_id=raw["message_id"],
            chat_id=raw["chat"]["id"],
            kind=self.kind,
            text=raw.get("text", raw.get("caption")),
            reply_markup=copy.deepcopy(self.markup),
            edited=self.edited,
            from_bot=self.from_bot,
            deleted=self.deleted,
            date=raw.get("date", 0),
            raw=raw,
        )


@dataclass
class _Chat:
    raw: dict[str, Any]
    messages: dict[int, _StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None
    menu_button: dict[str, Any] | None = None
    members: dict[int, str] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return int(self.raw["id"])

    @property
    def is_group(self) -> bool:
        return self.raw["type"] in ("group", "supergroup")


@dataclass
class _Call:
    method: str
    token: str
    params: dict[str, Any]


@dataclass
class _CallbackQuery:
    user_id: int
    chat_id: int
    answered: bool = False


_Handler = Callable[["FakeBotAPI", _Call], Any]
_HANDLERS: dict[str, tuple[str, _Handler]] = {}


def _api(*names: str) -> Callable[[_Handler], _Handler]:
    """Register a handler for Bot API methods (matched case-insensitively like Telegram)."""

    def register(func: _Handler) -> _Handler:
        for name in names:
            _HANDLERS[name.lower()] = (name, func)
        return func

    return register


# Methods that put something into a chat: blocked chats and rate limits apply to these.
_SEND_METHODS = _words(
    "sendMessage sendPhoto sendDocument sendVoice sendAudio "
    "sendVideo sendAnimation sendSticker sendMediaGroup sendLocation".lower()
)
_CHAT_WRITE_METHODS = _SEND_METHODS | {
    "sendchataction",
    "editmessagetext",
    "editmessagecaption",
    "editmessagereplymarkup",
}


# --------------------------------------------------------------------------- the server


class FakeBotAPI:
    """In-process Telegram Bot API double served over HTTP on 127.0.0.1."""

    def __init__(
        self,
        token: str | None = None,
        *,
        bot_username: str = "fake_club_bot",
        bot_first_name: str = "Club Bot",
        rate_limit_per_sec: int | None = None,
        privacy_mode: bool = True,
        auto_create_chats: bool = False,
        latency: float = 0.0,
    ) -> None:
        self.token = token
        # The network's round trip in seconds: half before a request arrives, half before
        # its answer does (a request is counted against the limit when it arrives).
        self.latency = latency
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.rate_limit_per_sec = rate_limit_per_sec
        self.privacy_mode = privacy_mode
        self.auto_create_chats = auto_create_chats

        self.requests: list[RecordedRequest] = []
        self.outbox: list[BotOutput] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.webhook: dict[str, Any] = {"url": ""}

        self._bot_id = int(token.split(":")[0]) if token else 123456789
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._handles: dict[int, FakeUser] = {}
        self._files: dict[str, _StoredFile] = {}
        self._paths: dict[str, _StoredFile] = {}
        self._pending: list[dict[str, Any]] = []
        self._allowed_updates: set[str] | None = None
        self._queries: dict[str, _CallbackQuery] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._default_menu_button: dict[str, Any] | None = None
        self._faults: list[Fault] = []
        self._blocked: set[int] = set()
        self._send_times: deque[float] = deque()
        self._accepted: dict[int, int] = {}
        # (time.monotonic(), chat id) of every message counted against the bot's limit.
        self.counted: list[tuple[float, int]] = []
        self._errors: dict[int, int] = {400: 0, 403: 0, 429: 0, 500: 0}
        self._counter = itertools.count(1)
        self._update_ids = itertools.count(1000)
        self._mark = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ----------------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Bind (port 0 = any free port) and return the base URL for TelegramAPIServer."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # Cancel handlers of disconnected clients, so an abandoned long poll doesn't linger.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._closing = False
        self.base_url = f"http://{bound_host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing = True
        self._notify()  # release long polls so shutdown is immediate
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- test-facing state

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
    ) -> FakeUser:
        """A simulated member chatting with the bot in a private chat (same handle per id)."""
        info: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                info[key] = value
        self._users[user_id] = info
        chat_raw = {"id": user_id, "type": "private", "first_name": first_name}
        for key in ("last_name", "username"):
            if key in info:
                chat_raw[key] = info[key]
        chat = self._chats.get(user_id)
        if chat is None:
            self._chats[user_id] = _Chat(raw=chat_raw)
        else:
            chat.raw = chat_raw
        if user_id not in self._handles:
            self._handles[user_id] = FakeUser(self, user_id, user_id)
        return self._handles[user_id]

    def add_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        title: str = "Test group",
        username: str | None = None,
    ) -> None:
        """Register a group/supergroup/channel the bot is in (sending elsewhere: chat not found)."""
        if chat_id in self._chats:
            return
        if chat_type is None:
            chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        raw: dict[str, Any] = {"id": chat_id, "type": chat_type, "title": title}
        if username:
            raw["username"] = username
        self._chats[chat_id] = _Chat(raw=raw)

    def set_member(self, chat_id: int, user_id: int, status: str = "member") -> None:
        """Set what getChatMember reports (member/administrator/creator/left/kicked)."""
        self.add_chat(chat_id)
        self._chats[chat_id].members[user_id] = status

    def chat_messages(self, chat_id: int, *, include_user: bool = False) -> list[SentMessage]:
        """Messages currently visible in a chat, oldest first (bot's only unless include_user)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [
            m.snapshot()
            for m in chat.messages.values()
            if not m.deleted and (m.from_bot or include_user)
        ]

    def last_message(self, chat_id: int) -> SentMessage | None:
        messages = self.chat_messages(chat_id)
        return messages[-1] if messages else None

    def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The reply keyboard currently shown in a chat, if any."""
        chat = self._chats.get(chat_id)
        return copy.deepcopy(chat.reply_keyboard) if chat else None

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list:
        return copy.deepcopy(self._commands.get((_scope_key(scope), language_code), []))

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        if chat_id is None:
            return self._default_menu_button
        chat = self._chats.get(chat_id)
        return chat.menu_button if chat else None

    def requests_for(self, method: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method.lower() == method.lower()]

    def outputs(self, chat_id: int | None = None, since: int = 0) -> list[BotOutput]:
        return [o for o in self.outbox[since:] if chat_id is None or o.chat_id == chat_id]

    def unanswered_callbacks(self) -> list[str]:
        """Callback query ids the bot never answered (the user would see a spinner)."""
        return [qid for qid, q in self._queries.items() if not q.answered]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._pending)

    @property
    def stats(self) -> dict[str, Any]:
        """Accepted sends per chat and error answers by HTTP status (as string keys)."""
        stats: dict[str, Any] = {
            "accepted": dict(self._accepted),
            "accepted_total": sum(self._accepted.values()),
        }
        stats.update({str(status): count for status, count in sorted(self._errors.items())})
        return stats

    def most_counted_within(self, seconds: float = 1.0) -> int:
        """The most messages counted against the limit in any window of this length."""
        times = [at for at, _chat in self.counted]
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= seconds:
                start += 1
            most = max(most, end - start + 1)
        return most

    # ----------------------------------------------------------------- fault injection

    def inject(
        self,
        method: str | None = "sendMessage",
        chat_id: int | str | None = None,
        status: int | None = None,
        retry_after: int = 1,
        times: int = 1,
        delay: float = 0.0,
        description: str | None = None,
    ) -> Fault:
        """Make the next ``times`` matching calls fail with ``status`` and/or answer late.

        ``method=None`` / ``chat_id=None`` match anything; faults are consumed in order.
        """
        if status is None and delay <= 0:
            raise ValueError("inject() needs a status, a delay, or both")
        fault = Fault(method, chat_id, status, max(1, retry_after), times, delay, description)
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self._faults.clear()

    def block(self, chat_id: int) -> None:
        """Every send to this chat now answers 403, like a user who blocked the bot."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    # ----------------------------------------------------------------- waiting helpers

    def mark(self) -> int:
        """Remember "now" in the bot's output stream; wait_for_messages counts from here."""
        self._mark = len(self.outbox)
        return self._mark

    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - waiting helpers take a timeout by design
        what: str = "condition",
    ) -> T:
        """Re-check ``predicate`` on every state change until it returns something truthy."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise FakeTimeout(
                    f"timed out after {timeout}s waiting for {what}\n{self.describe()}"
                )
            await self.wait_change(remaining)

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        since: int | None = None,
    ) -> list[SentMessage]:
        """Wait for ``count`` sends/edits to ``chat_id`` after ``since`` (default: last mark)."""
        start = self._mark if since is None else since

        def ready() -> list[SentMessage] | None:
            found = [
                o.message for o in self.outputs(chat_id, start) if o.action in ("send", "edit")
            ]
            return found if len(found) >= count else None

        return await self.wait_for(ready, timeout, f"{count} bot message(s) in chat {chat_id}")

    async def wait_for_request(self, method: str, timeout: float = 5.0) -> RecordedRequest:  # noqa: ASYNC109
        """Wait for the next call of ``method`` after now."""
        start = len(self.requests)

        def found() -> RecordedRequest | None:
            return next(
                (r for r in self.requests[start:] if r.method.lower() == method.lower()), None
            )

        return await self.wait_for(found, timeout, f"a {method} request")

    def describe(self, last: int = 8) -> str:
        """Recent requests and bot outputs, for failure messages."""
        lines = ["recent requests:"]
        lines += [f"  {r.method} {r.status} {_short(r.params)}" for r in self.requests[-last:]]
        lines.append("recent bot outputs:")
        lines += [
            f"  #{o.seq} {o.action} chat={o.chat_id} msg={o.message.message_id}: "
            f"{(o.message.text or o.message.kind)[:60]!r}"
            for o in self.outbox[-last:]
        ]
        return "\n".join(lines)

    async def wait_change(self, timeout: float) -> None:  # noqa: ASYNC109
        """Sleep until the next state change (request, update, answer) or ``timeout``."""
        event = self._changed
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            pass

    def _notify(self) -> None:
        # Swap in a fresh event so each waiter wakes once per change.
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    # ----------------------------------------------------------------- webhook push

    async def push_update_to(
        self, url: str, update: dict[str, Any], secret_token: str | None = None
    ) -> int:
        """POST one update to a webhook URL like Telegram does; returns the HTTP status."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with (
            ClientSession() as session,
            session.post(url, json=update, headers=headers) as resp,
        ):
            await resp.read()
            return resp.status

    async def deliver_to_webhook(self) -> int:
        """Push pending updates to the URL set by setWebhook; each 2xx answer confirms one.

        Returns how many were delivered; stops at the first failure, as Telegram retries later.
        """
        url = self.webhook.get("url")
        if not url:
            raise AssertionError("no webhook is set (the bot never called setWebhook)")
        delivered = 0
        while self._pending:
            update = copy.deepcopy(self._pending[0])
            status = await self.push_update_to(url, update, self.webhook.get("secret_token"))
            if not 200 <= status < 300:
                break
            self._pending = [u for u in self._pending if u["update_id"] != update["update_id"]]
            delivered += 1
        return delivered

    # ----------------------------------------------------------------- update production

    def _next_message_id(self, chat: _Chat) -> int:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def push_raw_update(self, update: dict[str, Any]) -> int:
        """Queue any update as given (tests of malformed ones); returns its update_id."""
        return self._enqueue(update)

    def _enqueue(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._pending.append({"update_id": update_id, **update})
        self._notify()
        return update_id

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self._bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _user_message(self, user_id: int, chat_id: int, kind: str, content: dict[str, Any]) -> int:
        chat = self._chats[chat_id]
        raw = {
            "message_id": self._next_message_id(chat),
            "from": copy.deepcopy(self._users[user_id]),
            "chat": copy.deepcopy(chat.raw),
            "date": _now(),
            **content,
        }
        chat.messages[raw["message_id"]] = _StoredMessage(raw=raw, kind=kind, from_bot=False)
        if chat.is_group:
            chat.members.setdefault(user_id, "member")
        if self._bot_sees(chat, raw):
            self._enqueue({"message": copy.deepcopy(raw)})
        else:
            self._notify()
        return raw["message_id"]

    def _bot_sees(self, chat: _Chat, raw: dict[str, Any]) -> bool:
        """Privacy mode: in groups the bot gets commands, replies to it and mentions only."""
        if not (chat.is_group and self.privacy_mode):
            return True
        text = raw.get("text") or raw.get("caption") or ""
        replied = raw.get("reply_to_message") or {}
        return (
            text.startswith("/")
            or f"@{self.bot_username}".lower() in text.lower()
            or (replied.get("from") or {}).get("id") == self._bot_id
        )

    def _callback(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        chat = self._chats[chat_id]
        stored = chat.messages.get(message_id)
        query_id = str(4_000_000_000_000_000 + next(self._counter))
        query: dict[str, Any] = {
            "id": query_id,
            "from": copy.deepcopy(self._users[user_id]),
            "chat_instance": str(abs(chat_id) * 7919 + 17),
            "data": data,
        }
        if stored is None or stored.deleted:
            # What Telegram sends for messages the bot can no longer access.
            query["message"] = {
                "chat": copy.deepcopy(chat.raw),
                "message_id": message_id,
                "date": 0,
            }
        else:
            query["message"] = copy.deepcopy(stored.raw)
        self._queries[query_id] = _CallbackQuery(user_id=user_id, chat_id=chat_id)
        self._enqueue({"callback_query": query})
        return query_id

    def _store_file(
        self,
        kind: str,
        data: bytes,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> _StoredFile:
        n = next(self._counter)
        folder, ext = _FILE_DIRS.get(kind, ("documents", ""))
        if kind == "document" and file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        stored = _StoredFile(
            file_id=f"FAKE{kind.upper()}{n:08d}AAQ",
            file_unique_id=f"AQ{n:08d}",
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{n}{ext}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._paths[stored.file_path] = stored
        return stored

    def _media_object(self, kind: str, data: bytes, **extra: Any) -> Any:
        """Build the Bot API object for a media kind, storing bytes so getFile works."""
        if kind == "photo":
            # Telegram returns several sizes, smallest first; both download the same bytes here.
            sizes = []
            for width, height in ((90, 68), (1280, 960)):
                f = self._store_file("photo", data)
                sizes.append(_file_fields(f) | {"width": width, "height": height})
            return sizes
        stored = self._store_file(kind, data, extra.get("file_name"), extra.get("mime_type"))
        obj = _file_fields(stored)
        if kind == "sticker":
            obj |= {"type": "regular", "width": 512, "height": 512}
            obj |= {"is_animated": False, "is_video": False, "emoji": extra.get("emoji", "👍")}
        elif kind in ("video", "animation"):
            obj |= {"width": 640, "height": 360, "duration": extra.get("duration", 3)}
        elif kind == "video_note":
            obj |= {"length": 240, "duration": extra.get("duration", 3)}
        elif kind in ("voice", "audio"):
            obj |= {"duration": extra.get("duration", 1)}
        for key in ("file_name", "mime_type", "performer", "title"):
            if extra.get(key):
                obj[key] = extra[key]
        return obj

    # ----------------------------------------------------------------- HTTP layer

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return _error_response(_ApiError(404, "Not Found"))

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        token, path = request.match_info["token"], request.match_info["path"]
        recorded = RecordedRequest("file_download", {"file_path": path}, time.monotonic())
        self.requests.append(recorded)
        if not self._token_ok(token):
            recorded.status = 401
            return _error_response(_ApiError(401, "Unauthorized"))
        stored = self._paths.get(path)
        recorded.status = 200 if stored else 404
        if stored is None:
            return _error_response(_ApiError(404, "Not Found"))
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type)

    def _token_ok(self, token: str) -> bool:
        if self.token is not None:
            return token == self.token
        return bool(TOKEN_RE.match(token))

    async def _handle_api(self, request: web.Request) -> web.Response:
        if self.latency > 0:
            await asyncio.sleep(self.latency / 2)  # the request on its way here
        recorded, response = await self._answer_api(request)
        if self.latency > 0:
            await asyncio.sleep(self.latency / 2)  # the answer on its way back
        recorded.answered_at = time.monotonic()
        return response

    async def _answer_api(self, request: web.Request) -> tuple[RecordedRequest, web.Response]:
        token, raw_method = request.match_info["token"], request.match_info["method"]
        known = _HANDLERS.get(raw_method.lower())
        method = known[0] if known else raw_method
        try:
            params = await _read_params(request)
        except _ApiError as exc:
            params, early_error = {}, exc
        else:
            early_error = None
        recorded = RecordedRequest(method, params, time.monotonic())
        self.requests.append(recorded)
        self._notify()  # lets wait_for_request see a long poll that hasn't answered yet
        try:
            if not self._token_ok(token):
                raise _ApiError(401, "Unauthorized")
            self._bot_id = int(token.split(":")[0])
            if early_error is not None:
                raise early_error
            if known is None:
                raise _ApiError(404, "Not Found")
            try:
                result = await self._dispatch(_Call(method, token, params), known[1])
            except (ValueError, TypeError) as exc:
                # Malformed raw parameters (aiogram validates before sending, curl doesn't).
                raise _bad(f"wrong parameter value: {exc}") from exc
        except _ApiError as exc:
            recorded.status = exc.status
            self._errors[exc.status] = self._errors.get(exc.status, 0) + 1
            self._notify()
            return recorded, _error_response(exc)
        recorded.status = 200
        self._notify()
        return recorded, _json_response({"ok": True, "result": result})

    async def _dispatch(self, call: _Call, handler: _Handler) -> Any:
        lowered = call.method.lower()
        chat_id = call.params.get("chat_id")
        fault = self._take_fault(call.method, chat_id)
        if fault is not None:
            if fault.delay > 0:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                raise _fault_error(fault)
        if lowered in _CHAT_WRITE_METHODS:
            self._check_blocked(chat_id)
        if lowered in _SEND_METHODS:
            self._check_rate_limit()
        result = handler(self, call)
        if asyncio.iscoroutine(result):
            result = await result
        if lowered in _SEND_METHODS:
            # Telegram's limits are in messages sent: only a send it carried out counts.
            # A refused one (400, 403, 429) or a failed one (500) sent nothing.
            now = time.monotonic()
            self._send_times.append(now)
            chat = self._find_chat(chat_id)
            key = chat.id if chat else 0
            self._accepted[key] = self._accepted.get(key, 0) + 1
            self.counted.append((now, key))
        return result

    def _take_fault(self, method: str, chat_id: Any) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, chat_id):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _check_blocked(self, chat_id: Any) -> None:
        chat = self._find_chat(chat_id)
        if chat is None or chat.id not in self._blocked:
            return
        if chat.raw["type"] == "private":
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        raise _ApiError(403, f"Forbidden: bot was kicked from the {chat.raw['type']} chat")

    def _check_rate_limit(self) -> None:
        limit = self.rate_limit_per_sec
        if not limit:
            return
        now = time.monotonic()
        while self._send_times and now - self._send_times[0] >= 1.0:
            self._send_times.popleft()
        if len(self._send_times) >= limit:
            retry_after = max(1, math.ceil(self._send_times[0] + 1.0 - now))
            raise _ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )

    # ----------------------------------------------------------------- chat helpers

    def _find_chat(self, chat_id: Any) -> _Chat | None:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            return next(
                (c for c in self._chats.values() if str(c.raw.get("username", "")).lower() == name),
                None,
            )
        try:
            key = int(chat_id)
        except (TypeError, ValueError):
            return None
        chat = self._chats.get(key)
        if chat is None and self.auto_create_chats:
            if key > 0:
                self.user(key)
            else:
                self.add_chat(key)
            chat = self._chats[key]
        return chat

    def _chat(self, params: dict[str, Any]) -> _Chat:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad("chat_id is empty")
        chat = self._find_chat(chat_id)
        if chat is None:
            raise _bad("chat not found")
        return chat

    def _message_to_edit(self, params: dict[str, Any]) -> _StoredMessage:
        if params.get("inline_message_id"):
            raise _bad("inline message editing is not supported by the fake API")
        chat = self._chat(params)
        if params.get("message_id") in (None, ""):
            raise _bad("message identifier is not specified")
        stored = chat.messages.get(int(params["message_id"]))
        if stored is None or stored.deleted:
            raise _bad("message to edit not found")
        if not stored.from_bot:
            raise _bad("message can't be edited")
        return stored

    def _post(
        self,
        call: _Call,
        chat: _Chat,
        kind: str,
        content: dict[str, Any],
        markup: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store an outgoing bot message, update chat state, and return its Message object."""
        raw: dict[str, Any] = {
            "message_id": self._next_message_id(chat),
            "from": self._bot_user(),
            "chat": copy.deepcopy(chat.raw),
            "date": _now(),
        }
        replied = self._replied_message(call.params, chat)
        if replied is not None:
            raw["reply_to_message"] = replied
        raw.update(content)
        if inline := _inline_only(markup):
            raw["reply_markup"] = inline
        stored = _StoredMessage(raw=raw, kind=kind, from_bot=True, markup=markup)
        chat.messages[raw["message_id"]] = stored
        if markup and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        self._record_output(call.method, "send", stored)
        return copy.deepcopy(raw)

    def _replied_message(self, params: dict[str, Any], chat: _Chat) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id") or params.get("reply_to_message_id")
        if not message_id:
            return None
        target = chat.messages.get(int(message_id))
        if target is None or target.deleted:
            allow = reply.get("allow_sending_without_reply") or params.get(
                "allow_sending_without_reply"
            )
            if allow:
                return None
            raise _bad("message to be replied not found")
        replied = copy.deepcopy(target.raw)
        replied.pop("reply_to_message", None)
        return replied

    def _record_output(self, method: str, action: str, stored: _StoredMessage) -> None:
        snapshot = stored.snapshot()
        self.outbox.append(BotOutput(len(self.outbox), snapshot.chat_id, action, method, snapshot))

    def _resolve_file(self, value: Any, kind: str, field_name: str) -> _StoredFile | None:
        """Reuse a known file_id, or return None when new bytes/URL must be stored."""
        if value in (None, ""):
            raise _bad(f"there is no {field_name} in the request")
        if isinstance(value, UploadedFile):
            return None
        text = str(value)
        if text.startswith(("http://", "https://")):
            return None
        known = self._files.get(text)
        if known is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if known.kind != kind and not (kind == "document" and known.kind != "photo"):
            raise _bad(f"can't use file of type {known.kind.title()} as {kind.title()}")
        return known

    def _media_from_param(self, kind: str, value: Any, params: dict[str, Any]) -> Any:
        known = self._resolve_file(value, kind, kind)
        if known is not None:
            if kind == "photo":
                return [_file_fields(known) | {"width": 1280, "height": 960}]
            return _file_fields(known) | _media_extras(kind, params, known)
        data = value.data if isinstance(value, UploadedFile) else b""
        extras: dict[str, Any] = {
            "duration": params.get("duration") or 1,
            "performer": params.get("performer"),
            "title": params.get("title"),
        }
        if isinstance(value, UploadedFile):
            if kind in ("document", "audio", "animation", "video"):
                extras["file_name"] = value.filename
            if kind not in ("photo", "sticker"):
                extras["mime_type"] = _guess_mime(kind, value)
        return self._media_object(kind, data, **extras)

    # ----------------------------------------------------------------- Bot API methods

    @_api("getMe")
    def _get_me(self, call: _Call) -> dict[str, Any]:
        return self._bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @_api("logOut", "close")
    def _log_out(self, call: _Call) -> bool:
        return True

    @_api("getUpdates")
    async def _get_updates(self, call: _Call) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = call.params
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            # Telegram remembers the last non-null allowed_updates; [] means "the default set".
            self._allowed_updates = set(allowed) or None
        self._confirm(params.get("offset"))
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0, int(params.get("timeout") or 0))
        while True:
            batch = self._deliverable(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                return batch
            await self.wait_change(remaining)

    def _confirm(self, offset: Any) -> None:
        if offset in (None, "", 0):
            return
        offset = int(offset)
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        if self._allowed_updates is not None:
            # Updates of types the bot didn't ask for are never delivered.
            self._pending = [u for u in self._pending if _update_type(u) in self._allowed_updates]
        return copy.deepcopy(self._pending[:limit])

    @_api("setWebhook")
    def _set_webhook(self, call: _Call) -> bool:
        url = str(call.params.get("url") or "")
        if url and not re.match(r"^https?://[^\s/]+", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = call.params.get("secret_token")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("bad webhook: secret token contains unallowed characters")
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": call.params.get("allowed_updates"),
            "max_connections": call.params.get("max_connections") or 40,
        }
        return True

    @_api("deleteWebhook")
    def _delete_webhook(self, call: _Call) -> bool:
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = {"url": ""}
        return True

    @_api("getWebhookInfo")
    def _get_webhook_info(self, call: _Call) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if info["url"]:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    @_api("sendMessage")
    def _send_message(self, call: _Call) -> dict[str, Any]:
        chat = self._chat(call.params)
        text, entities = _format_text(call.params, "text", "entities")
        _check_text(text)
        markup = _validate_markup(call.params.get("reply_markup"))
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if call.params.get("link_preview_options"):
            content["link_preview_options"] = call.params["link_preview_options"]
        return self._post(call, chat, "text", content, markup)

    def _send_media(self, call: _Call, kind: str) -> dict[str, Any]:
        chat = self._chat(call.params)
        markup = _validate_markup(call.params.get("reply_markup"))
        content = {kind: self._media_from_param(kind, call.params.get(kind), call.params)}
        content |= _caption_fields(call.params)
        return self._post(call, chat, kind, content, markup)

    @_api("sendPhoto")
    def _send_photo(self, call: _Call) -> dict[str, Any]:
        return self._send_media(call, "photo")

    @_api("sendDocument")
    def _send_document(self, call: _Call) -> dict[str, Any]:
        return self._send_media(call, "document")

    @_api("sendVoice")
    def _send_voice(self, call: _Call) -> dict[str, Any]:
        return self._send_media(call, "voice")

    @_api("sendAudio")
    def _send_audio(self, call: _Call) -> dict[str, Any]:
        return self._send_media(call, "audio")

    @_api("sendVideo")
    def _send_video(self, call: _Call) -> dict[str, Any]:
        return self._send_media(call, "video")

    @_api("sendAnimation")
    def _send_animation(self, call: _Call) -> dict[str, Any]:
        return self._send_media(call, "animation")

    @_api("sendSticker")
    def _send_sticker(self, call: _Call) -> dict[str, Any]:
        return self._send_media(call, "sticker")

    @_api("sendMediaGroup")
    def _send_media_group(self, call: _Call) -> list[dict[str, Any]]:
        chat = self._chat(call.params)
        media = call.params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad("media group must contain 2-10 items")
        kinds = {item.get("type") for item in media if isinstance(item, dict)}
        if not kinds <= {"photo", "video", "document", "audio"} or None in kinds:
            raise _bad("can't parse InputMedia: unsupported media type")
        if len(kinds) > 1 and kinds & {"document", "audio"}:
            raise _bad(
                f"{sorted(kinds & {'document', 'audio'})[0]} can't be mixed with other media types"
            )
        group_id = str(10_000_000_000 + next(self._counter))
        messages = []
        for item in media:
            kind = item["type"]
            content = {kind: self._media_from_param(kind, item.get("media"), item)}
            content |= _caption_fields(item) | {"media_group_id": group_id}
            messages.append(self._post(call, chat, kind, content))
        return messages

    @_api("sendLocation")
    def _send_location(self, call: _Call) -> dict[str, Any]:
        chat = self._chat(call.params)
        lat, lon = call.params.get("latitude"), call.params.get("longitude")
        if lat is None or lon is None:
            raise _bad("latitude and longitude must be specified")
        if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
            raise _bad("wrong latitude or longitude specified")
        markup = _validate_markup(call.params.get("reply_markup"))
        location = {"latitude": float(lat), "longitude": float(lon)}
        return self._post(call, chat, "location", {"location": location}, markup)

    @_api("sendChatAction")
    def _send_chat_action(self, call: _Call) -> bool:
        self._chat(call.params)
        if call.params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    @_api("editMessageText")
    def _edit_message_text(self, call: _Call) -> dict[str, Any]:
        stored = self._message_to_edit(call.params)
        if stored.kind != "text":
            raise _bad("there is no text in the message to edit")
        text, entities = _format_text(call.params, "text", "entities")
        _check_text(text)
        markup = _validate_markup(call.params.get("reply_markup"))
        changes: dict[str, Any] = {"text": text, "entities": entities or None}
        return self._apply_edit(call, stored, changes, markup)

    @_api("editMessageCaption")
    def _edit_message_caption(self, call: _Call) -> dict[str, Any]:
        stored = self._message_to_edit(call.params)
        if stored.kind in ("text", "location"):
            raise _bad("there is no caption in the message to edit")
        caption = _caption_fields(call.params)
        markup = _validate_markup(call.params.get("reply_markup"))
        changes = {
            "caption": caption.get("caption"),
            "caption_entities": caption.get("caption_entities"),
        }
        return self._apply_edit(call, stored, changes, markup)

    @_api("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, call: _Call) -> dict[str, Any]:
        stored = self._message_to_edit(call.params)
        markup = _validate_markup(call.params.get("reply_markup"))
        return self._apply_edit(call, stored, {}, markup)

    def _apply_edit(
        self,
        call: _Call,
        stored: _StoredMessage,
        changes: dict[str, Any],
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Apply an edit; like Telegram, omitting reply_markup removes the inline keyboard."""
        markup = _inline_only(markup)
        unchanged = all(stored.raw.get(k) == v for k, v in changes.items())
        if unchanged and _inline_only(stored.markup) == markup:
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        for key, value in changes.items():
            if value is None:
                stored.raw.pop(key, None)
            else:
                stored.raw[key] = value
        if markup:
            stored.raw["reply_markup"] = markup
        else:
            stored.raw.pop("reply_markup", None)
        stored.raw["edit_date"] = _now()
        stored.markup = markup
        stored.edited = True
        self._record_output(call.method, "edit", stored)
        return copy.deepcopy(stored.raw)

    @_api("deleteMessage")
    def _delete_message(self, call: _Call) -> bool:
        chat = self._chat(call.params)
        stored = chat.messages.get(int(call.params.get("message_id") or 0))
        if stored is None or stored.deleted:
            raise _bad("message to delete not found")
        stored.deleted = True
        self._record_output(call.method, "delete", stored)
        return True

    @_api("deleteMessages")
    def _delete_messages(self, call: _Call) -> bool:
        chat = self._chat(call.params)
        for message_id in call.params.get("message_ids") or []:
            stored = chat.messages.get(int(message_id))
            if stored is not None and not stored.deleted:
                stored.deleted = True
                self._record_output(call.method, "delete", stored)
        return True

    @_api("answerCallbackQuery")
    def _answer_callback_query(self, call: _Call) -> bool:
        query_id = str(call.params.get("callback_query_id") or "")
        query = self._queries.get(query_id)
        if query is None or query.answered:
            raise _bad(QUERY_INVALID.removeprefix("Bad Request: "))
        query.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                query_id=query_id,
                user_id=query.user_id,
                text=call.params.get("text"),
                show_alert=bool(call.params.get("show_alert")),
                url=call.params.get("url"),
            )
        )
        return True

    @_api("setMyCommands")
    def _set_my_commands(self, call: _Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (_scope_key(call.params.get("scope")), str(call.params.get("language_code") or ""))
        self._commands[key] = copy.deepcopy(commands)
        return True

    @_api("getMyCommands")
    def _get_my_commands(self, call: _Call) -> list[dict[str, Any]]:
        key = (_scope_key(call.params.get("scope")), str(call.params.get("language_code") or ""))
        return copy.deepcopy(self._commands.get(key, []))

    @_api("deleteMyCommands")
    def _delete_my_commands(self, call: _Call) -> bool:
        key = (_scope_key(call.params.get("scope")), str(call.params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    @_api("setChatMenuButton")
    def _set_chat_menu_button(self, call: _Call) -> bool:
        button = call.params.get("menu_button") or {"type": "default"}
        if call.params.get("chat_id") in (None, ""):
            self._default_menu_button = button
        else:
            self._chat(call.params).menu_button = button
        return True

    @_api("getChatMenuButton")
    def _get_chat_menu_button(self, call: _Call) -> dict[str, Any]:
        if call.params.get("chat_id") in (None, ""):
            return self._default_menu_button or {"type": "default"}
        chat = self._chat(call.params)
        return chat.menu_button or self._default_menu_button or {"type": "default"}

    @_api("getFile")
    def _get_file(self, call: _Call) -> dict[str, Any]:
        file_id = call.params.get("file_id")
        if not file_id:
            raise _bad("file_id is empty")
        stored = self._files.get(str(file_id))
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        return _file_fields(stored) | {"file_path": stored.file_path}

    @_api("getChat")
    def _get_chat(self, call: _Call) -> dict[str, Any]:
        chat = self._chat(call.params)
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            True,
        )
        return copy.deepcopy(chat.raw) | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    @_api("getChatMember")
    def _get_chat_member(self, call: _Call) -> dict[str, Any]:
        chat = self._chat(call.params)
        user_id = int(call.params.get("user_id") or 0)
        user = self._users.get(user_id)
        if user is None:
            if user_id != self._bot_id:
                raise _bad("user not found")
            user = self._bot_user()
        status = chat.members.get(user_id)
        if status is None:
            status = "member" if chat.raw["type"] == "private" else "left"
        return _chat_member(status, user)


# --------------------------------------------------------------------------- simulated users


class FakeUser:
    """A simulated Telegram user acting in one chat (private by default, see ``in_group``).

    Every action enqueues a realistic update and resets the reply cursor, so
    ``await user.expect_reply()`` returns the first bot output to this chat after the action.
    """

    def __init__(self, fake: FakeBotAPI, user_id: int, chat_id: int) -> None:
        self.fake = fake
        self.id = user_id
        self.chat_id = chat_id
        self._cursor = len(fake.outbox)
        self._last_query: str | None = None

    @property
    def info(self) -> dict[str, Any]:
        return copy.deepcopy(self.fake._users[self.id])

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, chat_id={self.chat_id})"

    # ----------------------------------------------------------------- actions

    def _message(self, kind: str, content: dict[str, Any]) -> int:
        self._cursor = len(self.fake.outbox)
        return self.fake._user_message(self.id, self.chat_id, kind, content)

    def send_text(self, text: str, *, reply_to: int | None = None) -> int:
        """Send a text (a leading "/word" becomes a bot_command entity); returns message_id."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        if reply_to is not None:
            target = self.fake._chats[self.chat_id].messages.get(reply_to)
            if target is None:
                raise AssertionError(f"no message {reply_to} in chat {self.chat_id} to reply to")
            replied = copy.deepcopy(target.raw)
            replied.pop("reply_to_message", None)
            content["reply_to_message"] = replied
        return self._message("text", content)

    def press(self, label: str) -> str:
        """Press the inline button labelled ``label`` on the newest bot message that has it."""
        messages = self.fake.chat_messages(self.chat_id)
        for message in reversed(messages):
            for button in itertools.chain.from_iterable(message.inline_keyboard):
                if button.get("text") != label:
                    continue
                if "callback_data" not in button:
                    raise AssertionError(f"button {label!r} is not a callback button: {button}")
                return self.press_data(message.message_id, button["callback_data"])
        available = [
            f"#{m.message_id}: " + " ".join(f"[{lbl}]" for lbl in m.button_labels)
            for m in messages
            if m.button_labels
        ]
        raise AssertionError(
            f"no inline button {label!r} in chat {self.chat_id}; available: "
            + ("; ".join(available) or "none")
        )

    def press_data(self, message_id: int, data: str) -> str:
        """Send a callback query for any message/data pair (stale or forged buttons)."""
        self._cursor = len(self.fake.outbox)
        self._last_query = self.fake._callback(self.id, self.chat_id, message_id, data)
        return self._last_query

    def choose(self, label: str) -> int:
        """Tap a reply-keyboard button: sends its text, like the Telegram client does."""
        keyboard = self.fake._chats[self.chat_id].reply_keyboard
        buttons = [_keyboard_button(b) for row in (keyboard or {}).get("keyboard", []) for b in row]
        button = next((b for b in buttons if b.get("text") == label), None)
        if button is None:
            labels = [b.get("text") for b in buttons]
            raise AssertionError(f"no reply keyboard button {label!r}; available: {labels}")
        if button.get("request_location"):
            raise AssertionError(f"{label!r} asks for a location: use share_location(lat, lon)")
        if keyboard and keyboard.get("one_time_keyboard"):
            self.fake._chats[self.chat_id].reply_keyboard = None
        if button.get("request_contact"):
            return self.send_contact()
        return self.send_text(label)

    def share_location(self, latitude: float, longitude: float) -> int:
        return self._message(
            "location", {"location": {"latitude": latitude, "longitude": longitude}}
        )

    def send_photo(
        self, data: bytes, caption: str | None = None, media_group_id: str | None = None
    ) -> int:
        content: dict[str, Any] = {"photo": self.fake._media_object("photo", data)}
        if caption:
            content["caption"] = caption
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self._message("photo", content)

    def send_voice(self, data: bytes, duration: int = 1) -> int:
        voice = self.fake._media_object("voice", data, duration=duration, mime_type="audio/ogg")
        return self._message("voice", {"voice": voice})

    def send_document(
        self,
        data: bytes,
        file_name: str = "file.bin",
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> int:
        document = self.fake._media_object(
            "document", data, file_name=file_name, mime_type=mime_type
        )
        content: dict[str, Any] = {"document": document}
        if caption:
            content["caption"] = caption
        return self._message("document", content)

    def send_sticker(self, emoji: str = "👍") -> int:
        return self._message(
            "sticker", {"sticker": self.fake._media_object("sticker", b"", emoji=emoji)}
        )

    def send_animation(self, data: bytes = b"GIF89a") -> int:
        animation = self.fake._media_object(
            "animation", data, file_name="animation.mp4", mime_type="video/mp4"
        )
        # Telegram sets both fields for GIFs for backward compatibility.
        return self._message("animation", {"animation": animation, "document": dict(animation)})

    def send_video(self, data: bytes = b"\x00video", caption: str | None = None) -> int:
        content: dict[str, Any] = {
            "video": self.fake._media_object("video", data, mime_type="video/mp4")
        }
        if caption:
            content["caption"] = caption
        return self._message("video", content)

    def send_video_note(self, data: bytes = b"\x00note", duration: int = 3) -> int:
        note = self.fake._media_object("video_note", data, duration=duration)
        return self._message("video_note", {"video_note": note})

    def send_contact(
        self,
        phone_number: str = "+79990000000",
        first_name: str | None = None,
        last_name: str | None = None,
        user_id: int | None = None,
    ) -> int:
        """Share a contact; by default the user's own (as the "share my phone" button does)."""
        own = first_name is None and user_id is None
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or self.fake._users[self.id]["first_name"],
        }
        if last_name:
            contact["last_name"] = last_name
        if own or user_id is not None:
            contact["user_id"] = self.id if own else user_id
        return self._message("contact", {"contact": contact})

    def send_forwarded_text(self, text: str, origin_user_id: int) -> int:
        origin = self.fake._users.get(origin_user_id) or {
            "id": origin_user_id,
            "is_bot": False,
            "first_name": f"User {origin_user_id}",
        }
        forward = {"type": "user", "sender_user": copy.deepcopy(origin), "date": _now() - 60}
        return self._message("text", {"text": text, "forward_origin": forward})

    def in_group(
        self, group_chat_id: int, title: str = "Test group", chat_type: str | None = None
    ) -> FakeUser:
        """The same person acting in a group chat (type from id: -100… is a supergroup)."""
        self.fake.add_chat(group_chat_id, chat_type, title)
        self.fake._chats[group_chat_id].members.setdefault(self.id, "member")
        return FakeUser(self.fake, self.id, group_chat_id)

    def block_bot(self) -> None:
        """Block the bot: sends answer 403 and the bot gets a my_chat_member "kicked" update."""
        self.fake.block(self.chat_id)
        self._chat_member_update("member", "kicked")

    def unblock_bot(self) -> None:
        self.fake.unblock(self.chat_id)
        self._chat_member_update("kicked", "member")

    def _chat_member_update(self, old: str, new: str) -> None:
        fake = self.fake
        bot = fake._bot_user()
        fake._enqueue(
            {
                "my_chat_member": {
                    "chat": copy.deepcopy(fake._chats[self.chat_id].raw),
                    "from": copy.deepcopy(fake._users[self.id]),
                    "date": _now(),
                    "old_chat_member": _chat_member(old, bot),
                    "new_chat_member": _chat_member(new, bot),
                }
            }
        )

    # ----------------------------------------------------------------- expectations

    def messages(self) -> list[SentMessage]:
        """Bot messages currently visible in this user's chat."""
        return self.fake.chat_messages(self.chat_id)

    def _next_output(self) -> BotOutput | None:
        return next(
            (
                o
                for o in self.fake.outbox[self._cursor :]
                if o.chat_id == self.chat_id and o.action in ("send", "edit")
            ),
            None,
        )

    async def expect_reply(self, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """The next message the bot sent or edited in this chat since the user's last action."""
        output = await self.fake.wait_for(
            self._next_output, timeout, f"a bot reply to {self!r} after output #{self._cursor}"
        )
        self._cursor = output.seq + 1
        return output.message

    async def expect_replies(self, count: int, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        return [await self.expect_reply(timeout) for _ in range(count)]

    async def expect_no_reply(self, within: float = 0.2) -> None:
        """Assert the bot stays silent in this chat for ``within`` seconds."""
        try:
            output = await self.fake.wait_for(self._next_output, within, "silence")
        except FakeTimeout:
            return
        raise AssertionError(f"unexpected bot output in chat {self.chat_id}: {output}")

    async def expect_callback_answer(self, timeout: float = 5.0) -> CallbackAnswer:  # noqa: ASYNC109
        """Wait until the bot answers this user's last button press."""
        query_id = self._last_query
        if query_id is None:
            raise AssertionError("press a button before expecting a callback answer")

        def answered() -> CallbackAnswer | None:
            return next((a for a in self.fake.callback_answers if a.query_id == query_id), None)

        return await self.fake.wait_for(answered, timeout, f"answerCallbackQuery({query_id})")


# --------------------------------------------------------------------------- helpers


def _now() -> int:
    return int(time.time())


def _short(params: dict[str, Any]) -> str:
    text = json.dumps(params, ensure_ascii=False, default=repr)
    return text if len(text) <= 120 else text[:117] + "..."


def _update_type(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


def _scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _check_text(text: str) -> None:
    if not text.strip():
        raise _bad("message text is empty")
    if _utf16_len(text) > MAX_TEXT_LENGTH:
        raise _bad("message is too long")


def _caption_fields(params: dict[str, Any]) -> dict[str, Any]:
    if params.get("caption") in (None, ""):
        return {}
    caption, entities = _format_text(params, "caption", "caption_entities")
    if _utf16_len(caption) > MAX_CAPTION_LENGTH:
        raise _bad("message caption is too long")
    fields: dict[str, Any] = {"caption": caption}
    if entities:
        fields["caption_entities"] = entities
    return fields


def _file_fields(stored: _StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }


def _media_extras(kind: str, params: dict[str, Any], stored: _StoredFile) -> dict[str, Any]:
    """Fields a re-sent (by file_id) media object needs to stay a valid Bot API object."""
    extras: dict[str, Any] = {}
    if kind in ("voice", "audio"):
        extras["duration"] = params.get("duration") or 1
    elif kind in ("video", "animation"):
        extras |= {"width": 640, "height": 360, "duration": params.get("duration") or 3}
    elif kind == "sticker":
        extras |= {"type": "regular", "width": 512, "height": 512}
        extras |= {"is_animated": False, "is_video": False}
    if stored.file_name:
        extras["file_name"] = stored.file_name
    if stored.mime_type:
        extras["mime_type"] = stored.mime_type
    return extras


def _guess_mime(kind: str, upload: UploadedFile) -> str:
    if upload.content_type and upload.content_type != "application/octet-stream":
        return upload.content_type
    return {
        "voice": "audio/ogg",
        "audio": "audio/mpeg",
        "video": "video/mp4",
        "animation": "video/mp4",
        "sticker": "image/webp",
    }.get(kind, "application/octet-stream")


def _chat_member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": copy.deepcopy(user)}
    if status == "kicked":
        member["until_date"] = 0
    elif status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        rights = (
            "can_be_edited",
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_send_welcome_messages",
        )
        member |= dict.fromkeys(rights, True) | {"is_anonymous": False, "can_be_edited": False}
    elif status == "restricted":
        member |= {"is_member": True, "until_date": 0}
    return member


def _fault_error(fault: Fault) -> _ApiError:
    status = int(fault.status or 500)
    if status == 429:
        description = fault.description or f"Too Many Requests: retry after {fault.retry_after}"
        return _ApiError(429, description, {"retry_after": fault.retry_after})
    return _ApiError(status, fault.description or _DEFAULT_DESCRIPTIONS.get(status, "Error"))


def _json_response(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(
        payload, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )


def _error_response(error: _ApiError) -> web.Response:
    payload: dict[str, Any] = {
        "ok": False,
        "error_code": error.status,
        "description": error.description,
    }
    if error.parameters:
        payload["parameters"] = error.parameters
    return _json_response(payload, error.status)


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string and body (urlencoded, multipart or JSON) into decoded params."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise _bad("can't parse JSON body") from exc
            if isinstance(body, dict):
                raw.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, FileField):
                    files[key] = UploadedFile(
                        filename=value.filename,
                        data=value.file.read(),
                        content_type=value.content_type,
                    )
                else:
                    raw[key] = value if isinstance(value, str) else bytes(value).decode()
    params = {key: _decode_value(key, value) for key, value in raw.items()}
    used: set[str] = set()
    params = {key: _attach(value, files, used) for key, value in params.items()}
    # Files sent directly under a parameter name (not via attach://) are kept as that param.
    params.update({key: f for key, f in files.items() if key not in used and key not in params})
    return params


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError as exc:
            raise _bad(f"can't parse {key} JSON object") from exc
    if key in _CHAT_ID_FIELDS:
        return int(value) if _INT_RE.match(value) else value
    if key in _INT_FIELDS and _INT_RE.match(value):
        return int(value)
    if key in _FLOAT_FIELDS:
        try:
            return float(value)
        except ValueError as exc:
            raise _bad(f"wrong {key} specified") from exc
    if key in _BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


def _attach(value: Any, files: dict[str, UploadedFile], used: set[str]) -> Any:
    """Replace "attach://name" references (also inside media lists) with the uploaded file."""
    if isinstance(value, str) and value.startswith("attach://"):
        name = value.removeprefix("attach://")
        if name not in files:
            raise _bad(f"can't find attached file {name!r}")
        used.add(name)
        return files[name]
    if isinstance(value, list):
        return [_attach(item, files, used) for item in value]
    if isinstance(value, dict):
        return {key: _attach(item, files, used) for key, item in value.items()}
    return value
