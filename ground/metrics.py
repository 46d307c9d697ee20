"""A tiny in-process counter registry rendered in the Prometheus text format.

Five counters and one gauge do not earn a prometheus_client dependency; each process
exposes its own values at /metrics and Prometheus sums instances.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class Counter:
    name: str
    help: str
    value: float = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount  # one event loop per process: no lock needed


REGISTRY: list[Counter] = []


def counter(name: str, help: str) -> Counter:
    made = Counter(name, help)
    REGISTRY.append(made)
    return made


UPDATES = counter("harbin_updates_handled_total", "Telegram updates handled by the dispatcher")
MESSAGES_SENT = counter("harbin_messages_sent_total", "Outbox messages accepted by Telegram")
RATE_LIMITED = counter("harbin_telegram_429_total", "429 Too Many Requests answers from Telegram")
FEED_REQUESTS = counter("harbin_feed_requests_total", "Calendar feed requests served")
WEBHOOK_REJECTED = counter(
    "harbin_webhook_rejected_total", "Webhook requests refused for a missing or wrong secret"
)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def render(gauges: Iterable[tuple[str, str, float]] = ()) -> str:
    """Counters, then gauges given as (name, help, value) measured at scrape time."""
    lines: list[str] = []
    for item in REGISTRY:
        lines += [
            f"# HELP {item.name} {_escape(item.help)}",
            f"# TYPE {item.name} counter",
            f"{item.name} {item.value:g}",
        ]
    for name, help_text, value in gauges:
        lines += [
            f"# HELP {name} {_escape(help_text)}",
            f"# TYPE {name} gauge",
            f"{name} {value:g}",
        ]
    return "\n".join(lines) + "\n"
