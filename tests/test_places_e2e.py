"""Where a member lives, through the real bot and the fake Bot API (issue 13): found easily
at registration and with /tz, stored as a place, and named in every reader's language."""

from __future__ import annotations

from datetime import UTC, datetime

from db.models import Member
from sandbox.fake_api import FakeUser
from tests.club import ADMIN_ID, Club

HARBIN, SHANGHAI, VANCOUVER = 2037013, 1796236, 6173331


async def _start(club: Club, user_id: int, language: str, name: str = "Test") -> FakeUser:
    user = club.user(user_id, language_code="en")
    await club.say(user, "/start")
    await club.press(user, language)
    await club.say(user, name)
    return user


async def _finish(club: Club, user: FakeUser, yes: str, hours: str, agree: str) -> Member:
    """The local-time check, the hours and the consent, pressed in the member's language."""
    await club.press(user, yes)
    await club.press(user, hours)
    await club.press(user, agree)
    member = await club.member(user.id)
    assert member is not None and member.is_registered
    return member


# --- 1. a shared location names the member's own city ------------------------------------------


async def test_a_location_in_harbin_says_harbin_not_shanghai(club: Club) -> None:
    wang = await _start(club, 201, "中文", "王丽")
    await club.press(wang, "中国")
    await club.press(wang, "📍 分享我的位置")
    wang.share_location(45.75, 126.65)
    replies = await wang.expect_replies(2)
    assert "您的位置：哈尔滨（UTC+8）。" in (replies[-1].text or "")
    assert "上海" not in (replies[-1].text or "")
    member = await _finish(club, wang, "是的，没错", "09:00–21:00", "我同意")
    assert (member.zone, member.place_id, member.country) == ("Asia/Shanghai", HARBIN, "CN")


# --- 2. the city buttons ----------------------------------------------------------------------


async def test_russia_offers_its_far_east_and_a_more_page(club: Club) -> None:
    olga = await _start(club, 202, "Русский", "Ольга")
    reply = await club.press(olga, "Россия")
    labels = reply.button_labels
    for city in ("Москва", "Новосибирск", "Иркутск", "Хабаровск", "Владивосток"):
        assert any(label.startswith(city + " (UTC") for label in labels), (city, labels)
    more = await club.press(olga, "Другие места ▶")
    assert any(label.startswith("Калининград") for label in more.button_labels)
    assert not any(label.startswith("Иркутск") for label in more.button_labels)
    back = await club.press(olga, "◀ Главные города")
    assert back.button_labels == labels
    reply = await club.press_starting(olga, "Иркутск")
    assert "Ваше местоположение: Иркутск (UTC+8)." in (reply.text or "")
    member = await _finish(club, olga, "Да, всё верно", "09:00–21:00", "Даю согласие")
    assert (member.zone, member.city) == ("Asia/Irkutsk", "Иркутск")


async def test_the_usa_offers_new_york_and_china_harbin(club: Club) -> None:
    lee = await _start(club, 203, "English", "Lee")
    reply = await club.press(lee, "United States")
    assert "New York (UTC−5)" in reply.button_labels
    assert "San Francisco (UTC−8)" in reply.button_labels
    assert not any(label.startswith("Adak") for label in reply.button_labels)
    await club.press(lee, "« Back")
    reply = await club.press(lee, "China")
    labels = reply.button_labels
    assert labels.index("Harbin (UTC+8)") < labels.index("Shanghai (UTC+8)")
    assert "Dalian (UTC+8)" in labels and "Beijing (UTC+8)" in labels


# --- 3. a place is named in each reader's language -----------------------------------------------


async def test_tz_in_chinese_then_lang_ru_shows_the_russian_name(club: Club) -> None:
    zhang = club.user(204, language_code="en")
    await club.register(zhang)
    reply = await club.say(zhang, "/tz 温哥华")
    assert "Vancouver" in (reply.text or "")
    await club.say(zhang, "/lang ru")
    reply = await club.say(zhang, "/me")
    assert "Местоположение: Ванкувер (UTC−8)" in (reply.text or "")
    member = await club.member(204)
    assert member is not None and member.place_id == VANCOUVER


