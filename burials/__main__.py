"""Command line for the burial records (DATABASE_URL from the environment or .env).

    python -m burials import FILE.csv [--pending]
    python -m burials search "QUERY" [--limit N] [--json] [--all]
    python -m burials search --batch FILE [--limit N] --json
    python -m burials export [--format csv|json] [--output FILE] [--all]
    python -m burials reindex

The database is migrated to the newest schema first. Exit status: 0 done, 1 some rows
of an import were rejected, 2 nothing done (bad arguments, settings, file or query).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from burials.importer import ImportFileError, export_records, import_csv
from burials.names.query import EmptyQuery
from burials.records import APPROVED, PENDING, reindex
from burials.search import search_records
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head

EMPTY_QUERY = "the query has no name or year in it: type a surname, a given name or both"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m burials", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    load = commands.add_parser("import", help="import a UTF-8 CSV file of burial records")
    load.add_argument("file", type=Path)
    load.add_argument("--pending", action="store_true", help="queue rows for moderation")
    load.add_argument("--batch-size", type=int, default=1000, help=argparse.SUPPRESS)

    find = commands.add_parser("search", help="find records by a name in any script")
    find.add_argument("query", nargs="?")
    find.add_argument("--batch", type=Path, help="a file with one query per line")
    find.add_argument("--limit", type=int, default=10)
    find.add_argument("--json", action="store_true", help="one JSON object per query")
    find.add_argument("--all", action="store_true", help="include records not yet approved")

    dump = commands.add_parser("export", help="write the records as CSV or JSON")
    dump.add_argument("--format", choices=("csv", "json"), default="csv")
    dump.add_argument("--output", type=Path, help="a file (default: standard output)")
    dump.add_argument("--all", action="store_true", help="include records not yet approved")

    commands.add_parser("reindex", help="rewrite every record's search keys")
    return parser


def _database_url() -> str:
    from ground.settings import load_settings

    return load_settings().database_url


async def _import(url: str, args: argparse.Namespace) -> int:
    engine = create_engine(url)
    try:
        report = await import_csv(
            create_session_factory(engine),
            args.file,
            status=PENDING if args.pending else APPROVED,
            batch_size=max(1, args.batch_size),
        )
    finally:
        await engine.dispose()
    for line, reason in report.rejected:
        print(f"{args.file.name}, line {line}: {reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.rejected else 0


def _result(query: str, ids: list[str], ms: float, error: str | None = None) -> str:
    body: dict[str, object] = {"query": query, "ids": ids, "ms": round(ms, 2)}
    if error is not None:
        body["error"] = error
    return json.dumps(body, ensure_ascii=False)


async def _search(url: str, args: argparse.Namespace, out: TextIO) -> int:
    if args.batch is not None:
        try:
            text = args.batch.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"cannot read {args.batch}: {exc}", file=sys.stderr)
            return 2
        queries = [line.strip() for line in text.splitlines() if line.strip()]
    elif args.query is not None:
        queries = [args.query]
    else:
        print("give a query, or --batch FILE", file=sys.stderr)
        return 2
    status = 0
    engine = create_engine(url)
    try:
        factory = create_session_factory(engine)
        async with factory() as session:
            for query in queries:
                started = time.perf_counter()
                try:
                    matches = await search_records(
                        session, query, limit=args.limit, approved_only=not args.all
                    )
                except EmptyQuery:
                    status = 2
                    if args.json:
                        print(_result(query, [], 0.0, EMPTY_QUERY), file=out)
                    print(f"«{query}»: {EMPTY_QUERY}", file=sys.stderr)
                    continue
                ms = (time.perf_counter() - started) * 1000
                ids = [m.record.external_id or str(m.record.id) for m in matches]
                if args.json:
                    print(_result(query, ids, ms), file=out)
                    continue
                if not matches:
                    print(f"nothing found for «{query}»", file=out)
                for rank, match in enumerate(matches, 1):
                    r = match.record
                    name = " ".join(p for p in (r.surname, r.given_names, r.patronymic) if p)
                    years = f"{r.born or '?'} – {r.died or '?'}"
                    place = ", ".join(p for p in (r.cemetery, r.section) if p)
                    print(
                        f"{rank:>2}. {ids[rank - 1]}  {name}  {years}  {place}  ({match.score:.2f})",
                        file=out,
                    )
    finally:
        await engine.dispose()
    return status


async def _export(url: str, args: argparse.Namespace, out: TextIO) -> int:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            if args.output is not None:
                with args.output.open("w", encoding="utf-8", newline="") as handle:
                    count = await export_records(
                        session, handle, fmt=args.format, approved_only=not args.all
                    )
                print(f"{count} records written to {args.output}", file=sys.stderr)
            else:
                await export_records(session, out, fmt=args.format, approved_only=not args.all)
    finally:
        await engine.dispose()
    return 0


async def _reindex(url: str) -> int:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            count = await reindex(session)
            await session.commit()
    finally:
        await engine.dispose()
    print(f"search keys rewritten for {count} records")
    return 0


async def run(args: argparse.Namespace, url: str, out: TextIO) -> int:
    await upgrade_to_head(url)
    if args.command == "import":
        return await _import(url, args)
    if args.command == "search":
        return await _search(url, args, out)
    if args.command == "export":
        return await _export(url, args, out)
    return await _reindex(url)


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    from ground.settings import SettingsError

    try:
        url = _database_url()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "import" and not args.file.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    if args.command == "search" and args.query is not None and args.batch is None:
        from burials.names.query import parse_query

        try:
            parse_query(args.query)
        except EmptyQuery:
            print(f"«{args.query}»: {EMPTY_QUERY}", file=sys.stderr)
            return 2
    try:
        return asyncio.run(run(args, url, out or sys.stdout))
    except ImportFileError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
