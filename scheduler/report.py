"""The daily report (日报告) in every task-force group, and the outbound queue's upkeep.

**Exactly once per day per group.**  Posting the report is one database transaction: a
:class:`~models.tables.JobRun` row ``("daily_report", "<day>:<group>")`` is inserted (``ON
CONFLICT DO NOTHING … RETURNING``) together with the report's outbox row and the day's
:class:`~models.tables.TallySnapshot` rows.  The row's primary key is what makes it safe: two
bot processes on one PostgreSQL database both try, the second waits on the first's
uncommitted row and then finds it there; a restart finds it there; a crash before the commit
leaves nothing behind, so the report is still owed.  Once committed, the outbox row is sent by
the outbound queue, which never sends a row twice.

**Never zero times.**  The report is owed for day D once D's ``REPORT_TIME`` has passed.  Besides
the job at ``REPORT_TIME``, the same check runs when the bot starts (``App.on_start``) and every
:data:`CATCH_UP_MINUTES` minutes: a report still owed is posted then, marked 【补发】 when more than
:data:`LATE_AFTER` past its time.  That covers today, and yesterday too when the group had had
reports before (so a new installation, or a new group, does not get a report for a day it was
never part of).  The figures of a late report are those at the time it is posted.

**Villages to watch** (:mod:`scheduler.lagging`): villages below ``LAG_CHECKIN_RATE`` or
``LAG_SURVEY_RATE`` are listed after the townships, neutrally; finding them never holds up the
report (an error leaves the block out).

**Upkeep** (daily at :data:`UPKEEP_TIME`): handled-message ids (``inboundseen``) older than
:data:`INBOUND_SEEN_KEEP` are pruned — platforms redeliver within minutes, not days — and report
charts older than 30 days are deleted.  Outbox rows settled (sent, failed, in doubt) more than
:data:`OUTBOX_KEEP` ago are deleted: their texts hold people's answers and the lists sent to
cadres, and nothing needs them once they are settled.  Recent rows are never changed: one that
may have been sent (``unknown``) is never retried, and ``failed``/``pending`` rows are only
counted in the log for the operator.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from bot.messages import ChatRef
from handlers.context import Context
from models.tables import InboundSeen, JobRun, OutboxMessage
from models.tally import DISTRICT, Tally, compute_tally, load_trend, save_snapshot
from scheduler import lagging
from scheduler.chart import charts_dir, clean_old_charts, render_chart
from scheduler.jobs import Job
from scheduler.report_text import md, report_text

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

JOB = "daily_report"
LATE_AFTER = timedelta(minutes=10)
UPKEEP_TIME = time(3, 30)
INBOUND_SEEN_KEEP = timedelta(days=7)
CHART_KEEP = timedelta(days=30)
OUTBOX_KEEP = timedelta(days=30)
TREND_DAYS = 30
CATCH_UP_MINUTES = 30


def run_key(day: date, group: ChatRef) -> str:
    return f"{day.isoformat()}:{group.key}"


async def claim(session, job: str, key: str, at: datetime) -> bool:
    """Insert the ``JobRun`` row ``(job, key)`` in the caller's transaction; False when it is
    already there (committed by another instance or an earlier run).  On PostgreSQL a
    concurrent, uncommitted claim makes this wait for its outcome."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (insert(JobRun).values(job=job, key=key, started_at=at, finished_at=at)
            .on_conflict_do_nothing(index_elements=["job", "key"])
            .returning(JobRun.key))
    return (await session.execute(stmt)).scalar() is not None


