"""Texts for /plan and /fairness in the reader's language: plain functions over the planner's
result, used by the organisers' commands and by the monthly plan job."""

from __future__ import annotations

from datetime import datetime

from babel.numbers import format_decimal

from ground.i18n import Translator
from scheduling.burden.store import PlaceBurden
from scheduling.geo import localtime
from scheduling.geo.stored_place import group_label, key_label
from scheduling.planner.month_plan import MonthPlan, Reason, SlotOption


def _localized_times(params: dict, locale: str, with_others: str) -> dict:
    """The planner gives English clock strings and place keys; show the same instants in
    the reader's language, in the spared city's own zone, and name the places for them."""
    if "city" in params:
        params["city"] = group_label(str(params["city"]), locale, with_others)
    if "zone" not in params or "start_utc" not in params:
        return params
    zone = str(params["zone"])
    for key, instant in (("local_time", "start_utc"), ("runner_up_time", "runner_up_start_utc")):
        moment = datetime.fromisoformat(str(params[instant]))
        params[key] = localtime.format_clock_now(moment, zone, locale)
    return params


def _translator(i18n: Translator, locale: str):  # type: ignore[no-untyped-def]
    return lambda message: i18n.gettext(message, locale=locale)


def _plural(i18n: Translator, locale: str):  # type: ignore[no-untyped-def]
    return lambda singular, plural, n: i18n.gettext(singular, plural, n, locale=locale)


def decimal(value: float, locale: str) -> str:
    """One decimal in the reader's way of writing it: 41.8, «41,8»."""
    return format_decimal(value, format="0.0", locale=locale)


def reason_text(i18n: Translator, reason: Reason, locale: str = "en") -> str:
    _ = _translator(i18n, locale)
    # The places of a group the planner names by its largest two: "Harbin / Dalian and others".
    p = _localized_times(dict(reason.params), locale, _("{places} and others"))
    p = {k: decimal(v, locale) if isinstance(v, float) else v for k, v in p.items()}
    texts = {
        "only_option": lambda: _("This is the only possible time this month."),
        "night_back_to_back": lambda: _(
            "{city} had a night meeting last month; this time gives them {local_time} instead of {runner_up_time}."
        ).format(**p),
        "night_cap": lambda: _(
            "{city} already had {nights_this_year} night meetings this year; this time gives them {local_time} instead of {runner_up_time}."
        ).format(**p),
        "later_back_to_back": lambda: _(
            "The runner-up would give {city} night meetings in both {first_month} and {second_month}; this plan does not."
        ).format(**p),
        "later_night_cap": lambda: _(
            "The runner-up would give {city} {runner_up_nights} night meetings in {year}, more than {cap}; this plan does not."
        ).format(**p),
        "fairer": lambda: _(
            "It shares the year's burden more fairly (heaviest burden {max_burden} instead of {runner_up_max_burden}); {city} gets {local_time} instead of {runner_up_time}."
        ).format(**p),
        "lighter": lambda: _(
            "It is easier on everyone on average ({mean_burden} instead of {runner_up_mean_burden}); {city} gets {local_time} instead of {runner_up_time}."
        ).format(**p),
        "earlier": lambda: _("The options are equally fair; this one comes first.").format(**p),
    }
    return texts.get(reason.code, texts["earlier"])()


def option_text(i18n: Translator, number: int, option: SlotOption, zone: str, locale: str) -> str:
    _ = _translator(i18n, locale)
    when = localtime.format_meeting_time(option.start_utc, zone, locale)
    lines = [_("Option {number}: {when} ({zone})").format(number=number, when=when, zone=zone)]
    labels = {row.city: key_label(row.city, locale) for row in option.rows}
    # West to east as the planner gave them; within one offset by the reader's names.
    rows = sorted(option.rows, key=lambda row: (row.local_start.utcoffset(), labels[row.city]))
    for row in rows:
        marks = ""
        if row.night:
            marks += " 🌙"
        elif row.outside_hours:
            marks += " ⚠"
        local = localtime.format_meeting_time(row.local_start, row.zone, locale)
        lines.append(
            _("  {place} ({members}): {time}").format(
                place=labels[row.city], members=row.members, time=local
            )
            + marks
        )
    lines.append(
        _(
            "  members at night: {nights}; burden this year, heaviest: {max_burden}, mean: {mean_burden}"
        ).format(
            nights=option.night_members,
            max_burden=decimal(option.projected_max_burden, locale),
            mean_burden=decimal(option.projected_mean_burden, locale),
        )
    )
    return "\n".join(lines)


def plan_text(i18n: Translator, plan: MonthPlan, zone: str, locale: str) -> str:
    _ = _translator(i18n, locale)
    ngettext = _plural(i18n, locale)
    members = ngettext("{count} member", "{count} members", plan.members)
    groups = ngettext("{count} time group", "{count} time groups", plan.groups)
    parts = [
        _("Plan for {month}: {members} in {groups}.").format(
            month=str(plan.month),
            members=members.format(count=plan.members),
            groups=groups.format(count=plan.groups),
        )
    ]
    options = (plan.choice, *plan.runners_up)
    for number, option in enumerate(options, start=1):
        parts.append(option_text(i18n, number, option, zone, locale))
    parts.append(_("Why option 1: {reason}").format(reason=reason_text(i18n, plan.reason, locale)))
    if plan.tentative:
        upcoming = ", ".join(
            f"{t.month}: {localtime.format_meeting_time(t.start_utc, zone, locale)}"
            for t in plan.tentative[:3]
        )
        parts.append(_("Tentative next months: {months}").format(months=upcoming))
    parts.append(_("🌙 night (00:00–06:00), ⚠ outside the members' hours."))
    return "\n\n".join(parts)


def fairness_text(i18n: Translator, places: list[PlaceBurden], locale: str) -> str:
    _ = _translator(i18n, locale)
    if not places:
        return _("No meetings have been recorded yet.")
    lines = [_("Burden over the last 12 meetings (per member; higher is harder):")]
    for place in places:
        lines.append(
            _("• {place} ({members}): burden {burden}, nights {nights}").format(
                place=key_label(place.place, locale),
                members=place.members,
                burden=decimal(place.burden, locale),
                nights=place.nights,
            )
        )
    return "\n".join(lines)
