"""The offline Bot API double, exercised through the real aiogram HTTP stack."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandStart
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    MenuButtonCommands,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from aiohttp import ClientSession, web

from sandbox.console import render_message, run_console
from sandbox.fake_api import FakeBotAPI, FakeTimeout, SentMessage, UploadedFile

TOKEN = "123456:TEST-token_abc"
PHOTO = b"\x89PNG\r\n\x1a\n-fake-photo-bytes-" * 10


class NoSuchMethod(TelegramMethod[bool]):
    __returning__ = bool
    __api_method__ = "noSuchMethod"


def make_bot(fake: FakeBotAPI, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))


def yes_no() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Yes", callback_data="yes"),
                InlineKeyboardButton(text="No", callback_data="no"),
            ],
            [InlineKeyboardButton(text="Site", url="https://example.com")],
        ]
    )


def make_router(downloads: list[bytes]) -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        assert message.from_user is not None
        await message.answer(f"Hello, {message.from_user.first_name}!", reply_markup=yes_no())

    @router.callback_query(F.data == "yes")
    async def said_yes(callback: CallbackQuery) -> None:
        await callback.answer("Saved")
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("You said yes")

    @router.message(Command("where"))
    async def where(message: Message) -> None:
        await message.answer(f"chat type: {message.chat.type}")

    @router.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        assert message.photo is not None
        buffer = await bot.download(message.photo[-1])
        assert buffer is not None
        downloads.append(buffer.read())
        await message.answer(f"photo: {len(downloads[-1])} bytes")

    @router.message(F.location)
    async def location(message: Message) -> None:
        assert message.location is not None
        await message.answer(f"at {message.location.latitude:.2f} {message.location.longitude:.2f}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    return router


@dataclass
class Running:
    bot: Bot
    dp: Dispatcher
    downloads: list[bytes] = field(default_factory=list)


@pytest.fixture
async def running(fake_api: FakeBotAPI) -> AsyncIterator[Running]:
    """The real Dispatcher long-polling the fake; waits for the first getUpdates to be safe."""
    env = Running(bot=make_bot(fake_api), dp=Dispatcher())
    env.dp.include_router(make_router(env.downloads))
    task = asyncio.create_task(env.dp.start_polling(env.bot, handle_signals=False))
    await fake_api.wait_for_request("getUpdates")
    yield env
    await env.dp.stop_polling()
    await task


@pytest.fixture
async def bot(fake_api: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = make_bot(fake_api)
    yield bot
    await bot.session.close()


# --------------------------------------------------------------------------- round trips


async def test_command_round_trip(fake_api: FakeBotAPI, running: Running) -> None:
    anna = fake_api.user(42, first_name="Anna", username="anna")
    anna.send_text("/start")

    reply = await anna.expect_reply()

    assert reply.text == "Hello, Anna!"
    assert reply.kind == "text" and reply.from_bot and not reply.edited
    assert reply.button_labels == ["Yes", "No", "Site"]
    assert reply.raw["from"]["id"] == 123456 and reply.raw["chat"]["type"] == "private"
    assert fake_api.last_message(42) == reply
    # The bot asked only for the update types it handles.
    polls = fake_api.requests_for("getUpdates")
    assert set(polls[0].params["allowed_updates"]) == {"message", "callback_query"}


async def test_press_button_edits_message(fake_api: FakeBotAPI, running: Running) -> None:
    anna = fake_api.user(42, first_name="Anna")
    anna.send_text("/start")
    menu = await anna.expect_reply()

    anna.press("Yes")
    edited = await anna.expect_reply()
    answer = await anna.expect_callback_answer()

    assert edited.message_id == menu.message_id
    assert edited.edited and edited.text == "You said yes"
    # Telegram drops the inline keyboard when an edit doesn't re-send it.
    assert edited.reply_markup is None
    assert answer.text == "Saved" and not answer.show_alert
    assert [m.text for m in fake_api.chat_messages(42)] == ["You said yes"]
    assert fake_api.unanswered_callbacks() == []
    with pytest.raises(AssertionError, match="no inline button 'Yes'"):
        anna.press("Yes")


async def test_press_unknown_label_lists_available(fake_api: FakeBotAPI, running: Running) -> None:
    anna = fake_api.user(42)
    anna.send_text("/start")
    await anna.expect_reply()

    with pytest.raises(AssertionError, match=r"available: #\d+: \[Yes\] \[No\] \[Site\]"):
        anna.press("Maybe")
    with pytest.raises(AssertionError, match="not a callback button"):
        anna.press("Site")


async def test_user_photo_download_returns_same_bytes(
    fake_api: FakeBotAPI, running: Running
) -> None:
    anna = fake_api.user(42)
    anna.send_photo(PHOTO, caption="look")

    reply = await anna.expect_reply()

    assert reply.text == f"photo: {len(PHOTO)} bytes"
    assert running.downloads == [PHOTO]
    methods = [r.method for r in fake_api.requests]
    assert methods.index("getFile") < methods.index("file_download") < methods.index("sendMessage")


async def test_location_and_several_users(fake_api: FakeBotAPI, running: Running) -> None:
    anna, boris = fake_api.user(1, "Anna"), fake_api.user(2, "Boris")
    anna.share_location(55.7512, 37.6184)
    boris.send_text("hi")

    assert (await anna.expect_reply()).text == "at 55.75 37.62"
    assert (await boris.expect_reply()).text == "echo: hi"
    await anna.expect_no_reply(within=0.05)


async def test_group_message_has_group_chat(fake_api: FakeBotAPI, running: Running) -> None:
    anna = fake_api.user(42)
    group = anna.in_group(-4242, title="Club")
    supergroup = anna.in_group(-1001234567890)

    group.send_text("/where")
    supergroup.send_text("/where@fake_club_bot")

    assert (await group.expect_reply()).text == "chat type: group"
    assert (await supergroup.expect_reply()).text == "chat type: supergroup"
    # Privacy mode: plain group chatter never reaches the bot.
    group.send_text("just chatting")
    await group.expect_no_reply(within=0.1)
    assert fake_api.chat_messages(-4242, include_user=True)[-1].text == "just chatting"


async def test_wait_for_messages_counts_since_mark(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.user(5)
    await bot.send_message(5, "before mark")
    fake_api.mark()

    async def send_later() -> None:
        await bot.send_message(5, "one")
        await bot.send_message(5, "two")

    task = asyncio.create_task(send_later())
    messages = await fake_api.wait_for_messages(5, 2, timeout=2)
    await task

    assert [m.text for m in messages] == ["one", "two"]
    with pytest.raises(FakeTimeout, match="timed out"):
        await fake_api.wait_for_messages(5, 3, timeout=0.05)


# --------------------------------------------------------------------------- errors


async def test_unknown_method_is_not_found(fake_api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(TelegramNotFound, match="Not Found"):
        await bot(NoSuchMethod())

    async with (
        ClientSession() as session,
        session.get(f"{fake_api.base_url}/bot{TOKEN}/noSuchMethod") as resp,
    ):
        assert resp.status == 404
        assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_method_names_are_case_insensitive(fake_api: FakeBotAPI) -> None:
    async with (
        ClientSession() as session,
        session.get(f"{fake_api.base_url}/bot{TOKEN}/GETME") as resp,
    ):
        body = await resp.json()
    assert body["ok"] and body["result"]["id"] == 123456
    assert fake_api.requests[-1].method == "getMe"


async def test_wrong_token_is_unauthorized() -> None:
    async with FakeBotAPI(token="1:right") as fake:
        bot = make_bot(fake, token="1:wrong")
        try:
            with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
                await bot.get_me()
        finally:
            await bot.session.close()


async def test_injected_429_gives_retry_after(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.user(7)
    fake_api.inject("sendMessage", status=429, retry_after=3)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(7, "hi")
    assert caught.value.retry_after == 3
    assert (await bot.send_message(7, "again")).text == "again"  # fault consumed
    assert fake_api.stats["429"] == 1


async def test_injected_faults_match_chat_and_order(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.user(7)
    fake_api.user(8)
    fake_api.inject("sendMessage", chat_id=8, status=403)
    fake_api.inject("sendMessage", chat_id=None, status=500, times=2)

    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(7, "a")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(8, "b")
    with pytest.raises(TelegramServerError):
        await bot.send_message(8, "c")
    await bot.send_message(8, "d")

    stats = fake_api.stats
    assert (stats["403"], stats["500"], stats["accepted"]) == (1, 2, {8: 1})


async def test_blocked_chat_always_forbidden(fake_api: FakeBotAPI, bot: Bot) -> None:
    user = fake_api.user(9)
    user.block_bot()

    for _ in range(3):
        with pytest.raises(TelegramForbiddenError):
            await bot.send_message(9, "hello?")
    update = fake_api.pending_updates[-1]["my_chat_member"]
    assert update["new_chat_member"]["status"] == "kicked"
    Update.model_validate(fake_api.pending_updates[-1])
    fake_api.unblock(9)
    await bot.send_message(9, "welcome back")


async def test_delay_injection_answers_late(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.inject("getMe", delay=0.05)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.05


async def test_global_rate_limit_rejects_with_retry_after() -> None:
    async with FakeBotAPI(rate_limit_per_sec=3) as fake:
        fake.user(7)
        bot = make_bot(fake)
        retry_afters = []
        try:
            for n in range(5):
                try:
                    await bot.send_message(7, f"msg {n}")
                except TelegramRetryAfter as exc:
                    retry_afters.append(exc.retry_after)
        finally:
            await bot.session.close()

    assert retry_afters == [1, 1]
    assert fake.stats["429"] == 2 and fake.stats["accepted"] == {7: 3}
    rejected = [r for r in fake.requests if r.status == 429]
    assert len(rejected) == 2


async def test_the_limit_counts_only_messages_sent() -> None:
    # Telegram states its limits in messages; a request it refuses or fails sends none.
    async with FakeBotAPI(rate_limit_per_sec=3) as fake:
        fake.user(7)
        fake.user(8).block_bot()
        bot = make_bot(fake)
        fake.inject("sendMessage", chat_id=7, status=429, retry_after=1)
        fake.inject("sendMessage", chat_id=7, status=500)
        fake.inject("sendMessage", chat_id=7, status=400)
        try:
            for _ in range(3):
                with pytest.raises(TelegramForbiddenError):
                    await bot.send_message(8, "blocked")
            for error in (TelegramRetryAfter, TelegramServerError, TelegramBadRequest):
                with pytest.raises(error):
                    await bot.send_message(7, "refused")
            for n in range(3):  # eight requests so far, none counted: three more fit
                await bot.send_message(7, f"sent {n}")
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(7, "the fourth in a second")
        finally:
            await bot.session.close()

    assert [chat for _, chat in fake.counted] == [7, 7, 7]
    assert fake.most_counted_within(1.0) == 3
    assert fake.stats["429"] == 2  # the injected one and the limiter's own


async def test_latency_is_a_round_trip_split_both_ways() -> None:
    async with FakeBotAPI(latency=0.06) as fake:
        fake.user(7)
        bot = make_bot(fake)
        try:
            started = time.monotonic()
            await bot.send_message(7, "hi")
            answered = time.monotonic()
        finally:
            await bot.session.close()

    [request] = fake.requests_for("sendMessage")
    assert answered - started >= 0.06
    assert request.at - started >= 0.03  # counted when it arrives, half way
    assert request.answered_at is not None and request.answered_at - request.at >= 0.03


async def test_validation_errors_match_telegram(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.user(7)
    cases = [
        (dict(chat_id=7, text="   "), "message text is empty"),
        (dict(chat_id=7, text="x" * 4097), "message is too long"),
        (dict(chat_id=99, text="hi"), "chat not found"),
        (dict(chat_id=7, text="<b>bold", parse_mode="HTML"), "can't parse entities"),
        (dict(chat_id=7, text="5.00 rub", parse_mode="MarkdownV2"), "Character '.' is reserved"),
    ]
    for kwargs, description in cases:
        with pytest.raises(TelegramBadRequest, match=description):
            await bot.send_message(**kwargs)
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(7, "hi", reply_markup=too_long)
    assert (await bot.send_message(7, "x" * 4096)).text == "x" * 4096


async def test_formatting_becomes_plain_text_and_entities(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.user(7)
    html = await bot.send_message(
        7, "<b>Привет</b> &amp; <a href='https://x.io'>link</a>", parse_mode="HTML"
    )
    md = await bot.send_message(7, r"*Итого:* 5\.00 _руб_", parse_mode="MarkdownV2")

    assert html.text == "Привет & link"
    assert [(e.type, e.offset, e.length) for e in html.entities or []] == [
        ("bold", 0, 6),
        ("text_link", 9, 4),
    ]
    assert md.text == "Итого: 5.00 руб"
    assert [e.type for e in md.entities or []] == ["bold", "italic"]


async def test_edits_follow_telegram_rules(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.user(7)
    sent = await bot.send_message(7, "menu", reply_markup=yes_no())

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "menu", chat_id=7, message_id=sent.message_id, reply_markup=yes_no()
        )
    await bot.edit_message_reply_markup(chat_id=7, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=7, message_id=999)
    await bot.delete_message(7, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(7, sent.message_id)

    assert [o.action for o in fake_api.outputs(7)] == ["send", "edit", "delete"]
    assert fake_api.chat_messages(7) == []


async def test_requests_are_recorded_in_order(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.user(5)
    sent = await bot.send_message(5, "menu", reply_markup=yes_no())
    await bot.edit_message_text("done", chat_id=5, message_id=sent.message_id)
    await bot.send_chat_action(5, "typing")
    await bot.delete_message(5, sent.message_id)

    assert [r.method for r in fake_api.requests] == [
        "sendMessage",
        "editMessageText",
        "sendChatAction",
        "deleteMessage",
    ]
    first = fake_api.requests[0]
    assert first.params["chat_id"] == 5 and first.status == 200
    assert first.params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Yes",
        "callback_data": "yes",
    }
    assert [r.at for r in fake_api.requests] == sorted(r.at for r in fake_api.requests)


async def test_bot_uploads_are_recorded_and_downloadable(fake_api: FakeBotAPI, bot: Bot) -> None:
    fake_api.user(5)
    photo = await bot.send_photo(
        5, BufferedInputFile(PHOTO, "pic.png"), caption="<i>cap</i>", parse_mode="HTML"
    )
    voice = await bot.send_voice(5, BufferedInputFile(b"OggS-voice", "v.ogg"), duration=2)
    doc = await bot.send_document(5, BufferedInputFile(b"%PDF-1.4", "plan.pdf"))
    again = await bot.send_document(5, doc.document.file_id if doc.document else "")
    album = await bot.send_media_group(
        5, [InputMediaPhoto(media=BufferedInputFile(PHOTO, f"{n}.png")) for n in range(2)]
    )

    upload = fake_api.requests_for("sendPhoto")[0].params["photo"]
    assert upload == UploadedFile("pic.png", PHOTO, upload.content_type)
    assert photo.caption == "cap" and photo.photo and voice.voice and voice.voice.duration == 2
    assert again.document and again.document.file_name == "plan.pdf"
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert (await bot.download(photo.photo[-1].file_id)).read() == PHOTO  # type: ignore[union-attr]
    kinds = [m.kind for m in fake_api.chat_messages(5)]
    assert kinds == ["photo", "voice", "document", "document", "photo", "photo"]
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(5, "not-a-known-file-id")


async def test_commands_stored_per_scope_and_language(fake_api: FakeBotAPI, bot: Bot) -> None:
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="events", description="События")], scope=scope, language_code="ru"
    )
    fake_api.user(5)
    await bot.set_chat_menu_button(chat_id=5, menu_button=MenuButtonCommands())

    ru = await bot.get_my_commands(scope=scope, language_code="ru")
    assert [c.command for c in ru] == ["events"]
    assert fake_api.commands()[0]["command"] == "start"
    assert await bot.get_my_commands(scope=scope) == []
    await bot.delete_my_commands(scope=scope, language_code="ru")
    assert fake_api.commands({"type": "all_private_chats"}, "ru") == []
    assert fake_api.menu_button(5) == {"type": "commands"}
    assert (await bot.get_chat(5)).type == "private"


async def test_webhook_blocks_get_updates_and_delivers(fake_api: FakeBotAPI, bot: Bot) -> None:
    received: list[tuple[dict, str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        received.append((await request.json(), secret))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}/hook"
        await bot.set_webhook(url, secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()
        fake_api.user(3).send_text("via webhook")
        assert await fake_api.deliver_to_webhook() == 1
        assert await fake_api.push_update_to(url, {"update_id": 1}) == 200
        await bot.delete_webhook()
    finally:
        await runner.cleanup()
    assert received[0][0]["message"]["text"] == "via webhook"
    assert received[0][1] == "s3cret" and received[1] == ({"update_id": 1}, None)
    assert await bot.get_updates() == []


async def test_long_poll_returns_when_update_arrives(fake_api: FakeBotAPI, bot: Bot) -> None:
    anna = fake_api.user(1)
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake_api.wait_for_request("getUpdates")
    started = time.monotonic()
    anna.send_text("hi")

    updates = await asyncio.wait_for(poll, 2)

    assert time.monotonic() - started < 1
    assert [u.message.text for u in updates if u.message] == ["hi"]
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == []


async def test_every_user_action_is_a_valid_update(fake_api: FakeBotAPI) -> None:
    anna = fake_api.user(1, "Anna", last_name="K", username="anna", language_code="en")
    fake_api.user(2, "Boris")
    anna.send_text("/start ref123")
    anna.send_photo(PHOTO, caption="album", media_group_id="g1")
    anna.send_voice(b"OggS", duration=4)
    anna.send_document(b"data", "notes.txt", "text/plain", caption="doc")
    anna.send_sticker()
    anna.send_animation()
    anna.send_video(caption="clip")
    anna.send_video_note()
    anna.send_contact()
    anna.send_forwarded_text("fwd", origin_user_id=2)
    anna.share_location(10.5, 20.25)
    anna.press_data(999, "stale")
    anna.in_group(-100777).send_text("/start")

    updates = [Update.model_validate(u) for u in fake_api.pending_updates]

    ids = [u.update_id for u in updates]
    assert ids == sorted(set(ids))
    first = updates[0].message
    assert first and first.entities and first.entities[0].type == "bot_command"
    assert first.entities[0].length == len("/start")
    assert updates[1].message and updates[1].message.media_group_id == "g1"
    forwarded = updates[9].message
    assert forwarded and forwarded.forward_origin and forwarded.forward_origin.type == "user"
    callback = updates[11].callback_query
    assert callback and callback.message and callback.message.date == 0
    assert updates[12].message and updates[12].message.chat.type == "supergroup"


async def test_reply_keyboard_choose(fake_api: FakeBotAPI, bot: Bot) -> None:
    anna = fake_api.user(1)
    keyboard = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="Events"), KeyboardButton(text="Phone", request_contact=True)]
        ],
        one_time_keyboard=True,
    )
    await bot.send_message(1, "Menu", reply_markup=keyboard)
    assert fake_api.last_message(1).keyboard_labels == ["Events", "Phone"]  # type: ignore[union-attr]

    anna.choose("Events")

    assert fake_api.pending_updates[-1]["message"]["text"] == "Events"
    assert fake_api.reply_keyboard(1) is None  # one-time keyboards hide after use
    with pytest.raises(AssertionError, match="no reply keyboard button"):
        anna.choose("Events")


# --------------------------------------------------------------------------- console


def test_render_message_shows_buttons() -> None:
    inline = SentMessage(
        1, 5, "text", "Pick one", reply_markup=yes_no().model_dump(exclude_none=True)
    )
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Events"), KeyboardButton(text="Help")]]
    )
    reply = SentMessage(2, 5, "text", "Menu", reply_markup=keyboard.model_dump(exclude_none=True))
    photo = SentMessage(3, 5, "photo", "Caption")

    assert render_message(inline) == "Pick one\n[ Yes ] [ No ]\n[ Site ]"
    assert render_message(inline, numbered=True) == "Pick one\n[ 1. Yes ] [ 2. No ]\n[ 3. Site ]"
    assert render_message(reply) == "Menu\n( Events ) ( Help )"
    assert render_message(photo) == "[photo] Caption"


async def test_run_console_scripted(fake_api: FakeBotAPI, running: Running) -> None:
    users = {"member": fake_api.user(1, "Anna"), "admin": fake_api.user(2, "Boss")}
    script = iter(
        [
            "/start",
            "1",
            ":loc 55.75 37.62",
            ":press Nope",
            ":as admin",
            "hello",
            ":bogus",
            ":quit",
            "unused",
        ]
    )
    prompts: list[str] = []
    out: list[str] = []

    async def input_fn(prompt: str) -> str | None:
        prompts.append(prompt)
        return next(script, None)

    await asyncio.wait_for(run_console(fake_api, users, "member", input_fn, out.append), 5)

    text = "\n".join(out)
    assert "Hello, Anna!\n  [ 1. Yes ] [ 2. No ]" in text
    assert "(edited):\n  You said yes" in text
    assert "bot (popup): Saved" in text
    assert "at 55.75 37.62" in text
    assert "! no inline button 'Nope'" in text
    assert "echo: hello" in text and "unknown command :bogus" in text
    assert prompts[0] == "member> " and prompts[-1] == "admin> "
    assert len(prompts) == 8  # stopped at :quit
