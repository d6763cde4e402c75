"""Vacancies in the database: their terms, finding the best workers for a vacancy and the best
vacancies for a worker, pushes, applications and hires.

Matching runs in SQL on the terms of ``dialogs/matching.py``, stored one row per term
(``workerterm``, ``vacancyterm``, each indexed by term): a vacancy's terms are joined to the
workers' terms, summed per worker (the job fit; only workers with a fit of at least
``matching.MIN_FIT`` go on), the place terms are summed for those, and the rest of the score and
the priority come from the worker's own columns.  Only the few workers asked for (``limit``)
ever reach Python.

Ranking workers for a vacancy: **priority first** (信息传递优先) — 1 for 建档立卡 or 易地搬迁, 1 more
for a household where nobody has a job yet (一户一人) — then the score: job fit + place + 2 for a
worker looking for work (就近就业/外出务工; 1 when the intent is not known) − 2 when the worker asks
for more than the vacancy pays at most, + 0.5 when it pays at least what they ask.

Ranking vacancies for a worker: the score = job fit + place + 1 for 县内 work (先内后外) + up to 1
for places left (0.05 each, up to 20) + the same pay terms + 1 for a 公益性岗位 the worker may take.

A worker's terms are recomputed when ``worker.updated_at`` differs from their stamp (every
registration, correction and import sets it); :func:`refresh_worker_terms` does that for the
stale ones before a vacancy is matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, insert, literal, or_, select, true
from sqlalchemy.orm import aliased

from dialogs import matching
from dialogs.matching import HAS_JOB, JOB, MIN_FIT, PLACE, Geo
from models.db import insert_new
from models.tables import (
    Application,
    Identity,
    Vacancy,
    VacancyPush,
    VacancyTerm,
    Worker,
    WorkerTerm,
    WorkerTermStamp,
)

SEEKING = ("就近就业", "外出务工")
JOBLESS = "暂无岗位"
PUSH_PER_PLACE, MIN_PUSH, MAX_PUSH = 5, 10, 200
_BATCH = 500


# ----- terms -----------------------------------------------------------------------------------
def _profile_columns() -> tuple:
    return (Worker.id, Worker.updated_at, Worker.skills, Worker.experience, Worker.wanted_job,
            Worker.wanted_place, Worker.intent, Worker.township)


def terms_of_row(row: Any, geo: Geo) -> matching.Terms:
    return matching.worker_terms(skills=row.skills, experience=row.experience,
                                 wanted_job=row.wanted_job, wanted_place=row.wanted_place,
                                 intent=row.intent, township=row.township, geo=geo)


async def refresh_worker_terms(session, geo: Geo, worker_ids: Sequence[int] | None = None) -> int:
    """Recompute the terms of workers whose profile changed since (or who have none yet); only
    among ``worker_ids`` when given.  Returns how many were recomputed."""
    stamp = WorkerTermStamp
    stale = (select(Worker.id)
             .outerjoin(stamp, stamp.worker_id == Worker.id)
             .where(or_(stamp.worker_id.is_(None), stamp.updated_at != Worker.updated_at)))
    if worker_ids is not None:
        if not worker_ids:
            return 0
        stale = stale.where(Worker.id.in_(list(worker_ids)))
    ids = list((await session.execute(stale)).scalars())
    for i in range(0, len(ids), _BATCH):
        chunk = ids[i : i + _BATCH]
        rows = (await session.execute(select(*_profile_columns()).where(Worker.id.in_(chunk)))).all()
        await session.execute(delete(WorkerTerm).where(WorkerTerm.worker_id.in_(chunk)))
        await session.execute(delete(stamp).where(stamp.worker_id.in_(chunk)))
        values = [{"worker_id": row.id, "term": term, "kind": kind, "weight": weight}
                  for row in rows for term, (kind, weight) in terms_of_row(row, geo).items()]
        if values:
            await session.execute(insert(WorkerTerm), values)
        await session.execute(insert(stamp).from_select(
            ["worker_id", "updated_at"],
            select(Worker.id, Worker.updated_at).where(Worker.id.in_(chunk))))
    return len(ids)


async def save_vacancy_terms(session, vacancy: Vacancy, geo: Geo) -> matching.Terms:
    terms = matching.vacancy_terms(title=vacancy.title, requirements=vacancy.requirements,
                                   area=vacancy.area, city=vacancy.city,
                                   township=vacancy.township, geo=geo)
    await session.execute(delete(VacancyTerm).where(VacancyTerm.vacancy_id == vacancy.id))
    await session.execute(insert(VacancyTerm), [
        {"vacancy_id": vacancy.id, "term": term, "kind": kind, "weight": weight}
        for term, (kind, weight) in terms.items()])
    vacancy.terms = [t for t, (kind, _) in terms.items() if kind == JOB]
    session.add(vacancy)
    return terms


# ----- conditions on workers ----------------------------------------------------------------------
def household_has_job() -> Any:
    """Someone in the worker's household (the worker included) has a job; a worker without a
    household counts as a household of one."""
    other = aliased(Worker)
    # Households are small: find the members by household and look at each one's status (a
    # CASE, so that no planner prefers the status index — half the district has a job).
    member_has_job = case((other.status.in_(HAS_JOB), 1), else_=0) == 1
    return or_(Worker.status.in_(HAS_JOB),
               exists().where(other.household_id == Worker.household_id, member_has_job))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def eligible_condition(today: date) -> Any:
    """Who may take a 公益性岗位 (``dialogs.matching.public_welfare_reasons`` in SQL)."""
    return or_(
        Worker.poverty.is_(True), Worker.relocated.is_(True), ~household_has_job(),
        Worker.difficulty.is_not(None), Worker.health == "残疾",
        and_(Worker.gender == "女", Worker.birth_date <= _years_before(today, matching.WOMEN_FROM)),
        and_(Worker.gender == "男", Worker.birth_date <= _years_before(today, matching.MEN_FROM)),
    )


def priority_expr() -> Any:
    poor = case((or_(Worker.poverty.is_(True), Worker.relocated.is_(True)), 1), else_=0)
    zero = case((household_has_job(), 0), else_=1)
    return poor + zero


def available_condition() -> Any:
    """Looking for work: no job, and not saying they do not want one now."""
    return and_(Worker.status == JOBLESS, or_(Worker.intent.is_(None), Worker.intent != "暂不就业"))


def reachable_condition() -> Any:
    return exists().where(Identity.worker_id == Worker.id)


async def eligible(session, worker: Worker, today: date) -> list[str]:
    """Why ``worker`` may take a 公益性岗位 (empty: may not)."""
    has_job = (await session.execute(select(household_has_job()).where(Worker.id == worker.id))
               ).scalar()
    return matching.public_welfare_reasons(
        poverty=worker.poverty, relocated=worker.relocated, household_has_job=bool(has_job),
        difficulty=worker.difficulty, health=worker.health, gender=worker.gender,
        birth_date=worker.birth_date, today=today)


# ----- a vacancy's best workers ---------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    worker_id: int
    priority: int
    score: float
    fit: float
    place: float


def _term_sums(vacancy_id: int, kind: str, among: Any = None) -> Any:
    wt, vt = WorkerTerm, VacancyTerm
    product = func.sum(wt.weight * vt.weight)
    query = (select(wt.worker_id.label("worker_id"), product.label("total"))
             .select_from(vt).join(wt, wt.term == vt.term)
             .where(vt.vacancy_id == vacancy_id, vt.kind == kind)
             .group_by(wt.worker_id))
    if among is not None:
        query = query.where(wt.worker_id.in_(among))
    return query


def _pay_of_workers(pay_min: int | None, pay_max: int | None) -> Any:
    """The pay terms of the score, for a vacancy paying ``pay_min``–``pay_max``."""
    terms: list[Any] = [literal(0.0)]
    if pay_max is not None:
        terms.append(case((Worker.salary_min > pay_max, -2.0), else_=0.0))
    if pay_min is not None:
        terms.append(case((Worker.salary_min <= pay_min, 0.5), else_=0.0))
    return sum(terms[1:], terms[0])


def _pay_of_vacancies(salary_min: int | None) -> Any:
    """The pay terms of the score, for a worker asking at least ``salary_min``."""
    if salary_min is None:
        return literal(0.0)
    return (case((Vacancy.pay_max < salary_min, -2.0), else_=0.0)
            + case((Vacancy.pay_min >= salary_min, 0.5), else_=0.0))


async def candidates_for(
    session, vacancy: Vacancy, *, today: date, limit: int, available_only: bool = True,
    reachable_only: bool = True, exclude_told: bool = True, among: Sequence[int] | None = None,
) -> list[Candidate]:
    """The best workers for ``vacancy``, priority first, then by score.  By default only those
    looking for work, reachable in chat, not told of this vacancy and not applied yet; only
    eligible ones for a 公益性岗位; only among ``among`` when given (the hand-judged set)."""
    sums_q = _term_sums(vacancy.id, JOB).having(func.sum(WorkerTerm.weight * VacancyTerm.weight)
                                                >= MIN_FIT)
    if among is not None:
        sums_q = sums_q.where(WorkerTerm.worker_id.in_(list(among)))
    sums = sums_q.subquery("sums")
    # The cheap conditions on the worker's own row first, so that the place terms are summed
    # only for workers who can be offered the job at all; then each one's place terms are
    # looked up by (worker, term) — the vacancy has two to four — a plan every database keeps.
    fit = (select(sums.c.worker_id, sums.c.total).join(Worker, Worker.id == sums.c.worker_id)
           .where(available_condition() if available_only else true()).cte("fit"))
    pvt, pwt = aliased(VacancyTerm), aliased(WorkerTerm)
    scored = (select(fit.c.worker_id, fit.c.total.label("fit"),
                     func.coalesce(func.sum(pwt.weight * pvt.weight), 0.0).label("place"))
              .select_from(fit)
              .outerjoin(pvt, and_(pvt.vacancy_id == vacancy.id, pvt.kind == PLACE))
              .outerjoin(pwt, and_(pwt.worker_id == fit.c.worker_id, pwt.term == pvt.term))
              .group_by(fit.c.worker_id, fit.c.total)
              .cte("scored"))
    availability = case((Worker.intent.in_(SEEKING), 2.0), else_=1.0)
    pay = _pay_of_workers(vacancy.pay_min, vacancy.pay_max)
    score = (scored.c.fit + scored.c.place + availability + pay).label("score")
    priority = priority_expr().label("priority")
    conditions = [
        scored.c.fit + scored.c.place >= MIN_FIT,  # 省外 work for one who wants to stay: none
        ~exists().where(Application.vacancy_id == vacancy.id, Application.worker_id == Worker.id),
    ]
    if reachable_only:
        conditions.append(reachable_condition())
    if exclude_told:
        conditions.append(~exists().where(VacancyPush.vacancy_id == vacancy.id,
                                          VacancyPush.worker_id == Worker.id))
    if vacancy.public_welfare:
        conditions.append(eligible_condition(today))
    query = (select(Worker.id, priority, score, scored.c.fit, scored.c.place)
             .select_from(scored)
             .join(Worker, Worker.id == scored.c.worker_id)
             .where(*conditions)
             .order_by(priority.desc(), score.desc(), Worker.id)
             .limit(limit))
    rows = (await session.execute(query)).all()
    return [Candidate(int(r[0]), int(r[1]), float(r[2]), float(r[3]), float(r[4])) for r in rows]


def push_count(places: int) -> int:
    """How many workers are told of something with this many places (a vacancy's places left,
    a training course's seats): 5 a place, at least 10, at most 200."""
    return min(MAX_PUSH, max(MIN_PUSH, max(0, places) * PUSH_PER_PLACE))


def push_size(vacancy: Vacancy) -> int:
    """How many workers a new vacancy is pushed to (:func:`push_count` of the places left)."""
    return push_count(vacancy.headcount - vacancy.filled)


async def record_pushes(session, vacancy_id: int, ranked: Sequence[int], at: datetime,
                        first_rank: int = 1) -> set[int]:
    """Record that the vacancy is told to these workers (in this order); returns the ones not
    told before — each worker hears of a vacancy once, even with two pushes racing."""
    rows = [{"vacancy_id": vacancy_id, "worker_id": w, "at": at, "rank": first_rank + i}
            for i, w in enumerate(ranked)]
    return await insert_new(session, VacancyPush, rows, VacancyPush.worker_id)


# ----- a worker's best vacancies ---------------------------------------------------------------------
def open_condition(today: date) -> Any:
    return and_(Vacancy.status == "open", Vacancy.filled < Vacancy.headcount,
                or_(Vacancy.deadline.is_(None), Vacancy.deadline >= today))


async def matches_for_worker(
    session, worker: Worker, *, today: date, limit: int = 5, may_public_welfare: bool,
    among: Sequence[int] | None = None,
) -> list[tuple[Vacancy, float]]:
    """Open vacancies that fit ``worker`` best (not the ones they applied for); only among
    ``among`` when given (the hand-judged test set)."""
    wt, vt = WorkerTerm, VacancyTerm
    sums_q = (select(vt.vacancy_id.label("vacancy_id"), func.sum(wt.weight * vt.weight).label("total"))
              .select_from(wt).join(vt, vt.term == wt.term)
              .where(wt.worker_id == worker.id, wt.kind == JOB)
              .group_by(vt.vacancy_id)
              .having(func.sum(wt.weight * vt.weight) >= MIN_FIT))
    if among is not None:
        sums_q = sums_q.where(vt.vacancy_id.in_(list(among)))
    sums = sums_q.subquery("sums")
    fit = (select(sums.c.vacancy_id, sums.c.total).join(Vacancy, Vacancy.id == sums.c.vacancy_id)
           .where(open_condition(today),
                  true() if may_public_welfare else Vacancy.public_welfare.is_(False))
           .cte("fit"))
    pvt, pwt = aliased(VacancyTerm), aliased(WorkerTerm)
    scored = (select(fit.c.vacancy_id, fit.c.total.label("fit"),
                     func.coalesce(func.sum(pwt.weight * pvt.weight), 0.0).label("place"))
              .select_from(fit)
              .outerjoin(pwt, and_(pwt.worker_id == worker.id, pwt.kind == PLACE))
              .outerjoin(pvt, and_(pvt.vacancy_id == fit.c.vacancy_id, pvt.term == pwt.term))
              .group_by(fit.c.vacancy_id, fit.c.total)
              .cte("scored"))
    left = Vacancy.headcount - Vacancy.filled
    score = (scored.c.fit + scored.c.place
             + case((Vacancy.area == "县内", 1.0), else_=0.0)
             + case((left >= 20, 1.0), else_=left * 0.05)
             + _pay_of_vacancies(worker.salary_min)
             + case((Vacancy.public_welfare.is_(True), 1.0), else_=0.0)).label("score")
    query = (select(Vacancy, score)
             .select_from(scored)
             .join(Vacancy, Vacancy.id == scored.c.vacancy_id)
             .where(scored.c.fit + scored.c.place >= MIN_FIT,
                    ~exists().where(Application.vacancy_id == Vacancy.id,
                                    Application.worker_id == worker.id,
                                    Application.status != "withdrawn"))
             .order_by(score.desc(), Vacancy.id.desc())
             .limit(limit))
    return [(v, float(s)) for v, s in (await session.execute(query)).all()]


async def local_openings(session, worker: Worker, *, today: date, limit: int,
                         may_public_welfare: bool) -> list[Vacancy]:
    """When nothing fits: open vacancies, 县内 first, newest first."""
    query = (select(Vacancy)
             .where(open_condition(today),
                    true() if may_public_welfare else Vacancy.public_welfare.is_(False),
                    ~exists().where(Application.vacancy_id == Vacancy.id,
                                    Application.worker_id == worker.id,
                                    Application.status != "withdrawn"))
             .order_by(case((Vacancy.area == "县内", 0), else_=1), Vacancy.id.desc())
             .limit(limit))
    return list((await session.execute(query)).scalars())


# ----- applications and hires --------------------------------------------------------------------
async def locked_vacancy(session, vacancy_id: int) -> Vacancy | None:
    """The vacancy row, locked until the transaction ends (PostgreSQL; SQLite's write lock is
    already the transaction's)."""
    return (await session.execute(
        select(Vacancy).where(Vacancy.id == vacancy_id).with_for_update()
        .execution_options(populate_existing=True))).scalar()


def closed_reason(vacancy: Vacancy, today: date) -> str | None:
    """Why nobody can apply now, or None."""
    if vacancy.status != "open":
        return "已经停止招聘" if vacancy.filled < vacancy.headcount else "已经招满"
    if vacancy.filled >= vacancy.headcount:
        return "已经招满"
    if vacancy.deadline is not None and vacancy.deadline < today:
        return f"报名已在{vacancy.deadline.month}月{vacancy.deadline.day}日截止"
    return None


async def applicants(session, vacancy_id: int, statuses: Sequence[str] = ("applied", "hired")
                     ) -> list[tuple[Application, Worker]]:
    rows = await session.execute(
        select(Application, Worker).join(Worker, Worker.id == Application.worker_id)
        .where(Application.vacancy_id == vacancy_id, Application.status.in_(list(statuses)))
        .order_by(Application.id))
    return [(a, w) for a, w in rows.all()]


async def application_counts(session, vacancy_ids: Sequence[int]) -> dict[int, int]:
    if not vacancy_ids:
        return {}
    rows = await session.execute(
        select(Application.vacancy_id, func.count())
        .where(Application.vacancy_id.in_(list(vacancy_ids)), Application.status != "withdrawn")
        .group_by(Application.vacancy_id))
    return {int(v): int(n) for v, n in rows.all()}


async def household_employment(session, worker: Worker) -> tuple[int, int]:
    """(members with a job, members registered) of the worker's household."""
    if worker.household_id is None:
        return (1 if worker.status in HAS_JOB else 0), 1
    row = (await session.execute(
        select(func.count(), func.coalesce(func.sum(case((Worker.status.in_(HAS_JOB), 1),
                                                           else_=0)), 0))
        .where(Worker.household_id == worker.household_id))).one()
    return int(row[1]), int(row[0])

