"""Telling a sender how a batch of messages went (a /广播 to hundreds of workers).

At ``SEND_RATE_PER_MIN`` a broadcast goes out over minutes or hours, so the cadre's immediate
answer can only say it is queued.  Every few minutes this job looks at the batches not yet
reported; one whose messages are all settled (sent, failed, or unknown — none pending or being
sent) gets one private message to its owner with the counts, and is marked reported in the same
transaction, so a restart or a second instance never tells twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from handlers.context import Context
from models.tables import OutboxMessage, SendBatch
from scheduler.jobs import Job

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)
EVERY_MINUTES = 10
OPEN = ("pending", "sending")


def outcome_text(batch: SendBatch, counts: dict[str, int], tz) -> str:
    sent, failed, unknown = (counts.get(k, 0) for k in ("sent", "failed", "unknown"))
    when = batch.created_at
    when = when.astimezone(tz) if when.tzinfo else when
    lines = [f"您{when.month}月{when.day}日 {when:%H:%M} 发的{batch.label}已经发完：",
             f"共 {batch.total} 人，发出 {sent} 条。"]
    if failed:
        lines.append(f"{failed} 人没发出去（对方可能删了好友，或账号被限制），请电话或上门通知。")
    if unknown:
        lines.append(f"{unknown} 条不确定对方收到没有（发送时断线），为免重复没有再发。")
    return "\n".join(lines)


async def report_batches(app: App, when: datetime) -> None:
    async with app.db.session() as session:
        batches = list((await session.execute(
            select(SendBatch).where(SendBatch.reported_at.is_(None))
            .order_by(SendBatch.created_at).limit(100))).scalars())
        if not batches:
            return
        rows = (await session.execute(
            select(OutboxMessage.batch, OutboxMessage.status, func.count())
            .where(OutboxMessage.batch.in_([b.key for b in batches]))
            .group_by(OutboxMessage.batch, OutboxMessage.status))).all()
        counts: dict[str, dict[str, int]] = {}
        for key, status, n in rows:
            counts.setdefault(key, {})[status] = n
        ctx = Context(app.services, session)
        done = 0
        for batch in batches:
            mine = counts.get(batch.key, {})
            if any(mine.get(s) for s in OPEN):
                continue
            claimed = await session.execute(  # a second instance must not tell again
                update(SendBatch).where(SendBatch.key == batch.key,
                                        SendBatch.reported_at.is_(None))
                .values(reported_at=app.clock.utcnow()))
            if claimed.rowcount == 1:
                ctx.tell(batch.owner, outcome_text(batch, mine, app.settings.tz))
                done += 1
    if done:
        log.info("send batches: %d reported", done)


def jobs(app: App) -> list[Job]:
    return [Job("send_batch_report", at=None, every_minutes=EVERY_MINUTES, func=report_batches)]
