"""Debian's headless Chromium, driven by Selenium, against the web archive served from a
thread of its own (the tests drive the browser synchronously), plus axe-core.

`scripts/chromium.sh` installs the browser; CI runs it before the tests. Without the
browser the tests are skipped on a developer's machine and fail in CI (CI=true).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.web_club import TOKEN, WebClub, web_club
from web.app import build_web_app

ROOT = Path(__file__).resolve().parent.parent
BROWSER = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "data" / "screenshots"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
)


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for path in (BROWSER, DRIVER):
        if not path.exists():
            return f"{path} is missing: run scripts/chromium.sh"
    if not AXE.exists():
        return f"{AXE} is missing: run npm install"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: run scripts/bootstrap.sh"
    return None


class Browser:
    """One Chromium with a fresh profile; closed (and its profile removed) by `quit`."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="harbin-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(BROWSER)
        for flag in (*FLAGS, f"--user-data-dir={self.profile}"):
            options.add_argument(flag)
        # A Russian-speaking visitor: the root address should send them to /ru/.
        options.add_experimental_option("prefs", {"intl.accept_languages": "ru,en"})
        self.driver = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)
        self._axe = AXE.read_text(encoding="utf-8")

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def viewport(self, width: int, height: int = 900) -> None:
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
        )

    def open(self, url: str) -> None:
        self.driver.get(url)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def wait_js(self, script: str, *args: Any) -> Any:
        """Runs an async script: its last argument is the callback that returns."""
        return self.driver.execute_async_script(script, *args)

    def wait_for(self, script: str, timeout: float = 10.0) -> None:
        """Until the script returns true (a page navigated, an element appeared)."""
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(
            lambda driver: driver.execute_script(script)
        )

    def axe_violations(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the current page."""
        self.js(self._axe)
        found = self.wait_js(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map("
            "v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))));"
        )
        return [v for v in found if v["impact"] in ("serious", "critical")]

    def images_loaded(self) -> None:
        """Waits (at most 10 s) until the pictures in the viewport have loaded."""
        self.wait_js(
            "const done = arguments[arguments.length - 1]; const started = Date.now();"
            "(function check() {"
            " const pending = [...document.images].filter(i => i.loading !== 'lazy' || "
            "  i.getBoundingClientRect().top < innerHeight).filter(i => !i.complete);"
            " if (!pending.length || Date.now() - started > 10000) done(pending.length);"
            " else setTimeout(check, 50); })();"
        )

    def screenshot(self, name: str, width: int) -> Path:
        """The whole page (up to 4,000 px tall) at this width, under data/screenshots/."""
        self.viewport(width)
        height = int(self.js("return document.documentElement.scrollHeight"))
        self.viewport(width, max(600, min(height, 4000)))
        self.images_loaded()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}-{width}.png"
        self.driver.save_screenshot(str(path))
        self.viewport(width)
        return path


class ServedClub:
    """The web app on 127.0.0.1 with the test club's data, in a thread with its own loop."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.stack = AsyncExitStack()
        self.base_url = ""
        self.club: WebClub | None = None

    def start(self) -> ServedClub:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(120)
        return self

    async def _start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        url = f"sqlite+aiosqlite:///{self.tmp_path / 'web.sqlite3'}"
        self.club = await self.stack.enter_async_context(
            web_club(self.tmp_path, url, base_url=self.base_url, public_feed=True)
        )
        runner = web.AppRunner(build_web_app(self.club.ctx, bot_token=TOKEN))
        await runner.setup()
        self.stack.push_async_callback(runner.cleanup)
        await web.SockSite(runner, sock).start()

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.stack.aclose(), self.loop).result(60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
