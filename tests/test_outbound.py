"""The outbound queue: pacing, recorded failures, no blind retries, and a real kill -9."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.clock import ManualClock
from bot.messages import ChatRef, Inbound, Outbound, SendResult
from bot.outbound import OutboundQueue, Pacer
from models.db import Database
from models.tables import PRIORITY_BULK, PRIORITY_NOW, OutboxMessage
from tests.bot_process import BotProcess, bot_env
from tests.factories import add_cadre, add_worker
from tests.onebot_standin import OneBotStandIn

NOW = datetime(2024, 2, 3, 1, 0, tzinfo=UTC)
SEND_ACTIONS = ("send_private_msg", "send_group_msg", "send_msg")


def call_text(call: dict) -> str:
    return "".join(s["data"]["text"] for s in call["params"]["message"] if s["type"] == "text")


# ----- the pacer, on injected times ----------------------------------------------------------
class FixedRng:
    """``uniform(a, b)`` always at the same fraction of the way from a to b."""

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.fraction


def pace(pacer: Pacer, chats: list[str], account: str = "10001") -> list[float]:
    """Send one message to each chat in turn as fast as the pacer allows; the send times."""
    now, times = 0.0, []
    for chat in chats:
        now += pacer.delay(account, chat, now)
        pacer.record(account, chat, now)
        times.append(now)
    return times


def test_pacer_keeps_the_account_window_and_spreads_bursts():
    pacer = Pacer(per_min=20, chat_gap=1.0, jitter=0.3, rng=random.Random(7))
    times = pace(pacer, [f"qq:private:{i}" for i in range(100)])
    assert times[:3] == [0.0, 0.0, 0.0]  # a short burst is fine
    for i, start in enumerate(times):  # never more than 20 in any 60 s
        assert sum(start <= t < start + 60 for t in times[i:]) <= 20
    for a, b in zip(times, times[3:], strict=False):  # never more than 3 in any 9 s
        assert b - a >= 9.0 - 1e-9
    # ...and no slower than that plus jitter: one every 3 s in the long run
    assert 97 * 3.0 <= times[-1] <= 97 * 3.3


def test_pacer_window_without_burst_limit():
    pacer = Pacer(per_min=5, chat_gap=0.0, jitter=0.3, burst=5, rng=FixedRng(1.0))
    times = pace(pacer, [f"c{i}" for i in range(11)])
    assert times[:5] == [0.0] * 5
    assert times[5] == pytest.approx(60.3)  # the window's oldest send expires, plus jitter
    assert times[10] == pytest.approx(120.6)


def test_pacer_gap_per_chat():
    pacer = Pacer(per_min=1000, chat_gap=1.0, jitter=0.3, rng=random.Random(3))
    chats = ["a", "a", "b", "a", "b", "c", "c"]
    times = pace(pacer, chats)
    last: dict[str, float] = {}
    for chat, t in zip(chats, times, strict=True):
        if chat in last:
            assert 1.0 <= t - last[chat] <= 1.0 + 0.3 + 1e-9
        last[chat] = t
    assert times[2] == times[1]  # another chat is not held up by the gap (the burst allows it)


def test_jitter_bounds():
    def first_wait(fraction: float | None) -> float:
        rng = random.Random(1) if fraction is None else FixedRng(fraction)
        pacer = Pacer(per_min=60, chat_gap=2.0, jitter=0.5, rng=rng)
        pacer.record("acct", "chat", 10.0)
        return pacer.delay("acct", "chat", 10.5)

    assert first_wait(0.0) == pytest.approx(1.5)  # the gap left, nothing added
    assert first_wait(1.0) == pytest.approx(2.0)  # at most the jitter added
    assert 1.5 <= first_wait(None) <= 2.0
    pacer = Pacer(per_min=60, chat_gap=2.0, jitter=0.5)
    assert pacer.delay("acct", "new chat", 0.0) == 0.0  # no wait: no jitter either
    waits = set()
    for i in range(20):
        pacer.record("acct", f"c{i}", 100.0 * i)
        waits.add(round(pacer.delay("acct", f"c{i}", 100.0 * i + 1.0), 6))
    assert len(waits) > 10 and all(1.0 <= w <= 1.5 for w in waits)  # varies, within bounds


def test_pacer_accepts_earlier_times_and_forgets_old_chats():
    pacer = Pacer(per_min=3, chat_gap=1.0, jitter=0.0, burst=3)
    pacer.record("a", "c1", 50.0)
    pacer.record("a", "c2", 10.0)  # seeded from the database, out of order
    pacer.record("a", "c3", 30.0)
    assert list(pacer._sent["a"]) == [10.0, 30.0, 50.0]
    assert pacer.delay("a", "c4", 60.0) == pytest.approx(10.0)  # the one at 10 s expires at 70
    for i in range(10_000):
        pacer.record("b", f"chat{i}", 1000.0 + i)
    assert len(pacer._last_chat) <= 8192


# ----- the queue, with a scripted transport ---------------------------------------------------
class ScriptedTransport:
    """A QQ-like transport whose answers are scripted per message text."""

    platform = "qq"
    account = "10001"

    def __init__(self, script: dict[str, list] | None = None, paced: bool = False) -> None:
        self.script = script or {}
        self.paced = paced
        self.ready = True
        self.sent: list[tuple[float, Outbound]] = []

    async def start(self, on_message, on_event=None) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, message: Outbound) -> SendResult:
        self.sent.append((time.monotonic(), message))
        answers = self.script.get(message.text)
        result = answers.pop(0) if answers else SendResult(True, f"m{len(self.sent)}")
        if isinstance(result, Exception):
            raise result
        return result

    def count(self, text: str) -> int:
        return sum(m.text == text for _, m in self.sent)


async def _add(db: Database, *texts: str, status: str = "pending", **fields) -> None:
    async with db.session() as s:
        s.add_all(OutboxMessage(platform="qq", chat=fields.pop("chat", f"qq:private:{i}"),
                                text=t, status=status, created_at=NOW, **fields)
                  for i, t in enumerate(texts))


async def _rows(db: Database) -> dict[str, OutboxMessage]:
    async with db.session() as s:
        return {r.text: r for r in (await s.execute(select(OutboxMessage))).scalars()}


@pytest.fixture
async def db(settings):
    database = Database(settings.database_url)
    await database.migrate()
    yield database
    await database.close()


REFUSED = SendResult(False, error="retcode 100 (go-cqhttp): 发送失败")
TIMEOUT = SendResult(False, maybe_sent=True, error="no answer to send_private_msg within 10 s")


async def test_failures_recorded_and_only_certain_ones_retried(db):
    transport = ScriptedTransport({
        "refused twice": [REFUSED, REFUSED],
        "always refused": [REFUSED] * 10,
        "timed out": [TIMEOUT],
        "raised": [RuntimeError("boom")],
    })
    clock = ManualClock(NOW)
    queue = OutboundQueue(db, {"qq": transport}, clock, 100_000, 0.0, retry_delays=(5.0, 30.0))
    await _add(db, "refused twice", "always refused", "timed out", "raised", "fine")
    await queue.dispatch("qq")
    rows = await _rows(db)
    assert rows["fine"].status == "sent" and rows["fine"].platform_message_id
    assert rows["timed out"].status == "unknown" and "no answer" in rows["timed out"].error
    assert rows["raised"].status == "unknown" and rows["raised"].error == "RuntimeError"
    for text in ("refused twice", "always refused"):  # certainly not sent: tried again later
        assert rows[text].status == "pending" and rows[text].attempts == 1
        assert rows[text].not_before == NOW + timedelta(seconds=5)
        assert "发送失败" in rows[text].error
    await queue.dispatch("qq")  # not yet due: nothing happens
    assert len(transport.sent) == 7 - 2
    clock.set(NOW + timedelta(seconds=5))
    await queue.dispatch("qq")
    clock.set(NOW + timedelta(seconds=40))
    await queue.dispatch("qq")
    clock.set(NOW + timedelta(hours=1))
    await queue.dispatch("qq")
    rows = await _rows(db)
    assert rows["refused twice"].status == "sent" and rows["refused twice"].attempts == 3
    assert rows["always refused"].status == "failed" and rows["always refused"].attempts == 3
    assert "发送失败" in rows["always refused"].error
    # what may have gone out went out at most once, and never again
    assert transport.count("timed out") == 1 and transport.count("raised") == 1
    assert transport.count("always refused") == 3 and transport.count("fine") == 1


async def test_interrupted_send_marked_unknown_on_start_and_never_resent(settings):
    transport = ScriptedTransport()
    db = Database(settings.database_url)
    await db.migrate()
    await _add(db, "on the wire", status="sending", attempts=1)
    await _add(db, "waiting")
    await db.close()
    app = App(settings, transports=[transport])
    await app.prepare()
    try:
        rows = await _rows(app.db)
        assert rows["on the wire"].status == "unknown"
        assert rows["on the wire"].error == "interrupted while sending"
        await app.outbound.drain()
        rows = await _rows(app.db)
        assert rows["waiting"].status == "sent" and rows["on the wire"].status == "unknown"
        assert [m.text for _, m in transport.sent] == ["waiting"]
    finally:
        await app.db.close()


async def test_nothing_is_tried_while_the_transport_is_not_connected(db):
    transport = ScriptedTransport()
    transport.ready = False
    queue = OutboundQueue(db, {"qq": transport}, ManualClock(NOW), 100_000, 0.0)
    await _add(db, "a", "b")
    assert await queue.dispatch("qq") is False
    rows = await _rows(db)
    assert transport.sent == [] and {r.status for r in rows.values()} == {"pending"}
    assert {r.attempts for r in rows.values()} == {0}
    transport.ready = True
    assert await queue.dispatch("qq") is True
    assert {r.status for r in (await _rows(db)).values()} == {"sent"}


async def test_live_lane_waits_for_the_connection_then_sends(db):
    transport = ScriptedTransport(paced=True)
    transport.ready = False
    queue = OutboundQueue(db, {"qq": transport}, ManualClock(NOW), 100_000, 0.0)
    await _add(db, *[f"m{i}" for i in range(5)])
    queue.start()
    try:
        await asyncio.sleep(0.5)
        assert transport.sent == []
        transport.ready = True  # connected: the lane notices by itself, without a notify
        await asyncio.sleep(1.0)
    finally:
        await queue.stop()
    assert [m.text for _, m in transport.sent] == [f"m{i}" for i in range(5)]


async def test_pacing_survives_a_restart(db):
    transport = ScriptedTransport(paced=True)
    clock = ManualClock(NOW)
    for ago in (50, 30, 10):  # three sends in the last minute, by the previous process
        await _add(db, f"sent {ago} s ago", status="sent", account="10001",
                   sent_at=NOW - timedelta(seconds=ago))
    await _add(db, "long ago", status="sent", account="10001", sent_at=NOW - timedelta(hours=1))
    queue = OutboundQueue(db, {"qq": transport}, clock, rate_per_min=3, chat_gap=0.0)
    await queue._seed_pacer("qq", transport)
    wait = queue.pacer.delay("10001", "qq:private:9", time.monotonic())
    assert 10.0 - 0.5 <= wait <= 10.0 + 0.3 + 0.5  # the one sent 50 s ago leaves the window in 10 s


async def test_recorded_send_times_keep_the_pace(db):
    transport = ScriptedTransport(paced=True)
    queue = OutboundQueue(db, {"qq": transport}, ManualClock(NOW), 600, 0.25)
    queue.pacer = Pacer(per_min=600, chat_gap=0.25, jitter=0.05)  # burst of 3 per 0.3 s
    chats = ["qq:private:1", "qq:private:1", "qq:private:2", "qq:private:3", "qq:private:1",
             "qq:private:4", "qq:private:5", "qq:private:6", "qq:private:2"]
    for i, chat in enumerate(chats):
        await _add(db, f"m{i}", chat=chat)
    await queue.dispatch("qq")
    times = [t for t, _ in transport.sent]
    assert [m.text for _, m in transport.sent] == [f"m{i}" for i in range(len(chats))]
    for a, b in zip(times, times[3:], strict=False):
        assert b - a >= 0.3 - 0.002
    last: dict[str, float] = {}
    for (t, m) in transport.sent:
        if m.chat.key in last:
            assert t - last[m.chat.key] >= 0.25 - 0.002
        last[m.chat.key] = t


async def test_an_orderly_stop_finishes_the_send_in_flight(db):
    class Slow(ScriptedTransport):
        async def send(self, message: Outbound) -> SendResult:
            started.set()
            await asyncio.sleep(0.3)
            return await super().send(message)

    started = asyncio.Event()
    transport = Slow()
    queue = OutboundQueue(db, {"qq": transport}, ManualClock(NOW), 100_000, 0.0)
    await _add(db, "a", "b", "c")
    queue.start()
    await asyncio.wait_for(started.wait(), 5)
    await queue.stop()
    rows = await _rows(db)
    assert rows["a"].status == "sent"  # recorded, not left "sending" (in doubt after a restart)
    assert sorted(r.status for r in rows.values()) == ["pending", "pending", "sent"]


async def test_two_instances_send_each_message_once(db, settings):
    other = Database(settings.database_url)
    first, second = ScriptedTransport(), ScriptedTransport()
    queues = [OutboundQueue(db, {"qq": first}, ManualClock(NOW), 100_000, 0.0),
              OutboundQueue(other, {"qq": second}, ManualClock(NOW), 100_000, 0.0)]
    texts = [f"n{i}" for i in range(60)]
    await _add(db, *texts)
    try:
        await asyncio.gather(*(q.dispatch("qq") for q in queues))
    finally:
        await other.close()
    sent = [m.text for _, m in first.sent + second.sent]
    assert sorted(sent) == sorted(texts)
    assert {r.status for r in (await _rows(db)).values()} == {"sent"}


# ----- priorities: replies before bulk sends, never out of order within a chat ----------------
def _worker_msg(user: str, text: str) -> Inbound:
    return Inbound(chat=ChatRef("qq", "private", user), sender_id=user, text=text,
                   message_id=f"{user}-{text}", time=NOW, mentioned=True, account="10001")


async def test_a_reply_goes_before_the_rest_of_a_broadcast_but_after_its_chats_copy(settings):
    transport = ScriptedTransport()
    app = App(settings, transports=[transport])
    await app.prepare()
    try:
        async with app.db.session() as s:
            await add_cadre(s, "qq:vil", "village", "青岩镇", "歪脚村", name="李书记")
            for i in range(30):
                await add_worker(s, f"qq:{100 + i}", name=f"王{i:02d}")
        await app.handle(_worker_msg("vil", "/广播 明天上午9点村委会有招聘会"))
        await app.outbound.dispatch("qq", limit=4)  # the broadcast starts going out
        sent = [m for _, m in transport.sent]
        assert "已排队发给 30 人" in sent[0].text  # the cadre's own answer did not wait either
        assert all("通知】" in m.text for m in sent[1:])
        first = {m.chat.key for m in sent[1:]}
        waiting = next(f"qq:private:{100 + i}" for i in range(29, -1, -1)
                       if f"qq:private:{100 + i}" not in first)
        done = next(iter(first))
        # Two workers write: one whose copy of the broadcast is still queued, one who has it.
        await app.handle(_worker_msg(waiting.rsplit(":", 1)[1], "我的信息"))
        await app.handle(_worker_msg(done.rsplit(":", 1)[1], "我的信息"))
        await app.outbound.dispatch("qq")
        order = [(m.chat.key, "通知】" in m.text) for _, m in transport.sent][4:]
        # The queued copy to the first worker goes first (no answer before what it follows),
        # then the two answers, then the rest of the broadcast.
        assert order[:3] == [(waiting, True), (waiting, False), (done, False)]
        assert all(is_notice for _, is_notice in order[3:]) and len(order) == 3 + 30 - 3 - 1
        async with app.db.session() as s:
            rows = list((await s.execute(select(OutboxMessage))).scalars())
        assert {r.status for r in rows} == {"sent"}
        assert sorted(r.priority for r in rows if "通知】" in r.text) == [PRIORITY_BULK] * 30
        assert {r.priority for r in rows if "通知】" not in r.text} == {PRIORITY_NOW}
    finally:
        await app.stop()


async def test_checkin_answer_and_symptom_alert_go_before_the_morning_prompts(settings):
    from scheduler.checkin_jobs import morning

    transport = ScriptedTransport()
    app = App(settings, transports=[transport], clock=ManualClock(NOW))
    await app.prepare()
    try:
        async with app.db.session() as s:
            await add_cadre(s, "qq:vil", "village", "青岩镇", "歪脚村", name="李书记")
            for i in range(40):
                await add_worker(s, f"qq:{100 + i}", name=f"王{i:02d}")
        await morning(app, NOW.astimezone(settings.tz))
        await app.outbound.dispatch("qq", limit=3)  # the prompts start going out
        # The last worker has not had the prompt yet and answers anyway, with a fever.
        await app.handle(_worker_msg("139", "38.6 发烧 咳嗽 在家"))
        await app.outbound.dispatch("qq")
        sent = [(m.chat.key, m.text) for _, m in transport.sent]
        assert len(sent) == 40 + 2
        after = sent[3:]
        assert after[0][0] == "qq:private:139" and "早上好" in after[0][1]  # its prompt first
        assert after[1][0] == "qq:private:139" and "打卡成功" in after[1][1]  # then the answer
        assert after[2][0] == "qq:private:vil" and "健康异常" in after[2][1]  # the cadre's alert
        assert all("早上好" in text for _, text in after[3:])  # the other prompts after them
    finally:
        await app.stop()


class CountingTransport(ScriptedTransport):
    """Sets ``reached[n]`` once ``n`` messages were sent."""

    def __init__(self, *marks: int, paced: bool = False) -> None:
        super().__init__(paced=paced)
        self.reached = {n: asyncio.Event() for n in marks}

    async def send(self, message: Outbound) -> SendResult:
        result = await super().send(message)
        if len(self.sent) in self.reached:
            self.reached[len(self.sent)].set()
        return result


async def test_a_reply_queued_during_a_paced_broadcast_goes_out_next(db):
    total = 40
    transport = CountingTransport(5, total + 3, paced=True)
    queue = OutboundQueue(db, {"qq": transport}, ManualClock(NOW), rate_per_min=1200,
                          chat_gap=0.0)
    await _add(db, *[f"通知{i:02d}" for i in range(total)], priority=PRIORITY_BULK)
    await _add(db, "earlier in chat 39", priority=PRIORITY_BULK, chat="qq:private:39")
    queue.start()
    try:
        async with asyncio.timeout(30):
            await transport.reached[5].wait()
            # Replies to two workers: one with a notice still queued, one without any.
            await _add(db, "reply to 39", chat="qq:private:39")
            await _add(db, "reply to 99", chat="qq:private:99")
            queue.notify("qq")
            await transport.reached[total + 3].wait()
    finally:
        await queue.stop()
    texts = [m.text for _, m in transport.sent]
    assert len(texts) == len(set(texts)) == total + 3
    at = texts.index("reply to 39")
    # Chat 39's notice and the earlier message to it go first, in their order, then the reply.
    assert texts.index("通知39") < texts.index("earlier in chat 39") < at
    assert texts.index("reply to 99") == at + 1
    # Both replies went out long before the broadcast was over (it is paced: 1 per 50 ms).
    assert len(texts) - at > total // 2
    # Apart from chat 39's, the bulk messages keep their order.
    notices = [t for t in texts if t.startswith("通知") and t != "通知39"]
    assert notices == sorted(notices)


# ----- kill -9 in the middle of a broadcast ---------------------------------------------------
class KillingStandIn(OneBotStandIn):
    """Kills the bot at chosen send calls: ``after`` confirming the n-th send (the bot dies
    before it can record it), or ``before`` answering it (the request left, no answer came)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.plan: dict[int, str] = {}
        self.bot: BotProcess | None = None
        self.sends = 0
        self.confirmed: list[str] = []
        self.unanswered: list[str] = []
        self.accept_delay = 0.0

    async def _accept(self, request):
        await asyncio.sleep(self.accept_delay)  # a restarting implementation, slow to listen
        return await super()._accept(request)

    async def _on_call(self, ws, call) -> None:
        if call.get("action") not in SEND_ACTIONS:
            await super()._on_call(ws, call)
            return
        self.sends += 1
        when = self.plan.pop(self.sends, None)
        if when == "before":
            assert self.bot is not None
            self.calls.append(call)
            self.unanswered.append(call_text(call))
            self.bot.kill_now()
            await self._notify()
            return
        await super()._on_call(ws, call)
        self.confirmed.append(call_text(call))
        if when == "after":
            assert self.bot is not None
            self.bot.kill_now()


