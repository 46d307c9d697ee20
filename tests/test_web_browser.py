"""The web archive as a person uses it, in Debian's headless Chromium: the collection, a
search in each language, a memoir with its recording, a burial record, the meeting's local
time, the keyboard, axe-core on every page type in ru/en/zh, screenshots at 390 and 1280
px (data/screenshots/), and the Mini App with signed and forged initData.

One browser and one server for the module; SQLite only (the HTTP behaviour on PostgreSQL
is covered by tests/test_web_site.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests import browser as b
from tests.web_club import ANNA_TELEGRAM_ID, sign_init_data

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[b.ServedClub]:
    why = b.missing()
    if why is not None:
        if b.in_ci():
            pytest.fail(f"browser tests cannot run in CI: {why}")
        pytest.skip(why)
    club = b.ServedClub(tmp_path_factory.mktemp("web")).start()
    try:
        yield club
    finally:
        club.stop()


@pytest.fixture(scope="module")
def chromium(served: b.ServedClub) -> Iterator[b.Browser]:
    browser = b.Browser()
    try:
        yield browser
    finally:
        browser.quit()


def card_titles(chromium: b.Browser) -> set[str]:
    return set(
        chromium.js("return [...document.querySelectorAll('.card-title')].map(e => e.textContent)")
    )


def search_with_the_form(chromium: b.Browser, field: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    chromium.js("window.beforeSearch = true")
    box = chromium.driver.find_element(By.ID, field)
    box.clear()
    box.send_keys(text + Keys.ENTER)
    chromium.wait_for(
        "return window.beforeSearch === undefined && document.readyState === 'complete'"
    )


def test_a_visitor_searches_reads_listens_and_finds_a_grave(
    served: b.ServedClub, chromium: b.Browser
) -> None:
    from selenium.webdriver.common.by import By

    chromium.viewport(1280)
    chromium.open(served.base_url + "/")  # the root sends the visitor to a language
    assert chromium.driver.current_url.endswith("/ru/")
    assert card_titles(chromium) == {"Каток на Сунгари", "Schools of Harbin", "中央大街的冬天"}
    for query, found in (
        ("ЕЛКА", {"Каток на Сунгари"}),
        ("哈尔滨", {"中央大街的冬天"}),
        ("school", {"Schools of Harbin"}),
    ):
        search_with_the_form(chromium, "q", query)
        assert "/ru/search?q=" in chromium.driver.current_url
        assert card_titles(chromium) == found, query

    search_with_the_form(chromium, "q", "Сунгари")
    chromium.js("window.beforeClick = true")
    chromium.driver.find_element(By.CSS_SELECTOR, ".card-link").click()
    chromium.wait_for("return window.beforeClick === undefined")
    assert chromium.driver.find_element(By.TAG_NAME, "h1").text == "Каток на Сунгари"
    playing = chromium.wait_js(
        "const done = arguments[arguments.length - 1];"
        "const audio = document.querySelector('audio');"
        "audio.play().then(() => setTimeout(() => done({state: audio.readyState,"
        " time: audio.currentTime, error: audio.error && audio.error.code}), 400),"
        " e => done({failed: String(e)}));"
    )
    assert playing.get("failed") is None and playing["state"] >= 2 and playing["time"] > 0
    photo = chromium.driver.find_element(By.CSS_SELECTOR, "figure img")
    chromium.js("arguments[0].scrollIntoView()", photo)
    chromium.images_loaded()
    assert chromium.js("return arguments[0].naturalWidth", photo) > 0
    assert photo.get_attribute("alt") == "Мама на льду"

    chromium.driver.find_element(By.LINK_TEXT, "Захоронения").click()
    chromium.wait_for("return location.pathname === '/ru/graves'")
    search_with_the_form(chromium, "gq", "Shchukin")
    chromium.driver.find_element(By.PARTIAL_LINK_TEXT, "Щукинъ").click()
    chromium.wait_for("return location.pathname.startsWith('/ru/graves/')")
    assert "Миръ праху твоему" in chromium.driver.find_element(By.TAG_NAME, "main").text


def test_the_meeting_shows_the_visitors_own_time_and_works_without_script(
    served: b.ServedClub, chromium: b.Browser
) -> None:
    chromium.open(served.base_url + "/en/meeting")
    local = chromium.js("return document.getElementById('your-time')")
    assert chromium.js("return arguments[0].hidden", local) is False
    assert "2027" in chromium.js("return arguments[0].textContent", local)
    # Without script the table by city says the same in every zone.
    assert "Sydney" in chromium.js("return document.querySelector('table.times').textContent")


def test_keyboard_and_small_screens(served: b.ServedClub, chromium: b.Browser) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    chromium.viewport(320)
    chromium.open(served.base_url + "/ru/")
    ActionChains(chromium.driver).send_keys(Keys.TAB).perform()
    assert chromium.js("return document.activeElement.className") == "skip"
    ActionChains(chromium.driver).send_keys(Keys.ENTER).perform()
    assert chromium.js("return location.hash") == "#main"
    for path in ("/ru/", f"/zh/memoirs/{served.club.seeded.avenue}", "/en/meeting"):  # type: ignore[union-attr]
        chromium.open(served.base_url + path)
        overflow = chromium.js(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, path
        size = chromium.js("return parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 18, path
    chromium.viewport(1280)


def _pages(served: b.ServedClub) -> list[tuple[str, str]]:
    s = served.club.seeded  # type: ignore[union-attr]
    return [
        ("collection", "/{lang}/"),
        ("search", "/{lang}/search?q=%D0%A1%D1%83%D0%BD%D0%B3%D0%B0%D1%80%D0%B8"),
        ("memoir", f"/{{lang}}/memoirs/{s.skating}"),
        ("graves", "/{lang}/graves?q=Shchukin"),
        ("grave", f"/{{lang}}/graves/{s.grave}"),
        ("meeting", "/{lang}/meeting"),
        ("not-found", "/{lang}/memoirs/999999"),
    ]


@pytest.mark.parametrize("lang", ["ru", "en", "zh"])
def test_every_page_type_passes_axe_and_is_screenshotted(
    served: b.ServedClub, chromium: b.Browser, lang: str
) -> None:
    problems = {}
    shots: list[Path] = []
    for name, path in _pages(served):
        chromium.viewport(1280)
        chromium.open(served.base_url + path.format(lang=lang))
        found = chromium.axe_violations()
        if found:
            problems[name] = found
        if name != "not-found":
            for width in (390, 1280):
                shots.append(chromium.screenshot(f"{name}-{lang}", width))
    assert not problems, problems
    assert all(p.stat().st_size > 5_000 for p in shots)


def test_the_mini_app_with_signed_and_forged_init_data(
    served: b.ServedClub, chromium: b.Browser
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    chromium.driver.delete_all_cookies()
    signed = sign_init_data(ANNA_TELEGRAM_ID)
    chromium.viewport(390)
    chromium.open(f"{served.base_url}/app/#tgWebAppData={quote(signed)}&tgWebAppVersion=8.0")
    WebDriverWait(chromium.driver, 10).until(lambda d: d.current_url.endswith("/app/home"))
    main = chromium.js("return document.querySelector('main').textContent")
    assert "Черновик о соборе" in main and "Только для своих" in main
    assert chromium.axe_violations() == []
    chromium.screenshot("app-home-ru", 390)
    pending = served.club.seeded.pending  # type: ignore[union-attr]
    chromium.js("document.querySelector(arguments[0]).click()", f'a[href$="/memoirs/{pending}"]')
    WebDriverWait(chromium.driver, 10).until(lambda d: "/app/memoirs/" in d.current_url)
    assert "Секретный черновик" in chromium.js("return document.body.textContent")
    assert chromium.axe_violations() == []
    chromium.screenshot("app-memoir-ru", 390)

    # A forged initData (someone else's name on Anna's signature) opens nothing private.
    chromium.driver.delete_all_cookies()
    forged = signed.replace("Anna", "Mallory")
    chromium.open(f"{served.base_url}/app/#tgWebAppData={quote(forged)}&tgWebAppVersion=8.0")
    WebDriverWait(chromium.driver, 10).until(
        lambda d: d.execute_script("return !document.getElementById('app-refused').hidden")
    )
    assert chromium.driver.current_url.split("#")[0].endswith("/app/")
    chromium.open(served.base_url + "/app/home")
    body = chromium.js("return document.body.textContent")
    assert "Черновик" not in body and "Only" not in body
    chromium.open(f"{served.base_url}/app/media/{served.club.seeded.secret_photo}.jpg")  # type: ignore[union-attr]
    assert "Черновик" not in chromium.js("return document.body.textContent")
    chromium.viewport(1280)


@pytest.mark.parametrize("lang", ["ru", "en", "zh"])
def test_the_exported_book_passes_axe_in_each_language(
    served: b.ServedClub, chromium: b.Browser, lang: str, tmp_path: Path
) -> None:
    """The /export book's pages, opened from the unpacked ZIP as an organiser would."""
    import asyncio
    import zipfile

    from archive.export import build_export
    from handlers.i18n import build_i18n
    from handlers.memoir_review import export_labels

    club = served.club
    assert club is not None
    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale(lang):
        labels = export_labels(i18n)
    book = tmp_path / "book.zip"
    result = asyncio.run_coroutine_threadsafe(
        build_export(club.ctx.session_factory, club.store, book, labels), served.loop
    ).result(120)
    assert result.memoirs >= 1
    unpacked = tmp_path / "book"
    with zipfile.ZipFile(book) as archive:
        archive.extractall(unpacked)
    pages = sorted(unpacked.rglob("*.html"))
    # The cover, the indexes and at least one memoir page.
    assert any(p.name == "index.html" for p in pages) and len(pages) >= 3
    problems = {}
    for page in pages[:8]:
        chromium.open(page.as_uri())
        assert chromium.js("return document.documentElement.lang").startswith(lang)
        found = chromium.axe_violations()
        if found:
            problems[page.name] = found
    assert not problems, problems
