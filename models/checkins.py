"""The daily health check-in (日排查) in the database: one reading per worker per day, with history.

A later reply the same day corrects the day's reading: the earlier rows stay, marked
``superseded``, and the newest row is the day's reading.  Counts for a cadre's scope are SQL
aggregates (nobody is loaded into Python to be counted); lists are limited and ordered.

Who is prompted: a registered worker with a linked chat account, none of whose accounts is an
active cadre's.  Each daily message to a worker is claimed with a :class:`~models.tables.Nudge`
row (``INSERT … ON CONFLICT DO NOTHING RETURNING``), in the caller's transaction together with
the message itself, so that it goes out once per day even with several instances or a restart.

A completed departure declaration (出发前健康申报, ``handlers/departure.py``) is recorded as the
day's reading too, when the worker has none of their own yet: its ``text`` starts with
:data:`FROM_DECLARATION`, so that a later declaration the same day may replace it while a reading
the worker sent themselves is left alone (:func:`from_declaration`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, distinct, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import Cadre, Checkin, DialogState, Identity, Nudge, Worker

if TYPE_CHECKING:
    from dialogs.checkin_text import CheckinReading

# Nudge kinds of the check-in; any of them means "asked today" to the reply reader.
PROMPT = "checkin_prompt"
REMIND = "checkin_remind"
FOLLOWUP = "checkin_followup"
ASKED_KINDS = (PROMPT, REMIND, FOLLOWUP)
TEXT_MAX = 500
FROM_DECLARATION = "【出发前健康申报】"  # the text of a reading taken from a departure declaration


# ----- one worker -----------------------------------------------------------------------------
async def current_checkin(session: AsyncSession, worker_id: int, day: date) -> Checkin | None:
    """The worker's reading for ``day`` (the newest not superseded row), or None."""
    return (
        await session.execute(
            select(Checkin)
            .where(Checkin.worker_id == worker_id, Checkin.day == day,
                   Checkin.superseded.is_(False))
            .order_by(Checkin.at.desc(), Checkin.id.desc())
            .limit(1)
        )
    ).scalar()


async def record_checkin(
    session: AsyncSession, worker_id: int, day: date, at: datetime, reading: CheckinReading,
    text: str,
) -> tuple[Checkin, Checkin | None]:
    """Store ``reading`` as the worker's reading for ``day``; return (new row, the reading it
    replaces or None).  Earlier rows of the day are kept, marked superseded."""
    # Two chat accounts of one worker may answer at once: take the worker's row lock first
    # (PostgreSQL; SQLite has a single writer anyway).
    await session.execute(select(Worker.id).where(Worker.id == worker_id).with_for_update())
    previous = await current_checkin(session, worker_id, day)
    await session.execute(
        update(Checkin)
        .where(Checkin.worker_id == worker_id, Checkin.day == day, Checkin.superseded.is_(False))
        .values(superseded=True)
        .execution_options(synchronize_session=False)
    )
    if previous is not None:
        previous.superseded = True
    row = Checkin(
        worker_id=worker_id, day=day, at=at, temperature=reading.temperature,
        symptoms=list(reading.symptoms), location=reading.location, place=reading.place,
        abnormal=reading.abnormal, text=text[:TEXT_MAX],
    )
    session.add(row)
    await session.flush()
    return row, previous


def from_declaration(row: Checkin) -> bool:
    """Whether the reading was taken from a departure declaration, not sent as a check-in (the
    bracketed title is the bot's own; a worker's reply does not begin with it)."""
    return row.text.startswith(FROM_DECLARATION)


async def recent_checkins(session: AsyncSession, worker_id: int, since: date) -> dict[date, Checkin]:
    """The worker's reading of each day from ``since`` on (days without one are absent)."""
    rows = (
        await session.execute(
            select(Checkin)
            .where(Checkin.worker_id == worker_id, Checkin.day >= since,
                   Checkin.superseded.is_(False))
            .order_by(Checkin.at, Checkin.id)
        )
    ).scalars()
    return {c.day: c for c in rows}


