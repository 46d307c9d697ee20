"""Webhook mode end to end: setWebhook at start, updates only with the right secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.webhook import webhook_path
from ground.settings import SettingsError, load_settings
from tests.webhook_club import SECRET, running_webhook_club


def _start_update(update_id: int, user_id: int) -> dict[str, object]:
    user = {"id": user_id, "is_bot": False, "first_name": "Mallory", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_800_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Mallory"},
            "from": user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_registers_webhook_and_serves_a_dialogue(tmp_path: Path) -> None:
    async with running_webhook_club(tmp_path) as club:
        hook = club.fake.requests_for("setWebhook")[-1].params
        assert hook["secret_token"] == SECRET
        assert str(hook["url"]).endswith("/tg/hook")
        allowed = set(club.fake.webhook["allowed_updates"] or [])
        assert {"message", "callback_query"} <= allowed
        assert not club.fake.requests_for("deleteWebhook")
        assert not club.fake.requests_for("getUpdates")

        member = await club.register(club.user(501))
        assert member.zone == "Australia/Sydney"
        reply = await club.say(club.user(501), "/me")
        assert "Anna" in (reply.text or "")


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("wrong-secret-0123456789", 403)])
async def test_missing_or_wrong_secret_changes_nothing(
    tmp_path: Path, secret: str | None, status: int
) -> None:
    async with running_webhook_club(tmp_path, pumping=False) as club:
        url = str(club.fake.webhook["url"])
        club.user(777, first_name="Mallory")  # known chats, so a reply could land
        club.user(778, first_name="Mallory")
        before = len(club.fake.requests)
        got = await club.fake.push_update_to(url, _start_update(77, 777), secret)
        assert got == status
        # The right secret is accepted, so the refusals above are about the secret only.
        assert await club.fake.push_update_to(url, _start_update(78, 778), SECRET) == 200
        await club.fake.wait_for_messages(778)
        assert club.fake.chat_messages(777) == []
        assert await club.member(777) is None
        assert all(r.params.get("chat_id") not in (777, "777") for r in club.fake.requests[before:])


async def test_metrics_and_healthz_in_webhook_mode(tmp_path: Path) -> None:
    import aiohttp

    async with running_webhook_club(tmp_path) as club:
        await club.say(club.user(502), "/start")
        base = f"http://127.0.0.1:{club.settings.web_port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/healthz") as resp:
                assert resp.status == 200
                body = await resp.json()
            async with http.get(base + "/metrics") as resp:
                text = await resp.text()
        assert body["database"] is True and body["telegram"] is True
        assert body["outbox_lag_seconds"] == 0
        assert "# TYPE harbin_updates_handled_total counter" in text
        assert "harbin_outbox_lag_seconds 0" in text
        handled = next(
            line for line in text.splitlines() if line.startswith("harbin_updates_handled_total ")
        )
        assert float(handled.split()[1]) >= 1


def test_webhook_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_URL"):
        load_settings(_env_file=None, bot_mode="webhook")
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
        load_settings(_env_file=None, bot_mode="webhook", webhook_url="https://x.example/hook")
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
        load_settings(
            _env_file=None,
            bot_mode="webhook",
            webhook_url="https://x.example/hook",
            webhook_secret="bad secret with spaces!",
        )
    ok = load_settings(
        _env_file=None,
        bot_mode="WEBHOOK",
        webhook_url="https://x.example/tg/",
        webhook_secret=SECRET,
    )
    assert ok.webhook_mode and webhook_path(str(ok.webhook_url)) == "/tg"
    assert SECRET not in repr(ok)


async def test_an_undecodable_update_is_acknowledged_so_the_rest_flow(tmp_path: Path) -> None:
    """Telegram resends an update until it gets a 2xx, holding back later ones."""
    async with running_webhook_club(tmp_path, pumping=False) as club:
        url = str(club.fake.webhook["url"])
        club.user(779, first_name="Mallory")
        broken = {"update_id": 90, "message": {"message_id": "x", "chat": {"id": 779}}}
        assert await club.fake.push_update_to(url, broken, SECRET) == 200
        assert await club.fake.push_update_to(url, _start_update(91, 779), SECRET) == 200
        await club.fake.wait_for_messages(779)
