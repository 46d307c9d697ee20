"""Registration through the real bot and the fake Bot API: every language, every way of
setting a zone, the way back, and the shortcuts."""

from __future__ import annotations

from tests.club import Club


async def test_english_registration_by_buttons_shows_local_time(club: Club) -> None:
    anna = club.user(101, first_name="Anna", last_name="Petrova", language_code="en-GB")
    reply = await club.say(anna, "/start")
    assert reply.button_labels == ["Русский", "English", "中文"]
    reply = await club.press(anna, "English")
    assert "How should we call you" in (reply.text or "")
    assert reply.button_labels[0] == "Anna Petrova"
    reply = await club.press(anna, "Anna Petrova")
    assert "Which country" in (reply.text or "")
    assert "Australia" in reply.button_labels and "Russia" in reply.button_labels
    reply = await club.press(anna, "Australia")
    assert any(label.startswith("Sydney") for label in reply.button_labels)
    reply = await club.press_starting(anna, "Sydney")
    # 11:32 UTC on Saturday 9 January 2027 is 22:32 in Sydney (AEDT, UTC+11).
    assert "22:32, Saturday" in (reply.text or "")
    assert "UTC+11" in (reply.text or "")
    reply = await club.press(anna, "Yes, that's right")
    assert "09:00–21:00" in reply.button_labels
    reply = await club.press(anna, "10:00–18:00")
    assert "/forget" in (reply.text or "")
    reply = await club.press(anna, "I agree")
    assert "Welcome to the club, Anna Petrova" in (reply.text or "")
    member = await club.member(101)
    assert member is not None
    assert (member.locale, member.zone, member.country) == ("en", "Australia/Sydney", "AU")
    assert (member.hours_start, member.hours_end) == (600, 1080)
    assert member.consent_at is not None


async def test_russian_registration_with_typed_name_and_city(club: Club) -> None:
    olga = club.user(102, first_name="Olga", language_code="ru")
    await club.say(olga, "/start")
    reply = await club.press(olga, "Русский")
    assert "Как к Вам обращаться" in (reply.text or "")
    reply = await club.say(olga, "Ольга Николаевна")
    reply = await club.press(olga, "Россия")
    reply = await club.say(olga, "Владивосток")
    # 11:32 UTC is 21:32 in Vladivostok (UTC+10).
    assert "21:32" in (reply.text or "")
    await club.press(olga, reply.button_labels[0])
    reply = await club.say(olga, "10-20")
    reply = await club.press(olga, reply.button_labels[0])
    member = await club.member(102)
    assert member is not None
    assert (member.name, member.zone, member.locale) == (
        "Ольга Николаевна",
        "Asia/Vladivostok",
        "ru",
    )
    assert (member.hours_start, member.hours_end) == (600, 1200)


async def test_chinese_guess_from_zh_hans_and_typed_harbin(club: Club) -> None:
    wang = club.user(103, first_name="王", language_code="zh-hans")
    reply = await club.say(wang, "/start")
    reply = await club.press(wang, "中文")
    reply = await club.say(wang, "王丽")
    reply = await club.press(wang, "中国")
    reply = await club.say(wang, "哈尔滨")
    # Harbin keeps China's single clock: 19:32 on Saturday.
    assert "19:32" in (reply.text or "")
    await club.press(wang, reply.button_labels[0])
    reply = await club.press(wang, "09:00–21:00")
    await club.press(wang, reply.button_labels[0])
    member = await club.member(103)
    assert member is not None and member.zone == "Asia/Shanghai" and member.locale == "zh"


async def test_typed_city_in_each_language_resolves(club: Club) -> None:
    cases = [
        (110, "Сидней", "Australia/Sydney"),
        (111, "Нью-Йорк", "America/New_York"),
        (112, "Harbin", "Asia/Shanghai"),
        (113, "Berlin", "Europe/Berlin"),
    ]
    for user_id, city, zone in cases:
        user = club.user(user_id, language_code="en")
        await club.say(user, "/start")
        await club.press(user, "English")
        await club.say(user, "Test Person")
        await club.press(user, "Another country")
        await club.say(user, "Kazakhstan")
        reply = await club.say(user, city)
        if "several places" in (reply.text or ""):
            reply = await club.press(user, reply.button_labels[0])
        assert "Is that right?" in (reply.text or ""), reply.text
        await club.press(user, "Yes, that's right")
        await club.press(user, "09:00–21:00")
        await club.press(user, "I agree")
        member = await club.member(user_id)
        assert member is not None and member.zone == zone, (city, member.zone if member else None)


async def test_location_sets_zone_and_ocean_is_refused(club: Club) -> None:
    lee = club.user(120, language_code="en")
    await club.say(lee, "/start")
    await club.press(lee, "English")
    await club.say(lee, "Lee")
    await club.press(lee, "United States")
    reply = await club.press(lee, "📍 Share my location")
    assert "share your location" in (reply.text or "")
    assert reply.keyboard_labels[0] == "📍 Send location"
    lee.share_location(0.0, -30.0)  # the middle of the Atlantic
    reply = await lee.expect_reply()
    assert "at sea" in (reply.text or "")
    lee.share_location(40.7128, -74.0060)
    replies = await lee.expect_replies(2)
    assert "06:32" in (replies[-1].text or "")  # New York, EST
    await club.press(lee, "Yes, that's right")
    await club.press(lee, "09:00–21:00")
    await club.press(lee, "I agree")
    member = await club.member(120)
    assert member is not None and member.zone == "America/New_York"


