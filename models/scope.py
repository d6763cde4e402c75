"""What part of the district a cadre answers for, as SQL conditions on workers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, true

from models.tables import Cadre, Worker


def worker_scope(cadre: Cadre | None) -> Any:
    """A WHERE condition selecting the workers ``cadre`` may see (nothing for None)."""
    if cadre is None or not cadre.active:
        return false()
    if cadre.role in ("district", "bureau"):
        return true()
    if cadre.role == "township":
        return Worker.township == cadre.township
    if cadre.role == "village":
        return and_(Worker.township == cadre.township, Worker.village == cadre.village)
    return false()


def area_scope(township: str | None = None, village: str | None = None) -> Any:
    """A WHERE condition for an area named in a command (全区 when both are None)."""
    if township is None:
        return true()
    if village is None:
        return Worker.township == township
    return and_(Worker.township == township, Worker.village == village)
