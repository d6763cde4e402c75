"""The one outbound queue: every message is persisted first, then sent, paced per account.

Handlers never call a transport.  They add :class:`OutboxMessage` rows in the same database
transaction as the state change that caused them (see ``handlers.context``), so a reply exists
exactly when the answer that caused it was stored.  The dispatcher here claims pending rows one
at a time (``UPDATE … WHERE status='pending'``, safe with several instances), sends them and
records the outcome.  A row that was being sent when the process died is marked ``unknown`` and
never sent again: the platform may already have shown it, and a doubled message is what gets an
account flagged.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque

from sqlalchemy import select, update

from bot.clock import Clock
from bot.messages import ChatRef, Outbound
from bot.transports.base import Transport
from models.db import Database
from models.tables import OutboxMessage

log = logging.getLogger(__name__)


class Pacer:
    """Sliding-window pacing: at most ``per_min`` sends per account in any 60 s, and at least
    ``chat_gap`` seconds between two messages to the same chat, with a little random jitter so
    that the rhythm does not look machine-made."""

    def __init__(self, per_min: int, chat_gap: float = 1.0, jitter: float = 0.3) -> None:
        self.per_min = max(1, per_min)
        self.chat_gap = chat_gap
        self.jitter = jitter
        self._sent: dict[str, deque[float]] = {}
        self._last_chat: dict[str, float] = {}

    def delay(self, account: str, chat: str, now: float) -> float:
        """Seconds to wait before a message to ``chat`` on ``account`` may go."""
        window = self._sent.setdefault(account, deque())
        while window and now - window[0] >= 60.0:
            window.popleft()
        wait = 0.0
        if len(window) >= self.per_min:
            wait = 60.0 - (now - window[0])
        last = self._last_chat.get(chat)
        if last is not None:
            wait = max(wait, self.chat_gap - (now - last))
        if wait > 0:
            wait += random.uniform(0, self.jitter)
        return max(0.0, wait)

    def record(self, account: str, chat: str, now: float) -> None:
        self._sent.setdefault(account, deque()).append(now)
        self._last_chat[chat] = now


class OutboundQueue:
    def __init__(
        self,
        db: Database,
        transports: dict[str, Transport],
        clock: Clock,
        rate_per_min: int = 20,
        chat_gap: float = 1.0,
    ) -> None:
        self.db = db
        self.transports = transports  # by platform
        self.clock = clock
        self.pacer = Pacer(rate_per_min, chat_gap)
        self._wake: dict[str, asyncio.Event] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def recover(self) -> int:
        """After a crash: rows left in ``sending`` may have gone out; never resend them."""
        async with self.db.session() as s:
            result = await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending")
                .values(status="unknown", error="interrupted while sending")
            )
            count = result.rowcount or 0
        if count:
            log.warning("%d outbound message(s) were interrupted while sending; not resent", count)
        return count

    def notify(self, platform: str | None = None) -> None:
        for name in [platform] if platform else list(self.transports):
            self._event(name).set()

    def start(self) -> None:
        """Live mode: one sending lane per platform."""
        for platform in self.transports:
            if platform not in self._tasks:
                self._tasks[platform] = asyncio.create_task(
                    self._run(platform), name=f"outbound-{platform}"
                )

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks.clear()

    def _event(self, platform: str) -> asyncio.Event:
        return self._wake.setdefault(platform, asyncio.Event())

    def _lock(self, platform: str) -> asyncio.Lock:
        return self._locks.setdefault(platform, asyncio.Lock())

    async def _run(self, platform: str) -> None:
        wake = self._event(platform)
        while True:
            wake.clear()  # before looking, so a notify during the look is not lost
            try:
                sent_any = await self.dispatch(platform)
            except Exception:  # keep the lane alive whatever happens
                log.exception("outbound dispatch for %s failed", platform)
                sent_any = False
            if not sent_any:
                try:
                    await asyncio.wait_for(wake.wait(), timeout=5.0)
                except TimeoutError:
                    pass

    async def dispatch(self, platform: str, limit: int = 100_000) -> bool:
        """Send this platform's pending messages in order, paced if its transport needs it.
        Returns True if anything was handled."""
        async with self._lock(platform):
            handled = False
            for _ in range(limit):
                async with self.db.session() as s:
                    row = (
                        await s.execute(
                            select(OutboxMessage)
                            .where(OutboxMessage.status == "pending",
                                   OutboxMessage.platform == platform)
                            .order_by(OutboxMessage.id)
                            .limit(1)
                        )
                    ).scalar_one_or_none()
                if row is None:
                    return handled
                await self._send_one(row)
                handled = True
            return handled

    async def drain(self, platforms: list[str] | None = None) -> None:
        """Send everything pending now (replay, simulator, tests).  Paced transports still
        wait as the pacer says; the simulator and the replay are not paced."""
        for platform in platforms or list(self.transports):
            await self.dispatch(platform)
        # Messages for a platform with no transport can never go: record that.
        async with self.db.session() as s:
            await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "pending",
                       OutboxMessage.platform.not_in(list(self.transports) or [""]))
                .values(status="failed", error="no transport for this platform")
            )

    async def _send_one(self, row: OutboxMessage) -> None:
        chat = ChatRef.parse(row.chat)
        transport = self.transports.get(chat.platform)
        if transport is None:
            await self._finish(row.id, "failed", error=f"no transport for {chat.platform}")
            return
        if transport.paced:
            account = row.account or transport.account
            wait = self.pacer.delay(account, row.chat, time.monotonic())
            if wait > 0:
                await asyncio.sleep(wait)
        async with self.db.session() as s:
            claimed = await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.status == "pending")
                .values(status="sending", attempts=OutboxMessage.attempts + 1)
            )
            if not claimed.rowcount:
                return  # another instance took it
        message = Outbound(
            chat=chat,
            text=row.text,
            mentions=tuple(row.mentions or ()),
            mention_all=row.mention_all,
            file=row.file,
            account=row.account,
        )
        try:
            result = await transport.send(message)
        except Exception as exc:  # a transport must not raise; if it does, outcome unknown
            log.exception("transport %s raised while sending", chat.platform)
            await self._finish(row.id, "unknown", error=f"{type(exc).__name__}")
            return
        if transport.paced:
            self.pacer.record(row.account or transport.account, row.chat, time.monotonic())
        if result.delivered:
            await self._finish(row.id, "sent", platform_id=result.platform_message_id)
        elif result.maybe_sent:
            await self._finish(row.id, "unknown", error=result.error or "no confirmation")
        else:
            await self._finish(row.id, "failed", error=result.error or "refused")

    async def _finish(
        self, row_id: int | None, status: str, error: str | None = None,
        platform_id: str | None = None,
    ) -> None:
        async with self.db.session() as s:
            await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    status=status,
                    error=error,
                    platform_message_id=platform_id,
                    sent_at=self.clock.utcnow() if status == "sent" else None,
                )
            )
