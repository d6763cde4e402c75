"""Quick ways to put people in the database for tests that are not about registration."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from models.tables import Cadre, Household, Identity, Worker
from tests.ids import make_id

NOW = datetime(2024, 2, 3, 1, 0, tzinfo=UTC)
_ids = iter(range(100_000, 999_999))


async def add_worker(
    session, identity: str | None = None, *, name: str = "王小明", township: str = "青岩镇",
    village: str = "歪脚村", head: str | None = None, **fields: Any,
) -> Worker:
    """A registered worker (with a household, and linked to ``identity`` if given)."""
    from sqlalchemy import select

    head = head or name
    household = (await session.execute(select(Household).where(
        Household.township == township, Household.village == village,
        Household.head_name == head))).scalar()
    if household is None:
        household = Household(township=township, village=village, head_name=head,
                              created_at=NOW)
        session.add(household)
        await session.flush()
    n = next(_ids)
    values: dict[str, Any] = {
        "name": name, "id_number": make_id(birth=(date(1960, 1, 1) + timedelta(days=n % 20000))
                                           .strftime("%Y%m%d"), seq=f"{n % 1000:03d}"),
        "phone": f"13800{n:06d}",
        "gender": "男", "birth_date": date(1990, 1, 1), "township": township,
        "village": village, "household_id": household.id, "status": "暂无岗位",
        "registered_at": NOW, "updated_at": NOW, "symptoms": [],
    }
    values.update(fields)
    worker = Worker(**values)
    session.add(worker)
    await session.flush()
    if identity:
        session.add(Identity(identity=identity, worker_id=worker.id, display_name=name,
                             first_seen=NOW, last_seen=NOW))
        await session.flush()
    return worker


async def add_cadre(session, identity: str, role: str, township: str | None = None,
                    village: str | None = None, name: str = "李书记") -> Cadre:
    cadre = Cadre(identity=identity, name=name, role=role, township=township, village=village,
                  created_at=NOW)
    session.add(cadre)
    await session.flush()
    return cadre
