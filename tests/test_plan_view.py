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
