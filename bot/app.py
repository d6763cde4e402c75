"""The running bot: database, router, outbound queue, transports and scheduler, wired once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.messages import Inbound
from bot.outbound import OutboundQueue
from bot.transports.base import PlatformEvent, Transport
from dialogs.catalog import all_dialogs
from dialogs.engine import DialogEngine
from dialogs.parsing.places import TownshipDirectory
from handlers.router import Router
from models.db import Database
from scheduler.jobs import Jobs, all_jobs

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What handlers may use besides their database session."""

    settings: Settings
    clock: Clock
    db: Database
    townships: TownshipDirectory
    notify_outbound: Callable[[], None] = field(default=lambda: None)
    engine: Any = None  # the DialogEngine, set by App


class App:
    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        transports: list[Transport] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.db = Database(settings.database_url)
        self.transports: dict[str, Transport] = {}
        for transport in transports or []:
            self.add_transport(transport)
        self.outbound = OutboundQueue(self.db, self.transports, self.clock,
                                      settings.send_rate_per_min, settings.send_chat_gap)
        self.services = Services(
            settings=settings,
            clock=self.clock,
            db=self.db,
            townships=TownshipDirectory.from_csv(settings.townships_csv),
            notify_outbound=self.outbound.notify,
        )
        self.engine = DialogEngine(all_dialogs())
        self.services.engine = self.engine
        self.router = Router(self.services, self.engine)
        # Run once at every start, after the transports (job modules add theirs, e.g. the
        # daily report missed while the bot was down).
        self.on_start: list[Callable[[App], Awaitable[None]]] = []
        self.jobs = Jobs(self, all_jobs(self))
        self._running: list[Transport] = []

    def add_transport(self, transport: Transport) -> None:
        if transport.platform in self.transports:
            raise ValueError(f"two transports for platform {transport.platform!r}")
        self.transports[transport.platform] = transport

    async def prepare(self) -> None:
        """Schema up to date, interrupted sends settled; no connections yet."""
        await self.db.migrate()
        await self.outbound.recover()

    async def start(self, live: bool = True) -> None:
        """Start everything.  ``live``: the outbound queue and scheduler run on their own
        (the replay drives both itself)."""
        await self.prepare()
        for transport in self.transports.values():
            await transport.start(self.handle, self.on_event)
            self._running.append(transport)
            log.info("transport %s (%s) started", transport.platform, transport.account or "-")
        for hook in self.on_start:
            try:
                await hook(self)
            except Exception:
                log.exception("start-up hook %s failed", getattr(hook, "__qualname__", hook))
        if live:
            self.outbound.start()
            self.outbound.notify()
            self.jobs.start()

    async def handle(self, msg: Inbound) -> bool:
        """Handle one message; False when it was a duplicate delivery (already handled)."""
        return await self.router.handle(msg)

    async def on_event(self, event: PlatformEvent) -> None:
        await self.router.on_event(event)

    async def stop(self) -> None:
        """Stop taking messages (transports finish what they are handling), then stop
        sending; whatever is still queued stays in the database for the next start."""
        self.jobs.stop()
        for transport in reversed(self._running):
            try:
                await transport.stop()
            except Exception:
                log.exception("stopping transport %s failed", transport.platform)
        self._running.clear()
        await self.outbound.stop()
        await self.db.close()
