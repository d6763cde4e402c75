"""Skills training (技能培训) in the database: whom a course is for, the workers whose profile fits
its trade, who was told, sign-ups within the seats, and what a worker has taken.

**Fit** uses the matching terms of ``dialogs/matching.py``: the course's trade read as a title
(:func:`dialogs.matching.title_terms`: 电焊培训 → 焊工 and its family) is looked up in the
workers' job terms (``workerterm``, indexed by term) and summed per worker, as a vacancy's title
is; a fit of at least ``matching.MIN_FIT`` counts — a wanted job (期望工种), a skill (技能特长) or
past work (务工经历) that names the trade, or a neighbouring job of a family whose work transfers
(钢筋工 for a 泥瓦工 course; never between licences).  Place does not count (the course is where
it is), nor does ``入门``: a course is for those who named its trade.  The told are ranked as a
vacancy's push: priority first (建档立卡, 易地搬迁, households with nobody employed:
``models.vacancies.priority_expr``), then the fit.

**Seats**: :func:`take_seat` counts the sign-ups holding a seat while the caller holds the
course row's lock (:func:`locked_training`: ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
message's transaction already holds the database's write lock), and only then inserts — two
workers answering at the same moment never take more seats than there are.  Nothing but the
sign-up rows counts seats, so a withdrawal or an erasure (注销) frees a seat by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import UniqueConstraint, and_, case, exists, func, select, true
from sqlmodel import Field, SQLModel

from dialogs import matching
from models import vacancies as vq
from models.db import insert_new
from models.tables import Worker, WorkerTerm

SIGNED, WITHDRAWN, COMPLETED = "signed", "withdrawn", "completed"
HOLDING = (SIGNED, COMPLETED)  # sign-ups that hold a seat
STATUS_TEXT = {SIGNED: "已报名", WITHDRAWN: "已取消", COMPLETED: "已结业"}


# ----- the tables (revision 0003_training) ---------------------------------------------------------
class Training(SQLModel, table=True):
    """A skills-training course; its ``id`` is the number workers quote (培训报名 3).

    Seats are not counted here: the sign-ups are (:func:`take_seat` counts them under the row's
    lock), so a withdrawal or an erasure frees a seat without anything to keep in step."""

    id: int | None = Field(default=None, primary_key=True)
    trade: str  # 培训工种: 电焊, 叉车, 家政…
    place: str
    starts_on: date
    ends_on: date
    seats: int
    subsidy: str  # 补贴; "无" when there is none
    contact: str | None = None
    township: str | None = None  # a township's or a village's own course; None: the whole district
    village: str | None = None
    status: str = Field(default="open", index=True)  # open / closed (no more sign-ups)
    posted_by: int | None = Field(default=None, foreign_key="cadre.id")
    created_at: datetime
    updated_at: datetime


class TrainingSignup(SQLModel, table=True):
    """A worker's 培训报名, and later their 结业 (erased with the worker on 注销)."""

    __table_args__ = (UniqueConstraint("training_id", "worker_id"),)

    id: int | None = Field(default=None, primary_key=True)
    training_id: int = Field(foreign_key="training.id", index=True)
    worker_id: int = Field(foreign_key="worker.id", index=True)
    status: str = "signed"  # signed / withdrawn / completed
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None


class TrainingPush(SQLModel, table=True):
    """A course told to a worker: never twice."""

    training_id: int = Field(primary_key=True, foreign_key="training.id")
    worker_id: int = Field(primary_key=True, foreign_key="worker.id")
    at: datetime


# ----- whom a course is for ------------------------------------------------------------------------
def audience_condition(training: Training) -> Any:
    """The workers a course is for: its township's or village's, or everyone's."""
    if training.township is None:
        return true()
    if training.village is None:
        return Worker.township == training.township
    return and_(Worker.township == training.township, Worker.village == training.village)


def for_worker(training: Training, worker: Worker) -> bool:
    return ((training.township is None or worker.township == training.township)
            and (training.village is None or worker.village == training.village))


def audience_text(training: Training) -> str:
    if training.township is None:
        return "全区"
    return f"{training.township}{training.village or ''}"


def open_condition(today: date) -> Any:
    """Courses taking sign-ups: open, and not begun before today (the first day still counts)."""
    return and_(Training.status == "open", Training.starts_on >= today)


def closed_reason(training: Training, today: date) -> str | None:
    """Why nobody can sign up now, seats aside (:func:`take_seat` sees to those), or None."""
    if training.status != "open":
        return "已经停止报名"
    if training.starts_on < today:
        return f"已经在{training.starts_on.month}月{training.starts_on.day}日开班了"
    return None


# ----- the workers a course fits ---------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    worker_id: int
    priority: int
    fit: float


def _fit_of(terms: matching.Terms) -> Any:
    """A worker's fit with these job terms: their term weights times the course's, summed."""
    weight = case({term: w for term, (_, w) in terms.items()}, value=WorkerTerm.term, else_=0.0)
    return func.sum(WorkerTerm.weight * weight)


