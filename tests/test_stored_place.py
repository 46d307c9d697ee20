"""A member's stored place: one key per city whatever was typed, a name per reader."""

from __future__ import annotations

import pytest

from scheduling.geo.stored_place import group_label, key_label, place_key, place_label

HARBIN = 2037013
SHANGHAI_ZONE = "Asia/Shanghai"


def test_a_place_id_names_the_place_in_each_readers_language() -> None:
    labels = [place_label(HARBIN, "哈尔滨", SHANGHAI_ZONE, locale) for locale in ("ru", "en", "zh")]
    assert labels == ["Харбин", "Harbin", "哈尔滨"]


@pytest.mark.parametrize("typed", ["Харбин", "Harbin", "哈尔滨", "哈爾濱"])
def test_old_rows_typed_in_any_language_are_one_place(typed: str) -> None:
    """Rows from before place ids: the city text is recognised within the member's zone."""
    assert place_key(None, typed, SHANGHAI_ZONE, "CN") == f"geo:{HARBIN}"
    assert place_label(None, typed, SHANGHAI_ZONE, "ru", "CN") == "Харбин"


def test_a_typed_name_in_another_zone_is_not_taken_for_that_city() -> None:
    # «Sydney» stored with a Canadian zone is Sydney, Nova Scotia, not Sydney, Australia.
    key = place_key(None, "Sydney", "America/Glace_Bay", "CA")
    assert key != place_key(None, "Sydney", "Australia/Sydney", "AU")
    assert key_label(key, "en") == "Sydney"


def test_unknown_places_stay_as_typed_and_no_city_is_the_zone() -> None:
    assert place_key(None, "Заречье-на-Сунгари", "Europe/Moscow", "RU") == "text:Заречье-на-Сунгари"
    assert place_label(None, "Заречье-на-Сунгари", "Europe/Moscow", "zh") == "Заречье-на-Сунгари"
    assert place_key(None, None, "Europe/Berlin") == "zone:Europe/Berlin"
    assert place_label(None, None, "Europe/Berlin", "zh") == "柏林"
    assert place_label(None, None, "Etc/GMT-3", "ru") == "UTC+3"
    # An id the data set does not know falls back to the stored text.
    assert place_key(999_999_999, "Atlantis", "Europe/Berlin") == "text:Atlantis"


def test_the_planners_group_labels_are_named_per_reader() -> None:
    moscow = place_key(None, "Москва", "Europe/Moscow", "RU")
    label = f"geo:{HARBIN} / {moscow} and others"
    assert group_label(label, "zh", "{places}等地") == "哈尔滨 / 莫斯科等地"
    assert group_label(label, "en", "{places} and others") == "Harbin / Moscow and others"
    assert group_label("text:A / B / zone:Europe/Berlin", "ru", "") == "A / B / Берлин"
    assert group_label("Sydney", "ru", "") == "Sydney"  # a CSV roster's plain name
