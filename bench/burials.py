"""Burial search: recall@10 per spelling (the public sample and a held-out set of names
and spellings the search was never tuned on), import time and search latency at scale.

    .venv/bin/python -m bench.burials                         # SQLite, 100,000 records
    .venv/bin/python -m bench.burials --database-url postgresql+asyncpg://postgres@127.0.0.1:55432/postgres
    .venv/bin/python -m bench.burials --quick                 # 10,000 records

The held-out set: surnames and given names that are not in the sample, each person's
Cyrillic name rendered by this project's own implementation of each convention
(burials/names/render.py: BGN/PCGN English, émigré -off, ICAO passports, Duden German,
French press, Polish, ISO 9, the scholarly system, the Xinhua Chinese table and Chinese
usage for given names), plus typos, ё written е, pre-1918 letters, and «SURNAME, Given».
Baselines measured in the same run: recall of an exact match on the normalised
Cyrillic name (what a plain database lookup finds), and the latency of one indexed
primary-key lookup on the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from burials.importer import COLUMNS, import_csv
from burials.names import render
from burials.names.chinese import usage_forms
from burials.names.cyrillic import cyrillic_normal
from burials.search import search_records
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import BurialRecord

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "burials"
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Burial records search (bench/burials.py)"

# ---------------------------------------------------------------------- held-out names
# (masculine, feminine) surname forms; none of these is in the public sample.
SURNAMES: list[tuple[str, str]] = (
    [
        (m, m + "а")
        for m in [
            "Щукин",
            "Баранов",
            "Воробьёв",
            "Голубев",
            "Жуков",
            "Зайцев",
            "Ковалёв",
            "Медведев",
            "Морозов",
            "Новиков",
            "Орлов",
            "Павлов",
            "Романов",
            "Смирнов",
            "Соловьёв",
            "Фёдоров",
            "Хохлов",
            "Чернышёв",
            "Шестаков",
            "Яковлев",
            "Белоусов",
            "Гончаров",
            "Дорофеев",
            "Ершов",
            "Журавлёв",
            "Захаров",
            "Игнатьев",
            "Калинин",
            "Лавров",
            "Мельников",
            "Назаров",
            "Осипов",
            "Пономарёв",
            "Рябов",
            "Савельев",
            "Тимофеев",
            "Ушаков",
            "Филиппов",
            "Харитонов",
            "Цветков",
            "Чистяков",
            "Шубин",
            "Щербаков",
            "Юдин",
            "Якушев",
            "Абрамов",
            "Белов",
            "Волков",
            "Гусев",
            "Давыдов",
            "Ефимов",
            "Жданов",
            "Зуев",
            "Ильин",
            "Карпов",
            "Лукин",
            "Макаров",
            "Никифоров",
            "Овчинников",
            "Прохоров",
            "Русаков",
            "Сухов",
            "Третьяков",
            "Уваров",
            "Фомин",
            "Хлебников",
            "Чижов",
            "Шаповалов",
            "Щеглов",
            "Юрьев",
            "Ястребов",
            "Кудрявцев",
            "Мещеряков",
            "Селезнёв",
            "Богданов",
            "Горбунов",
            "Дьяконов",
            "Ерёмин",
            "Жилин",
            "Золотарёв",
            "Исаев",
            "Комаров",
            "Лихачёв",
            "Миронов",
            "Некрасов",
            "Пестов",
            "Рогов",
            "Скворцов",
            "Тихомиров",
            "Устинов",
            "Хомяков",
            "Черкасов",
            "Широков",
            "Ширяев",
            "Бобров",
            "Голицын",
            "Шереметев",
            "Кропоткин",
            "Львов",
            "Бердяев",
            "Булгаков",
            "Набоков",
            "Несмелов",
            "Куприн",
            "Бунин",
            "Гагарин",
            "Хорват",
            "Остроумов",
            "Степанов",
            "Сидоров",
            "Козлов",
            "Лебедянский",
        ]
        if not m.endswith("ский")
    ]
    + [
        (m, m[:-2] + "ая")
        for m in [
            "Вишневский",
            "Оболенский",
            "Волконский",
            "Мещерский",
            "Вяземский",
            "Ковальский",
            "Яблонский",
            "Лещинский",
            "Вертинский",
            "Ходасевский",
            "Барятинский",
            "Подгорецкий",
            "Трубецкой",
        ]
    ]
    + [
        (s, s)
        for s in [
            "Коваленко",
            "Бондаренко",
            "Кравченко",
            "Литвиненко",
            "Савченко",
            "Марченко",
            "Ходасевич",
            "Гольдберг",
            "Шапиро",
            "Фридман",
            "Либерман",
            "Кацнельсон",
            "Штерн",
            "Циммерман",
            "Шульц",
            "Гинзбург",
            "Трахтенберг",
            "Джугашвили",
            "Мдивани",
            "Чавчавадзе",
            "Лундстрем",
            "Ачаир",
            "Аверченко",
            "Гурьев",
        ]
    ]
)
# For the scale test: surnames built from roots and the usual endings, so that 100,000
# people have about as many distinct surnames as a real list of that size.
ROOTS = """Бел Чёрн Сер Рыж Глад Кудр Лыс Толст Бор Волк Соб Кот Гус Петух Кур Сокол Ястреб
Скворц Снегир Зай Лис Бобр Щук Карп Сом Окун Рыб Мельник Плотник Столяр Гончар Кожевник Ткач
Пекар Пастух Пономар Дьяк Писар Сапожник Кузьм Фом Ерем Степан Макар Прохор Тихон Савел Мирон
Демид Гордей Лукьян Тарас Назар Остап Архип Кондрат Пахом Гаврил Данил Игнат Евсей Ерофе Федот
Филат Харлам Яким Трофим Ипат Нестер Панкрат Никит Потап Вавил Сысо Зот Лукин Сав Бурм Годун
Дуд Жар Зим Лет Весн Мороз Снег Дожд Гром Туч Ветр Камен Глин Песк Болот Озер Рек Лес Берез Дуб
Клен Лип Осин Сосн Ел Вишн Яблок Груш Малин Смородин Калин Рябин Черемух""".split()  # noqa: SIM905
ENDINGS = ("ов", "ин", "ский", "енко", "ович", "цев")
_FEMININE_ENDING = {"ский": "ская", "енко": "енко", "ович": "ович"}
MANY_SURNAMES: list[tuple[str, str]] = SURNAMES + [
    (root + ending, root + _FEMININE_ENDING.get(ending, ending + "а"))
    for root in ROOTS
    for ending in ENDINGS
]
MALE = [
    "Аполлинарий",
    "Афанасий",
    "Ипполит",
    "Иннокентий",
    "Вениамин",
    "Вячеслав",
    "Всеволод",
    "Глеб",
    "Гавриил",
    "Даниил",
    "Елисей",
    "Игнатий",
    "Кирилл",
    "Климент",
    "Лаврентий",
    "Леонтий",
    "Макар",
    "Никифор",
    "Прохор",
    "Родион",
    "Савва",
    "Святослав",
    "Феликс",
    "Филипп",
    "Эдуард",
    "Арсений",
    "Денис",
    "Станислав",
    "Ростислав",
    "Трофим",
    "Харитон",
    "Ярослав",
    "Артемий",
    "Олег",
    "Игорь",
    "Роман",
    "Степан",
    "Тимофей",
    "Василий",
    "Леонид",
    "Вадим",
    "Анатолий",
    "Валерий",
    "Геннадий",
]
FEMALE = [
    "Аглая",
    "Алевтина",
    "Анастасия",
    "Аполлинария",
    "Дарья",
    "Евдокия",
    "Ефросинья",
    "Зоя",
    "Клавдия",
    "Лариса",
    "Любовь",
    "Маргарита",
    "Марина",
    "Нонна",
    "Пелагея",
    "Полина",
    "Раиса",
    "Римма",
    "Софья",
    "Таисия",
    "Тамара",
    "Ульяна",
    "Фаина",
    "Юлия",
    "Алла",
    "Ирина",
    "Жанна",
    "Капитолина",
    "Прасковья",
    "Глафира",
    "Ангелина",
    "Эмилия",
    "Виктория",
    "Светлана",
    "Инна",
]
FATHERS = {
    "Василий": "Васил", "Степан": "Степан", "Игорь": "Игор", "Олег": "Олег", "Роман": "Роман",
    "Кирилл": "Кирилл", "Леонид": "Леонид", "Филипп": "Филипп", "Тимофей": "Тимофе",
    "Макар": "Макар", "Вадим": "Вадим", "Глеб": "Глеб", "Трофим": "Трофим", "Денис": "Денис",
    "Прохор": "Прохор", "Родион": "Родион", "Харитон": "Харитон", "Ипполит": "Ипполит",
}  # fmt: skip
CEMETERIES = [
    "Успенское (Старое) кладбище, Харбин", "Покровское (Новое) кладбище, Харбин",
    "Русское кладбище, Шанхай", "Rookwood Cemetery, Sydney", "Serbian Cemetery, Colma",
    "Морское кладбище, Владивосток", "Хуаншань, Харбин", "Русское кладбище, Тяньцзинь",
]  # fmt: skip


def patronymic(father: str, female: bool) -> str:
    stem = FATHERS[father]
    if stem.endswith(("л", "р")) and father.endswith(("ий", "ь")):
        return stem + ("ьевна" if female else "ьевич")
    if father.endswith("ей"):
        return stem + ("евна" if female else "евич")
    return stem + ("овна" if female else "ович")


def prereform(word: str) -> str:
    """A plausible pre-1918 spelling: ъ after a final consonant, і before a vowel, Ѳ for Ф."""
    out = word
    vowels = "аеёиоуыэюяй"
    out = "".join(
        "і" if c == "и" and i + 1 < len(out) and out[i + 1] in vowels else c
        for i, c in enumerate(out)
    )
    if out[:1] == "Ф":
        out = "Ѳ" + out[1:]
    if out[-1:] and out[-1].lower() not in vowels + "ь":
        out += "ъ"
    return out.replace("ё", "е")


@dataclass(frozen=True)
class Person:
    ref: str
    surname: str
    given: str
    patronymic: str
    female: bool
    born: int
    died: int


def make_people(
    count: int, seed: int, prefix: str = "H", surnames: Sequence[tuple[str, str]] = SURNAMES
) -> list[Person]:
    rng = random.Random(seed)
    people: list[Person] = []
    for n in range(count):
        female = rng.random() < 0.5
        masculine, feminine = rng.choice(surnames)
        given = rng.choice(FEMALE if female else MALE)
        father = rng.choice(list(FATHERS))
        born = rng.randint(1850, 1940)
        people.append(
            Person(
                ref=f"{prefix}-{n:06d}",
                surname=feminine if female else masculine,
                given=given,
                patronymic=patronymic(father, female) if rng.random() < 0.7 else "",
                female=female,
                born=born,
                died=born + rng.randint(1, 90),
            )
        )
    return people


def record_row(person: Person, rng: random.Random) -> dict[str, str]:
    """How a list might have written this person: modern or pre-1918 Cyrillic, or an
    English-language register (Sydney, San Francisco) without the patronymic."""
    roll = rng.random()
    if roll < 0.55:
        surname, given, patronymic_ = person.surname, person.given, person.patronymic
    elif roll < 0.75:
        surname, given = prereform(person.surname), prereform(person.given)
        patronymic_ = prereform(person.patronymic) if person.patronymic else ""
    else:
        style = rng.choice([render.english, render.emigre])
        surname = style(person.surname).capitalize()
        given, patronymic_ = render.english(person.given).capitalize(), ""
    return {
        "id": person.ref,
        "surname": surname,
        "given_names": given,
        "patronymic": patronymic_,
        "born": str(person.born),
        "died": f"{person.died}-{rng.randint(1, 12):02d}",
        "cemetery": rng.choice(CEMETERIES),
        "section": "",
        "inscription": "",
        "source": "held-out",
        "latitude": "",
        "longitude": "",
    }


def typo(word: str, rng: random.Random) -> str:
    """One slip of the pen, away from the first letter: a letter lost, doubled, swapped
    with its neighbour, or replaced by its keyboard neighbour."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "swap", "double", "replace"])
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    neighbours = {"а": "о", "о": "а", "е": "и", "и": "е", "н": "т", "т": "н", "р": "п", "с": "ч"}
    return word[:i] + neighbours.get(word[i], "а") + word[i + 1 :]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def chinese_given(person: Person, rng: random.Random) -> str:
    usage = {v: k for k, v in usage_forms().items()}
    known = usage.get(person.given.lower())
    if known and rng.random() < 0.5:
        return known
    return render.chinese(person.given, female=person.female)