async def asked_today(session: AsyncSession, worker_id: int, day: date) -> bool:
    """Whether the worker was prompted, reminded or followed up on ``day``."""
    return bool(
        (
            await session.execute(
                select(
                    exists().where(Nudge.worker_id == worker_id, Nudge.day == day,
                                   Nudge.kind.in_(ASKED_KINDS))
                )
            )
        ).scalar()
    )


# ----- a scope --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckinCounts:
    registered: int = 0
    checked_in: int = 0
    abnormal: int = 0
    reachable: int = 0  # with a linked WeChat/QQ account (the others need a phone call)

    @property
    def missing(self) -> int:
        return self.registered - self.checked_in

    @property
    def rate(self) -> float | None:
        """Checked in / registered, or None when nobody is registered."""
        return self.checked_in / self.registered if self.registered else None

    def rate_text(self) -> str:
        rate = self.rate
        return "—" if rate is None else f"{rate:.0%}"


def _today(day: date) -> Any:
    """Today's readings, one row per worker (the subquery joined to workers)."""
    return (
        select(Checkin.worker_id.label("worker_id"), Checkin.abnormal.label("abnormal"))
        .where(Checkin.day == day, Checkin.superseded.is_(False))
        .subquery("today")
    )


def _counts_query(day: date, where: Any, *group: Any) -> Any:
    today = _today(day)
    reachable = exists().where(Identity.worker_id == Worker.id)
    return (
        select(
            *group,
            func.count(distinct(Worker.id)),
            func.count(distinct(today.c.worker_id)),
            func.count(distinct(case((today.c.abnormal.is_(True), today.c.worker_id)))),
            func.count(distinct(case((reachable, Worker.id)))),
        )
        .select_from(Worker)
        .outerjoin(today, today.c.worker_id == Worker.id)
        .where(where)
    )


async def checkin_counts(session: AsyncSession, day: date, where: Any) -> CheckinCounts:
    """Registered, checked in, abnormal and reachable workers matching ``where`` (a condition
    on :class:`Worker`, e.g. ``models.scope.worker_scope(cadre)``) on ``day``."""
    row = (await session.execute(_counts_query(day, where))).one()
    return CheckinCounts(*row)


async def checkin_counts_by(
    session: AsyncSession, day: date, where: Any, column: Any
) -> list[tuple[str, CheckinCounts]]:
    """The same counts per value of ``column`` (``Worker.township`` or ``Worker.village``)."""
    rows = await session.execute(_counts_query(day, where, column).group_by(column).order_by(column))
    return [(area, CheckinCounts(*counts)) for area, *counts in rows]


async def missing_workers(session: AsyncSession, day: date, where: Any, limit: int = 20) -> list[Worker]:
    """Workers matching ``where`` without a reading on ``day``."""
    done = exists().where(Checkin.worker_id == Worker.id, Checkin.day == day,
                          Checkin.superseded.is_(False))
    return list(
        (
            await session.execute(
                select(Worker).where(where, ~done)
                .order_by(Worker.township, Worker.village, Worker.id).limit(limit)
            )
        ).scalars()
    )


async def abnormal_readings(
    session: AsyncSession, day: date, where: Any, limit: int = 20
) -> list[tuple[Worker, Checkin]]:
    """Workers matching ``where`` whose reading on ``day`` is abnormal, with the reading."""
    rows = await session.execute(
        select(Worker, Checkin)
        .join(Checkin, Checkin.worker_id == Worker.id)
        .where(where, Checkin.day == day, Checkin.superseded.is_(False), Checkin.abnormal.is_(True))
        .order_by(Worker.township, Worker.village, Worker.id)
        .limit(limit)
    )
    return [(w, c) for w, c in rows]


# ----- who is prompted, once a day ----------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    worker_id: int
    name: str
    identity: str  # the chat account used last
    dialog: str | None  # the dialog in progress on that account, if any
    yesterday: Checkin | None = None  # for a follow-up: yesterday's abnormal reading


def _reachable_worker() -> Any:
    """A registered worker with a chat account, none of whose accounts is a cadre's."""
    cadre_account = (
        select(Identity.identity)
        .join(Cadre, Cadre.identity == Identity.identity)
        .where(Identity.worker_id == Worker.id, Cadre.active)
    )
    return and_(exists().where(Identity.worker_id == Worker.id), ~exists(cadre_account))


