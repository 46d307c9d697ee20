"""`python -m burials`: import, search, export, bad input, resuming a killed import."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.burials import SAMPLE
from burials.__main__ import main
from db.engine import create_engine
from db.models import BurialRecord

ROOT = Path(__file__).resolve().parent.parent
HEADER = "id,surname,given_names,patronymic,born,died,cemetery,section,inscription,source,latitude,longitude"


async def cli(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str]:
    """Runs the command in a thread (it starts its own event loop), like the shell would."""
    monkeypatch.setenv("DATABASE_URL", url)
    out = io.StringIO()
    status = await asyncio.to_thread(main, list(argv), out=out)
    captured = capsys.readouterr()
    return status, out.getvalue() + captured.out, captured.err


async def count(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            total = await connection.scalar(select(func.count()).select_from(BurialRecord))
            distinct = await connection.scalar(
                select(func.count(func.distinct(BurialRecord.external_id)))
            )
    finally:
        await engine.dispose()
    return int(total or 0), int(distinct or 0)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


async def test_import_search_export_round_trip(
    database_url: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    status, out, _ = await cli(
        database_url, monkeypatch, capsys, "import", str(SAMPLE / "records.csv")
    )
    assert status == 0 and "1500 added" in out

    # The same file again changes nothing.
    status, out, _ = await cli(
        database_url, monkeypatch, capsys, "import", str(SAMPLE / "records.csv")
    )
    assert status == 0 and "0 added, 0 updated, 1500 unchanged" in out
    assert await count(database_url) == (1500, 1500)

    status, out, _ = await cli(
        database_url, monkeypatch, capsys, "search", "费奥多尔·什缅廖夫", "--json"
    )
    result = json.loads(out)
    assert status == 0 and set(result) == {"query", "ids", "ms"} and len(result["ids"]) == 10

    batch = write(tmp_path / "queries.txt", "RABINOVICH, Nadezhda\nЩукин\nSorokine Aleksandr\n")
    status, out, _ = await cli(
        database_url, monkeypatch, capsys, "search", "--batch", str(batch), "--limit", "5", "--json"
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert [line["query"] for line in lines] == [
        "RABINOVICH, Nadezhda",
        "Щукин",
        "Sorokine Aleksandr",
    ]
    assert lines[0]["ids"][0] == "R3-00544" and len(lines[0]["ids"]) == 5
    assert "R3-00254" in lines[2]["ids"]

    status, out, _ = await cli(database_url, monkeypatch, capsys, "search", "Иван Сорокин")
    assert status == 0 and out.splitlines()[0].startswith(" 1. R3-00595  Сорокин Иван")

    exported = tmp_path / "export.csv"
    status, _, _ = await cli(database_url, monkeypatch, capsys, "export", "--output", str(exported))
    assert status == 0
    original = {r["id"]: r for r in csv.DictReader((SAMPLE / "records.csv").open(encoding="utf-8"))}
    back = {r["id"]: r for r in csv.DictReader(exported.open(encoding="utf-8"))}
    assert back == original  # the same columns and values: the sample is already canonical

    status, out, _ = await cli(database_url, monkeypatch, capsys, "export", "--format", "json")
    assert status == 0 and len(json.loads(out)) == 1500

    # The export imports back onto the same rows.
    status, out, _ = await cli(database_url, monkeypatch, capsys, "import", str(exported))
    assert "1500 unchanged" in out and await count(database_url) == (1500, 1500)


async def test_an_import_stopped_half_way_ends_with_every_row_once(
    database_url: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    lines = (SAMPLE / "records.csv").read_text(encoding="utf-8").splitlines()
    prefix = write(tmp_path / "first_part.csv", "\n".join(lines[:601]) + "\n")
    status, out, _ = await cli(database_url, monkeypatch, capsys, "import", str(prefix))
    assert "600 added" in out
    status, out, _ = await cli(
        database_url, monkeypatch, capsys, "import", str(SAMPLE / "records.csv")
    )
    assert status == 0 and "900 added, 0 updated, 600 unchanged" in out
    assert await count(database_url) == (1500, 1500)


@pytest.mark.sqlite_only
async def test_a_killed_import_process_resumes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'club.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "burials", "import", str(SAMPLE / "records.csv")]
    process = await asyncio.create_subprocess_exec(
        *command, "--batch-size", "20", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    # Kill it as soon as some batches are committed, well before the end.
    for _ in range(600):
        await asyncio.sleep(0.02)
        try:
            total, _ = await count(url)
        except Exception:  # the schema may not exist yet
            total = 0
        if total >= 100:
            break
    process.send_signal(signal.SIGKILL)
    await process.wait()
    done, _ = await count(url)
    assert 100 <= done < 1500
    rerun = await asyncio.create_subprocess_exec(*command, cwd=ROOT, env=env)
    assert await rerun.wait() == 0
    assert await count(url) == (1500, 1500)


async def test_bad_rows_are_reported_and_the_good_ones_go_in(
    database_url: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    huge = "x" * (10 * 1024 * 1024)
    text = "\n".join(
        [
            HEADER,
            "A1,Щукин,Фёдор,,1862,1910,,,,,,",
            "A2,Щукин,Пётр,,1890,1923-13-40,,,,,,",
            f"A3,Щукин,Павел,,,,,,{huge},,,",
            "A4,Щукин,Яков,,,,,,,,91.5,10",
            "A5,,,,1900,1950,,,,,,",
            "A6,Щукин,Иван,,1900",
            "A1,Щукин,Фёдор,,1862,1911,,,,,,",
            "A7,Щукина,Анна,,1900-02-29 OS,1950,,,,,45.75,126.65",
        ]
    )
    path = write(tmp_path / "mixed.csv", text + "\n")
    status, out, err = await cli(database_url, monkeypatch, capsys, "import", str(path))
    assert status == 1
    assert "2 added" in out and "6 rejected" in out
    reasons = dict(line.split(": ", 1) for line in err.splitlines())
    assert "«1923-13-40» is not a date: there is no month 13" in reasons["mixed.csv, line 3"]
    assert (
        "inscription: is 10485760 characters long; at most 4000 are kept"
        in reasons["mixed.csv, line 4"]
    )
    assert "91.5 is outside" in reasons["mixed.csv, line 5"]
    assert "needs a surname or a given name" in reasons["mixed.csv, line 6"]
    assert "5 cells where the header has 12" in reasons["mixed.csv, line 7"]
    assert "id A1 already on line 2" in reasons["mixed.csv, line 8"]
    assert all("\n" not in reason and len(reason) < 200 for reason in reasons.values())
    assert await count(database_url) == (2, 2)


@pytest.mark.parametrize(
    ("content", "encoding", "reason"),
    [
        (HEADER + "\nA1,Щукин,Фёдор,,,,,,,,,\n", "cp1251", "is not UTF-8 (byte 0xD9 on line 2)"),
        (HEADER + "\nA1,Щукин,Фёдор,,,,,,,,,\n", "utf-16", "is UTF-16"),
        ("A1,Щукин,Фёдор,,,,,,,,,\n", "utf-8", "the first line must be the header"),
        ("id,surname\nA1,Щукин\n", "utf-8", "(missing: given_names, patronymic"),
        ("", "utf-8", "is empty"),
    ],
)
async def test_a_file_that_cannot_be_read_is_refused_whole(
    database_url: str, tmp_path: Path, monkeypatch, capsys, content: str, encoding: str, reason: str
) -> None:
    path = write(tmp_path / "bad.csv", content, encoding)
    status, _, err = await cli(database_url, monkeypatch, capsys, "import", str(path))
    assert status == 2
    assert reason in err and len(err.strip().splitlines()) == 1
    assert await count(database_url) == (0, 0)


@pytest.mark.parametrize("query", ["", "   ", "...", "—·,"])
async def test_an_empty_query_is_refused(
    database_url: str, monkeypatch, capsys, query: str
) -> None:
    status, out, err = await cli(database_url, monkeypatch, capsys, "search", query)
    assert status == 2 and out == ""
    assert "the query has no name or year in it" in err and len(err.strip().splitlines()) == 1


async def test_a_batch_with_an_empty_query_answers_the_rest(
    database_url: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    await cli(database_url, monkeypatch, capsys, "import", str(SAMPLE / "records.csv"))
    batch = write(tmp_path / "q.txt", "Эйхе\n...\nTarasov\n")
    status, out, _ = await cli(
        database_url, monkeypatch, capsys, "search", "--batch", str(batch), "--json"
    )
    answers = [json.loads(line) for line in out.splitlines()]
    assert status == 2
    assert [a["query"] for a in answers] == ["Эйхе", "...", "Tarasov"]
    assert answers[1]["ids"] == [] and "no name" in answers[1]["error"]
    assert answers[0]["ids"] and answers[2]["ids"]
