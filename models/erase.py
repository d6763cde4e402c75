"""Deleting a person's data when they ask (注销).

:func:`erase_person` removes, in the caller's transaction (so all of it or none of it):

* the :class:`~models.tables.Worker` row linked to the chat identity, and every row of every
  table with a foreign key to ``worker.id`` — identities (all linked chat accounts), check-ins,
  nudges, applications, vacancy pushes, bus seats, and whatever table a feature adds later:
  the tables are found from the schema's foreign keys, not from a list kept by hand.  A
  nullable foreign key outside the primary key (a reference *to* the worker from a row that is
  not theirs) is set to NULL instead; ``identity.worker_id`` is the exception, the identity
  itself is personal and deleted;
* rows that reference those rows in turn (a later table hanging off ``application``, say);
* dialog states of every chat account of the person, and any other dialog in progress that
  carries their data (a cadre's unfinished ``/修改`` of this worker);
* the outbox rows of their private chats (sent or not: the texts hold their answers); in the
  history of other chats (a cadre's alert, a list), their name, ID number and phone are replaced
  — messages still waiting to go out elsewhere are left alone;
* their complaints about employers with the staff replies and their additions, filed from any of
  their chat accounts, registered or not (:func:`models.complaints.erase_complaints`; the
  reference to the worker is nullable, so the generic rule alone would only cut it);
* their household, if nobody else is left in it;
* the personal text in audit rows about them (a cadre's ``/查 王小明``), keeping who did what
  and when.

What stays: anonymous counts — ``bus.taken`` goes down with the seat (the seat is freed),
``vacancy.filled`` and the daily tally snapshots keep their numbers, which name nobody — and the
ids of handled platform messages (``inboundseen``: no content, needed to drop redeliveries).
An audit row records the erasure with counts only, no name, number or chat account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from models.audit import audit
from models.complaints import erase_complaints
from models.tables import (
    AuditLog,
    Bus,
    BusSeat,
    DialogState,
    Household,
    Identity,
    OutboxMessage,
    Worker,
)

ERASE_ACTION = "worker.erase"
ERASED_TEXT = "（已注销）"
_MAX_DEPTH = 4  # rows referencing rows referencing the worker…; the schema has one level now


@dataclass
class Erasure:
    """What was deleted: the worker's id (None if they had not registered) and row counts."""

    worker_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int | None) -> None:
        if n:
            self.counts[table] = self.counts.get(table, 0) + n

    @property
    def anything(self) -> bool:
        return self.worker_id is not None or bool(self.counts)

    def detail(self) -> str:
        """The audit row's detail: table names and counts, nothing personal."""
        parts = [f"{name} {n}" for name, n in sorted(self.counts.items())]
        return "本人申请注销；删除 " + ("、".join(parts) or "无")


def references_to(table: Table) -> list[tuple[Table, Column, Column]]:
    """``(child table, its column, the referenced column of table)`` for every foreign key in
    the schema that points at ``table``."""
    found = []
    for child in SQLModel.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table:
                found.append((child, fk.parent, fk.column))
    return found


def worker_references() -> list[tuple[Table, Column]]:
    """Every ``(table, column)`` that references ``worker.id``."""
    worker = Worker.__table__  # type: ignore[attr-defined]
    return [(child, col) for child, col, _ in references_to(worker)]


def _nulls_instead(child: Table, col: Column) -> bool:
    """A reference from a row that is not the person's own: cut it, keep the row."""
    if child is Identity.__table__:  # type: ignore[attr-defined]
        return False
    return bool(col.nullable) and not col.primary_key


async def _delete_where(
    session: AsyncSession, table: Table, where: Any, erasure: Erasure, depth: int = 0
) -> None:
    """Delete ``table``'s rows matching ``where``, after whatever references them."""
    if depth < _MAX_DEPTH:
        for child, col, target in references_to(table):
            if child is table:
                continue
            keys = select(target).where(where).scalar_subquery()
            if _nulls_instead(child, col):
                await session.execute(update(child).where(col.in_(keys)).values({col.name: None}))
            else:
                await _delete_where(session, child, col.in_(keys), erasure, depth + 1)
    result = await session.execute(delete(table).where(where))
    erasure.add(table.name, result.rowcount)


async def _free_bus_seats(session: AsyncSession, worker_id: int) -> None:
    """Give the seats back: ``bus.taken`` is kept in step with the seat rows."""
    seats = (await session.execute(
        select(BusSeat.bus_id).where(BusSeat.worker_id == worker_id))).scalars().all()
    for bus_id in seats:
        await session.execute(
            update(Bus).where(Bus.id == bus_id, Bus.taken > 0).values(taken=Bus.taken - 1)
            .execution_options(synchronize_session=False))


def _private_chats(identities: Iterable[str]) -> list[str]:
    from bot.messages import ChatRef

    chats = []
    for identity in identities:
        if ":" in identity:
            chats.append(ChatRef.private(identity).key)
    return chats


def _carries(state: DialogState, worker: Worker) -> bool:
    """A dialog in progress (someone else's) that holds this worker's data."""
    data, answers = state.data or {}, state.answers or {}
    if data.get("worker_id") == worker.id:
        return True
    return bool(worker.id_number) and answers.get("id_number") == worker.id_number


