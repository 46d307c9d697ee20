"""The members' Telegram Mini App: their own memoirs (published or not), what is shared with
members only, their answer for the next meeting, and (once the relatives search exists)
their matches in the burial records.

`/app/` is a page whose script posts Telegram's initData to `/app/auth`; the answer sets
the session cookie (web/session.py) and the script opens `/app/home`. Every other page
and file under `/app/` needs that session: without it pages answer 401 and files 404; a
memoir or file the member may not see answers 404, whether or not it exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from archive import collection
from archive.collection import CONSENTS, Audience, Filters
from db.media import MediaStore
from db.models import Member
from db.unit_of_work import commit
from ground.context import AppContext
from ground.i18n import N_
from scheduling.geo import localtime
from scheduling.meetings.lifecycle import MeetingError, next_meeting, record_rsvp, rsvp_answer
from scheduling.meetings.notices import RSVP_LABELS
from web.files import FileServer, parse_name
from web.rendering import Renderer
from web.session import (
    COOKIE,
    MAX_INIT_DATA_BYTES,
    SESSION_SECONDS,
    NotAuthentic,
    Session,
    SessionCodec,
    check_init_data,
)
from web.views import (
    APP_FILES,
    CONSENT_TEXTS,
    Translate,
    app_meta,
    card_view,
    memoir_view,
    page_number,
    pager_for,
)

PER_PAGE = 24
ANSWER_TEXTS = {
    "yes": N_("Thank you! See you at the meeting."),
    "maybe": N_("Noted: maybe. I will remind you before the meeting."),
    "no": N_("Noted: you can't come this time. No more reminders for this meeting."),
}


@dataclass(frozen=True)
class RelativeMatch:
    name: str
    url: str


# The seam for the relatives search (another branch builds /relatives): a function that
# gives a member's matches in the burial records. None (today): the section is not shown.
RelativesSearch = Callable[[AsyncSession, Member], Awaitable[Sequence[RelativeMatch]]]


class MiniApp:
    def __init__(
        self,
        ctx: AppContext,
        renderer: Renderer,
        files: FileServer,
        *,
        bot_token: str,
        relatives: RelativesSearch | None = None,
    ) -> None:
        self.ctx = ctx
        self.renderer = renderer
        self.files = files
        self.token = bot_token
        self.codec = SessionCodec(bot_token)
        self.relatives = relatives
        self.secure = ctx.settings.public_base_url.startswith("https://")

    def t(self, locale: str) -> Translate:
        return self.renderer.translator(locale)

    def _page(
        self, request: web.Request, locale: str, template: str, title: str, **context: Any
    ) -> web.Response:
        t = self.t(locale)
        return self.renderer.page(
            request,
            locale,
            template,
            private=True,
            meta=app_meta(title),
            section="",
            site_name=t("Club «Beloved Harbin»"),
            **context,
        )

    async def _member(self, request: web.Request, session: AsyncSession) -> Member | None:
        found = self.codec.read(request.cookies.get(COOKIE), self.ctx.clock.now())
        if found is None:
            return None
        member = await session.get(Member, found.member_id)
        if member is None or member.telegram_id != found.telegram_id:
            return None  # the member left (and maybe the id was given again)
        return member if member.is_registered else None

    def _signed_out(self, request: web.Request, status: int = 401) -> web.Response:
        """Without a session: 401 for the member's own page; 404 for a memoir's address
        (whether or not it exists), each with how to open the app again."""
        locale = self.ctx.settings.default_locale
        t = self.t(locale)
        return self.renderer.page(
            request,
            locale,
            "error.html",
            status=status,
            private=True,
            meta=app_meta(t("Please open the app from the bot")),
            section="",
            site_name=t("Club «Beloved Harbin»"),
            heading=t("Please open the app from the bot"),
            message=t("Your session has ended. Send /app to the club's bot to open it again."),
            link="",
            link_text="",
        )

    # ------------------------------------------------------------------ signing in

    async def shell(self, request: web.Request) -> web.Response:
        locale = self.ctx.settings.default_locale
        header = request.headers.get("Accept-Language", "")
        for part in header.split(","):
            code = part.split(";", 1)[0].strip().lower()[:2]
            if code in ("ru", "en", "zh"):
                locale = code
                break
        return self._page(request, locale, "app_shell.html", self.t(locale)("The club's app"))

    async def auth(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_INIT_DATA_BYTES:
            raise web.HTTPRequestEntityTooLarge(MAX_INIT_DATA_BYTES, request.content_length)
        raw = await request.content.read(MAX_INIT_DATA_BYTES + 1)
        if len(raw) > MAX_INIT_DATA_BYTES:
            raise web.HTTPRequestEntityTooLarge(MAX_INIT_DATA_BYTES, len(raw))
        try:
            data = check_init_data(self.token, raw.decode("utf-8"), self.ctx.clock.now())
        except (NotAuthentic, UnicodeDecodeError):
            raise web.HTTPUnauthorized() from None
        assert data.user is not None
        async with self.ctx.session_factory() as session:
            member = await session.scalar(select(Member).where(Member.telegram_id == data.user.id))
        if member is None or member.registered_at is None:
            raise web.HTTPForbidden()
        value = self.codec.issue(Session(member.id, member.telegram_id), self.ctx.clock.now())
        response = web.Response(status=204, headers={"Cache-Control": "no-store"})
        response.set_cookie(
            COOKIE,
            value,
            max_age=SESSION_SECONDS,
            path="/app",
            httponly=True,
            samesite="Strict",
            secure=self.secure,
        )
        return response

    # ------------------------------------------------------------------ pages

    async def home(self, request: web.Request) -> web.Response:
        async with self.ctx.session_factory() as session:
            member = await self._member(request, session)
            if member is None:
                return self._signed_out(request)
            locale = member.locale
            t = self.t(locale)
            meeting = await next_meeting(session, self.ctx.clock.now())
            answer = await rsvp_answer(session, meeting, member.id) if meeting else None
            own = await collection.own_memoirs(session, member.id)
            shared = await collection.collection_page(
                session,
                Audience.MEMBERS,
                Filters(members_only=True),
                page=page_number(request),
                per_page=PER_PAGE,
            )
            relatives = (
                await self.relatives(session, member) if self.relatives is not None else None
            )
        meeting_view = None
        if meeting is not None:
            meeting_view = {
                "id": meeting.id,
                "when": localtime.format_meeting_time(
                    meeting.starts_at, member.zone or "UTC", locale, with_year=True
                ),
                "theme": meeting.theme,
                "choices": [(value, t(label)) for value, label in RSVP_LABELS],
                "answer": answer,
                "answer_text": t(ANSWER_TEXTS[answer]) if answer in ANSWER_TEXTS else "",
            }
        own_cards = []
        for card in own:
            view = card_view(t, card, f"/app/memoirs/{card.id}", APP_FILES)
            view["extras"] = " · ".join(
                p for p in (view["extras"], t(CONSENT_TEXTS[card.web_consent])) if p
            )
            own_cards.append(view)
        return self._page(
            request,
            locale,
            "app_home.html",
            t("My page"),
            member_name=member.name or "",
            meeting=meeting_view,
            own=own_cards,
            relatives=[(m.name, m.url) for m in relatives] if relatives is not None else None,
            shared={
                "cards": [card_view(t, c, f"/app/memoirs/{c.id}", APP_FILES) for c in shared.cards]
            },
            shared_text=t("Memoirs: {count}").format(count=shared.total),
            pager=pager_for("/app/home", {}, shared),
        )

    async def memoir(self, request: web.Request) -> web.Response:
        raw = request.match_info["id"]
        async with self.ctx.session_factory() as session:
            member = await self._member(request, session)
            if member is None:
                return self._signed_out(request, status=404)
            found = None
            if raw.isdigit() and len(raw) <= 12:
                found = await collection.memoir_page(
                    session, int(raw), Audience.MEMBERS, member_id=member.id
                )
        t = self.t(member.locale)
        if found is None:
            return self.renderer.page(
                request,
                member.locale,
                "error.html",
                status=404,
                private=True,
                meta=app_meta(t("Page not found")),
                section="",
                site_name=t("Club «Beloved Harbin»"),
                heading=t("Page not found"),
                message=t("There is no page at this address, or it is not public."),
                link="/app/home",
                link_text=t("My page"),
            )
        view = memoir_view(t, found, APP_FILES, status=found.own)
        choices = [(c, t(CONSENT_TEXTS[c])) for c in CONSENTS] if found.own else None
        return self._page(
            request,
            member.locale,
            "app_memoir.html",
            view["title"],
            memoir=view,
            consent_choices=choices,
        )

    async def media(self, request: web.Request) -> web.StreamResponse:
        name = parse_name(request.match_info["name"])
        if name is None:
            raise web.HTTPNotFound()
        async with self.ctx.session_factory() as session:
            member = await self._member(request, session)
            if member is None:
                raise web.HTTPNotFound()  # a file's address says nothing without a session
            stored = await collection.visible_file(
                session, name.sha256, Audience.MEMBERS, member_id=member.id
            )
        if stored is None:
            raise web.HTTPNotFound()
        return await self.files.respond(stored, name, private=True)

    # ------------------------------------------------------------------ changes

    async def rsvp(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        answer = str(form.get("answer", ""))
        meeting_id = str(form.get("meeting", ""))
        async with self.ctx.session_factory() as session:
            member = await self._member(request, session)
            if member is None:
                return self._signed_out(request)
            meeting = await next_meeting(session, self.ctx.clock.now())
            if meeting is None or str(meeting.id) != meeting_id:
                raise web.HTTPSeeOther("/app/home")  # an old page: show the current meeting
            try:
                await record_rsvp(session, meeting, member, answer, now=self.ctx.clock.now())
            except MeetingError:
                raise web.HTTPBadRequest(reason="Unknown answer") from None
            await commit(session)
        raise web.HTTPSeeOther("/app/home#meeting")

    async def consent(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        choice = str(form.get("consent", ""))
        raw = request.match_info["id"]
        async with self.ctx.session_factory() as session:
            member = await self._member(request, session)
            if member is None:
                return self._signed_out(request)
            memoir = (
                await collection.own_memoir(session, member.id, int(raw))
                if raw.isdigit() and len(raw) <= 12
                else None
            )
            if memoir is None:
                raise web.HTTPNotFound()
            if choice not in CONSENTS:
                raise web.HTTPBadRequest(reason="Unknown choice")
            await collection.set_web_consent(session, memoir, choice)
            await commit(session)
        raise web.HTTPSeeOther(f"/app/memoirs/{raw}")


def mount_miniapp(
    app: web.Application,
    ctx: AppContext,
    renderer: Renderer,
    *,
    bot_token: str,
    relatives: RelativesSearch | None = None,
) -> MiniApp:
    mini = MiniApp(
        ctx,
        renderer,
        FileServer(MediaStore(ctx.settings.media_dir)),
        bot_token=bot_token,
        relatives=relatives,
    )
    app.router.add_get("/app/", mini.shell, name="app")
    app.router.add_post("/app/auth", mini.auth, name="app_auth")
    app.router.add_get("/app/home", mini.home, name="app_home")
    app.router.add_get("/app/memoirs/{id}", mini.memoir, name="app_memoir")
    app.router.add_post("/app/memoirs/{id}/consent", mini.consent, name="app_consent")
    app.router.add_post("/app/rsvp", mini.rsvp, name="app_rsvp")
    app.router.add_get("/app/media/{name}", mini.media, name="app_media")
    return mini
