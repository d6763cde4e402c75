"""Complaints about employers (投诉, §三(五)) in the database.

A complaint is tied to the chat account that filed it (``identity``, a plain string: people who
have not registered may complain too, and are answered through the same account) and, when the
sender is a registered worker, to the worker (``worker_id``, nullable).  Everything about it —
the employer named, what happened, the staff replies and the worker's additions — stays in these
two tables: nothing is ever written to a vacancy or enterprise record, nor sent to an employer.

Its ``id`` is the number people quote (投诉3).  Status: ``open`` → ``closed`` (/结案).

**注销**: :func:`erase_complaints` deletes a person's complaints with their notes (called by
:func:`models.erase.erase_person` for every chat account of the person, registered or not),
and replaces their text in messages already sent to staff.  The eraser would otherwise only cut
the nullable ``worker_id`` and leave the complaint, which is the person's own account, behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from models.tables import Cadre, OutboxMessage

OPEN, CLOSED = "open", "closed"
REPLY, ADDITION = "reply", "addition"  # a note: a staff reply, or the worker's addition (补充)
HANDLER_ROLES = frozenset({"bureau", "district"})  # who receives and handles complaints
MAX_PER_DAY = 5  # complaints one chat account may file in a day


class Complaint(SQLModel, table=True):
    """A complaint about an employer; ``id`` is its number (投诉3)."""

    id: int | None = Field(default=None, primary_key=True)
    identity: str = Field(index=True)  # the chat account that filed it (platform:id)
    worker_id: int | None = Field(default=None, foreign_key="worker.id", index=True)
    employer: str
    what: str  # what happened, as typed (Chinese punctuation kept)
    when_label: str  # e.g. 3月2日（周六）, 上周（1月22日至28日）, 记不清
    happened_from: date | None = None
    happened_to: date | None = None
    call_ok: bool = False  # the worker agreed to be phoned
    phone: str | None = None  # the number to call, only when ``call_ok``
    status: str = Field(default=OPEN, index=True)
    result: str | None = None  # what /结案 said
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    closed_by: int | None = Field(default=None, foreign_key="cadre.id")


class ComplaintNote(SQLModel, table=True):
    """A staff reply (sent to the worker through the bot) or the worker's addition."""

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    kind: str  # REPLY / ADDITION
    text: str
    cadre_id: int | None = Field(default=None, foreign_key="cadre.id")
    at: datetime


# ----- reading ---------------------------------------------------------------------------------
async def complaint_handlers(session: AsyncSession) -> list[Cadre]:
    """Active staff who receive complaints: every bureau cadre and the district task force."""
    return list((await session.execute(
        select(Cadre).where(Cadre.active, Cadre.role.in_(HANDLER_ROLES)).order_by(Cadre.id)
    )).scalars().all())


def owned_by(identities: Iterable[str], worker_id: int | None) -> Any:
    """The complaints of a person: filed from one of their chat accounts, or as their worker."""
    conditions = [Complaint.identity.in_(list(identities))]
    if worker_id is not None:
        conditions.append(Complaint.worker_id == worker_id)
    return or_(*conditions)


async def complaints_of(session: AsyncSession, identity: str, worker_id: int | None,
                        open_only: bool = False) -> list[Complaint]:
    query = select(Complaint).where(owned_by([identity], worker_id))
    if open_only:
        query = query.where(Complaint.status == OPEN)
    return list((await session.execute(query.order_by(Complaint.id))).scalars().all())


async def filed_since(session: AsyncSession, identity: str, since: datetime) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(Complaint)
        .where(Complaint.identity == identity, Complaint.created_at >= since)) or 0)


async def complaint_list(session: AsyncSession, open_only: bool, limit: int) -> list[Complaint]:
    query = select(Complaint)
    if open_only:
        query = query.where(Complaint.status == OPEN).order_by(Complaint.id)
    else:
        query = query.order_by(Complaint.id.desc())
    return list((await session.execute(query.limit(limit))).scalars().all())


async def count_open(session: AsyncSession) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(Complaint).where(Complaint.status == OPEN)) or 0)


async def notes_of(session: AsyncSession, complaint_ids: list[int]) -> dict[int, list[ComplaintNote]]:
    found: dict[int, list[ComplaintNote]] = {i: [] for i in complaint_ids}
    if complaint_ids:
        rows = (await session.execute(
            select(ComplaintNote).where(ComplaintNote.complaint_id.in_(complaint_ids))
            .order_by(ComplaintNote.id))).scalars().all()
        for note in rows:
            found[note.complaint_id].append(note)
    return found


async def reach(session: AsyncSession, complaint: Complaint) -> str:
    """The chat account to answer the complainer on: a registered worker's most recently used
    one, else the account that filed it."""
    if complaint.worker_id is not None:
        from models.workers import contact_of

        found = await contact_of(session, complaint.worker_id)
        if found:
            return found
    return complaint.identity


# ----- 注销 ----------------------------------------------------------------------------------------
ERASED_TEXT = "（已注销）"


async def erase_complaints(session: AsyncSession, identities: Iterable[str],
                           worker_id: int | None) -> dict[str, int]:
    """Delete the complaints of the person behind ``identities`` (and ``worker_id``), with their
    notes; in messages already sent to others (staff), their text is replaced.  Returns the
    counts of deleted rows by table.  Nothing is committed here."""
    rows = (await session.execute(
        select(Complaint).where(owned_by(identities, worker_id)))).scalars().all()
    if not rows:
        return {}
    ids = [c.id for c in rows]
    notes = (await session.execute(
        select(ComplaintNote).where(ComplaintNote.complaint_id.in_(ids)))).scalars().all()
    needles = {c.what for c in rows} | {n.text for n in notes}
    needles = {n for n in needles if len(n) >= 4}
    if needles:
        sent = (await session.execute(select(OutboxMessage).where(
            OutboxMessage.status.in_(("sent", "failed", "unknown")),
            or_(*(OutboxMessage.text.contains(n, autoescape=True) for n in needles))))).scalars().all()
        for message in sent:
            text = message.text
            for needle in sorted(needles, key=len, reverse=True):
                text = text.replace(needle, ERASED_TEXT)
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                                  .values(text=text))
            session.expunge(message)
    for obj in (*rows, *notes):
        session.expunge(obj)
    counts = {}
    result = await session.execute(delete(ComplaintNote).where(ComplaintNote.complaint_id.in_(ids)))
    if result.rowcount:
        counts["complaintnote"] = result.rowcount
    result = await session.execute(delete(Complaint).where(Complaint.id.in_(ids)))
    counts["complaint"] = result.rowcount
    return counts
