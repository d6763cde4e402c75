"""How fast matching is at district scale: one vacancy against 100,000 workers, one worker
against 10,000 vacancies.

Run from the repository root: ``python benchmarks/matching.py [--workers 100000]
[--vacancies 10000] [--runs 5]``.

It builds a temporary SQLite database — and a temporary PostgreSQL database when the server of
``TEST_PG_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``) is reachable —
with the bot's own migrations, fills it with made-up workers (varied skills, experience, wanted
jobs and places, households, 建档立卡/易地搬迁, employment status, chat accounts) and vacancies,
indexes their terms the way the bot does (``models.vacancies.refresh_worker_terms``,
``save_vacancy_terms``), then times, over ``--runs`` runs each:

* **vacancy → workers**: ``candidates_for`` (what posting a vacancy does before the push: the
  200 best of 100,000 workers, priority first), after the stale-profile check the push makes;
* **worker → vacancies**: ``matches_for_worker`` (what 找工作 does: the 5 best of 10,000).

For each it prints the median and worst time and the peak Python memory allocated during the
call (``tracemalloc``), which stays small because only the rows asked for reach Python; and the
process's peak resident memory at the end.  The databases are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WANTED = ["普工", "电子厂普工", "焊工", "电焊", "保洁", "家政", "保安", "厨师", "服务员", "送外卖", "快递",
          "叉车司机", "货车司机", "司机", "建筑工", "钢筋工", "泥瓦工", "木工", "电工", "护林员", "采茶",
          "什么都行", "进厂", "搬运", "仓管", "销售", "收银员", "缝纫", "挖机", "", "", ""]
SKILLS = ["电焊，有焊工证", "驾驶证C1", "驾驶证B2", "会开叉车", "砌砖抹灰", "扎钢筋", "电工证", "厨师证",
          "缝纫", "会开挖机", "打扫卫生", "带孩子做饭", "", "", "", "", ""]
EXPERIENCE = ["在东莞电子厂做过3年普工", "在浙江做过服装", "建筑工地干了10年", "在饭店做过帮厨",
              "送过外卖", "在物流园开过叉车", "在工厂流水线", "当过保安", "在家种地", "做过保洁",
              "", "", "", ""]
PLACES = ["花溪区内", "贵阳", "广东", "广东东莞", "浙江", "哪里都行", "在家附近", "青岩", "江苏苏州",
          "", "", ""]
INTENTS = ["就近就业", "就近就业", "外出务工", "外出务工", "暂不就业", None]
STATUS = ["暂无岗位"] * 50 + ["已返岗"] * 25 + ["待返岗"] * 15 + ["本地已就业"] * 10
TITLES = ["普工", "操作工", "电子厂普工", "焊工", "保洁员", "保安", "厨师", "服务员", "外卖骑手", "快递员",
          "叉车司机", "货车司机", "钢筋工", "泥瓦工", "电工", "护林员", "采茶工", "家政", "缝纫工",
          "挖掘机司机", "搬运工", "仓管员"]
REQUIREMENTS = ["男女不限，18-45岁", "持焊工证", "A2驾照", "有经验优先", "能吃苦", "持叉车证", "", ""]
CITIES = {"县内": [None], "省内县外": ["贵阳", "遵义", "安顺"],
          "省外": ["广东东莞", "广东深圳", "浙江宁波", "江苏苏州", "福建厦门"]}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--vacancies", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sqlite-only", action="store_true")
    return parser


async def fill(db, n_workers: int, n_vacancies: int, townships: list[str]) -> dict[str, float]:
    """Made-up workers and vacancies, inserted in bulk; their terms indexed as the bot does."""
    from sqlalchemy import insert

    from dialogs.matching import default_geo
    from models import vacancies as vq
    from models.tables import Household, Identity, Vacancy, VacancyTerm, Worker

    rng = random.Random(7)
    now = datetime(2024, 2, 3, 1, 0, tzinfo=UTC)
    geo = default_geo()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    households, workers, identities = [], [], []
    hid = wid = 0
    while wid < n_workers:
        hid += 1
        township = rng.choice(townships)
        village = f"第{rng.randint(1, 40)}村"
        households.append({"id": hid, "township": township, "village": village,
                           "head_name": f"户主{hid}", "created_at": now})
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            wid += 1
            if wid > n_workers:
                break
            status = rng.choice(STATUS)
            workers.append({
                "id": wid, "name": f"工人{wid}", "phone": f"139{wid:08d}", "gender": rng.choice("男女"),
                "birth_date": date(rng.randint(1965, 2004), rng.randint(1, 12), rng.randint(1, 28)),
                "township": township, "village": village, "household_id": hid,
                "poverty": rng.random() < 0.12, "relocated": rng.random() < 0.05,
                "symptoms": [], "status": status,
                "skills": rng.choice(SKILLS) or None, "experience": rng.choice(EXPERIENCE) or None,
                "wanted_job": (rng.choice(WANTED) or None) if status == "暂无岗位" else None,
                "wanted_place": (rng.choice(PLACES) or None) if status == "暂无岗位" else None,
                "intent": rng.choice(INTENTS) if status == "暂无岗位" else None,
                "salary_min": rng.choice((None, 3000, 4000, 5000)),
                "registered_at": now, "updated_at": now,
            })
            if rng.random() < 0.9:
                identities.append({"identity": f"sim:u{wid}", "worker_id": wid, "display_name": "",
                                   "first_seen": now, "last_seen": now})
    vacancies = []
    for vid in range(1, n_vacancies + 1):
        area = rng.choice(("县内", "县内", "省内县外", "省外"))
        vacancies.append({
            "id": vid, "employer": f"企业{vid}", "title": rng.choice(TITLES), "area": area,
            "city": rng.choice(CITIES[area]), "township": rng.choice(townships) if area == "县内" else None,
            "headcount": rng.randint(1, 50), "filled": 0, "pay_min": rng.choice((None, 3000, 4000)),
            "pay_max": rng.choice((None, 5000, 6000, 8000)),
            "requirements": rng.choice(REQUIREMENTS) or None, "contact": "13800001111",
            "public_welfare": rng.random() < 0.05, "status": "open", "terms": [],
            "created_at": now, "updated_at": now,
        })
    async with db.session() as s:
        for table, rows in ((Household, households), (Worker, workers), (Identity, identities),
                            (Vacancy, vacancies)):
            for i in range(0, len(rows), 5000):
                await s.execute(insert(table), rows[i : i + 5000])
    timings["insert rows"] = time.perf_counter() - started

    started = time.perf_counter()
    from dialogs.matching import vacancy_terms

    term_rows = []
    for v in vacancies:
        for term, (kind, weight) in vacancy_terms(title=v["title"], requirements=v["requirements"],
                                                  area=v["area"], city=v["city"],
                                                  township=v["township"], geo=geo).items():
            term_rows.append({"vacancy_id": v["id"], "term": term, "kind": kind, "weight": weight})
    async with db.session() as s:
        for i in range(0, len(term_rows), 5000):
            await s.execute(insert(VacancyTerm), term_rows[i : i + 5000])
    timings["index vacancies"] = time.perf_counter() - started

    started = time.perf_counter()
    async with db.session() as s:
        indexed = await vq.refresh_worker_terms(s, geo)
    assert indexed == n_workers, indexed
    timings["index workers"] = time.perf_counter() - started
    return timings


async def measure(db, runs: int) -> dict[str, tuple[float, float, float, int]]:
    """(median s, worst s, peak KiB allocated in Python, rows returned) per query."""
    from sqlalchemy import select

    from dialogs.matching import default_geo
    from models import vacancies as vq
    from models.tables import Vacancy, Worker

    today = date(2024, 2, 3)
    geo = default_geo()
    results: dict[str, tuple[float, float, float, int]] = {}

    async def timed(name: str, call) -> None:
        times, count = [], 0
        for i in range(runs + 1):
            started = time.perf_counter()
            count = await call(i)
            elapsed = time.perf_counter() - started
            if i:  # the first run warms the caches (and compiles the statements)
                times.append(elapsed)
        # Memory in a run of its own: tracemalloc slows Python down several times.
        tracemalloc.start()
        await call(runs)
        peak = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
        results[name] = (statistics.median(times), max(times), peak, count)

    async with db.session() as s:
        vacancy_ids = list((await s.execute(
            select(Vacancy.id).where(Vacancy.title.in_(("普工", "保洁员", "焊工", "服务员")))
            .order_by(Vacancy.id).limit(runs + 1))).scalars())
        worker_ids = list((await s.execute(
            select(Worker.id).where(Worker.wanted_job.is_not(None)).order_by(Worker.id)
            .limit(runs + 1))).scalars())

    async def one_vacancy(i: int) -> int:
        async with db.session() as s:
            vacancy = await s.get(Vacancy, vacancy_ids[i])
            await vq.refresh_worker_terms(s, geo)  # the stale-profile check a push makes
            found = await vq.candidates_for(s, vacancy, today=today, limit=vq.MAX_PUSH)
            return len(found)

    async def one_worker(i: int) -> int:
        async with db.session() as s:
            worker = await s.get(Worker, worker_ids[i])
            await vq.refresh_worker_terms(s, geo, [worker.id])
            may = bool(await vq.eligible(s, worker, today))
            found = await vq.matches_for_worker(s, worker, today=today, limit=5,
                                                may_public_welfare=may)
            return len(found)

    await timed("one vacancy → 200 best of the workers", one_vacancy)
    await timed("one worker → 5 best of the vacancies", one_worker)
    return results


async def run(url: str, label: str, args: argparse.Namespace) -> None:
    from sqlalchemy import func, select, text

    from dialogs.matching import load_dictionary
    from dialogs.parsing.places import TownshipDirectory
    from models.db import Database
    from models.tables import WorkerTerm

    load_dictionary()
    db = Database(url)
    try:
        await db.migrate()
        townships = [t.name for t in TownshipDirectory.from_csv(
            ROOT / "bot" / "data" / "huaxi_townships.csv").all]
        timings = await fill(db, args.workers, args.vacancies, townships)
        async with db.session() as s:
            terms = (await s.execute(select(func.count()).select_from(WorkerTerm))).scalar_one()
        print(f"\n== {label}: {args.workers:,} workers ({terms:,} terms), {args.vacancies:,} vacancies")
        for name, seconds in timings.items():
            print(f"   build: {name:<16} {seconds:7.1f} s")
        for phase in ("as loaded", "after ANALYZE"):
            if phase == "after ANALYZE":
                async with db.session() as s:
                    await s.execute(text("ANALYZE"))
            for name, (median, worst, peak, count) in (await measure(db, args.runs)).items():
                print(f"   {phase:<13} {name:<40} median {median * 1000:7.1f} ms   "
                      f"worst {worst * 1000:7.1f} ms   peak Python memory {peak:8.0f} KiB   "
                      f"({count} found)")
    finally:
        await db.close()


async def with_postgres(args: argparse.Namespace) -> None:
    from benchmarks.scratch_db import scratch_pg_database

    try:
        url, drop = await scratch_pg_database("fgt_bench")
    except Exception as exc:  # not reachable: SQLite only
        print(f"\n(PostgreSQL not reachable: {exc.__class__.__name__}; skipped)")
        return
    try:
        await run(url, "PostgreSQL", args)
    finally:
        await drop()


def main() -> None:
    args = build_parser().parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(f"sqlite+aiosqlite:///{folder}/bench.db", "SQLite", args))
    if not args.sqlite_only:
        asyncio.run(with_postgres(args))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak resident memory (building included): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
