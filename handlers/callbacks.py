"""Callback data shapes. Short prefixes: Telegram allows 64 bytes of callback data."""

from __future__ import annotations

from functools import lru_cache
from typing import Self, cast

from aiogram.filters.callback_data import CallbackData
from pydantic import ConfigDict


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
    meeting_id: int
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

    start: int


class AttendCb(CallbackData, prefix="att"):
    """After a meeting: was the member there?"""

    meeting_id: int
    attended: bool


class PromptCb(CallbackData, prefix="mpr"):
    """A button on the memoir invitation: "write" starts /memoir on the theme, "off" opts out."""

    action: str
    meeting_id: int = 0


class GraveCb(CallbackData, prefix="grv"):
    """/grave: "more" shows the next page of the results; "show" opens one record."""

    action: str
    record_id: int = 0
    page: int = 0


class RelCb(CallbackData, prefix="rel"):
    """/relatives: add | remove (a wish) | skip (an optional step) | list | memoir (read one)."""

    action: str
    ref: int = 0


class IntroCb(CallbackData, prefix="itr"):
    """An introduction between two members: yes | no | myname | link | nolink | write."""

    action: str
    intro_id: int