async def _scrub_audit(session: AsyncSession, worker: Worker) -> int:
    """Personal text in audit rows (a cadre's search for this worker's name, phone or ID
    number) is replaced; the rows themselves — who did what, when — stay."""
    needles = [n for n in (worker.id_number, worker.phone, worker.name) if n and len(n) >= 2]
    if not needles:
        return 0
    rows = (await session.execute(
        select(AuditLog).where(
            AuditLog.action.startswith("worker."),
            or_(AuditLog.target == str(worker.id), *(AuditLog.detail.contains(n) for n in needles)),
        ))).scalars().all()
    changed = 0
    for row in rows:
        detail = row.detail
        for needle in needles:
            detail = detail.replace(needle, ERASED_TEXT)
        if row.target == str(worker.id) and row.action in ("worker.view",):
            detail = ERASED_TEXT  # the query that found them (a name, a phone tail)
        if detail != row.detail:
            row.detail = detail
            session.add(row)
            changed += 1
    return changed


async def _scrub_outbox(session: AsyncSession, worker: Worker, own_chats: list[str]) -> int:
    """Their name, ID number and phone in messages already sent to others (history only)."""
    needles = [n for n in (worker.id_number, worker.phone, worker.name) if n and len(n) >= 2]
    if not needles:
        return 0
    rows = (await session.execute(
        select(OutboxMessage).where(
            OutboxMessage.status.in_(("sent", "failed", "unknown")),
            OutboxMessage.chat.not_in(own_chats or [""]),
            or_(*(OutboxMessage.text.contains(n) for n in needles)),
        ))).scalars().all()
    for row in rows:
        text = row.text
        for needle in needles:
            text = text.replace(needle, ERASED_TEXT)
        row.text = text
        session.add(row)
    return len(rows)


async def erase_person(session: AsyncSession, identity: str, *, at: datetime) -> Erasure:
    """Delete the worker behind chat account ``identity`` and everything personal tied to
    them (see the module's docstring), and record it in the audit log.  Without a worker,
    an unfinished registration of ``identity`` is still deleted.  Nothing is committed here."""
    erasure = Erasure()
    await session.flush()  # our Core statements must see (and not be undone by) pending ORM changes
    link = await session.get(Identity, identity)
    worker = await session.get(Worker, link.worker_id) if link and link.worker_id else None
    identities = {identity}
    if worker is not None:
        erasure.worker_id = worker.id
        identities.update((await session.execute(
            select(Identity.identity).where(Identity.worker_id == worker.id))).scalars())
    # Dialogs in progress: the person's own, and anyone's that carries their data.
    states = (await session.execute(select(DialogState))).scalars().all()
    doomed = [s.identity for s in states
              if s.identity in identities or (worker is not None and _carries(s, worker))]
    if doomed:
        result = await session.execute(delete(DialogState).where(DialogState.identity.in_(doomed)))
        erasure.add("dialogstate", result.rowcount)
    for table, n in (await erase_complaints(session, identities, erasure.worker_id)).items():
        erasure.add(table, n)
    chats = _private_chats(identities)
    if chats and worker is not None:
        result = await session.execute(delete(OutboxMessage).where(OutboxMessage.chat.in_(chats)))
        erasure.add("outboxmessage", result.rowcount)
    if worker is not None:
        household_id = worker.household_id
        erasure.add("auditlog(scrubbed)", await _scrub_audit(session, worker))
        erasure.add("outboxmessage(scrubbed)", await _scrub_outbox(session, worker, chats))
        await session.flush()
        await _free_bus_seats(session, worker.id)  # type: ignore[arg-type]
        await _delete_where(session, Worker.__table__, Worker.id == worker.id, erasure)  # type: ignore[attr-defined]
        if household_id is not None:
            left = (await session.execute(
                select(Worker.id).where(Worker.household_id == household_id).limit(1))).scalar()
            if left is None:
                result = await session.execute(delete(Household).where(Household.id == household_id))
                erasure.add("household", result.rowcount)
    _forget(session)
    if erasure.anything:
        audit(session, "worker", ERASE_ACTION,
              str(erasure.worker_id) if erasure.worker_id is not None else "", erasure.detail(),
              at=at)
    return erasure


def _forget(session: AsyncSession) -> None:
    """Drop loaded objects of the tables just changed by bulk statements, so that nothing
    stale is written back or read from the session's cache."""
    tables = {Worker.__table__, Identity.__table__, DialogState.__table__,  # type: ignore[attr-defined]
              Household.__table__, Bus.__table__, OutboxMessage.__table__}  # type: ignore[attr-defined]
    tables.update(child for child, _ in worker_references())
    for obj in list(session.identity_map.values()):
        if getattr(obj, "__table__", None) in tables:
            session.expunge(obj)


async def rows_referencing_worker(session: AsyncSession, worker_id: int) -> dict[str, int]:
    """How many rows of each table still reference ``worker_id`` (for tests and checks)."""
    counts: dict[str, int] = {}
    for child, col in worker_references():
        n = len((await session.execute(select(col).where(col == worker_id))).all())
        if n:
            counts[f"{child.name}.{col.name}"] = n
    return counts
