"""Every reason code the planner gives has a sentence, and every sentence fills in."""

from __future__ import annotations

import pytest
from aiogram.utils.i18n import I18n

from handlers.i18n import build_i18n
from scheduling.planner.results import Reason
from scheduling.planning.view import reason_text

PARAMS = {
    "city": "Sydney",
    "nights_this_year": 2,
    "local_time": "09:00",
    "runner_up_time": "03:00",
    "cap": 3,
    "year": 2027,
    "runner_up_nights": 4,
    "first_month": "2027-03",
    "second_month": "2027-04",
    "max_burden": 60.0,
    "runner_up_max_burden": 64.0,
    "budget": 60.0,
    "mean_burden": 41.8,
    "runner_up_mean_burden": 44.0,
}
CODES = [
    "only_option",
    "night_back_to_back",
    "later_back_to_back",
    "night_cap",
    "later_night_cap",
    "fairer",
    "lighter",
    "earlier",
]


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return build_i18n("en")


@pytest.mark.parametrize("locale", ["ru", "en", "zh"])
@pytest.mark.parametrize("code", CODES)
def test_reason_sentences_fill_in(i18n: I18n, code: str, locale: str) -> None:
    text = reason_text(i18n, Reason(code, PARAMS), locale)
    assert text and "{" not in text
    if code.startswith(("night", "later")):
        assert "Sydney" in text


def test_planner_reason_codes_are_all_known() -> None:
    import re
    from pathlib import Path

    source = (
        Path(__file__).resolve().parent.parent / "scheduling" / "planner" / "reasons.py"
    ).read_text()
    produced = set(re.findall(r'"((?:later_|night_)?[a-z_]+)"', source)) & set(CODES)
    assert produced >= {"fairer", "lighter", "earlier", "only_option"}


def test_counts_take_each_languages_plural_forms_and_decimals_its_comma() -> None:
    from ground.i18n import Catalogs
    from scheduling.burden.store import PlaceBurden
    from scheduling.planner.cost import Window
    from scheduling.planner.month_plan import plan_month
    from scheduling.planner.roster import Member
    from scheduling.planner.slots import Rules
    from scheduling.planning.view import fairness_text, plan_text

    catalogs = Catalogs("en")
    one = [Member(key=1, city="Harbin", zone="Asia/Harbin", hours=Window(540, 1260))]
    plan = plan_month(one, Rules(), "2027-02")
    assert "1 участник в 1 часовой группе." in plan_text(catalogs, plan, "Asia/Harbin", "ru")
    assert "1 member in 1 time group." in plan_text(catalogs, plan, "Asia/Harbin", "en")
    five = [
        Member(key=n, city="Harbin", zone=zone, hours=Window(540, 1260))
        for n, zone in enumerate(["Asia/Harbin"] * 3 + ["Europe/Moscow"] * 2)
    ]
    plan = plan_month(five, Rules(), "2027-02")
    assert "5 участников в 2 часовых группах." in plan_text(catalogs, plan, "UTC", "ru")
    places = [PlaceBurden("Harbin", 2, 0.5, 0)]
    assert "нагрузка 0,5" in fairness_text(catalogs, places, "ru")
    assert "burden 0.5" in fairness_text(catalogs, places, "en")
    assert "（2）" in fairness_text(catalogs, places, "zh")  # full-width brackets