def held_out_query(person: Person, kind: str, rng: random.Random) -> str:
    s, g, p = person.surname, person.given, person.patronymic
    latin = {
        "en": render.english,
        "emigre": render.emigre,
        "icao": render.passport,
        "de": render.german,
        "fr": render.french,
        "pl": render.polish,
        "iso9": rng.choice([render.iso9, render.scholarly]),
    }
    if kind == "cyr":
        return f"{g} {s}"
    if kind == "cyr_formal":
        return f"{s} {g} {p}".strip()
    if kind == "yo_e":
        return f"{s} {g}".lower().replace("ё", "е")
    if kind in latin:
        given_style = render.english if kind == "emigre" else latin[kind]
        return f"{_cap(given_style(g))} {_cap(latin[kind](s))}"
    if kind == "upper_comma":
        return f"{render.english(s).upper()}, {_cap(render.english(g))}"
    if kind == "prereform":
        return " ".join(prereform(w) for w in (g, p, s) if w)
    if kind == "typo":
        return f"{typo(s, rng)} {g}"
    if kind == "zh":
        zs, zg = render.chinese(s, female=person.female), chinese_given(person, rng)
        dot = rng.choice(["·", "•", "．", " "])
        return f"{zg}{dot}{zs}" if rng.random() < 0.6 else f"{zs}{dot}{zg}"
    if kind == "zh_nodot":
        return chinese_given(person, rng) + render.chinese(s, female=person.female)
    raise ValueError(kind)


