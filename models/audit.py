"""The audit log: who read or changed personal data, and when.

Every cadre action that shows or changes a worker's personal data adds one row, in the same
transaction as the action (so a failed action leaves no row, and a done one always has its row).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.logsafe import redact
from models.tables import AuditLog

DETAIL_MAX = 500


def audit(
    session: AsyncSession, actor: str, action: str, target: str | int = "", detail: str = "",
    at: datetime | None = None,
) -> AuditLog:
    """Add an audit row.  ``actor`` is a chat identity (``qq:10001``) or ``cli``; ``action`` a
    short dotted word (``worker.view``, ``list``, ``export``); ``target`` what it was about.

    ``detail`` often quotes what the cadre typed (``/查 13812345678``): ID numbers and phones in
    it are masked, because the audit log is read by more people than the record itself.
    """
    row = AuditLog(at=at or datetime.now(UTC), actor=actor, action=action, target=str(target),
                   detail=redact(detail)[:DETAIL_MAX])
    session.add(row)
    return row


def audit_ctx(ctx, action: str, target: str | int = "", detail: str = "") -> AuditLog:
    """An audit row for the sender of the message being handled, at the bot's clock."""
    return audit(ctx.session, ctx.identity, action, target, detail,
                 at=ctx.services.clock.utcnow())


async def last_action(session: AsyncSession, actor: str, action: str) -> AuditLog | None:
    """The newest row of ``actor`` doing ``action`` (used for “下一页”)."""
    return (
        await session.execute(
            select(AuditLog)
            .where(AuditLog.actor == actor, AuditLog.action == action)
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())
            .limit(1)
        )
    ).scalar()