async def test_back_button_returns_to_previous_step(club: Club) -> None:
    user = club.user(130, language_code="en")
    await club.say(user, "/start")
    await club.press(user, "English")
    reply = await club.press(user, "« Back")
    assert reply.button_labels == ["Русский", "English", "中文"]
    await club.press(user, "中文")
    reply = (
        await club.press(user, "« 返回") if "« 返回" in user.messages()[-1].button_labels else None
    )
    assert reply is None or reply.button_labels == ["Русский", "English", "中文"]


async def test_ambiguous_city_offers_choices(club: Club) -> None:
    user = club.user(140, language_code="en")
    await club.say(user, "/start")
    await club.press(user, "English")
    await club.say(user, "Sam")
    await club.press(user, "Another country")
    await club.say(user, "Israel")
    reply = await club.say(user, "Vancouver")
    assert "several places" in (reply.text or "")
    assert reply.button_labels == [
        "Vancouver, Canada (UTC−8)",
        "Vancouver, United States (UTC−8)",
        "« Back",
    ]
    reply = await club.press(user, "Vancouver, United States (UTC−8)")
    assert "Your place: Vancouver (UTC−8)" in (reply.text or "")
    await club.press(user, "Yes, that's right")
    await club.press(user, "09:00–21:00")
    await club.press(user, "I agree")
    member = await club.member(140)
    assert member is not None
    assert (member.country, member.zone, member.place_id) == ("US", "America/Los_Angeles", 5814616)


async def test_shortcuts_change_settings(club: Club) -> None:
    user = club.user(150, language_code="en")
    await club.register(user)
    reply = await club.say(user, "/tz Europe/Berlin")
    assert "12:32" in (reply.text or "")
    reply = await club.say(user, "/tz Atlantis/Nowhere")
    assert "couldn't find" in (reply.text or "")
    reply = await club.say(user, "/hours 22-2")
    assert "crosses midnight" in (reply.text or "")
    reply = await club.say(user, "/hours 25-30")
    assert "/hours 10-20" in (reply.text or "")
    reply = await club.say(user, "/name Sasha")
    assert "Sasha" in (reply.text or "")
    reply = await club.say(user, "/lang zh")
    member = await club.member(150)
    assert member is not None
    assert (member.zone, member.hours_start, member.hours_end, member.name, member.locale) == (
        "Europe/Berlin",
        22 * 60,
        2 * 60,
        "Sasha",
        "zh",
    )
    reply = await club.say(user, "/me")
    assert "Sasha" in (reply.text or "") and "22:00" in (reply.text or "")


async def test_settings_menu_changes_language_and_returns(club: Club) -> None:
    user = club.user(160, language_code="en")
    await club.register(user)
    reply = await club.say(user, "/settings")
    assert "Language" in reply.button_labels
    reply = await club.press(user, "Language")
    user.press("Русский")
    replies = await user.expect_replies(2)
    assert "Сохранено" in (replies[0].text or "") or "Сохранено" in (replies[-1].text or "")
    member = await club.member(160)
    assert member is not None and member.locale == "ru"


async def test_forget_deletes_everything_after_confirmation(club: Club) -> None:
    user = club.user(170, language_code="en")
    await club.register(user)
    reply = await club.say(user, "/forget")
    assert reply.button_labels == ["Yes, delete everything", "No, keep it"]
    reply = await club.press(user, "No, keep it")
    assert await club.member(170) is not None
    await club.say(user, "/forget")
    reply = await club.press(user, "Yes, delete everything")
    assert "deleted" in (reply.text or "")
    assert await club.member(170) is None


async def test_a_failure_while_queueing_the_meeting_notices_saves_no_member(
    club: Club, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The member and the notices of the coming meeting are one unit of work: if telling
    them of the meeting fails, the registration is not half-saved (and they may retry)."""
    import handlers.registration

    async def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("the outbox is unreachable")

    monkeypatch.setattr(handlers.registration, "queue_for_new_member", broken)
    anna = club.user(171, first_name="Anna", language_code="en")
    await club.say(anna, "/start")
    await club.press(anna, "English")
    await club.press(anna, "Anna")
    await club.press(anna, "Australia")
    await club.press_starting(anna, "Sydney")
    await club.press(anna, "Yes, that's right")
    await club.press(anna, "10:00–18:00")
    reply = await club.press(anna, "I agree")
    assert "Sorry, something went wrong" in (reply.text or "")
    assert await club.member(171) is None
    # The dialogue is still at its last step: with the fault gone, the same press works.
    monkeypatch.undo()
    reply = await club.press(anna, "I agree")
    assert "Welcome to the club, Anna" in (reply.text or "")
    member = await club.member(171)
    assert member is not None and member.is_registered
