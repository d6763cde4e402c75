"""Safe departure (安全出行) in the database: who leaves on a day, their health declaration before
leaving, and the masks staff handed out.

**Who leaves on day D** — a registered, reachable worker (a linked chat account, not a cadre's:
the same rule as the check-in prompt) who either has a seat on a chartered bus leaving on D, or
is 待返岗 with ``return_date`` D and no seat on a bus leaving within ``window`` days of D (a
worker on a bus travels by the bus; the buses invite workers returning within that window).

**Once per departure** — the handbook is claimed with a :class:`~models.tables.Nudge` row
``(DEPARTURE, worker, D)`` in the same transaction as the message (``claim_nudges``): a second
run, a restart or a second instance finds the row and sends nothing.

**Masks** are counted by the area recorded with each hand-out (the worker's township and village
at the time), so the count survives the worker's 注销: the eraser cuts the nullable reference
to the worker and keeps the row (``models/erase.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from models.checkins import _not_nudged, _reachable_worker
from models.tables import Bus, BusSeat, DialogState, Worker

DEPARTURE = "departure_handbook"  # the Nudge kind; its day is the departure day
DECLARATION = "departure_declaration"  # the dialog's name
MAX_MASKS = 500  # per hand-out


class DepartureDeclaration(SQLModel, table=True):
    """A worker's health declaration before a departure (出发前健康申报): one per worker and
    departure day; declaring again replaces it."""

    __table_args__ = (UniqueConstraint("worker_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    worker_id: int = Field(foreign_key="worker.id")
    day: date  # the departure day
    bus_id: int | None = Field(default=None, foreign_key="bus.id")
    temperature: float | None = None  # today's; None: not measured
    symptoms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    contact: bool = False  # with a confirmed or suspected case in the last 14 days
    travel_mode: str | None = None
    abnormal: bool = False
    declared_at: datetime


class MaskHandout(SQLModel, table=True):
    """Masks staff handed to a worker (/发口罩), with the worker's area at the time."""

    __table_args__ = (Index("ix_maskhandout_area", "township", "village", "count"),)

    id: int | None = Field(default=None, primary_key=True)
    worker_id: int | None = Field(default=None, foreign_key="worker.id", index=True)
    township: str
    village: str
    count: int
    handed_by: int | None = Field(default=None, foreign_key="cadre.id", index=True)
    at: datetime


@dataclass(frozen=True)
class Departure:
    day: date
    bus: Bus | None = None


# ----- who leaves ------------------------------------------------------------------------------
def _seat_on(day_condition: Any) -> Any:
    return exists().where(BusSeat.worker_id == Worker.id, Bus.id == BusSeat.bus_id, day_condition)


def _leaving(day: date, window: int) -> Any:
    by_bus = _seat_on(Bus.day == day)
    by_date = and_(Worker.status == "待返岗", Worker.return_date == day,
                   ~_seat_on(Bus.day.between(day - timedelta(days=window),
                                             day + timedelta(days=window))))
    return or_(by_bus, by_date)


async def departure_targets(
    session: AsyncSession, day: date, window: int, after: int, limit: int
) -> list[tuple[Worker, Departure]]:
    """``(worker, departure)`` of workers leaving on ``day`` who have not had the handbook for
    it, by worker id after ``after``."""
    cond = and_(Worker.id > after, _reachable_worker(), _not_nudged((DEPARTURE,), day),
                _leaving(day, window))
    workers = list((await session.execute(
        select(Worker).where(cond).order_by(Worker.id).limit(limit))).scalars())
    buses = await _buses_on(session, [w.id for w in workers if w.id is not None], day)
    return [(w, Departure(day, buses.get(w.id or 0))) for w in workers]


async def _buses_on(session: AsyncSession, worker_ids: list[int], day: date) -> dict[int, Bus]:
    if not worker_ids:
        return {}
    rows = await session.execute(
        select(BusSeat.worker_id, Bus).join(Bus, Bus.id == BusSeat.bus_id)
        .where(BusSeat.worker_id.in_(worker_ids), Bus.day == day).order_by(Bus.id))
    return {wid: bus for wid, bus in rows}


async def bus_on(session: AsyncSession, worker_id: int, day: date) -> Bus | None:
    """The bus leaving on ``day`` that the worker has a seat on, if any."""
    return (await _buses_on(session, [worker_id], day)).get(worker_id)


async def next_departure(
    session: AsyncSession, worker: Worker, today: date, ahead: int, window: int
) -> Departure | None:
    """The worker's departure from ``today`` to ``today + ahead``: the earliest bus they have a
    seat on, else their recorded return date (same rule as :func:`departure_targets`)."""
    last = today + timedelta(days=ahead)
    bus = (await session.execute(
        select(Bus).join(BusSeat, BusSeat.bus_id == Bus.id)
        .where(BusSeat.worker_id == worker.id, Bus.day.between(today, last))
        .order_by(Bus.day, Bus.id).limit(1))).scalar()
    if bus is not None:
        return Departure(bus.day, bus)
    day = worker.return_date
    if worker.status != "待返岗" or day is None or not today <= day <= last:
        return None
    near = (await session.execute(select(exists().where(
        BusSeat.worker_id == worker.id, Bus.id == BusSeat.bus_id,
        Bus.day.between(day - timedelta(days=window), day + timedelta(days=window)))))).scalar()
    return None if near else Departure(day)


async def drop_stale_declarations(session: AsyncSession, before: datetime) -> int:
    """Unanswered declaration dialogs begun before ``before`` (the departure has passed): a
    worker's later messages must not keep going to a question about a trip long gone."""
    result = await session.execute(delete(DialogState).where(
        DialogState.dialog == DECLARATION, DialogState.started_at < before))
    return result.rowcount or 0


# ----- the declaration -------------------------------------------------------------------------
async def save_declaration(
    session: AsyncSession, worker_id: int, day: date, values: dict[str, Any], at: datetime
) -> tuple[DepartureDeclaration, bool | None]:
    """Store the worker's declaration for ``day`` (replacing an earlier one); returns the row
    and whether the earlier one was abnormal (None when there was none)."""
    row = (await session.execute(select(DepartureDeclaration).where(
        DepartureDeclaration.worker_id == worker_id, DepartureDeclaration.day == day)
        .with_for_update())).scalar()
    before = None if row is None else row.abnormal
    if row is None:
        row = DepartureDeclaration(worker_id=worker_id, day=day, declared_at=at)
    for key, value in values.items():
        setattr(row, key, value)
    row.declared_at = at
    session.add(row)
    await session.flush()
    return row, before


# ----- masks -----------------------------------------------------------------------------------
async def record_masks(
    session: AsyncSession, worker: Worker, count: int, cadre_id: int | None, at: datetime
) -> int:
    """Record ``count`` masks handed to ``worker``; returns how many they have had in all."""
    session.add(MaskHandout(worker_id=worker.id, township=worker.township, village=worker.village,
                            count=count, handed_by=cadre_id, at=at))
    await session.flush()
    return int((await session.execute(select(func.coalesce(func.sum(MaskHandout.count), 0))
                                      .where(MaskHandout.worker_id == worker.id))).scalar_one())
