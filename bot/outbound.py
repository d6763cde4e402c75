"""The one outbound queue: every message is persisted first, then sent, paced per account.

Handlers never call a transport.  They add :class:`OutboxMessage` rows in the same database
transaction as the state change that caused them (see ``handlers.context``), so a reply exists
exactly when the answer that caused it was stored.  The dispatcher here claims pending rows one
at a time (``UPDATE … WHERE status='pending'``, safe with several instances), sends them and
records the outcome.  Replies and alerts (``priority`` 0) go before bulk sends (1: check-in
prompts, pushes, broadcasts), oldest first within each, and a later message never overtakes an
earlier one to the same chat: a reply to someone whose prompt is still queued goes right after
that prompt, not hours later behind the rest of the prompts, and not before it.

A row that was being sent when the process died is marked ``unknown`` and never sent again:
the platform may already have shown it, and a doubled message is what gets an account flagged.
A send that certainly did not go out (refused) is tried again later, a few times, then recorded
as ``failed``; while a transport is not connected nothing is tried at all.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, literal, or_, select, update
from sqlalchemy import text as sql_text

from bot.clock import Clock
from bot.messages import ChatRef, Outbound
from bot.transports.base import Transport
from models.db import Database
from models.tables import PRIORITY_NOW, OutboxMessage

log = logging.getLogger(__name__)

# A send that certainly did not go out (refused, or nothing could be written) is tried again after
# these many seconds, once each; then it is recorded as ``failed``.  One that may have gone out
# (``maybe_sent``, or the process died while sending) is never tried again.
RETRY_DELAYS: tuple[float, ...] = (5.0, 30.0, 120.0, 600.0)


def transport_ready(transport: Any) -> bool:
    """False when a transport says it has no connection right now (the forward OneBot link's
    ``connected`` event, WeChat's ``logged_in``, the reverse server's ``accounts``, any member of
    a group); then nothing is tried, so a restart or an outage uses up no attempts."""
    ready = getattr(transport, "ready", None)
    if isinstance(ready, bool):
        return ready
    members = getattr(transport, "members", None)
    if isinstance(members, list) and members:
        return any(transport_ready(m) for m in members)
    connected = getattr(transport, "connected", None)
    if isinstance(connected, asyncio.Event):
        return connected.is_set()
    logged_in = getattr(transport, "logged_in", None)
    if isinstance(logged_in, bool):
        return logged_in
    accounts = getattr(transport, "accounts", None)
    if isinstance(accounts, list):
        return bool(accounts)
    return True


class Pacer:
    """Sliding-window pacing: at most ``per_min`` sends per account in any 60 s, and no burst:
    at most ``burst`` of them in any ``burst`` × 60/``per_min`` s (so 20/min goes out as up to
    3 at once, then one every 3 s, never 20 in one second); at least ``chat_gap`` seconds between
    two messages to the same chat; and a little random jitter on every wait (at most one send's
    interval) so that the rhythm does not look machine-made.  Times are the caller's
    (``time.monotonic()`` live, anything in tests)."""

    def __init__(self, per_min: int, chat_gap: float = 1.0, jitter: float = 0.3,
                 burst: int = 3, rng: random.Random | None = None) -> None:
        self.per_min = max(1, per_min)
        self.chat_gap = chat_gap
        self.jitter = min(jitter, 60.0 / self.per_min)  # never more than one send's interval
        self.burst = max(1, min(burst, self.per_min))
        self.burst_span = self.burst * 60.0 / self.per_min
        self.rng = rng or random.Random()
        self._sent: dict[str, deque[float]] = {}
        self._last_chat: dict[str, float] = {}
        self._prune_at = 4096

    def delay(self, account: str, chat: str, now: float) -> float:
        """Seconds to wait before a message to ``chat`` on ``account`` may go."""
        window = self._sent.setdefault(account, deque())
        while window and now - window[0] >= 60.0:
            window.popleft()
        wait = 0.0
        if len(window) >= self.per_min:
            wait = 60.0 - (now - window[-self.per_min])
        if len(window) >= self.burst:
            wait = max(wait, self.burst_span - (now - window[-self.burst]))
        last = self._last_chat.get(chat)
        if last is not None:
            wait = max(wait, self.chat_gap - (now - last))
        if wait > 0:
            wait += self.rng.uniform(0, self.jitter)
        return max(0.0, wait)

    def record(self, account: str, chat: str, now: float) -> None:
        window = self._sent.setdefault(account, deque())
        if window and now < window[-1]:  # seeded from the database: keep the window in order
            window.insert(next(i for i, t in enumerate(window) if t > now), now)
        else:
            window.append(now)
        if self._last_chat.get(chat, now) <= now:
            self._last_chat[chat] = now
        if len(self._last_chat) > self._prune_at:  # forget chats whose gap is over
            self._last_chat = {c: t for c, t in self._last_chat.items()
                               if now - t < self.chat_gap}
            self._prune_at = max(4096, 2 * len(self._last_chat))


class OutboundQueue:
    def __init__(
        self,
        db: Database,
        transports: dict[str, Transport],
        clock: Clock,
        rate_per_min: int = 20,
        chat_gap: float = 1.0,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.db = db
        self.transports = transports  # by platform
        self.clock = clock
        self.pacer = Pacer(rate_per_min, chat_gap)
        self.retry_delays = retry_delays
        self.batch = 50  # pending rows read at once
        self._seeded: set[str] = set()
        self._wake: dict[str, asyncio.Event] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        # The look-up of pending bulk rows by chat must go through the partial index
        # ix_outbox_bulk_chat (the condition written as in the index).  SQLite without
        # statistics would rather take ix_outbox_claim's ``status =`` and read every pending
        # bulk row (100,000 during a morning prompt): ``unlikely()`` tells it otherwise.
        pending_bulk = (sql_text("unlikely(status = 'pending') AND priority > 0")
                        if db.dialect == "sqlite"
                        else sql_text("status = 'pending' AND priority > 0"))
        # Both look-ups built once (building a statement costs more than running it).
        due = or_(_OUTBOX.c.not_before.is_(None), _OUTBOX.c.not_before <= bindparam("now"))
        self._next_rows = (
            select(_OUTBOX)
            .where(_OUTBOX.c.status == "pending", _OUTBOX.c.platform == bindparam("platform"),
                   due)
            .order_by(_OUTBOX.c.priority, _OUTBOX.c.id)
            .limit(bindparam("count", type_=Integer))
        )
        self._bulk_rows_of_chats = (
            select(_OUTBOX)
            .where(pending_bulk, _OUTBOX.c.platform == bindparam("platform"),
                   _OUTBOX.c.chat.in_(bindparam("chats", expanding=True)), due)
            .order_by(_OUTBOX.c.id)
        )

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

    async def stop(self, grace: float = 15.0) -> None:
        """Let each lane finish the message it is sending and record how it went (so an
        orderly stop leaves nothing in doubt), then stop; what is queued stays queued."""
        self._stopping = True
        for platform in self._tasks:
            self._event(platform).set()
        tasks = list(self._tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._stopping = False

    def _event(self, platform: str) -> asyncio.Event:
        return self._wake.setdefault(platform, asyncio.Event())

    def _lock(self, platform: str) -> asyncio.Lock:
        return self._locks.setdefault(platform, asyncio.Lock())

    async def _run(self, platform: str) -> None:
        wake = self._event(platform)
        while not self._stopping:
            wake.clear()  # before looking, so a notify during the look is not lost
            try:
                sent_any = await self.dispatch(platform)
            except Exception:  # keep the lane alive whatever happens
                log.exception("outbound dispatch for %s failed", platform)
                sent_any = False
            if not sent_any:
                transport = self.transports.get(platform)
                # While the link is down, look again soon: it may be back any moment.
                idle = 5.0 if transport is None or transport_ready(transport) else 0.2
                try:
                    await asyncio.wait_for(wake.wait(), timeout=idle)
                except TimeoutError:
                    pass

    async def dispatch(self, platform: str, limit: int = 100_000) -> bool:
        """Send this platform's pending messages, paced if its transport needs it.  Returns
        True if anything was handled.

        Order: replies and alerts (``PRIORITY_NOW``) before bulk sends, oldest first within
        one priority, and never out of order within a chat (see :meth:`_pending`).  Pending
        rows are read a batch at a time, then each is claimed, sent and recorded; the outcome of
        one send is recorded in the same transaction that claims the next (when the next may go
        at once), so a message costs one transaction, and at most one message per lane is ever
        on the wire unrecorded.  The batch is read again after every pacing wait, and before a
        bulk row when something new was queued meanwhile (``notify``): a reply queued during a
        broadcast goes out next, not after the rest of the batch."""
        async with self._lock(platform):
            transport = self.transports.get(platform)
            paced = transport is not None and transport.paced
            wake = self._event(platform)
            handled = 0
            outcome: _Outcome | None = None  # the last send's, not yet recorded
            waited_for: int | None = None  # the row whose pacing wait is over
            try:
                while handled < limit and not self._stopping:
                    if transport is not None and not transport_ready(transport):
                        break  # not connected (yet): try nothing, lose nothing
                    if paced and platform not in self._seeded:
                        await self._seed_pacer(platform, transport)  # type: ignore[arg-type]
                    wake.clear()  # whatever is queued from now on, the next read sees
                    rows = await self._pending(platform, min(self.batch, limit - handled))
                    if not rows:
                        break
                    done = True  # False: read again
                    for i, row in enumerate(rows):
                        if handled >= limit or self._stopping or (
                                transport is not None and not transport_ready(transport)):
                            break
                        if i and row.priority > PRIORITY_NOW and wake.is_set():
                            done = False  # something new was queued: it may have to go first
                            break
                        if paced and row.id != waited_for:
                            assert transport is not None
                            wait = self.pacer.delay(row.account or transport.account, row.chat,
                                                    time.monotonic())
                            if wait > 0:
                                if outcome is not None:  # never sit on an outcome while waiting
                                    await self._record(outcome)
                                    outcome = None
                                await asyncio.sleep(wait)
                                waited_for = row.id  # unless something overtakes it meanwhile
                                done = False
                                break
                        waited_for = None
                        outcome = await self._send_one(row, outcome)
                        handled += 1
                    else:
                        continue  # the batch is done: read the next one
                    if done:
                        break
            finally:
                if outcome is not None:
                    await self._record(outcome)
            return handled > 0

    async def _pending(self, platform: str, count: int) -> list[Any]:
        """The next rows to send, in order: by priority, then oldest first; except that a bulk
        row queued to a chat before a reply to that chat goes right before that reply (a
        later message never overtakes an earlier one in the same chat: no 打卡成功 before the
        prompt it answers)."""
        async with self.db.session() as s:
            # Core rows, not ORM objects: building an object per row cost more than the query.
            now = self.clock.utcnow()
            rows = list((await s.execute(
                self._next_rows, {"platform": platform, "now": now, "count": count})).all())
            urgent = [r for r in rows if r.priority == PRIORITY_NOW]
            if not urgent or (len(urgent) == len(rows) < count):
                return rows  # only bulk rows; or nothing bulk is pending (no look-up needed)
            latest: dict[str, int] = {}
            for row in urgent:
                latest[row.chat] = max(latest.get(row.chat, 0), row.id or 0)
            earlier: dict[str, deque[Any]] = {}
            for row in (await s.execute(
                    self._bulk_rows_of_chats,
                    {"platform": platform, "now": now, "chats": list(latest)})).all():
                if (row.id or 0) < latest[row.chat]:
                    earlier.setdefault(row.chat, deque()).append(row)
        if not earlier:
            return rows
        ordered: list[Any] = []
        taken: set[int | None] = set()
        for row in rows:
            before = earlier.get(row.chat) if row.priority == PRIORITY_NOW else None
            while before and (before[0].id or 0) < (row.id or 0):
                first = before.popleft()
                if first.id not in taken:
                    taken.add(first.id)
                    ordered.append(first)
            if row.id not in taken:
                taken.add(row.id)
                ordered.append(row)
        return ordered

    async def _seed_pacer(self, platform: str, transport: Transport) -> None:
        """After a restart, what this account sent in the last minute still counts."""
        self._seeded.add(platform)
        now = self.clock.utcnow()
        async with self.db.session() as s:
            recent = (
                await s.execute(
                    select(OutboxMessage.account, OutboxMessage.chat, OutboxMessage.sent_at)
                    .where(OutboxMessage.platform == platform, OutboxMessage.status == "sent",
                           OutboxMessage.sent_at >= now - timedelta(seconds=60))
                    .order_by(OutboxMessage.sent_at)
                )
            ).all()
        mono = time.monotonic()
        for account, chat, sent_at in recent:
            age = max(0.0, (now - sent_at).total_seconds())
            self.pacer.record(account or transport.account, chat, mono - age)

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

    async def _send_one(self, row: Any, previous: _Outcome | None) -> _Outcome | None:
        """Claim and send ``row`` (recording ``previous`` in the claim's transaction); its
        outcome, for the caller to record.  Pacing is the caller's."""
        chat = ChatRef.parse(row.chat)
        transport = self.transports.get(chat.platform)
        if transport is None:
            await self._record(previous, _Outcome(row.id, "failed",
                                                  error=f"no transport for {chat.platform}"))
            return None
        async with self.db.session() as s:
            claim = {"row_id": row.id, "now": self.clock.utcnow()}
            if previous is None:
                claimed = (await s.execute(_CLAIM, claim)).rowcount
            else:  # one statement records the last send and claims this one
                _, outcome = previous.statement(self.clock)
                ids = (await s.execute(_RECORD_AND_CLAIM, claim | outcome)).scalars().all()
                claimed = row.id in ids
            if not claimed:
                return None  # another instance took it
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
            return _Outcome(row.id, "unknown", error=f"{type(exc).__name__}")
        if transport.paced:
            self.pacer.record(row.account or transport.account, row.chat, time.monotonic())
        if result.delivered:
            return _Outcome(row.id, "sent", platform_id=result.platform_message_id)
        if result.maybe_sent:
            return _Outcome(row.id, "unknown", error=result.error or "no confirmation")
        # certainly not sent: try again later, a few times
        attempt = row.attempts + 1
        error = result.error or "refused"
        if attempt <= len(self.retry_delays):
            delay = self.retry_delays[attempt - 1]
            log.info("outbound %s: attempt %d not sent (%s); trying again in %g s",
                     row.id, attempt, error, delay)
            return _Outcome(row.id, "pending", error=error,
                            not_before=self.clock.utcnow() + timedelta(seconds=delay))
        log.warning("outbound %s to %s failed after %d attempts: %s", row.id, row.chat,
                    attempt, error)
        return _Outcome(row.id, "failed", error=error)

    async def _record(self, *outcomes: _Outcome | None) -> None:
        statements = [o.statement(self.clock) for o in outcomes if o is not None]
        if statements:
            async with self.db.session() as s:
                for statement, params in statements:
                    await s.execute(statement, params)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What became of one send, to be written to its row."""

    row_id: int | None
    status: str
    error: str | None = None
    platform_id: str | None = None
    not_before: datetime | None = None

    def statement(self, clock: Clock) -> tuple[Any, dict[str, Any]]:
        return _RECORD, {
            "record_id": self.row_id,
            "new_status": self.status,
            "new_error": self.error,
            "new_platform_id": self.platform_id,
            "new_sent_at": clock.utcnow() if self.status == "sent" else None,
            "new_not_before": self.not_before,
        }


# The two statements of every send, built once (Core, not the ORM's bulk update: a message's
# claim and outcome were a fifth of the bot's CPU time under load).
_OUTBOX: Any = OutboxMessage.__table__
_CLAIM = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"), _OUTBOX.c.status == "pending",
           or_(_OUTBOX.c.not_before.is_(None), _OUTBOX.c.not_before <= bindparam("now")))
    .values(status="sending", attempts=_OUTBOX.c.attempts + 1)
)
_RECORD = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("record_id"))
    .values(status=bindparam("new_status"), error=bindparam("new_error"),
            platform_message_id=bindparam("new_platform_id"),
            sent_at=bindparam("new_sent_at"), not_before=bindparam("new_not_before"))
)


def _claim_or(claimed: Any, recorded: Any) -> Any:
    """``claimed`` for the row being claimed, ``recorded`` for the one being recorded."""
    return case((_OUTBOX.c.id == bindparam("row_id"), claimed), else_=recorded)


# Both at once: the previous send's row gets its outcome, the next row is claimed (if it is
# still pending); RETURNING says whether the claim took.  One statement less per message.
_RECORD_AND_CLAIM = (
    update(_OUTBOX)
    .where(or_(_OUTBOX.c.id == bindparam("record_id"),
               and_(_OUTBOX.c.id == bindparam("row_id"), _OUTBOX.c.status == "pending",
                    or_(_OUTBOX.c.not_before.is_(None),
                        _OUTBOX.c.not_before <= bindparam("now")))))
    .values(
        status=_claim_or(literal("sending"),
                         bindparam("new_status", type_=_OUTBOX.c.status.type)),
        attempts=_claim_or(_OUTBOX.c.attempts + 1, _OUTBOX.c.attempts),
        error=_claim_or(_OUTBOX.c.error,
                        bindparam("new_error", type_=_OUTBOX.c.error.type)),
        platform_message_id=_claim_or(
            _OUTBOX.c.platform_message_id,
            bindparam("new_platform_id", type_=_OUTBOX.c.platform_message_id.type)),
        sent_at=_claim_or(_OUTBOX.c.sent_at,
                          bindparam("new_sent_at", type_=_OUTBOX.c.sent_at.type)),
        not_before=_claim_or(_OUTBOX.c.not_before,
                             bindparam("new_not_before", type_=_OUTBOX.c.not_before.type)),
    )
    .returning(_OUTBOX.c.id)
)