async def candidates(session, training: Training, *, limit: int) -> list[Candidate]:
    """The workers to tell of ``training``, best first: the course is for them, their job terms
    fit its trade, they are looking for work (as for a vacancy's push: no job, not 暂不就业),
    reachable in chat, not told of it and not signed up yet.  The caller refreshes stale worker
    terms first (``models.vacancies.refresh_worker_terms``)."""
    terms = matching.title_terms(training.trade)
    if not terms or limit <= 0:
        return []
    total = _fit_of(terms)
    fits = (select(WorkerTerm.worker_id.label("worker_id"), total.label("fit"))
            .where(WorkerTerm.term.in_(list(terms)), WorkerTerm.kind == matching.JOB)
            .group_by(WorkerTerm.worker_id)
            .having(total >= matching.MIN_FIT)
            .subquery("fits"))
    priority = vq.priority_expr().label("priority")
    query = (select(Worker.id, priority, fits.c.fit)
             .select_from(fits).join(Worker, Worker.id == fits.c.worker_id)
             .where(audience_condition(training), vq.available_condition(),
                    vq.reachable_condition(),
                    ~exists().where(TrainingPush.training_id == training.id,
                                    TrainingPush.worker_id == Worker.id),
                    ~exists().where(TrainingSignup.training_id == training.id,
                                    TrainingSignup.worker_id == Worker.id))
             .order_by(priority.desc(), fits.c.fit.desc(), Worker.id)
             .limit(limit))
    rows = (await session.execute(query)).all()
    return [Candidate(int(r[0]), int(r[1]), float(r[2])) for r in rows]


def fit_for(worker_terms: matching.Terms, training: Training) -> float:
    """How well a worker's terms fit a course (0: not at all), as :func:`candidates` sums it."""
    return matching.fit(worker_terms, matching.title_terms(training.trade))[0]


async def record_pushes(session, training_id: int, worker_ids: Sequence[int], at: datetime
                        ) -> set[int]:
    """Record that the course is told to these workers; returns the ones not told before —
    nobody hears of the same course twice, even with two pushes racing."""
    rows = [{"training_id": training_id, "worker_id": w, "at": at} for w in worker_ids]
    return await insert_new(session, TrainingPush, rows, TrainingPush.worker_id)


# ----- seats and sign-ups --------------------------------------------------------------------------
async def locked_training(session, training_id: int) -> Training | None:
    """The course row, locked until the transaction ends (PostgreSQL; SQLite's write lock is
    already the transaction's)."""
    return (await session.execute(
        select(Training).where(Training.id == training_id).with_for_update()
        .execution_options(populate_existing=True))).scalar()


async def taken_counts(session, training_ids: Sequence[int]) -> dict[int, int]:
    """Seats taken (signed up or completed) of each course."""
    if not training_ids:
        return {}
    rows = await session.execute(
        select(TrainingSignup.training_id, func.count())
        .where(TrainingSignup.training_id.in_(list(training_ids)),
               TrainingSignup.status.in_(HOLDING))
        .group_by(TrainingSignup.training_id))
    return {int(t): int(n) for t, n in rows.all()}


async def taken(session, training_id: int) -> int:
    return (await taken_counts(session, [training_id])).get(training_id, 0)


async def signup_of(session, training_id: int, worker_id: int) -> TrainingSignup | None:
    return (await session.execute(select(TrainingSignup).where(
        TrainingSignup.training_id == training_id, TrainingSignup.worker_id == worker_id))).scalar()


async def take_seat(session, training: Training, worker_id: int, now: datetime,
                    signup: TrainingSignup | None = None) -> TrainingSignup | None:
    """Sign the worker up (again, with their withdrawn ``signup``) if a seat is left; None when
    the course is full.  The caller holds the course's lock (:func:`locked_training`)."""
    if await taken(session, training.id) >= training.seats:  # type: ignore[arg-type]
        return None
    if signup is None:
        signup = TrainingSignup(training_id=training.id, worker_id=worker_id, created_at=now,  # type: ignore[arg-type]
                                updated_at=now)
    signup.status, signup.created_at, signup.updated_at = SIGNED, now, now
    session.add(signup)
    await session.flush()
    return signup


async def trainees(session, training_id: int, statuses: Sequence[str] = HOLDING
                   ) -> list[tuple[TrainingSignup, Worker]]:
    rows = await session.execute(
        select(TrainingSignup, Worker).join(Worker, Worker.id == TrainingSignup.worker_id)
        .where(TrainingSignup.training_id == training_id, TrainingSignup.status.in_(list(statuses)))
        .order_by(TrainingSignup.created_at, TrainingSignup.id))
    return [(s, w) for s, w in rows.all()]


# ----- completion and what a worker has taken --------------------------------------------------------
def skills_with(skills: str | None, trade: str) -> str:
    """The worker's 技能特长 with a completed course's trade added once: “电焊（培训结业）”."""
    note = f"{trade}（培训结业）"
    if not skills:
        return note
    return skills if note in skills else f"{skills}；{note}"


def complete(signup: TrainingSignup, worker: Worker, training: Training, now: datetime) -> None:
    """Record that the worker completed the course: on the sign-up, and on the worker's skills
    (so that vacancy matching and the roster export see the new skill)."""
    signup.status, signup.completed_at, signup.updated_at = COMPLETED, now, now
    worker.skills = skills_with(worker.skills, training.trade)
    worker.updated_at = now  # the matching terms are recomputed from the new skills


async def courses_of(session, worker_id: int) -> list[tuple[TrainingSignup, Training]]:
    """The worker's sign-ups (not the withdrawn ones), newest first."""
    rows = await session.execute(
        select(TrainingSignup, Training).join(Training, Training.id == TrainingSignup.training_id)
        .where(TrainingSignup.worker_id == worker_id, TrainingSignup.status.in_(HOLDING))
        .order_by(Training.starts_on.desc(), Training.id.desc()))
    return [(s, t) for s, t in rows.all()]


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


async def courses_text(session, worker_id: int, tz) -> str | None:
    """One line of the worker's courses for /查 and 我的信息 — “电焊 3月10日结业；家政 已报名，
    3月5日开班” — or None."""
    parts = []
    for signup, t in await courses_of(session, worker_id):
        if signup.status == COMPLETED and signup.completed_at is not None:
            parts.append(f"{t.trade} {_day(signup.completed_at.astimezone(tz).date())}结业")
        else:
            parts.append(f"{t.trade} 已报名，{_day(t.starts_on)}开班")
    return "；".join(parts) or None
