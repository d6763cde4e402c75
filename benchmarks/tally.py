"""How long the daily tally takes on a big district, on SQLite and on PostgreSQL.

Run from the repository root::

    python benchmarks/tally.py                        # 100,000 workers, 40,000 households, 30 days
    python benchmarks/tally.py --db sqlite --workers 20000 --days 7
    python benchmarks/tally.py --repeat 9             # more timed runs

It builds a district — ``--workers`` workers in ``--households`` households over the 19
townships (10 villages each), with realistic statuses, check-ins on each of ``--days`` days
(about 85 % of those registered by then, some corrected, a few abnormal), 600 vacancies, 8,000
applications and 300 enterprises — through the bot's own migrations (so with its indexes),
then times :func:`models.tally.compute_tally` for the last day: the district (what the report
and ``/统计`` compute), one township, one village; and the whole report (tally, text, chart).
The SQLite file and the PostgreSQL database (made on ``TEST_PG_URL``'s server, default the local
one) are temporary.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch_db import scratch_pg_database  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
LAST_DAY = date(2024, 3, 1)
BATCH = 20_000


def townships() -> list[str]:
    from bot.config import DEFAULT_TOWNSHIPS_CSV
    from dialogs.parsing.places import TownshipDirectory

    return [t.name for t in TownshipDirectory.from_csv(DEFAULT_TOWNSHIPS_CSV).all]


async def build(url: str, workers: int, households: int, days: int, seed: int = 7) -> float:
    """Migrate and fill the database; returns the seconds it took."""
    from sqlalchemy import insert, text

    from models.db import Database
    from models.tables import (
        Application,
        Checkin,
        Enterprise,
        Household,
        TallySnapshot,
        Vacancy,
        Worker,
    )

    rng = random.Random(seed)
    names = townships()
    first_day = LAST_DAY - timedelta(days=days - 1)
    start = time.perf_counter()
    db = Database(url)
    try:
        await db.migrate()
        now = datetime.combine(LAST_DAY, datetime.min.time(), tzinfo=TZ).astimezone(UTC)

        # Households: a township and a village each.
        homes = [(names[h % len(names)], f"{h % 10 + 1}村") for h in range(households)]
        for lo in range(0, households, BATCH):
            async with db.session() as s:
                await s.execute(insert(Household.__table__), [
                    {"id": h + 1, "township": homes[h][0], "village": homes[h][1],
                     "head_name": f"户主{h}", "created_at": now}
                    for h in range(lo, min(households, lo + BATCH))])

        # Workers: everyone in a household (the first one per household, the rest at random).
        statuses = ["已返岗"] * 35 + ["本地已就业"] * 15 + ["待返岗"] * 25 + ["暂无岗位"] * 25
        areas = ["县内"] * 4 + ["省内县外"] * 3 + ["省外"] * 3
        intents = ["就近就业", "外出务工", "暂不就业", None]
        registered: list[date] = []
        for lo in range(0, workers, BATCH):
            rows = []
            for k in range(lo, min(workers, lo + BATCH)):
                h = k if k < households else rng.randrange(households)
                status = rng.choice(statuses)
                # most registered before the period, the rest spread over it
                day = first_day - timedelta(days=1) if rng.random() < 0.6 else \
                    first_day + timedelta(days=rng.randrange(days))
                registered.append(day)
                at = datetime.combine(day, datetime.min.time(), tzinfo=TZ) + timedelta(
                    minutes=rng.randrange(24 * 60))
                rows.append({
                    "id": k + 1, "name": f"工人{k}", "id_number": f"5201{k:014d}",
                    "phone": f"137{k:08d}", "gender": "男", "township": homes[h][0],
                    "village": homes[h][1], "household_id": h + 1, "status": status,
                    "work_area": rng.choice(areas) if status != "暂无岗位" else None,
                    "intent": rng.choice(intents) if status == "暂无岗位" else None,
                    "poverty": rng.random() < 0.12, "relocated": rng.random() < 0.05,
                    "symptoms": [], "registered_at": at.astimezone(UTC), "updated_at": now})
            async with db.session() as s:
                await s.execute(insert(Worker.__table__), rows)

        # Check-ins: each day, ~85 % of those registered by then; 3 % corrected; 0.5 % abnormal.
        checkin_id = 0
        for n in range(days):
            day = first_day + timedelta(days=n)
            rows = []
            for k in range(workers):
                if registered[k] > day or rng.random() > 0.85:
                    continue
                at = datetime.combine(day, datetime.min.time(), tzinfo=TZ) + timedelta(
                    minutes=420 + rng.randrange(600))
                abnormal = rng.random() < 0.005
                if rng.random() < 0.03:
                    checkin_id += 1
                    rows.append({"id": checkin_id, "worker_id": k + 1, "day": day,
                                 "at": at.astimezone(UTC), "temperature": 37.6, "symptoms": [],
                                 "abnormal": True, "text": "37.6", "superseded": True})
                checkin_id += 1
                rows.append({"id": checkin_id, "worker_id": k + 1, "day": day,
                             "at": at.astimezone(UTC), "temperature": 38.0 if abnormal else 36.5,
                             "symptoms": ["发热"] if abnormal else [], "abnormal": abnormal,
                             "text": "36.5 正常", "superseded": False})
            for lo in range(0, len(rows), BATCH):
                async with db.session() as s:
                    await s.execute(insert(Checkin.__table__), rows[lo:lo + BATCH])

        async with db.session() as s:
            await s.execute(insert(Vacancy.__table__), [
                {"id": v + 1, "employer": f"企业{v % 300}", "title": "普工",
                 "area": rng.choice(areas), "township": names[v % len(names)] if v % 3 else None,
                 "headcount": rng.randrange(1, 30), "filled": rng.randrange(0, 10),
                 "status": "open" if v % 4 else "closed", "public_welfare": v % 10 == 0,
                 "deadline": LAST_DAY + timedelta(days=rng.randrange(-10, 30)), "terms": [],
                 "created_at": now, "updated_at": now} for v in range(600)])
            pairs = {(rng.randrange(600) + 1, rng.randrange(workers) + 1) for _ in range(8000)}
            await s.execute(insert(Application.__table__), [
                {"vacancy_id": v, "worker_id": w, "status": rng.choice(
                    ["applied", "hired", "hired", "rejected"]), "created_at": now,
                 "updated_at": now} for v, w in sorted(pairs)])
            await s.execute(insert(Enterprise.__table__), [
                {"name": f"企业{e}", "township": names[e % len(names)], "shortage":
                 rng.randrange(0, 40), "staff_registered": 100, "staff_returned": 50,
                 "reported_at": now} for e in range(300)])
            yesterday = {"registered": workers - 50, "employed": workers // 2}
            await s.execute(insert(TallySnapshot.__table__), [
                {"day": LAST_DAY - timedelta(days=1), "township": t, "figures": yesterday,
                 "at": now} for t in ["全区", *names]])
        async with db.engine.connect() as conn:  # fresh statistics, as autovacuum would have
            if db.dialect == "postgresql":
                await conn.execute(text("COMMIT"))
                for table in ("worker", "household", "checkin", "vacancy", "application",
                              "enterprise", "tallysnapshot"):
                    await conn.execute(text(f"VACUUM ANALYZE {table}"))
                await conn.execute(text("SELECT setval(pg_get_serial_sequence('checkin','id'), "
                                        "(SELECT max(id) FROM checkin))"))
            else:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
    finally:
        await db.close()
    return time.perf_counter() - start


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float, float, Any]:
    """(first run, median and fastest of the next ``repeat``) in milliseconds, and the last
    result.  On a busy machine the fastest run is the steadiest figure."""
    t0 = time.perf_counter()
    result = await fn()
    first = (time.perf_counter() - t0) * 1000
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return first, statistics.median(runs), min(runs), result


async def measure(url: str, repeat: int, charts: Path) -> list[tuple[str, float, float, float]]:
    from models.db import Database
    from models.tally import compute_tally, load_trend
    from scheduler.chart import render_chart
    from scheduler.report_text import report_text

    names = townships()
    db = Database(url)
    rows: list[tuple[str, float, float, float]] = []
    try:
        async def district():
            async with db.session() as s:
                return await compute_tally(s, LAST_DAY, tz=TZ, townships=names)

        async def township():
            async with db.session() as s:
                return await compute_tally(s, LAST_DAY, names[9], tz=TZ)

        async def village():
            async with db.session() as s:
                return await compute_tally(s, LAST_DAY, names[9], "1村", tz=TZ)

        async def whole_report():
            async with db.session() as s:
                tally = await compute_tally(s, LAST_DAY, tz=TZ, townships=names)
                trend = await load_trend(s, LAST_DAY - timedelta(days=1), 29)
            text = report_text(tally, district="花溪区", target=LAST_DAY + timedelta(days=30),
                               at=datetime.now(TZ))
            path = await asyncio.to_thread(render_chart, tally, trend, charts, title="日报")
            return text, path

        async def lagging_villages():
            from bot.config import Settings
            from dialogs.parsing.places import TownshipDirectory
            from scheduler.lagging import villages

            settings = Settings()
            async with db.session() as s:
                return await villages(s, LAST_DAY, settings=settings,
                                      townships=TownshipDirectory.from_csv(settings.townships_csv))

        for label, fn in (("district tally (report, /统计)", district),
                          ("villages to watch (every village, before the report)",
                           lagging_villages),
                          ("one township (/统计 <乡镇>)", township),
                          ("one village (/统计 <乡镇>/<村>)", village),
                          ("whole report: tally, text, chart", whole_report)):
            first, median, fastest, result = await timed(fn, repeat)
            rows.append((label, first, median, fastest))
            if label.startswith("district"):
                t = result.total.figures
                print(f"    check: registered {t.registered:,}, employed {t.employed:,} "
                      f"({100 * (t.share or 0):.1f} %), households {t.households:,}, "
                      f"zero-employment {t.zero_households:,}, checked in {t.checked_in:,}, "
                      f"abnormal {t.abnormal:,}")
    finally:
        await db.close()
    return rows


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--households", type=int, default=40_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs after the first")
    args = parser.parse_args()
    import sqlalchemy

    print(f"district: {args.workers:,} workers, {args.households:,} households, "
          f"{args.days} days of check-ins; {platform.python_version()}, "
          f"SQLAlchemy {sqlalchemy.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with tempfile.TemporaryDirectory(prefix="fgt-tally-") as tmp:
        for backend in backends:
            drop = None
            if backend == "sqlite":
                url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            else:
                url, drop = await scratch_pg_database("fgt_bench")
            try:
                built = await build(url, args.workers, args.households, args.days)
                print(f"\n{backend}: built in {built:.0f} s")
                from sqlalchemy import func, select

                from models.db import Database
                from models.tables import Checkin

                db = Database(url)
                async with db.session() as s:
                    checkins = (await s.execute(select(func.count()).select_from(Checkin))).scalar()
                await db.close()
                print(f"    {checkins:,} check-in rows")
                for label, first, median, fastest in await measure(url, args.repeat, Path(tmp)):
                    pad = 36 - sum(2 if ord(c) > 0x2E80 else 1 for c in label)
                    print(f"  {label}{' ' * pad} first {first:6.0f} ms   median {median:6.0f} ms"
                          f"   fastest {fastest:6.0f} ms")
            finally:
                if drop is not None:
                    await drop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
