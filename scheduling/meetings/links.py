"""Meeting links: any well-formed https address (Zoom, Jitsi, Telemost, VooV, Meet...)."""

from __future__ import annotations

from urllib.parse import urlsplit


class LinkError(ValueError):
    """The link cannot be used; `reason` is a short code the chat layer translates."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def validate_link(text: str) -> str:
    link = text.strip()
    if not link:
        raise LinkError("empty")
    if any(ch.isspace() for ch in link) or any(ord(ch) < 32 for ch in link):
        raise LinkError("spaces")
    parts = urlsplit(link)
    if parts.scheme.lower() != "https":
        raise LinkError("not_https")
    host = parts.hostname or ""
    if "." not in host or host.startswith(".") or host.endswith(".") or parts.username:
        raise LinkError("malformed")
    if len(link) > 2000:
        raise LinkError("malformed")
    return link
