"""`python -m bot`: run the bot; with no BOT_TOKEN, an offline sandbox chat.

Sub-commands: `migrate` applies the database migrations by hand; `sandbox` forces the
offline sandbox even when a token is configured; `backup [PATH]` copies the database
online and checks the copy opens (bot/backup.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from ground.settings import Settings, SettingsError, load_settings


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "command", nargs="?", choices=("run", "migrate", "sandbox", "backup"), default="run"
    )
    parser.add_argument("path", nargs="?", help="backup: file or folder (default data/backups)")
    return parser.parse_args(argv)


# Loggers that speak at INFO on a timetable: APScheduler says two lines per job run, and
# the delivery job runs every 2 seconds. Their warnings and errors still show.
CHATTY_LOGGERS = ("apscheduler",)


def _configure_logging(settings: Settings, *, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else getattr(logging, settings.log_level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else logging.WARNING)


def _one_line(exc: BaseException) -> str:
    from bot.reach import describe_failure

    return describe_failure(exc)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "migrate":
        from db.migrate import upgrade_to_head

        try:
            asyncio.run(upgrade_to_head(settings.database_url))
        except Exception as exc:  # one line, not a traceback: the server is down, say
            print(f"cannot migrate the database: {_one_line(exc)}", file=sys.stderr)
            return 2
        print("database is at the newest schema")
        return 0
    if args.command == "backup":
        from pathlib import Path

        from db.backup import run_backup

        try:
            return run_backup(settings.database_url, Path(args.path) if args.path else None)
        except Exception as exc:
            print(f"cannot back up the database: {_one_line(exc)}", file=sys.stderr)
            return 2
    if args.command == "sandbox" or not settings.has_token:
        from bot.sandbox import run_sandbox

        _configure_logging(settings, quiet=True)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_sandbox(settings))
        return 0
    from bot.reach import StartupRefused
    from bot.runner import run

    _configure_logging(settings)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(settings))
    except StartupRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
