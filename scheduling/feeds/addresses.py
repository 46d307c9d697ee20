"""Where a member's calendar feed lives: the path the web serves and the addresses members paste."""

from __future__ import annotations


def feed_path(token: str) -> str:
    return f"/feed/{token}.ics"


def feed_urls(public_base_url: str, token: str) -> tuple[str, str]:
    """(http(s) address, webcal address) a member pastes into a calendar app."""
    url = public_base_url.rstrip("/") + feed_path(token)
    return url, "webcal://" + url.split("://", 1)[1]
