"""Saving and finding workers."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from models.tables import DialogState, Household, Identity, Worker

if TYPE_CHECKING:
    from handlers.context import Context


async def find_worker(
    ctx: Context, id_number: str | None, phone: str | None, name: str | None = None
) -> Worker | None:
    """The worker already registered with this ID number, or else with this phone *and name*.

    A phone alone is not enough: family members often share one phone, and matching on it
    would let a husband's registration overwrite his wife's.  Same name and phone with a
    different ID number is the same person correcting a mistyped ID."""
    s = ctx.session
    if id_number:
        found = (await s.execute(select(Worker).where(Worker.id_number == id_number))).scalar()
        if found:
            return found
    if phone and name:
        return (
            await s.execute(
                select(Worker).where(Worker.phone == phone, Worker.name == name).order_by(Worker.id)
            )
        ).scalars().first()
    return None


async def household_for(ctx: Context, township: str, village: str, head: str) -> Household:
    s = ctx.session
    found = (
        await s.execute(
            select(Household).where(
                Household.township == township,
                Household.village == village,
                Household.head_name == head,
            )
        )
    ).scalar()
    if found:
        return found
    household = Household(
        township=township, village=village, head_name=head, created_at=ctx.services.clock.utcnow()
    )
    s.add(household)
    await s.flush()
    return household


async def link_identity(ctx: Context, identity: str, worker_id: int, name: str = "") -> None:
    now = ctx.services.clock.utcnow()
    row = await ctx.session.get(Identity, identity)
    if row is None:
        row = Identity(identity=identity, display_name=name, first_seen=now, last_seen=now)
    row.worker_id = worker_id
    row.last_seen = now
    ctx.session.add(row)


async def worker_of(ctx: Context, identity: str) -> Worker | None:
    row = await ctx.session.get(Identity, identity)
    if row is None or row.worker_id is None:
        return None
    return await ctx.session.get(Worker, row.worker_id)


def head_is_self(answers: dict[str, Any]) -> bool:
    return answers.get("head_name") in ("本人", answers.get("name"))


def _fields(answers: dict[str, Any]) -> dict[str, Any]:
    from dialogs.parsing.idcard import parse_id_number

    card = parse_id_number(answers["id_number"], date.today())
    symptoms = [s for s in answers.get("symptoms") or [] if s != "无"]
    categories = answers.get("category") or []
    salary = answers.get("wanted_salary") or [None, None]
    return_date = answers.get("return_date")
    return {
        "name": answers["name"],
        "id_number": card.number,
        "gender": card.gender,
        "birth_date": card.birth,
        "phone": answers["phone"],
        "township": answers["township"],
        "village": answers["village"],
        "group_name": answers.get("group"),
        "relation": "本人" if head_is_self(answers) else answers.get("relation"),
        "poverty": "建档立卡贫困劳动力" in categories,
        "relocated": "易地扶贫搬迁劳动力" in categories,
        "health": answers.get("health"),
        "symptoms": symptoms,
        "difficulty": None if answers.get("difficulty") in (None, "无") else answers["difficulty"],
        "skills": answers.get("skills"),
        "experience": answers.get("experience"),
        "status": answers["status"],
        "work_area": answers.get("work_area"),
        "work_city": answers.get("work_city"),
        "employer": answers.get("employer"),
        "return_date": date.fromisoformat(return_date) if return_date else None,
        "return_mode": answers.get("return_mode"),
        "intent": answers.get("intent"),
        "wanted_job": answers.get("wanted_job"),
        "wanted_place": answers.get("wanted_place"),
        "salary_min": salary[0],
        "salary_max": salary[1],
    }


async def save_registration(
    ctx: Context, answers: dict[str, Any], state: DialogState
) -> tuple[Worker, bool]:
    """Insert or update the worker; returns (worker, created)."""
    now = ctx.services.clock.utcnow()
    fields = _fields(answers)
    head = answers["name"] if head_is_self(answers) else answers["head_name"]
    household = await household_for(ctx, fields["township"], fields["village"], head)
    fields["household_id"] = household.id
    worker = await find_worker(ctx, fields["id_number"], fields["phone"], fields["name"])
    created = worker is None
    if worker is None:
        worker = Worker(**fields, registered_at=now, updated_at=now, consent_at=now)
    else:
        for key, value in fields.items():
            setattr(worker, key, value)
        worker.updated_at = now
    if state.data.get("cadre_id"):
        worker.entered_by = state.data["cadre_id"]
    ctx.session.add(worker)
    await ctx.session.flush()
    if not state.data.get("cadre_id"):
        name = ctx.inbound.sender_name if ctx.inbound else ""
        await link_identity(ctx, state.identity, worker.id, name)  # type: ignore[arg-type]
    return worker, created


async def contact_of(session, worker_id: int) -> str | None:
    """The chat identity (``platform:id``) to reach a worker: the one they used last."""
    return (
        await session.execute(
            select(Identity.identity)
            .where(Identity.worker_id == worker_id)
            .order_by(Identity.last_seen.desc())
            .limit(1)
        )
    ).scalar()


async def cadres_covering(session, worker: Worker) -> list:
    """Active cadres whose scope includes ``worker`` (village first, then township, district)."""
    from sqlalchemy import and_, or_

    from models.tables import Cadre

    rows = (
        await session.execute(
            select(Cadre).where(
                Cadre.active,
                or_(
                    Cadre.role == "district",
                    and_(Cadre.role == "township", Cadre.township == worker.township),
                    and_(Cadre.role == "village", Cadre.township == worker.township,
                         Cadre.village == worker.village),
                ),
            )
        )
    ).scalars().all()
    order = {"village": 0, "township": 1, "district": 2}
    return sorted(rows, key=lambda c: order.get(c.role, 3))
