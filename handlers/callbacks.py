"""Callback data shapes. Short prefixes: Telegram allows 64 bytes of callback data."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Self, cast

from aiogram.filters.callback_data import CallbackData
from pydantic import ConfigDict, Field

# Numbers in callback data come from the person's client and may be forged: out of range,
# they fail to parse, and the press is answered as a stale button (never an OverflowError
# from the database). Row ids and Telegram ids fit in 53 bits; timestamps end in 2100.
RowId = Annotated[int, Field(ge=0, lt=2**53)]
Timestamp = Annotated[int, Field(ge=0, le=4_102_444_800)]


class RegCb(CallbackData, prefix="reg"):
    """A registration or settings step answer: `step` says which question it answers."""

    # Frozen, so one parsed press can be shared by every filter that looks at it.
    model_config = ConfigDict(frozen=True)

    step: str
    value: str = ""

    @classmethod
    def unpack(cls, value: str) -> Self:
        # Each press meets the "back" handler's filter, then its own step's: parse it once.
        return cast(Self, _unpack_reg(value))


@lru_cache(maxsize=4096)
def _unpack_reg(value: str) -> CallbackData:
    # Unparsable data raises, and lru_cache keeps no entry for it.
    return CallbackData.unpack.__func__(RegCb, value)  # type: ignore[attr-defined]


class SettingsCb(CallbackData, prefix="set"):
    action: str


class ForgetCb(CallbackData, prefix="fgt"):
    confirm: bool
    # Keep approved memoirs in the archive without the author's name.
    keep_memoirs: bool = False


class RsvpCb(CallbackData, prefix="rsvp"):
    meeting_id: RowId
    answer: str


class MeetingAdminCb(CallbackData, prefix="mtg"):
    """Organiser confirmations: cancel a meeting, send a broadcast."""

    action: str
    ref: str = ""


class ReminderCb(CallbackData, prefix="rem"):
    """Toggle one reminder offset ("7d", "1d", "1h", "0"), or "done"."""

    offset: str


class PlanCb(CallbackData, prefix="plan"):
    """Confirm one of the planner's options: the start as a UTC timestamp."""

    start: Timestamp


class AttendCb(CallbackData, prefix="att"):
    """After a meeting: was the member there?"""

    meeting_id: RowId
    attended: bool


class PromptCb(CallbackData, prefix="mpr"):
    """A button on the memoir invitation: "write" starts /memoir on the theme, "off" opts out."""

    action: str
    meeting_id: RowId = 0


class TalkCb(CallbackData, prefix="tlk"):
    """A speaker's buttons on their talks: "revise" reopens one, "withdraw"/"confirm" take
    it back."""

    action: str
    talk_id: RowId = 0


class ClubCb(CallbackData, prefix="club"):
    """The organisers' note about the club chat: "retry" posts what was held."""

    action: str


class GraveCb(CallbackData, prefix="grv"):
    """/grave: "more" shows the next page of the results; "show" opens one record."""

    action: str
    record_id: RowId = 0
    page: RowId = 0


class RelCb(CallbackData, prefix="rel"):
    """/relatives: add | remove (a wish) | skip (an optional step) | list | memoir (read one)."""

    action: str
    ref: RowId = 0


class IntroCb(CallbackData, prefix="itr"):
    """An introduction between two members: yes | no | myname | link | nolink | write."""

    action: str
    intro_id: RowId