class DailyReport:
    """The report job, its catch-up and what this process already knows is done."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings
        self.tz = app.settings.tz
        self._done: set[str] = set()  # run keys known to be committed (saves the periodic query)

    # ----- when ---------------------------------------------------------------------------------
    def due_at(self, day: date) -> datetime:
        return datetime.combine(day, self.settings.report_time, tzinfo=self.tz)

    def last_due_day(self, now: datetime) -> date:
        """The day of the latest report time at or before ``now``."""
        local = now.astimezone(self.tz)
        return local.date() if local >= self.due_at(local.date()) else local.date() - timedelta(1)

    # ----- jobs ---------------------------------------------------------------------------------
    async def scheduled(self, app: App, when: datetime) -> None:
        """At REPORT_TIME (APScheduler, or the replay's clock)."""
        day = self.last_due_day(when)
        await self.post(day, snapshot_always=True)

    async def catch_up(self, app: App) -> None:
        """At start and every half hour: post any report still owed — today's once its time
        has passed, and yesterday's to groups that had had reports before."""
        if not self.settings.taskforce_groups:
            return
        now = app.clock.now().astimezone(self.tz)
        today = now.date()
        await self.post(today - timedelta(days=1), only_with_history=True)
        if now >= self.due_at(today):
            await self.post(today)

    async def periodic(self, app: App, when: datetime) -> None:
        await self.catch_up(app)

    # ----- posting ------------------------------------------------------------------------------
    async def post(self, day: date, *, only_with_history: bool = False,
                   snapshot_always: bool = False) -> list[ChatRef]:
        """Post ``day``'s report to every task-force group that has not had it; returns the
        groups posted to by this call."""
        app = self.app
        groups = [g for g in self.settings.taskforce_groups if run_key(day, g) not in self._done]
        if not groups and not (snapshot_always and not self.settings.taskforce_groups):
            return []
        now = app.clock.now()
        async with app.db.session() as s:
            if groups:
                keys = [run_key(day, g) for g in groups]
                done = set((await s.execute(select(JobRun.key).where(
                    JobRun.job == JOB, JobRun.key.in_(keys)))).scalars())
                self._done |= done
                groups = [g for g in groups if run_key(day, g) not in done]
                if only_with_history:
                    new = [g for g in groups if not await self._had_reports(s, day, g)]
                    self._done |= {run_key(day, g) for g in new}  # never owed
                    groups = [g for g in groups if g not in new]
                if not groups:
                    return []
            tally = await compute_tally(s, day, tz=self.tz, now=now,
                                        townships=[t.name for t in app.services.townships.all])
            trend = await load_trend(s, day - timedelta(days=1), TREND_DAYS - 1, DISTRICT)
        if not groups:  # no task-force group configured: keep the day's figures for the trend
            async with app.db.session() as s:
                await save_snapshot(s, tally, now)
            return []

        late_from = self.due_at(day) if now - self.due_at(day) > LATE_AFTER else None
        local_now = now.astimezone(self.tz)
        notes = await lagging.report_notes(app, day)  # the villages to watch
        text = report_text(tally, district=self.settings.district_name,
                           target=self.settings.target_date, at=local_now, late_from=late_from,
                           notes=notes)
        chart = await self._chart(tally, trend)

        posted: list[ChatRef] = []
        async with app.db.session() as s:
            ctx = Context(app.services, s)
            for group in groups:
                if await claim(s, JOB, run_key(day, group), now):
                    ctx.send(group, text, file=str(chart) if chart else None)
                    posted.append(group)
                else:
                    log.info("daily report for %s in %s: already posted by another instance",
                             day, group.key)
            if posted:
                await save_snapshot(s, tally, now)
        self._done |= {run_key(day, g) for g in groups}
        if chart and not posted:
            chart.unlink(missing_ok=True)  # another instance posted it
        for group in posted:
            log.info("daily report for %s posted to %s%s", day, group.key,
                     " (late)" if late_from else "")
        if posted:
            app.services.notify_outbound()
        return posted

    async def _had_reports(self, session, day: date, group: ChatRef) -> bool:
        """Whether ``group`` had a report for a day before ``day``."""
        found = await session.execute(
            select(JobRun.key).where(JobRun.job == JOB, JobRun.key < day.isoformat(),
                                     JobRun.key.endswith(f":{group.key}", autoescape=True))
            .limit(1))
        return found.first() is not None

    async def _chart(self, tally: Tally, trend) -> Path | None:
        try:
            folder = charts_dir(self.settings)
            return await asyncio.to_thread(
                render_chart, tally, trend, folder,
                title=f"{self.settings.district_name}返岗就业日报 {md(tally.day)}",
                target_date=self.settings.target_date)
        except Exception:  # the text matters more than the picture
            log.exception("drawing the daily report's chart failed; posting the text alone")
            return None


async def upkeep(app: App, when: datetime) -> None:
    """Prune old handled-message ids, old settled outbox rows and old charts; count (never
    touch) unsettled outbox rows."""
    now = app.clock.utcnow()
    async with app.db.session() as s:
        pruned = (await s.execute(delete(InboundSeen).where(
            InboundSeen.seen_at < now - INBOUND_SEEN_KEEP))).rowcount or 0
        old_sent = (await s.execute(delete(OutboxMessage).where(
            OutboxMessage.status.in_(("sent", "failed", "unknown")),
            OutboxMessage.created_at < now - OUTBOX_KEEP))).rowcount or 0
        counts = dict((await s.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_(("pending", "unknown", "failed")),
                   OutboxMessage.created_at >= now - timedelta(days=1))
            .group_by(OutboxMessage.status))).all())
    # file times are the real clock's (the replay's clock may be anywhere)
    charts = clean_old_charts(charts_dir(app.settings, create=False), datetime.now(UTC),
                              CHART_KEEP)
    log.info("upkeep: %d handled-message ids, %d old sent messages and %d charts pruned; outbox "
             "in the last day: %d pending, %d unknown (not resent), %d failed", pruned, old_sent,
             charts,
             counts.get("pending", 0), counts.get("unknown", 0), counts.get("failed", 0))


def jobs(app: App) -> list[Job]:
    report = DailyReport(app)
    hooks = getattr(app, "on_start", None)
    if hooks is not None:
        hooks.append(report.catch_up)
    app.daily_report = report  # type: ignore[attr-defined]  # for tests and the CLI
    return [
        Job(JOB, at=app.settings.report_time, func=report.scheduled),
        Job("daily_report_catch_up", at=None, every_minutes=CATCH_UP_MINUTES, func=report.periodic),
        Job("outbound_upkeep", at=UPKEEP_TIME, func=upkeep),
    ]
