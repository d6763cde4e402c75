"""Roles and scopes of staff, and the check every command makes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from models.tables import Cadre

if TYPE_CHECKING:
    from handlers.context import Context

ROLES = {
    "district": "区专班",
    "bureau": "区人社局/就业局",
    "township": "乡镇/街道干部",
    "village": "村/社区干部",
}
STAFF = frozenset(ROLES)


async def cadre_of(ctx: Context, identity: str | None = None) -> Cadre | None:
    """The active cadre behind ``identity`` (default: the sender), or None."""
    who = identity or ctx.identity
    return (
        await ctx.session.execute(select(Cadre).where(Cadre.identity == who, Cadre.active))
    ).scalar()


def scope_text(cadre: Cadre) -> str:
    if cadre.role in ("district", "bureau"):
        return "全区"
    if cadre.role == "township":
        return cadre.township or ""
    return f"{cadre.township}{cadre.village}"


def covers(cadre: Cadre, township: str, village: str) -> bool:
    """Whether ``cadre``'s scope includes a worker of ``township``/``village``."""
    if cadre.role in ("district", "bureau"):
        return True
    if cadre.role == "township":
        return cadre.township == township
    if cadre.role == "village":
        return cadre.township == township and cadre.village == village
    return False
