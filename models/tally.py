"""The daily tally (日报告): one function, :func:`compute_tally`, computes every figure in SQL, and
the same result serves ``/统计``, the task-force report and ``/统计 导出`` — so the three never
disagree.

Counting rules (all counts are of people unless they say 户 or 个):

* **登记 registered** — rows in ``worker`` in the area (a worker belongs to the 乡镇/村 they
  registered under).
* **今日新增 new** — workers whose ``registered_at`` falls on ``day`` in the district's time zone
  (``[day 00:00, day+1 00:00)`` local time, compared in UTC).
* **返岗/就业 employed** — ``status`` 已返岗 or 本地已就业, split by ``work_area`` into 县内 /
  省内县外 / 省外 (a worker with no work area counts in neither; the text shows 地点未填).
  **返岗率 share** = employed / registered.
* **待返岗 waiting_return** — ``status`` 待返岗 (has a job, not back yet).  **有意愿待就业
  seeking** — ``status`` 暂无岗位 with ``intent`` 就近就业 or 外出务工.  **waiting** = the two.
* **建档立卡 / 易地搬迁** — workers with ``poverty`` / ``relocated``, and how many of them are
  employed (same rule as above).
* **零就业户 zero-employment households** — households (``worker.household_id``) with at least
  one worker in the area and none of those workers with a job, where *with a job* is
  :data:`HAS_JOB` — 已返岗, 本地已就业 and 待返岗 (a job waiting for them), the same rule as
  ``/名单 零就业户`` and the export's household sheet (``models.roster.EMPLOYED``).  Workers
  without a household are not counted as households.
* **公益性岗位 public_welfare** — distinct workers with a ``hired`` application on a vacancy with
  ``public_welfare`` (the same rule as ``/名单 公益岗``).
* **今日打卡 checked_in** — distinct workers with a check-in for ``day`` (``checkin.day``, the
  district's local date, set when the reply arrives) that is not ``superseded``;
  **打卡率** = checked_in / registered.  **异常 abnormal** — of those, the ones whose current
  (non-superseded) check-in is ``abnormal``: a corrected reading replaces the earlier one.
* **岗位 vacancies** (township rows and the total only; ``None`` for village rows) — **在招
  vacancies_open**: ``status`` open and the deadline not passed on ``day``; **places_open**: their
  ``headcount - filled`` (never below 0); **已招 vacancies_filled**: the sum of ``filled`` over
  all vacancies, open or closed.  A township row counts the 县内 vacancies located there
  (``vacancy.township``); the district total counts every vacancy (县外 and 省外 too), so it is
  more than the sum of the township rows.
* **发放口罩 masks** — the sum of masks staff recorded with ``/发口罩`` (``maskhandout.count``),
  by the township and village recorded with each hand-out (kept after the worker's 注销).
* **企业缺工 shortage** — the sum of ``enterprise.shortage`` (by ``enterprise.township``; the
  district total includes enterprises with no township).
* **较昨日 change since yesterday** — the difference to the figures saved for ``day - 1``
  (:class:`~models.tables.TallySnapshot`, one row per township and one for 全区, written by the
  daily report); no snapshot, no difference.  The trend chart reads the same snapshots.

Rows: by 乡镇/街道 for the whole district, by 村/社区 inside one township, one row for one
village.  The total is the sum of the rows (except vacancies and shortage, see above), so the
figures always add up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models.departure import MaskHandout
from models.roster import EMPLOYED as HAS_JOB
from models.tables import (
    Application,
    Checkin,
    Enterprise,
    TallySnapshot,
    Vacancy,
    Worker,
)

EMPLOYED = ("已返岗", "本地已就业")
WORK_AREAS = ("县内", "省内县外", "省外")
SEEKING_INTENTS = ("就近就业", "外出务工")
DISTRICT = "全区"  # the snapshot's name for the district total
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")

__all__ = ["DISTRICT", "EMPLOYED", "HAS_JOB", "Figures", "Tally", "TallyRow", "compute_tally",
           "day_bounds", "load_trend", "save_snapshot"]


@dataclass
class Figures:
    """The figures of one area on one day (see the module's rules)."""

    registered: int = 0
    new: int = 0
    employed: int = 0
    employed_county: int = 0  # 县内
    employed_province: int = 0  # 省内县外
    employed_outside: int = 0  # 省外
    waiting_return: int = 0  # 待返岗
    seeking: int = 0  # 暂无岗位, intent 就近就业/外出务工
    poverty: int = 0
    poverty_employed: int = 0
    relocated: int = 0
    relocated_employed: int = 0
    households: int = 0
    zero_households: int = 0
    public_welfare: int = 0
    checked_in: int = 0
    abnormal: int = 0
    masks: int = 0  # 发放口罩 (/发口罩)
    vacancies_open: int | None = None
    places_open: int | None = None
    vacancies_filled: int | None = None
    shortage: int | None = None

    @property
    def waiting(self) -> int:
        return self.waiting_return + self.seeking

    @property
    def employed_area_unknown(self) -> int:
        return self.employed - self.employed_county - self.employed_province - self.employed_outside

    @property
    def share(self) -> float | None:
        """Employed / registered (None when nobody is registered)."""
        return self.employed / self.registered if self.registered else None

    @property
    def checkin_rate(self) -> float | None:
        return self.checked_in / self.registered if self.registered else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        """Snapshots written by an older version may lack a field (it reads as 0/None)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def add(self, other: Figures) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if theirs is None:
                continue
            setattr(self, f.name, (mine or 0) + theirs)


@dataclass
class TallyRow:
    area: str
    figures: Figures
    previous: Figures | None = None  # the same area's snapshot of the day before

    def delta(self, name: str) -> int | None:
        """Today's figure minus yesterday's (None without a snapshot or a figure)."""
        if self.previous is None:
            return None
        now, before = getattr(self.figures, name), getattr(self.previous, name)
        if now is None or before is None:
            return None
        return now - before


@dataclass
class Tally:
    day: date
    township: str | None  # the area asked for (None: the whole district)
    village: str | None
    level: str  # what the rows are: "township" or "village"
    rows: list[TallyRow]
    total: TallyRow
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def area(self) -> str:
        if self.township is None:
            return DISTRICT
        return f"{self.township}{self.village or ''}"

    def row(self, area: str) -> TallyRow | None:
        return next((r for r in self.rows if r.area == area), None)


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """``day`` in the district's time zone as a UTC interval ``[start, end)``."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _n(condition: Any) -> Any:
    """COUNT of rows meeting ``condition``, as a portable SUM(CASE …)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def compute_tally(
    session: AsyncSession,
    day: date,
    township: str | None = None,
    village: str | None = None,
    *,
    tz: tzinfo | None = None,
    townships: list[str] | None = None,
    now: datetime | None = None,
) -> Tally:
    """The tally of ``day`` for the district, one township or one village.

    ``tz``: the district's time zone (for 今日新增; default Asia/Shanghai).  ``townships``: the
    district's townships in their usual order — every one gets a row, even with nobody
    registered yet (district level only).  ``now``: recorded as ``computed_at``.
    """
    tz = tz or DEFAULT_TZ
    if township is None:
        level, area_col, scope = "township", Worker.township, true()
    elif village is None:
        level, area_col, scope = "village", Worker.village, Worker.township == township
    else:
        level, area_col = "village", Worker.village
        scope = and_(Worker.township == township, Worker.village == village)

    by_area: dict[str, Figures] = {}

    def fig(area: str | None) -> Figures:
        return by_area.setdefault(area or "（未填）", Figures())

    # 1. Workers: one grouped pass over ``worker`` (ix_worker_tally covers it).
    start, end = day_bounds(day, tz)
    employed = Worker.status.in_(EMPLOYED)
    rows = await session.execute(
        select(
            area_col,
            func.count(),
            _n(and_(Worker.registered_at >= start, Worker.registered_at < end)),
            _n(employed),
            _n(and_(employed, Worker.work_area == WORK_AREAS[0])),
            _n(and_(employed, Worker.work_area == WORK_AREAS[1])),
            _n(and_(employed, Worker.work_area == WORK_AREAS[2])),
            _n(Worker.status == "待返岗"),
            _n(and_(Worker.status == "暂无岗位", Worker.intent.in_(SEEKING_INTENTS))),
            _n(Worker.poverty.is_(True)),
            _n(and_(Worker.poverty.is_(True), employed)),
            _n(Worker.relocated.is_(True)),
            _n(and_(Worker.relocated.is_(True), employed)),
        ).where(scope).group_by(area_col)
    )
    for area, *values in rows:
        f = fig(area)
        (f.registered, f.new, f.employed, f.employed_county, f.employed_province,
         f.employed_outside, f.waiting_return, f.seeking, f.poverty, f.poverty_employed,
         f.relocated, f.relocated_employed) = (int(v) for v in values)

    # 2. Households: per household, whether anyone has a job (ix_worker_tally covers it).
    has_job = func.max(case((Worker.status.in_(HAS_JOB), 1), else_=0))
    per_household = (
        select(area_col.label("area"), has_job.label("has_job"))
        .where(scope, Worker.household_id.is_not(None))
        .group_by(area_col, Worker.household_id)
        .subquery()
    )
    rows = await session.execute(
        select(per_household.c.area, func.count(), _n(per_household.c.has_job == 0))
        .group_by(per_household.c.area)
    )
    for area, households, zero in rows:
        f = fig(area)
        f.households, f.zero_households = int(households), int(zero)

    # 3. Today's check-ins: one line per worker in the area (their current reading, however
    # many rows it has; ix_checkin_tally covers it), then by area.
    per_worker = (
        select(area_col.label("area"),
               func.max(case((Checkin.abnormal.is_(True), 1), else_=0)).label("abnormal"))
        .select_from(Worker)
        .join(Checkin, and_(Checkin.worker_id == Worker.id, Checkin.day == day,
                            Checkin.superseded.is_(False)))
        .where(scope)
        .group_by(area_col, Worker.id)
        .subquery()
    )
    rows = await session.execute(
        select(per_worker.c.area, func.count(), _n(per_worker.c.abnormal == 1))
        .group_by(per_worker.c.area)
    )
    for area, checked, abnormal in rows:
        f = fig(area)
        f.checked_in, f.abnormal = int(checked), int(abnormal)

    # 4. 公益性岗位 placements (ix_application_worker_id, the vacancy's primary key).
    rows = await session.execute(
        select(area_col, func.count(distinct(Worker.id)))
        .select_from(Application)
        .join(Vacancy, Vacancy.id == Application.vacancy_id)
        .join(Worker, Worker.id == Application.worker_id)
        .where(Application.status == "hired", Vacancy.public_welfare.is_(True), scope)
        .group_by(area_col)
    )
    for area, placed in rows:
        fig(area).public_welfare = int(placed)

    # 5. Masks handed out, by the area recorded with each hand-out (ix_maskhandout_area).
    mask_col = MaskHandout.township if level == "township" else MaskHandout.village
    mask_scope = true() if township is None else MaskHandout.township == township
    if village is not None:
        mask_scope = and_(mask_scope, MaskHandout.village == village)
    rows = await session.execute(
        select(mask_col, func.coalesce(func.sum(MaskHandout.count), 0))
        .where(mask_scope).group_by(mask_col))
    for area, masks in rows:
        fig(area).masks = int(masks)

    # 6. Vacancies and enterprise shortages: by township (not by village).
    vacancies: dict[str | None, tuple[int, int, int]] = {}
    shortages: dict[str | None, int] = {}
    if village is None:
        is_open = and_(Vacancy.status == "open",
                       or_(Vacancy.deadline.is_(None), Vacancy.deadline >= day))
        places = case((Vacancy.headcount > Vacancy.filled, Vacancy.headcount - Vacancy.filled),
                      else_=0)
        v_rows = await session.execute(
            select(Vacancy.township, _n(is_open),
                   func.coalesce(func.sum(case((is_open, places), else_=0)), 0),
                   func.coalesce(func.sum(Vacancy.filled), 0))
            .group_by(Vacancy.township))
        vacancies = {t: (int(a), int(b), int(c)) for t, a, b, c in v_rows}
        e_rows = await session.execute(
            select(Enterprise.township, func.coalesce(func.sum(Enterprise.shortage), 0))
            .group_by(Enterprise.township))
        shortages = {t: int(s) for t, s in e_rows}

    # Rows in the usual order: the district's townships first (every one), then any other.
    names = list(by_area)
    if level == "township" and townships:
        names = list(townships) + sorted(n for n in by_area if n not in townships)
    else:
        names.sort()
    if village is not None and village not in names:
        names = [village]
    result_rows: list[TallyRow] = []
    total = Figures()
    for name in names:
        f = by_area.get(name) or Figures()
        if level == "township":
            f.vacancies_open, f.places_open, f.vacancies_filled = vacancies.get(name, (0, 0, 0))
            f.shortage = shortages.get(name, 0)
        result_rows.append(TallyRow(name, f))
        total.add(f)

    if township is None:
        sums = [sum(v[i] for v in vacancies.values()) for i in range(3)]
        total.vacancies_open, total.places_open, total.vacancies_filled = sums
        total.shortage = sum(shortages.values())
    elif village is None:
        total.vacancies_open, total.places_open, total.vacancies_filled = vacancies.get(
            township, (0, 0, 0))
        total.shortage = shortages.get(township, 0)
    else:
        total.vacancies_open = total.places_open = total.vacancies_filled = total.shortage = None

    tally = Tally(day=day, township=township, village=village, level=level,
                  rows=result_rows, total=TallyRow(DISTRICT if township is None else
                                                   f"{township}{village or ''}", total),
                  computed_at=now or datetime.now(UTC))
    await _attach_previous(session, tally)
    return tally


async def village_counts(session: AsyncSession, day: date) -> dict[tuple[str | None, str],
                                                                    tuple[int, int]]:
    """Registered workers and those checked in on ``day``, per (township, village), for the
    whole district in a few grouped queries: the same two figures :func:`compute_tally` gives
    one township at a time, for the same villages (a village left empty is “（未填）” as there;
    a village where masks were handed out but nobody is registered has a row of zeros, in a
    township with registered workers)."""
    counts: dict[tuple[str | None, str], list[int]] = {}
    rows = await session.execute(
        select(Worker.township, Worker.village, func.count())
        .group_by(Worker.township, Worker.village))
    for township, village, registered in rows:
        counts.setdefault((township, village or "（未填）"), [0, 0])[0] += int(registered)
    with_workers = {township for township, _ in counts}
    rows = await session.execute(
        select(MaskHandout.township, MaskHandout.village).distinct())  # ix_maskhandout_area
    for township, village in rows:
        if township in with_workers:
            counts.setdefault((township, village or "（未填）"), [0, 0])
    per_worker = (
        select(Worker.township.label("township"), Worker.village.label("village"))
        .select_from(Worker)
        .join(Checkin, and_(Checkin.worker_id == Worker.id, Checkin.day == day,
                            Checkin.superseded.is_(False)))
        .group_by(Worker.township, Worker.village, Worker.id)
        .subquery()
    )
    rows = await session.execute(
        select(per_worker.c.township, per_worker.c.village, func.count())
        .group_by(per_worker.c.township, per_worker.c.village))
    for township, village, checked_in in rows:
        counts.setdefault((township, village or "（未填）"), [0, 0])[1] += int(checked_in)
    return {key: (r, c) for key, (r, c) in counts.items()}


async def _attach_previous(session: AsyncSession, tally: Tally) -> None:
    """Yesterday's snapshot for each row that has one (townships and 全区 only)."""
    wanted: dict[str, TallyRow] = {}
    if tally.township is None:
        wanted[DISTRICT] = tally.total
        for row in tally.rows:
            wanted[row.area] = row
    elif tally.village is None:
        wanted[tally.township] = tally.total
    if not wanted:
        return
    found = await session.execute(
        select(TallySnapshot.township, TallySnapshot.figures).where(
            TallySnapshot.day == tally.day - timedelta(days=1),
            TallySnapshot.township.in_(list(wanted))))
    for name, figures in found:
        wanted[name].previous = Figures.from_json(figures or {})


async def save_snapshot(session: AsyncSession, tally: Tally, at: datetime) -> int:
    """Save a district tally's figures (one row per township and one for 全区) for ``tally.day``,
    replacing what was saved for that day before.  Safe with several instances (an upsert, in
    one order).  Returns the number of rows written."""
    if tally.township is not None:
        raise ValueError("only the district's tally is saved")
    values = [{"day": tally.day, "township": row.area, "figures": row.figures.to_json(), "at": at}
              for row in [tally.total, *tally.rows]]
    values.sort(key=lambda v: v["township"])
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(TallySnapshot).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "township"],
        set_={"figures": stmt.excluded.figures, "at": stmt.excluded.at},
    )
    await session.execute(stmt)
    return len(values)


async def load_trend(session: AsyncSession, until: date, days: int = 30,
                     area: str = DISTRICT) -> list[tuple[date, Figures]]:
    """The saved figures of ``area`` for the ``days`` days up to and including ``until``."""
    rows = await session.execute(
        select(TallySnapshot.day, TallySnapshot.figures)
        .where(TallySnapshot.township == area,
               TallySnapshot.day > until - timedelta(days=days),
               TallySnapshot.day <= until)
        .order_by(TallySnapshot.day))
    return [(d, Figures.from_json(f or {})) for d, f in rows]