async def _queue_broadcast(url: str, count: int) -> None:
    db = Database(url)
    await db.migrate()
    async with db.session() as s:
        s.add_all(
            OutboxMessage(platform="qq", chat=f"qq:private:{30000 + i}", text=f"返岗通知 第{i:03d}条",
                          created_at=NOW)
            for i in range(count)
        )
    await db.close()


async def _outbox(url: str) -> list[OutboxMessage]:
    db = Database(url)
    try:
        async with db.session() as s:
            return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id)))
                        .scalars().all())
    finally:
        await db.close()


async def _wait_settled(url: str, within: float) -> None:
    db = Database(url)
    try:
        async with asyncio.timeout(within):
            while True:
                async with db.session() as s:
                    open_rows = (await s.execute(
                        select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.status.in_(("pending", "sending"))))).scalar_one()
                if not open_rows:
                    return
                await asyncio.sleep(0.2)
    finally:
        await db.close()


@pytest.mark.integration
async def test_kill_9_mid_broadcast_resumes_without_loss_or_doubles(settings, tmp_path):
    url = settings.database_url
    total = 200
    await _queue_broadcast(url, total)
    standin = KillingStandIn(heartbeat_interval=0.5)
    await standin.start()
    standin.plan = {60: "after", 130: "before"}
    standin.accept_delay = 0.5
    env = bot_env(url, standin.url, standin.access_token,
                  SEND_RATE_PER_MIN="6000", SEND_CHAT_GAP_SECONDS="0")
    log = tmp_path / "bot.log"
    remaining_at_kill = []
    try:
        for _ in range(2):  # two runs end in a SIGKILL
            bot = BotProcess(env, log)
            standin.bot = bot
            await bot.start()
            async with asyncio.timeout(60):
                code = await bot.wait()
            assert code == -9, log.read_text(errors="replace")[-3000:]
            rows = await _outbox(url)
            remaining_at_kill.append(sum(r.status == "pending" for r in rows))
        bot = BotProcess(env, log)  # the last run finishes the broadcast
        standin.bot = bot
        await bot.start()
        await _wait_settled(url, within=180)  # generous: CI machines are shared
        assert await bot.stop() == 0
    finally:
        if standin.bot is not None:
            await standin.bot.kill()
        await standin.stop()

    assert remaining_at_kill[0] > 0 and remaining_at_kill[1] > 0  # the kills were mid-way
    rows = await _outbox(url)
    assert len(rows) == total
    received = Counter(call_text(c) for c in standin.calls if c["action"] in SEND_ACTIONS)
    log_tail = log.read_text(errors="replace")[-3000:]
    # Nothing was sent twice, whatever the stand-in confirmed or not.
    assert max(received.values()) == 1, [t for t, n in received.items() if n > 1]
    statuses = Counter(r.status for r in rows)
    assert set(statuses) <= {"sent", "unknown"}, (statuses, log_tail)
    # At most one message per kill is in doubt: the one that was on the wire.
    unknown = [r for r in rows if r.status == "unknown"]
    assert len(unknown) <= 2, [(r.text, r.error) for r in unknown]
    for row in rows:
        if row.status == "sent":
            assert received[row.text] == 1 and row.platform_message_id, row.text
        else:
            assert received[row.text] <= 1
    # Every confirmed message is recorded as sent (or, for the one confirmed as the bot died,
    # as in doubt) and every sent row was confirmed.
    confirmed = set(standin.confirmed)
    by_text = {r.text: r for r in rows}
    assert all(by_text[t].status in ("sent", "unknown") for t in confirmed)
    assert {r.text for r in rows if r.status == "sent"} <= confirmed
    assert sum(by_text[t].status == "unknown" for t in confirmed) <= 1
    assert all(by_text[t].status == "unknown" for t in standin.unanswered)
