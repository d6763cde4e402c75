"""The scheduled jobs, declared once and run two ways.

Live, an APScheduler ``AsyncIOScheduler`` fires them in the district's time zone.  In the replay
(and in tests) a manual clock moves forward and :meth:`Jobs.advance` runs, in order, every job
whose time falls inside the step — using the same triggers, so both ways agree.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)
JobFunc = Callable[["App", datetime], Awaitable[None]]


@dataclass(frozen=True)
class Job:
    name: str
    at: time | None  # daily at this local time; None with ``every_minutes``
    func: JobFunc
    every_minutes: int | None = None

    def trigger(self, tz: tzinfo) -> CronTrigger:
        if self.at is not None:
            return CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=tz)
        return CronTrigger(minute=f"*/{self.every_minutes}", timezone=tz)


class Jobs:
    def __init__(self, app: App, jobs: list[Job]) -> None:
        self.app = app
        self.jobs = jobs
        self.tz = app.settings.tz
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        """Live mode: let APScheduler fire the jobs."""
        self._scheduler = AsyncIOScheduler(timezone=self.tz)
        for job in self.jobs:
            self._scheduler.add_job(
                self._run, job.trigger(self.tz), args=[job], id=job.name,
                misfire_grace_time=3600, coalesce=True, max_instances=1,
            )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def _run(self, job: Job, when: datetime | None = None) -> None:
        when = when or self.app.clock.now().astimezone(self.tz)
        try:
            await job.func(self.app, when)
        except Exception:
            log.exception("scheduled job %s failed", job.name)
        self.app.services.notify_outbound()

    def due(self, after: datetime, until: datetime) -> list[tuple[datetime, Job]]:
        """Every (fire time, job) with ``after`` < fire time <= ``until``, in time order."""
        found: list[tuple[datetime, Job]] = []
        for job in self.jobs:
            trigger = job.trigger(self.tz)
            cursor = after + timedelta(microseconds=1)
            while True:
                fire = trigger.get_next_fire_time(None, cursor)
                if fire is None or fire > until:
                    break
                found.append((fire, job))
                cursor = fire + timedelta(microseconds=1)
        found.sort(key=lambda item: item[0])
        return found

    async def advance(self, until: datetime) -> None:
        """Replay/test mode: move the manual clock to ``until``, running what falls due."""
        clock = self.app.clock
        start = clock.now()
        for fire, job in self.due(start, until):
            clock.set(fire)  # type: ignore[attr-defined]
            await self._run(job, fire.astimezone(self.tz))
            await self.app.outbound.drain()
        clock.set(until)  # type: ignore[attr-defined]


# Modules with a ``jobs(app) -> list[Job]`` function.
JOB_MODULES: tuple[str, ...] = ("scheduler.checkin_jobs", "scheduler.report",
                               "scheduler.stagger", "scheduler.lagging",
                               "scheduler.departure", "scheduler.batches")


def all_jobs(app: App) -> list[Job]:
    """The district's jobs: each module says which of its jobs this configuration needs."""
    import importlib

    jobs: list[Job] = []
    for name in JOB_MODULES:
        jobs.extend(importlib.import_module(name).jobs(app))
    return jobs