async def test_organisers_read_every_place_in_their_language(club: Club) -> None:
    admin = club.user(ADMIN_ID, language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    for user_id, language, country_button, typed, agree in (
        (211, "中文", "中国", "哈尔滨", ("是的，没错", "09:00–21:00", "我同意")),
        (212, "Русский", "Китай", "Харбин", ("Да, всё верно", "09:00–21:00", "Даю согласие")),
        (213, "English", "China", "Shanghai", ("Yes, that's right", "09:00–21:00", "I agree")),
    ):
        user = await _start(club, user_id, language)
        await club.press(user, country_button)
        await club.say(user, typed)
        await _finish(club, user, *agree)

    listing = (await club.say(admin, "/members")).text or ""
    assert listing.count("· Harbin ·") == 2 and "· Shanghai ·" in listing
    assert "哈尔滨" not in listing and "Харбин" not in listing

    plan = (await club.say(admin, "/plan 2027-02")).text or ""
    assert "  Harbin (2): " in plan and "  Shanghai (1): " in plan
    assert "哈尔滨" not in plan and "geo:" not in plan

    await club.press(admin, "Confirm option 1")
    fairness = (await club.say(admin, "/fairness")).text or ""
    assert "• Harbin (2): burden" in fairness  # one line for both, however they typed it
    assert "• Shanghai (1): burden" in fairness

    await club.say(admin, "/lang zh")
    fairness = (await club.say(admin, "/fairness")).text or ""
    assert "• 哈尔滨（2）：负担" in fairness and "• 上海（1）：负担" in fairness


# --- 4. the country question takes a city or a location ----------------------------------------


async def test_a_city_typed_at_the_country_question_is_understood(club: Club) -> None:
    wang = await _start(club, 221, "中文", "王丽")
    reply = await club.say(wang, "哈尔滨")
    assert "我不认识" not in (reply.text or "")
    assert "您的位置：哈尔滨（UTC+8）。" in (reply.text or "")
    member = await _finish(club, wang, "是的，没错", "09:00–21:00", "我同意")
    assert (member.country, member.place_id) == ("CN", HARBIN)


async def test_a_location_shared_at_the_country_question_is_understood(club: Club) -> None:
    anna = await _start(club, 222, "English", "Anna")
    anna.share_location(-33.87, 151.21)
    replies = await anna.expect_replies(2)
    assert "Your place: Sydney (UTC+11)." in (replies[-1].text or "")
    member = await _finish(club, anna, "Yes, that's right", "09:00–21:00", "I agree")
    assert (member.country, member.zone) == ("AU", "Australia/Sydney")


async def test_neither_a_country_nor_a_city_gets_a_clear_answer(club: Club) -> None:
    anna = await _start(club, 223, "English", "Anna")
    anna.send_text("Qwertyuiop")
    refusal, question = await anna.expect_replies(2)
    assert "I know no country or city of that name" in (refusal.text or "")
    assert "Which country" in (question.text or "")


# --- 5. /tz offers buttons, ranked by size and the member's country ----------------------------


async def test_tz_offers_buttons_with_the_capital_first(club: Club) -> None:
    lee = club.user(231, language_code="ru")
    await club.register(lee, lang="Русский", country="США", city_prefix="Нью-Йорк")
    reply = await club.say(lee, "/tz Москва")
    assert reply.button_labels == ["Москва, Россия (UTC+3)", "Москва, США (UTC−8)"]
    assert "/tz" not in (reply.text or "")
    reply = await club.press(lee, "Москва, Россия (UTC+3)")
    assert "Часовой пояс сохранён: Москва (UTC+3)." in (reply.text or "")
    member = await club.member(231)
    assert member is not None and (member.zone, member.country) == ("Europe/Moscow", "RU")


async def test_tz_hides_places_far_smaller_than_the_best(club: Club) -> None:
    olga = club.user(232, language_code="ru")
    await club.register(olga, lang="Русский", country="Россия", city_prefix="Москва")
    reply = await club.say(olga, "/tz los angeles")
    assert "Часовой пояс сохранён: Лос-Анджелес (UTC−8)." in (reply.text or "")
    assert "Испания" not in (reply.text or "") and not reply.button_labels


# --- 6. fixed offsets ----------------------------------------------------------------------------


async def test_tz_accepts_utc_offsets_and_says_what_they_mean(club: Club) -> None:
    sam = club.user(241, language_code="en")
    await club.register(sam)
    reply = await club.say(sam, "/tz UTC+3")
    assert "UTC+3, a fixed offset" in (reply.text or "") and "14:32" in (reply.text or "")
    member = await club.member(241)
    assert member is not None and member.zone == "Etc/GMT-3"
    reply = await club.say(sam, "/tz GMT-5")
    assert "UTC−5, a fixed offset" in (reply.text or "") and "06:32" in (reply.text or "")
    reply = await club.say(sam, "/tz UTC")
    assert "Time zone saved: UTC, a fixed offset" in (reply.text or "")
    reply = await club.say(sam, "/me")
    assert "Time zone: UTC, a fixed offset (no daylight-saving changes)" in (reply.text or "")
    reply = await club.say(sam, "/tz UTC+5:30")
    assert "name your city" in (reply.text or "")
    member = await club.member(241)
    assert member is not None and member.zone == "Etc/UTC"


async def test_an_offset_typed_at_registration_is_accepted(club: Club) -> None:
    sam = await _start(club, 242, "English", "Sam")
    await club.press(sam, "Another country")
    await club.say(sam, "Israel")
    reply = await club.say(sam, "GMT+2")
    assert "Your time zone: UTC+2, a fixed offset" in (reply.text or "")
    member = await _finish(club, sam, "Yes, that's right", "09:00–21:00", "I agree")
    assert member.zone == "Etc/GMT-2"


# --- 7. typography -------------------------------------------------------------------------------


async def test_chinese_buttons_and_replies_use_full_width_punctuation(club: Club) -> None:
    wang = await _start(club, 251, "中文", "王丽")
    reply = await club.press(wang, "中国")
    assert "哈尔滨（UTC+8）" in reply.button_labels
    assert not any("(" in label for label in reply.button_labels)
    reply = await club.say(wang, "Vancouver")
    assert reply.button_labels[0] == "温哥华，加拿大（UTC−8）"
    # geonames has only the traditional «溫哥華» for Vancouver, Washington.
    assert reply.button_labels[1].endswith("哥華，美国（UTC−8）")
    await club.press(wang, reply.button_labels[0])
    await _finish(club, wang, "是的，没错", "09:00–21:00", "我同意")
    reply = await club.say(wang, "/hours 22-2")
    assert "。 " not in (reply.text or "") and "（" in (reply.text or "")


async def test_russian_country_buttons_are_short(club: Club) -> None:
    olga = await _start(club, 252, "Русский", "Ольга")
    reply = olga.messages()[-1]  # the country question
    assert "США" in reply.button_labels
    assert "Соединенные Штаты" not in reply.button_labels


async def test_the_plan_table_is_punctuated_for_a_chinese_reader(club: Club) -> None:
    admin = club.user(ADMIN_ID, language_code="en")
    await club.register(admin, lang="中文", country="德国", city_prefix="柏林")
    now = datetime(2027, 1, 1, tzinfo=UTC)
    async with club.app.ctx.session_factory() as session:
        session.add(
            Member(
                telegram_id=5301,
                locale="ru",
                name="Ольга",
                city="Шанхай",  # a row from before place ids, typed in Russian
                zone="Asia/Shanghai",
                country="CN",
                registered_at=now,
                consent_at=now,
            )
        )
        await session.commit()
    plan = (await club.say(admin, "/plan 2027-02")).text or ""
    assert "  上海（1）：" in plan and "  柏林（1）：" in plan
    assert "Шанхай" not in plan