def _no_checkin(day: date) -> Any:
    return ~exists().where(Checkin.worker_id == Worker.id, Checkin.day == day,
                           Checkin.superseded.is_(False))


def _not_nudged(kinds: Sequence[str], day: date) -> Any:
    return ~exists().where(Nudge.worker_id == Worker.id, Nudge.day == day, Nudge.kind.in_(kinds))


async def _targets(session: AsyncSession, cond: Any, after: int, limit: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(Worker.id, Worker.name).where(Worker.id > after, cond).order_by(Worker.id).limit(limit)
    )
    return [(wid, name) for wid, name in rows]


async def _with_contacts(session: AsyncSession, people: list[tuple[int, str]]) -> list[Target]:
    if not people:
        return []
    ids = [wid for wid, _ in people]
    contact: dict[int, str] = {}
    rows = await session.execute(
        select(Identity.worker_id, Identity.identity)
        .where(Identity.worker_id.in_(ids))
        .order_by(Identity.last_seen, Identity.identity)
    )
    for wid, identity in rows:
        contact[wid] = identity  # the latest wins
    states = dict(
        (
            await session.execute(
                select(DialogState.identity, DialogState.dialog).where(
                    DialogState.identity.in_(list(contact.values())),
                    DialogState.paused.is_(False),
                )
            )
        ).all()
    )
    return [Target(wid, name, contact[wid], states.get(contact[wid]))
            for wid, name in people if wid in contact]


async def prompt_targets(session: AsyncSession, day: date, after: int, limit: int) -> list[Target]:
    """Workers to prompt on ``day`` (not checked in, not yet asked today), by id after ``after``."""
    cond = and_(_reachable_worker(), _no_checkin(day), _not_nudged(ASKED_KINDS, day))
    return await _with_contacts(session, await _targets(session, cond, after, limit))


async def remind_targets(session: AsyncSession, day: date, after: int, limit: int) -> list[Target]:
    """Workers still silent on ``day`` who have not been reminded yet."""
    cond = and_(_reachable_worker(), _no_checkin(day), _not_nudged((REMIND,), day))
    return await _with_contacts(session, await _targets(session, cond, after, limit))


async def followup_targets(
    session: AsyncSession, day: date, yesterday: date, after: int, limit: int
) -> list[Target]:
    """Workers whose reading on ``yesterday`` was abnormal, to be asked how they are today."""
    was_abnormal = exists().where(Checkin.worker_id == Worker.id, Checkin.day == yesterday,
                                  Checkin.superseded.is_(False), Checkin.abnormal.is_(True))
    cond = and_(_reachable_worker(), was_abnormal, _no_checkin(day), _not_nudged((FOLLOWUP,), day))
    targets = await _with_contacts(session, await _targets(session, cond, after, limit))
    if not targets:
        return []
    readings = (
        await session.execute(
            select(Checkin).where(Checkin.worker_id.in_([t.worker_id for t in targets]),
                                  Checkin.day == yesterday, Checkin.superseded.is_(False))
            .order_by(Checkin.at, Checkin.id)
        )
    ).scalars()
    by_worker = {c.worker_id: c for c in readings}
    return [Target(t.worker_id, t.name, t.identity, t.dialog, by_worker.get(t.worker_id))
            for t in targets]


async def claim_nudges(
    session: AsyncSession, kind: str, day: date, worker_ids: Sequence[int], at: datetime
) -> set[int]:
    """Insert a ``kind`` nudge for each worker on ``day`` unless there is one; return the ids
    claimed here.  Another instance's concurrent claim waits for it and is then skipped."""
    if not worker_ids:
        return set()
    dialect = session.bind.dialect.name if session.bind is not None else ""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (
        insert(Nudge)
        .values([{"kind": kind, "worker_id": wid, "day": day, "at": at} for wid in worker_ids])
        .on_conflict_do_nothing()
        .returning(Nudge.worker_id)
    )
    return set((await session.execute(stmt)).scalars())