HELD_OUT_KINDS = (
    "cyr", "cyr_formal", "yo_e", "en", "emigre", "icao", "de", "fr", "pl", "iso9",
    "prereform", "typo", "upper_comma", "zh", "zh_nodot",
)  # fmt: skip


def held_out_set(people: Sequence[Person], per_kind: int, seed: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    queries: list[tuple[str, str, str]] = []
    for kind in HELD_OUT_KINDS:
        for person in rng.sample(list(people), per_kind):
            queries.append((held_out_query(person, kind, rng), person.ref, kind))
    return queries


def write_csv(path: Path, rows: Sequence[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def sample_queries() -> list[tuple[str, str, str]]:
    lines = (SAMPLE / "queries.tsv").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line.strip()]  # type: ignore[misc]


# ---------------------------------------------------------------------- measuring


async def run_queries(
    url: str, queries: Sequence[tuple[str, str, str]], limit: int = 10
) -> tuple[dict[str, list[bool]], list[float]]:
    engine = create_engine(url)
    hits: dict[str, list[bool]] = defaultdict(list)
    times: list[float] = []
    try:
        async with create_session_factory(engine)() as session:
            for query, expected, kind in queries:
                started = time.perf_counter()
                matches = await search_records(session, query, limit=limit)
                times.append((time.perf_counter() - started) * 1000)
                hits[kind].append(expected in [m.record.external_id for m in matches])
                session.expunge_all()
    finally:
        await engine.dispose()
    return hits, times


def exact_baseline(
    rows: Sequence[dict[str, str]], queries: Sequence[tuple[str, str, str]]
) -> dict[str, list[bool]]:
    """What an exact match on the normalised Cyrillic words finds (the recall baseline)."""

    def words(text: str) -> frozenset[str]:
        return frozenset(filter(None, (cyrillic_normal(w) for w in text.replace(",", " ").split())))

    index: dict[frozenset[str], list[str]] = defaultdict(list)
    for row in rows:
        full = words(f"{row['surname']} {row['given_names']} {row['patronymic']}")
        index[full].append(row["id"])
        index[words(f"{row['surname']} {row['given_names']}")].append(row["id"])
    hits: dict[str, list[bool]] = defaultdict(list)
    for query, expected, kind in queries:
        hits[kind].append(expected in index.get(words(query), [])[:10])
    return hits


async def pk_lookup_ms(url: str, ids: Sequence[int]) -> list[float]:
    engine = create_engine(url)
    times: list[float] = []
    try:
        async with create_session_factory(engine)() as session:
            for record_id in ids:
                started = time.perf_counter()
                await session.scalar(select(BurialRecord).where(BurialRecord.id == record_id))
                times.append((time.perf_counter() - started) * 1000)
                session.expunge_all()
    finally:
        await engine.dispose()
    return times


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def recall_table(title: str, ours: dict[str, list[bool]], base: dict[str, list[bool]]) -> str:
    lines = [f"| {title} | queries | recall@10 | exact-match baseline |", "|---|---|---|---|"]
    for kind in ours:
        r, b = ours[kind], base.get(kind, [])
        lines.append(
            f"| {kind} | {len(r)} | {sum(r) / len(r):.2f} | {sum(b) / max(1, len(b)):.2f} |"
        )
    everything = [h for r in ours.values() for h in r]
    base_all = [h for r in base.values() for h in r]
    lines.append(
        f"| **overall** | {len(everything)} | **{sum(everything) / len(everything):.3f}** | "
        f"{sum(base_all) / max(1, len(base_all)):.3f} |"
    )
    return "\n".join(lines)


async def fresh_url(base: str | None, folder: Path, name: str) -> tuple[str, object]:
    """A new empty database: a SQLite file, or a PostgreSQL database created for the run."""
    if base is None:
        return f"sqlite+aiosqlite:///{folder / (name + '.sqlite3')}", None
    import asyncpg

    parsed = make_url(base)
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    db = f"bench_burials_{name}_{int(time.time())}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{db}"')
    finally:
        await conn.close()

    async def drop() -> None:
        c = await asyncpg.connect(admin)
        try:
            await c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        finally:
            await c.close()

    return parsed.set(database=db).render_as_string(hide_password=False), drop


async def load(url: str, path: Path) -> float:
    await upgrade_to_head(url)
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        report = await import_csv(create_session_factory(engine), path)
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    assert not report.rejected, report.rejected[:3]
    return seconds


async def main_async(args: argparse.Namespace) -> int:
    out: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        out.append(text)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sample_rows = list(csv.DictReader((SAMPLE / "records.csv").open(encoding="utf-8")))

        # 1. The public sample.
        url, drop = await fresh_url(args.database_url, folder, "sample")
        try:
            await load(url, SAMPLE / "records.csv")
            queries = sample_queries()
            hits, _ = await run_queries(url, queries)
        finally:
            if drop:
                await drop()  # type: ignore[operator]
        say(f"##### Recall@10, public sample ({len(sample_rows)} records, {backend})\n")
        say(recall_table("spelling", hits, exact_baseline(sample_rows, queries)))

        # 2. Held-out names and spellings, in a database of the sample plus them.
        rng = random.Random(args.seed)
        people = make_people(args.held_out, seed=args.seed)
        held_rows = [record_row(p, rng) for p in people]
        path = folder / "held_out.csv"
        write_csv(path, sample_rows + held_rows)
        queries = held_out_set(people, args.per_kind, seed=args.seed + 1)
        url, drop = await fresh_url(args.database_url, folder, "heldout")
        try:
            await load(url, path)
            hits, _ = await run_queries(url, queries)
        finally:
            if drop:
                await drop()  # type: ignore[operator]
        say(
            f"\n##### Recall@10, held-out names and spellings ({len(sample_rows) + len(held_rows)}"
            f" records, {backend})\n"
        )
        say(recall_table("spelling", hits, exact_baseline(held_rows, queries)))

        # 3. Scale: import time and latency.
        people = make_people(args.records, seed=args.seed + 7, prefix="S", surnames=MANY_SURNAMES)
        big_rows = [record_row(p, rng) for p in people]
        path = folder / "big.csv"
        write_csv(path, big_rows)
        url, drop = await fresh_url(args.database_url, folder, "scale")
        try:
            await upgrade_to_head(url)
            seconds = await load(url, path)
            mixed = held_out_set(people, max(1, args.latency_queries // len(HELD_OUT_KINDS)), 99)
            hits, times = await run_queries(url, mixed)
            pk = await pk_lookup_ms(url, [rng.randint(1, args.records) for _ in range(200)])
        finally:
            if drop:
                await drop()  # type: ignore[operator]
    by_kind = Counter({k: sum(v) / len(v) for k, v in hits.items()})
    say(f"\n##### Scale ({args.records:,} records, {backend})\n")
    say("| measure | value | aim |")
    say("|---|---|---|")
    say(f"| import | {seconds:.1f} s ({args.records / seconds:,.0f} rows/s) | < 60 s |")
    say(f"| search p50 | {percentile(times, 0.5):.1f} ms | |")
    say(f"| search p95 | {percentile(times, 0.95):.1f} ms | < 50 ms |")
    say(f"| primary-key lookup p50 (baseline) | {percentile(pk, 0.5):.2f} ms | |")
    say(f"| search p50 / lookup p50 | {percentile(times, 0.5) / percentile(pk, 0.5):.1f}× | |")
    everything = [h for v in hits.values() for h in v]
    say(
        f"| recall@10 at this size ({len(everything)} queries) | "
        f"{sum(everything) / len(everything):.3f} (lowest: {min(by_kind, key=by_kind.get)} "
        f"{min(by_kind.values()):.2f}) | informative: a name shared by more than ten "
        "people cannot always be in the top ten |"
    )
    if args.write:
        _write_doc("\n".join(out), backend)
    return 0


INTRO = """Recall@10 per spelling, import time and search latency of `burials.search`
(docs/burials.md). Three sets: the public sample (1,500 records, 14 spellings × 10
queries); a held-out set the search was never tuned on (3,000 people with surnames and
given names absent from the sample, each rendered by this project's own implementation
of each convention in `burials/names/render.py`, added to the sample); and 100,000
synthetic people (about 800 surnames from roots and endings, 80 given names) for import
time and latency, with 300 held-out queries across all spellings. Records are written
as lists write them: modern Cyrillic, pre-1918 Cyrillic, or English-language registers
without patronymics. Baselines from the same run: an exact match on the normalised
Cyrillic words (recall), and one primary-key lookup (latency).
`tests/data/burials/real_world.tsv` (spellings printed in German, French, Polish, English
and Chinese books, not made by our renderers) is checked by the tests instead.

    .venv/bin/python -m bench.burials [--database-url postgresql+asyncpg://...] [--write]

What the figures mean: the held-out renderings come from our own renderers, written from
the standards independently of the readers, so 1.00 there says the readers undo every
convention as the standards define it, on names they never saw; it does not prove that
every real-world spelling is covered. The real-world list (127 spellings of 31 people)
is all found in the tests today (tests/test_burial_search.py keeps a floor of 0.8 per
language there and 0.9 per spelling on the two generated sets). The Chinese held-out
queries use the usage forms of `zh_given_names.tsv` for half of the given names that
have one, and the table for the rest and for every surname. At 100,000 records a few
names are shared by more than ten people, so recall there is informative only.
Machine: 2 vCPU VM shared with other work; the latency figures move by a few ms between
runs (p95 ranged 19-45 ms on SQLite and 21-28 ms on PostgreSQL over the last runs).
"""


def _write_doc(text: str, backend: str) -> None:
    import platform

    import sqlalchemy

    current = DOC.read_text(encoding="utf-8")
    start, end = f"<!-- burials:{backend} -->", f"<!-- end burials:{backend} -->"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine = f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}"
    block = f"{start}\n#### {backend} ({stamp}; {machine})\n\n{text}\n{end}"
    if SECTION not in current:
        current = current.rstrip("\n") + f"\n\n{SECTION}\n\n{INTRO}"
    head, found, rest = current.partition(start)
    if found:
        _old, _end, tail = rest.partition(end)
        current = head + block + tail
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(current, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite files)")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--held-out", type=int, default=3000)
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--quick", action="store_true", help="10,000 records")
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.records = 10_000
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
