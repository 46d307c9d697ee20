"""SQLAlchemy models. Instants are UTC (`UTCDateTime`); zones are IANA names."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import true as sa_true

from db.types import UTCDateTime, utcnow

DEFAULT_HOURS_START = 9 * 60
DEFAULT_HOURS_END = 21 * 60


class Base(DeclarativeBase):
    pass


class Member(Base):
    """A person who talks to the bot. Registered once `registered_at` is set."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)
    locale: Mapped[str] = mapped_column(String(8))
    name: Mapped[str | None] = mapped_column(String(128))
    country: Mapped[str | None] = mapped_column(String(2))
    zone: Mapped[str | None] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(128))
    # The geonames id of the member's city, named in each reader's language; `city` is the
    # fallback for older rows and for places geonames does not know.
    place_id: Mapped[int | None] = mapped_column(Integer)
    # Minutes since local midnight; end < start means the window crosses midnight.
    hours_start: Mapped[int] = mapped_column(Integer, default=DEFAULT_HOURS_START)
    hours_end: Mapped[int] = mapped_column(Integer, default=DEFAULT_HOURS_END)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    # Comma-separated reminder offsets the member wants ("7d,1d,1h,0"); "" means none.
    reminders: Mapped[str] = mapped_column(String(64), default="7d,1d,1h,0")
    # Invitations to share a memory on the month's theme.
    memoir_prompts: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    feed_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    unavailable: Mapped[list[MemberUnavailableDate]] = relationship(
        back_populates="member", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_registered(self) -> bool:
        return self.registered_at is not None


class MemberUnavailableDate(Base):
    """A local date the member cannot make; the planner avoids it."""

    __tablename__ = "member_unavailable_dates"
    __table_args__ = (UniqueConstraint("member_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)

    member: Mapped[Member] = relationship(back_populates="unavailable")


class Organiser(Base):
    """Organisers promoted in the chat; those in ADMIN_IDS are organisers by config."""

    __tablename__ = "organisers"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    added_by: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChatLocale(Base):
    """The language an organiser who never registered last spoke to the bot in, so notices
    (a memoir to review, next month's plan) reach them in it; members have `Member.locale`."""

    __tablename__ = "chat_locales"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    locale: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stable iCalendar UID: never changes, whatever happens to the meeting.
    uid: Mapped[str] = mapped_column(String(128), unique=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_min: Mapped[int] = mapped_column(Integer, default=90)
    theme: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    # Set when the meeting was created through the Zoom API (optional integration).
    zoom_meeting_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "monthly" (the club's planned meeting) or a special event: "conference", "memorial",
    # "excursion", "event". Events are meetings, so RSVPs, reminders and feeds work per event.
    kind: Mapped[str] = mapped_column(String(16), default="monthly", server_default="monthly")
    title: Mapped[str | None] = mapped_column(Text)  # a special event's name
    place: Mapped[str | None] = mapped_column(Text)  # an address, for events held in person
    # The published programme as JSON (scheduling/meetings/agenda.py), written when the
    # programme domain changes it; notices and feeds read it from here.
    programme: Mapped[str | None] = mapped_column(Text)
    # After the meeting: what organisers sent with /summary.
    recording_link: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    summary_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Rsvp(Base):
    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(8))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attendance(Base):
    """A member's own word, asked after the meeting, on whether they were there."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    attended: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Base):
    """One message to send later: the truth for reminders and announcements."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    # A member's message, or (member_id None) a note to a chat such as an organiser who
    # never registered: then `chat_id` says where, and the payload holds the whole text.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    dropped: Mapped[bool] = mapped_column(Boolean, default=False)


class BurdenEntry(Base):
    """The fairness ledger: what one meeting cost one member."""

    __tablename__ = "burden_ledger"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    cost: Mapped[float] = mapped_column(Float)
    night: Mapped[bool] = mapped_column(Boolean, default=False)
    month: Mapped[str] = mapped_column(String(7))


class Memoir(Base):
    """A member's memory: text and/or media, moderated before it joins the archive.

    `member_id` is nulled (not cascaded) when a member leaves but chose to keep their
    memoirs anonymised; `author_name` is a snapshot so the book does not depend on them.
    """

    __tablename__ = "memoirs"
    __table_args__ = (
        Index("ix_memoirs_published", "status", "web_consent", "id"),
        *(
            Index(f"ix_memoirs_published_{facet}", "status", "web_consent", facet)
            for facet in ("decade", "place", "theme")
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    author_name: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    decade: Mapped[int | None] = mapped_column(Integer)
    year: Mapped[int | None] = mapped_column(Integer)
    place: Mapped[str | None] = mapped_column(Text)
    people: Mapped[str | None] = mapped_column(Text)
    theme: Mapped[str | None] = mapped_column(Text)
    # draft → pending → approved | rejected
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # The search document (archive/search.py): words casefolded, ё→е, Chinese characters
    # one word each; indexed by FTS5 (SQLite) or a GIN tsvector index (PostgreSQL).
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The format `search_text` was written in; rows behind are rewritten at start-up.
    search_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What the author agreed to: "members" (club members only), or the public website
    # "named" (with their name) or "anonymous" (without it). Approved + named/anonymous =
    # published on the web.
    web_consent: Mapped[str] = mapped_column(
        String(16), default="members", server_default="members"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    media: Mapped[list[MediaFile]] = relationship(
        back_populates="memoir",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="MediaFile.id",
    )


class MediaFile(Base):
    """One stored file of a memoir. Files are content-addressed: rows may share a path."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    memoir_id: Mapped[int] = mapped_column(ForeignKey("memoirs.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Relative to MEDIA_DIR, e.g. "ab/cd/abcd….jpg".
    path: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    original_name: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # photo | voice | document
    caption: Mapped[str | None] = mapped_column(Text)
    telegram_file_id: Mapped[str | None] = mapped_column(String(255))
    telegram_file_unique_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memoir: Mapped[Memoir] = relationship(back_populates="media")


class MonthlyPlanRun(Base):
    """One row per planned month: with several instances, only the first sends the plan."""

    __tablename__ = "monthly_plan_runs"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BroadcastReport(Base):
    """Who asked for a broadcast's final count. Kept in the database, so the count still
    comes after a restart, and only once with several instances (`finished_at` is claimed)."""

    __tablename__ = "broadcast_reports"

    ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The progress message the organiser watches, what it last said, and when.
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_shown: Mapped[int | None] = mapped_column(Integer)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BurialRecord(Base):
    """One burial as a source recorded it: names in the source's own script and spelling.

    Dates are partial ISO strings ("1923", "1923-05", "1923-05-14"); `*_old_style` says
    the source gave the date in the Julian calendar. `status` is pending → approved |
    rejected; imports from historians' lists arrive approved. The search keys live in
    `burial_name_keys` and are rewritten whenever a name or a date changes.
    """

    __tablename__ = "burial_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The source's own reference (a list number, a register id); unique when given.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    surname: Mapped[str] = mapped_column(String(200), default="")
    given_names: Mapped[str] = mapped_column(String(200), default="")
    patronymic: Mapped[str] = mapped_column(String(200), default="")
    born: Mapped[str | None] = mapped_column(String(10))
    born_old_style: Mapped[bool] = mapped_column(Boolean, default=False)
    died: Mapped[str | None] = mapped_column(String(10))
    died_old_style: Mapped[bool] = mapped_column(Boolean, default=False)
    cemetery: Mapped[str | None] = mapped_column(String(300))
    section: Mapped[str | None] = mapped_column(String(200))
    inscription: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    added_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    photos: Mapped[list[BurialPhoto]] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="BurialPhoto.id",
    )


class BurialNameKey(Base):
    """A search key of a record: kind s/g/p (surname, given name, patronymic: the coarse
    sound key of one word) or y (a year of birth or death). Looked up by key."""

    __tablename__ = "burial_name_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("burial_records.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class BurialPhoto(Base):
    """A gravestone photo, stored in the media store (GPS stripped there)."""

    __tablename__ = "burial_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("burial_records.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Relative to MEDIA_DIR, e.g. "ab/cd/abcd….jpg".
    path: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    original_name: Mapped[str | None] = mapped_column(String(255))
    caption: Mapped[str | None] = mapped_column(Text)
    telegram_file_id: Mapped[str | None] = mapped_column(String(255))
    added_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    record: Mapped[BurialRecord] = relationship(back_populates="photos")


class BurialRelation(Base):
    """Two records of relatives: `relation` is what `relative_id` is to `record_id`
    (parent, child, spouse, sibling, relative). One row per pair, either direction;
    burials.records refuses a record linked to itself."""

    __tablename__ = "burial_relations"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("burial_records.id", ondelete="CASCADE"), primary_key=True
    )
    relative_id: Mapped[int] = mapped_column(
        ForeignKey("burial_records.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation: Mapped[str] = mapped_column(String(16), default="relative")
    added_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# The memoir search index lives beside the models but outside them (migration 0010): on
# SQLite an FTS5 table and the shadow tables FTS5 makes for it, on PostgreSQL a generated
# tsvector column and its index. Autogenerate must leave them alone.
SEARCH_INDEX_TABLE = "memoir_search"
SEARCH_INDEX_NAMES = frozenset(
    {SEARCH_INDEX_TABLE, "ix_memoirs_search", "search_vector"}
    | {f"{SEARCH_INDEX_TABLE}_{part}" for part in ("data", "idx", "content", "docsize", "config")}
)


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's hook: everything but the search index's own objects."""
    return name not in SEARCH_INDEX_NAMES


class Talk(Base):
    """A talk a member proposed: draft → proposed → accepted | changes | declined.

    Accepted, it has a place in one meeting's programme: `meeting_id` and `position` (one
    talk per slot) and `minutes`. `member_id` is nulled when a speaker leaves but chose to
    keep their accepted talks without their name; `speaker_name` is then cleared too.
    """

    __tablename__ = "talks"
    __table_args__ = (UniqueConstraint("meeting_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    speaker_name: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str | None] = mapped_column(Text)
    abstract: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    review_note: Mapped[str | None] = mapped_column(Text)
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    materials: Mapped[list[TalkMaterial]] = relationship(
        back_populates="talk",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TalkMaterial.id",
    )


class TalkMaterial(Base):
    """A file that goes with a talk (slides as PDF, photos, a document), in the media store."""

    __tablename__ = "talk_materials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    talk_id: Mapped[int] = mapped_column(ForeignKey("talks.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Relative to MEDIA_DIR, e.g. "ab/cd/abcd….pdf".
    path: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    original_name: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # photo | voice | document
    caption: Mapped[str | None] = mapped_column(Text)
    telegram_file_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    talk: Mapped[Talk] = relationship(back_populates="materials")


class BurialDraft(Base):
    """A burial record a member is still adding in /addgrave, one per member: the answers
    so far (JSON), kept here so a restart or a detour to another command loses nothing."""

    __tablename__ = "burial_drafts"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RelativeWish(Base):
    """A family a member is looking for: a surname in any script, maybe a place and years.
    Goes with the member (/forget) and takes its matches and introductions with it."""

    __tablename__ = "relative_wishes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    surname: Mapped[str] = mapped_column(String(100))
    place: Mapped[str | None] = mapped_column(String(100))
    year_from: Mapped[int | None] = mapped_column(Integer)
    year_to: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RelativeMatch(Base):
    """An approved burial record or memoir that answers a member's wish. One row per member
    and record (or memoir), so the member hears of each once, whichever wish found it."""

    __tablename__ = "relative_matches"
    __table_args__ = (
        UniqueConstraint("member_id", "record_id"),
        UniqueConstraint("member_id", "memoir_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wish_id: Mapped[int] = mapped_column(
        ForeignKey("relative_wishes.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    record_id: Mapped[int | None] = mapped_column(
        ForeignKey("burial_records.id", ondelete="CASCADE"), index=True
    )
    memoir_id: Mapped[int | None] = mapped_column(
        ForeignKey("memoirs.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RelativeIntroduction(Base):
    """Two members looking for one family, each asked whether to be put in touch.

    Side a is the member with the smaller id. An answer is None until given; nothing about
    either is shown to the other before both said yes. Then each sees the other's chosen
    `name` and, if they agreed, a link to their Telegram username (`link`); otherwise the
    bot passes on one message from each (`*_wrote` says it was used).
    """

    __tablename__ = "relative_introductions"
    __table_args__ = (UniqueConstraint("member_a", "member_b"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wish_a: Mapped[int] = mapped_column(
        ForeignKey("relative_wishes.id", ondelete="CASCADE"), index=True
    )
    wish_b: Mapped[int] = mapped_column(
        ForeignKey("relative_wishes.id", ondelete="CASCADE"), index=True
    )
    member_a: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    member_b: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    a_answer: Mapped[bool | None] = mapped_column(Boolean)
    b_answer: Mapped[bool | None] = mapped_column(Boolean)
    a_name: Mapped[str | None] = mapped_column(String(64))
    b_name: Mapped[str | None] = mapped_column(String(64))
    a_link: Mapped[str | None] = mapped_column(String(64))
    b_link: Mapped[str | None] = mapped_column(String(64))
    a_wrote: Mapped[bool] = mapped_column(Boolean, default=False)
    b_wrote: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
