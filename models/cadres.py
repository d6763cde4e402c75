"""Enrolling staff: directly (admin CLI) or by a one-time invite code."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import AuditLog, Cadre, Invite

if TYPE_CHECKING:
    from handlers.context import Context

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


async def add_cadre(
    session: AsyncSession, identity: str, name: str, role: str,
    township: str | None, village: str | None, now: datetime,
) -> Cadre:
    existing = (await session.execute(select(Cadre).where(Cadre.identity == identity))).scalar()
    cadre = existing or Cadre(identity=identity, name=name, role=role, created_at=now)
    cadre.name, cadre.role, cadre.township, cadre.village = name, role, township, village
    cadre.active = True
    session.add(cadre)
    session.add(AuditLog(at=now, actor="cli", action="cadre.add", target=identity,
                         detail=f"{role} {township or ''}{village or ''}"))
    await session.flush()
    return cadre


async def remove_cadre(session: AsyncSession, identity: str, now: datetime) -> str | None:
    """Deactivate (not delete: the audit log keeps naming them); the name, or None if unknown."""
    cadre = (await session.execute(select(Cadre).where(Cadre.identity == identity))).scalar()
    if cadre is None:
        return None
    cadre.active = False
    session.add(cadre)
    session.add(AuditLog(at=now, actor="cli", action="cadre.remove", target=identity))
    return cadre.name


async def list_cadres(session: AsyncSession) -> str:
    from handlers.permissions import ROLES

    cadres = (await session.execute(
        select(Cadre).order_by(Cadre.active.desc(), Cadre.role, Cadre.township, Cadre.village,
                               Cadre.id))).scalars().all()
    if not cadres:
        return "还没有工作人员。用 python -m bot cadre add 添加。"
    lines = []
    for c in cadres:
        area = f"{c.township or ''}{c.village or ''}" or "全区"
        lines.append(f"{c.identity}\t{c.name}\t{ROLES.get(c.role, c.role)}\t{area}"
                     + ("" if c.active else "\t（已停用）"))
    return "\n".join(lines)


async def create_invite(
    session: AsyncSession, name: str, role: str, township: str | None, village: str | None,
    now: datetime,
) -> str:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    session.add(Invite(code=code, name=name, role=role, township=township, village=village,
                       created_at=now))
    session.add(AuditLog(at=now, actor="cli", action="cadre.invite", detail=f"{role} {name}"))
    await session.flush()
    return code


INVITE_VALID = timedelta(days=7)
# Wrong codes one account may try in a day: 8 characters from 31 cannot be guessed in a few
# tries, and a limit keeps it so.
BIND_TRIES_PER_DAY = 5


def _utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; every stored datetime is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def redeem_invite(ctx: Context, code: str) -> str:
    from handlers.permissions import ROLES

    now = ctx.services.clock.utcnow()
    failed = await ctx.session.scalar(
        select(func.count()).select_from(AuditLog).where(
            AuditLog.actor == ctx.identity, AuditLog.action == "cadre.bind_failed",
            AuditLog.at >= now - timedelta(days=1)))
    if (failed or 0) >= BIND_TRIES_PER_DAY:
        return "今天输错邀请码的次数太多了，请明天再试，或请管理员直接添加您。"
    invite = await ctx.session.get(Invite, code)
    if invite is None or invite.used_at is not None:
        ctx.session.add(AuditLog(at=now, actor=ctx.identity, action="cadre.bind_failed"))
        return "这个邀请码不对或已经用过了，请核对后再发一次，或向管理员要一个新的。"
    if now - _utc(invite.created_at) > INVITE_VALID:
        ctx.session.add(AuditLog(at=now, actor=ctx.identity, action="cadre.bind_failed",
                                 detail="expired"))
        return (f"这个邀请码已经过期了（邀请码 {INVITE_VALID.days} 天内有效），"
                "请向管理员要一个新的。")
    cadre = await add_cadre(ctx.session, ctx.identity, invite.name, invite.role,
                            invite.township, invite.village, now)
    invite.used_by, invite.used_at = ctx.identity, now
    ctx.session.add(invite)
    area = f"（{invite.township or ''}{invite.village or ''}）" if invite.township else ""
    return f"绑定成功！{cadre.name}，您现在是{ROLES[cadre.role]}{area}。回复 /帮助 查看可用命令。"


async def void_invite(ctx: Context, code: str) -> bool:
    """Void an unused invite whose code was shown to others (sent in a group); True when there
    was one.  The code is never written to the audit log."""
    invite = await ctx.session.get(Invite, code)
    if invite is None or invite.used_at is not None:
        return False
    now = ctx.services.clock.utcnow()
    invite.used_by, invite.used_at = "void:group", now
    ctx.session.add(invite)
    ctx.session.add(AuditLog(at=now, actor=ctx.identity, action="cadre.invite_void",
                             detail=f"{invite.role} {invite.name}：邀请码发在群里，已作废"))
    return True
