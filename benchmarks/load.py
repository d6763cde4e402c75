"""Load harness: the real bot (``python -m bot``, QQ over a forward WebSocket) against a OneBot v11
stand-in on loopback, played by many simulated workers at once.

Run from the repository root::

    python benchmarks/load.py --db sqlite --users 1000            # everyone registers at once
    python benchmarks/load.py --db sqlite --rate 200 --seconds 10  # steady 200 msg/s, latency
    python benchmarks/load.py --db sqlite --preload 100000 --users 200   # memory, big district
    python benchmarks/load.py --db postgresql --soak 120           # kill -9 at random, then check
    python benchmarks/load.py --repeat 3 ...                       # three fresh runs, medians

Each simulated worker registers through the whole dialog, answering about 50 ms after each
question (the answer is chosen from the question, so a re-asked question is answered again),
then checks in and applies for a vacancy where the bot has those features (otherwise it gets the
menu, which is counted and reported).  The bot runs as a child process with pacing switched off
(``SEND_RATE_PER_MIN`` very high), the simulated workers and the stand-in in this process.

Printed: throughput (inbound messages per second, from the first message to the last reply),
latency percentiles (from the stand-in's send of a message to its receipt of the bot's reply),
start to ready (process start to the first reply), the bot's peak RSS and CPU time; then the
database is checked: every message recorded once (``inboundseen``), one reply per answer, every
reply sent once, every worker registered once.  ``--soak`` restarts the bot with SIGKILL at
random points meanwhile; a worker whose reply does not come re-delivers the same event (as a
platform would), then asks again with 继续.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bot_process import BotProcess, bot_env  # noqa: E402
from tests.ids import make_id  # noqa: E402
from tests.onebot_standin import OneBotStandIn  # noqa: E402

SEND_ACTIONS = ("send_private_msg", "send_group_msg", "send_msg")
THINK = 0.05  # seconds between reading a question and answering it
FIRST_QQ = 1_000_000  # simulated workers are qq:1000000, qq:1000001, …
PRELOAD_QQ = 5_000_000  # preloaded workers are qq:5000000, …
PROBE_QQ = 999_999
# the last: 我的信息 shows a registration
DONE_MARKERS = ("登记成功", "已更新", "要修改请回复“登记”重新填写")
MENU_MARK = "，您好！"


# ----- the stand-in, with replies routed to the simulated workers -----------------------------
class HarnessStandIn(OneBotStandIn):
    """Records every send it confirms (message id → chat, text) and hands private replies to
    the worker they are for, with the time they arrived."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.inboxes: dict[int, asyncio.Queue[tuple[float, str]]] = {}
        self.issued: dict[int, tuple[str, str]] = {}
        self.group_sends = 0
        self.unsolicited = 0  # private messages to people who are not simulated (preloaded)
        self.unsolicited_times: list[float] = []

    async def _on_call(self, ws: Any, call: dict[str, Any]) -> None:
        action = call.get("action")
        if action not in SEND_ACTIONS:
            await super()._on_call(ws, call)
            return
        now = time.perf_counter()
        params = call.get("params") or {}
        text = "".join(s["data"].get("text", "") for s in params.get("message") or []
                       if s.get("type") == "text")
        message_id = next(self._message_ids)
        if action == "send_private_msg":
            user = int(params["user_id"])
            self.issued[message_id] = (f"qq:private:{user}", text)
            inbox = self.inboxes.get(user)
            if inbox is not None:
                inbox.put_nowait((now, text))
            else:
                self.unsolicited += 1
                if len(self.unsolicited_times) < 2:
                    self.unsolicited_times.append(now)
                else:
                    self.unsolicited_times[1] = now
                await self._notify()
        else:
            self.issued[message_id] = (f"qq:group:{params.get('group_id')}", text)
            self.group_sends += 1
        reply = {"status": "ok", "retcode": 0, "data": {"message_id": message_id},
                 "echo": call.get("echo")}
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(json.dumps(reply, ensure_ascii=False))


# ----- a simulated worker ---------------------------------------------------------------------
QUESTIONS: tuple[tuple[str, str], ...] = (
    # the last reply (登记成功) was lost in a crash: ask what the bot has
    ("现在没有没填完的登记", "我的信息"),
    ("您还没有登记", "登记"),
    ("请核对", "确认"),
    ("同意登记吗", "同意"),
    ("请问您的姓名", "name"),
    ("身份证号（18位）", "id_number"),
    ("请输入您的手机号", "phone"),
    ("哪个乡镇或街道", "township"),
    ("哪个村或社区", "village"),
    ("哪个组", "group"),
    ("户主叫什么名字", "本人"),
    ("和户主是什么关系", "1"),
    ("哪类人员", "category"),
    ("您的身体状况", "1"),
    ("不舒服", "1"),
    ("家里有没有困难", "没有"),
    ("技能或证书", "skills"),
    ("以前在哪里做过", "跳过"),
    ("就业情况是", "status"),
    ("接下来的打算", "intent"),
    ("想找什么工作", "普工"),
    ("希望在哪里工作", "花溪区内"),
    ("期望月薪", "3000到5000"),
    ("在哪里工作", "1"),
    ("哪个单位", "贵阳某电子厂"),
    ("打算哪天返岗", "下周一"),
    ("打算怎么去", "3"),
)
TOWNSHIPS = ("青岩", "孟关", "石板", "党武", "久安", "燕楼", "麦坪", "高坡", "黔陶", "马铃")
FAMILY = "王李张刘陈杨黄赵吴周"
GIVEN = "小明 建国 春花 志强 秀英 德华 桂兰 海燕 永红 文斌".split()


@dataclass
class Worker:
    k: int
    qq: int
    answers: dict[str, str]
    inbox: asyncio.Queue[tuple[float, str]] = field(default_factory=asyncio.Queue)
    sent: int = 0  # distinct messages
    registration_sent: int = 0
    redelivered: int = 0
    registered: bool = False
    extras: Counter[str] = field(default_factory=Counter)

    @classmethod
    def make(cls, k: int) -> Worker:
        birth = (date(1965, 1, 1) + timedelta(days=k % 12000)).strftime("%Y%m%d")
        answers = {
            "name": FAMILY[k % 10] + GIVEN[(k // 10) % 10],
            "id_number": make_id(region="520111", birth=birth, seq=f"{(k // 12000) % 1000:03d}"),
            "phone": f"139{k:08d}",
            "township": TOWNSHIPS[k % len(TOWNSHIPS)],
            "village": f"{('一二三四五六七八九十')[k % 10]}村",
            "group": "跳过" if k % 2 else f"{k % 9 + 1}组",
            "category": ("3", "1", "2", "1 2")[k % 4],
            "skills": ("电焊", "跳过", "驾驶证C1", "厨师")[k % 4],
            "status": ("4", "1", "4", "3")[k % 4],
            "intent": ("1", "2", "3")[k % 3],
        }
        return cls(k=k, qq=FIRST_QQ + k, answers=answers)

    def answer(self, question: str) -> str | None:
        """What to say to the bot's last message (None: registered)."""
        if any(mark in question for mark in DONE_MARKERS):
            return None
        for marker, answer in QUESTIONS:
            if marker in question:
                return self.answers.get(answer, answer)
        return "继续"  # something unexpected: ask for the question again


# Group talk the bot sees but is not addressed by (it must ignore it at once).
CHATTER = ("大家好，今天有没有岗位", "收到", "好的谢谢", "[CQ:face,id=14]", "今天几号发车？",
           "村里通知下午开会", "我家那边下雨了", "有没有去广东的车", "👍👍", "明天见")


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    messages: int = 0
    first_send: float = math.inf
    last_reply: float = 0.0
    timeouts: int = 0
    redeliveries: int = 0
    chatter: int = 0  # group messages not addressed to the bot (--chatter-share)


class Harness:
    def __init__(self, args: argparse.Namespace, standin: HarnessStandIn) -> None:
        self.args = args
        self.standin = standin
        self.stats = Stats()
        self.workers: list[Worker] = []
        self.soak = bool(args.soak)
        self.bot_up = asyncio.Event()

    def new_worker(self) -> Worker:
        worker = Worker.make(len(self.workers))
        self.workers.append(worker)
        self.standin.inboxes[worker.qq] = worker.inbox
        return worker

    async def chatter(self, rng: random.Random) -> None:
        """One message in a busy group, not addressed to the bot (no reply expected)."""
        now = time.perf_counter()
        self.stats.first_send = min(self.stats.first_send, now)
        self.stats.messages += 1
        self.stats.chatter += 1
        text = rng.choice(CHATTER)
        await self.standin.push(self.standin.message(text, user_id=rng.randrange(800_000, 810_000),
                                                     group_id=rng.randrange(700_001, 700_050)))

    async def say(self, worker: Worker, text: str, *, registration: bool = True) -> str:
        """Send one message; the bot's reply (the newest, if several came)."""
        event = self.standin.message(text, user_id=worker.qq, name=worker.answers["name"])
        worker.sent += 1
        worker.registration_sent += registration
        self.stats.messages += 1
        patience = self.args.patience
        tries = 0
        while True:
            sent_at = time.perf_counter()
            self.stats.first_send = min(self.stats.first_send, sent_at)
            await self.standin.push(event)
            try:
                arrived, reply = await asyncio.wait_for(worker.inbox.get(), patience)
            except TimeoutError:
                if not self.soak:  # without faults, a reply that never comes is lost
                    self.stats.timeouts += 1
                    return "（没有回复）"
                tries += 1
                if tries <= 2:  # the platform delivers the same event again
                    self.stats.redeliveries += 1
                    worker.redelivered += 1
                    await self.bot_up.wait()
                    continue
                return "（没有回复）"  # give up on this one: the worker says 继续
            if tries == 0:
                self.stats.latencies.append(arrived - sent_at)
            self.stats.last_reply = max(self.stats.last_reply, arrived)
            await asyncio.sleep(THINK)
            while not worker.inbox.empty():  # read the newest message, as a person would
                arrived, reply = worker.inbox.get_nowait()
            return reply

    async def register(self, worker: Worker) -> None:
        reply = await self.say(worker, "登记")
        if self.args.steps:  # only the first few messages of the dialog
            for _ in range(self.args.steps - 1):
                answer = worker.answer(reply)
                if answer is None:
                    break
                reply = await self.say(worker, answer)
            return
        for _ in range(80):
            answer = worker.answer(reply)
            if answer is None:
                worker.registered = True
                break
            reply = await self.say(worker, answer)
        if worker.registered and not self.args.no_extras:
            for kind, text in (("checkin", "36.5 正常"), ("apply", "报名 1")):
                reply = await self.say(worker, text, registration=False)
                menu = reply.startswith(worker.answers["name"] + MENU_MARK)
                worker.extras[f"{kind}:{'menu' if menu else 'handled'}"] += 1

    async def probe(self, qq: int = PROBE_QQ) -> float:
        """Send 你好 until the bot answers; the time it took."""
        worker = Worker.make(0)
        worker.qq = qq
        inbox: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
        self.standin.inboxes[qq] = inbox
        start = time.perf_counter()
        while True:
            await self.standin.wait_for(lambda: self.standin.open_sockets > 0, within=60)
            await self.standin.push(self.standin.message("你好", user_id=qq))
            try:
                await asyncio.wait_for(inbox.get(), 1.0)
                return time.perf_counter() - start
            except TimeoutError:
                continue


# ----- the database -------------------------------------------------------------------------
async def make_database(kind: str, workdir: Path) -> tuple[str, Any]:
    """A fresh, empty database; returns (url, cleanup coroutine function)."""
    if kind == "sqlite":
        async def nothing() -> None:
            return None
        return f"sqlite+aiosqlite:///{workdir}/bot.db", nothing
    from benchmarks.scratch_db import scratch_pg_database

    return await scratch_pg_database("fgt_load")


async def prepare_database(url: str, preload: int) -> dict[str, float]:
    """Migrate; insert ``preload`` registered workers directly; one open vacancy (no. 1)."""
    from sqlalchemy import insert

    from models.db import Database
    from models.tables import Household, Identity, Vacancy
    from models.tables import Worker as WorkerRow

    db = Database(url)
    figures: dict[str, float] = {}
    try:
        await db.migrate()
        now = datetime.now(UTC)
        start = time.perf_counter()
        batch = 5000
        for first in range(0, preload, batch):
            ks = range(first, min(preload, first + batch))
            async with db.session() as s:
                await s.execute(insert(Household), [
                    {"id": k + 1, "township": TOWNSHIPS[k % 10] + "镇", "village": f"{k % 97}村",
                     "head_name": f"户主{k}", "created_at": now} for k in ks])
                await s.execute(insert(WorkerRow), [{
                    "id": k + 1, "name": f"{FAMILY[k % 10]}{GIVEN[(k // 10) % 10]}",
                    "id_number": make_id(region="520112", birth=(date(1960, 1, 1) + timedelta(
                        days=k % 15000)).strftime("%Y%m%d"), seq=f"{k // 15000:03d}"),
                    "phone": f"137{k:08d}", "gender": "男", "township": TOWNSHIPS[k % 10] + "镇",
                    "village": f"{k % 97}村", "household_id": k + 1, "status": "暂无岗位",
                    "symptoms": [], "poverty": k % 7 == 0, "relocated": k % 11 == 0,
                    "registered_at": now, "updated_at": now} for k in ks])
                await s.execute(insert(Identity), [
                    {"identity": f"qq:{PRELOAD_QQ + k}", "worker_id": k + 1, "display_name": "",
                     "first_seen": now, "last_seen": now} for k in ks])
        if preload and db.dialect == "postgresql":
            from sqlalchemy import text

            async with db.session() as s:  # the ids were given: move the sequences on
                for table in ("household", "worker"):
                    await s.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {preload})"))
        figures["preload_s"] = time.perf_counter() - start
        async with db.session() as s:
            s.add(Vacancy(employer="花溪区某电子厂", title="普工", area="县内", township="青岩镇",
                          headcount=50, pay_min=3000, pay_max=5000, created_at=now,
                          updated_at=now, terms=["普工"]))
    finally:
        await db.close()
    return figures


async def check_database(url: str, harness: Harness, preload: int, kills: int) -> dict[str, Any]:
    """Nothing lost, nothing doubled: the figures and the problems found."""
    from sqlalchemy import func, select

    from models.db import Database
    from models.tables import InboundSeen, OutboxMessage
    from models.tables import Worker as WorkerRow

    db = Database(url)
    problems: list[str] = []
    if harness.stats.timeouts:
        problems.append(f"{harness.stats.timeouts} replies never came")
    try:
        async with db.session() as s:
            seen_by_sender: Counter[str] = Counter()
            for (message_id,) in await s.execute(select(InboundSeen.message_id)):
                seen_by_sender[message_id.split(":", 1)[0]] += 1
            workers = (await s.execute(select(func.count()).select_from(WorkerRow))).scalar_one()
            outbox = (await s.execute(select(OutboxMessage.id, OutboxMessage.chat,
                                             OutboxMessage.text, OutboxMessage.status,
                                             OutboxMessage.platform_message_id))).all()
    finally:
        await db.close()
    statuses = Counter(row.status for row in outbox)
    per_chat: Counter[str] = Counter(row.chat for row in outbox)
    registered = sum(w.registered for w in harness.workers)
    if workers != preload + registered:
        problems.append(f"{workers} workers in the database, expected {preload} + {registered}")
    if registered != len(harness.workers) and not (harness.args.rate or harness.args.steps):
        problems.append(f"{len(harness.workers) - registered} simulated workers did not finish")
    for worker in harness.workers:
        handled = seen_by_sender[str(worker.qq)]
        if not harness.soak and handled != worker.sent:
            problems.append(f"qq:{worker.qq}: {worker.sent} messages sent, {handled} recorded")
        if handled > worker.sent:
            problems.append(f"qq:{worker.qq}: more messages recorded ({handled}) than sent")
        replies = per_chat[f"qq:private:{worker.qq}"]
        if replies != handled:  # one reply to every message handled, never two
            problems.append(f"qq:{worker.qq}: {handled} messages handled, {replies} replies")
    if statuses.get("pending") or statuses.get("sending") or statuses.get("failed"):
        problems.append(f"outbox not settled: {dict(statuses)}")
    if statuses.get("unknown", 0) > kills:
        problems.append(f"{statuses['unknown']} replies in doubt after {kills} kills")
    issued = harness.standin.issued
    sent_ids = [row.platform_message_id for row in outbox if row.status == "sent"]
    if len(set(sent_ids)) != len(sent_ids):
        problems.append("two outbox rows share one platform message id")
    for row in outbox:
        if row.status == "sent":
            match = issued.get(int(row.platform_message_id or -1))
            # (a group reply starts with an @ segment, and its text with a space)
            if match is None or (match[0], match[1].strip()) != (row.chat, row.text.strip()):
                problems.append(f"outbox {row.id} marked sent but the stand-in confirmed "
                                f"{match!r} under its id")
    unmatched = len(issued) - len(sent_ids)
    if unmatched > statuses.get("unknown", 0):  # sends the stand-in confirmed, recorded nowhere
        problems.append(f"{unmatched} confirmed sends but only {statuses.get('unknown', 0)} in doubt")
    return {
        "inbound_recorded": sum(seen_by_sender.values()),
        "workers_in_db": workers,
        "outbox": dict(statuses),
        "problems": problems,
    }


# ----- one run ------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


async def run_once(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="fgt-load-"))
    url, drop = await make_database(args.db, workdir)
    result: dict[str, Any] = {"db": args.db}
    standin = HarnessStandIn(heartbeat_interval=5.0)
    bot: BotProcess | None = None
    try:
        if not args.bot_root:  # (another checkout migrates its own schema when it starts)
            result.update(await prepare_database(url, args.preload))
        await standin.start()
        env = bot_env(url, standin.url, standin.access_token,
                      SEND_RATE_PER_MIN="100000000", SEND_CHAT_GAP_SECONDS="0")
        if args.morning:  # the morning check-in prompt falls due two minutes from now
            from zoneinfo import ZoneInfo

            due = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(minutes=2)
            env.update(TZ_NAME="Asia/Shanghai", CHECKIN_TIME=due.strftime("%H:%M"))
        if args.bot_root:  # another checkout of the bot (to compare two versions)
            env["PYTHONPATH"] = str(args.bot_root.resolve())
        harness = Harness(args, standin)
        bot = BotProcess(env, workdir / "bot.log")
        await bot.start()
        result["ready_s"] = await harness.probe()
        harness.bot_up.set()
        cpu_before = cpu_seconds(bot.pid) or 0.0
        profiler = None
        if args.profile:  # py-spy samples the bot while the load runs
            profiler = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(bot.pid),
                "--rate", "200", "--format", "raw", "--output", str(args.profile), "--gil",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        kills = 0
        if args.soak:
            kills = await soak(args, harness, bot, env, workdir)
            bot = harness.current_bot  # type: ignore[attr-defined]
        elif args.morning:
            result.update(await morning(args, harness, bot))
        elif args.rate:
            await steady(args, harness)
        else:
            await asyncio.gather(*(harness.register(harness.new_worker())
                                   for _ in range(args.users)))
        assert bot is not None
        if profiler is not None:
            profiler.send_signal(2)  # SIGINT: py-spy writes what it has
            await profiler.wait()
        result["bot_cpu_s"] = (cpu_seconds(bot.pid) or 0.0) - (0.0 if kills else cpu_before)
        result["peak_rss_mb"] = bot.peak_rss_mb()
        await bot.stop()
        stats = harness.stats
        elapsed = stats.last_reply - stats.first_send
        result.update({
            "users": len(harness.workers),
            "messages": stats.messages,
            "elapsed_s": elapsed,
            "msgs_per_s": stats.messages / elapsed if elapsed > 0 else math.nan,
            "p50_ms": percentile(stats.latencies, 0.50) * 1000,
            "p90_ms": percentile(stats.latencies, 0.90) * 1000,
            "p99_ms": percentile(stats.latencies, 0.99) * 1000,
            "max_ms": max(stats.latencies, default=math.nan) * 1000,
            "first_ms": min(stats.latencies, default=math.nan) * 1000,
            "kills": kills,
            "redeliveries": stats.redeliveries,
            "chatter": stats.chatter,
            "extras": dict(sum((w.extras for w in harness.workers), Counter())),
        })
        result.update(await check_database(url, harness, args.preload, kills))
        result["bot_log"] = str(workdir / "bot.log")
    finally:
        if bot is not None:
            await bot.kill()
        await standin.stop()
        await drop()
    return result


async def morning(args: argparse.Namespace, harness: Harness, bot: BotProcess) -> dict[str, Any]:
    """Wait for the scheduled morning check-in prompt to reach every preloaded worker, while
    ``--users`` workers register; the prompt's pace and the memory it takes."""
    standin = harness.standin
    registering = asyncio.gather(*(harness.register(harness.new_worker())
                                   for _ in range(args.users)))
    await standin.wait_for(lambda: standin.unsolicited >= args.preload, within=args.morning)
    await registering
    first, last = standin.unsolicited_times[0], standin.unsolicited_times[-1]
    return {"prompts": standin.unsolicited, "prompt_s": last - first,
            "prompts_per_s": standin.unsolicited / (last - first) if last > first else math.nan}


async def steady(args: argparse.Namespace, harness: Harness) -> None:
    """Open loop: a message every 1/rate s for ``seconds``, each from a worker who is not
    waiting for a reply (new workers join as needed); then everyone finishes registering."""
    idle: asyncio.Queue[tuple[Worker, str | None]] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()

    async def turn(worker: Worker, text: str) -> None:
        reply = await harness.say(worker, text)
        answer = worker.answer(reply)
        if answer is None:
            worker.registered = True
        else:
            idle.put_nowait((worker, answer))

    rng = random.Random(args.seed)
    start = time.perf_counter()
    total = int(args.rate * args.seconds)
    for n in range(total):
        await asyncio.sleep(max(0.0, start + n / args.rate - time.perf_counter()))
        if args.chatter_share and rng.random() < args.chatter_share:
            await harness.chatter(rng)
            continue
        worker, text = idle.get_nowait() if not idle.empty() else (harness.new_worker(), "登记")
        task = asyncio.create_task(turn(worker, text or "登记"))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)  # every message answered (those half way stay half way)


async def soak(args: argparse.Namespace, harness: Harness, bot: BotProcess,
               env: dict[str, str], workdir: Path) -> int:
    """Compressed district traffic for ``args.soak`` seconds: workers arrive and register,
    group chatter with and without @, duplicate deliveries; the bot is SIGKILLed at random
    points and restarted.  Returns the number of kills."""
    rng = random.Random(args.seed)
    standin = harness.standin
    harness.current_bot = bot  # type: ignore[attr-defined]
    stop_at = time.perf_counter() + args.soak
    kills = 0
    tasks: list[asyncio.Task[None]] = []

    async def killer() -> None:
        nonlocal kills
        while time.perf_counter() < stop_at - 3:
            await asyncio.sleep(rng.uniform(2.0, 8.0))
            current: BotProcess = harness.current_bot  # type: ignore[attr-defined]
            harness.bot_up.clear()
            await current.kill()
            kills += 1
            await asyncio.sleep(rng.uniform(0.0, 1.0))
            fresh = BotProcess(env, workdir / "bot.log")
            await fresh.start()
            harness.current_bot = fresh  # type: ignore[attr-defined]
            await standin.wait_for(lambda: standin.open_sockets > 0, within=60)
            harness.bot_up.set()

    async def chatter() -> None:
        group = 700_001
        while time.perf_counter() < stop_at:
            await asyncio.sleep(rng.expovariate(args.soak_chatter))
            user = rng.randrange(800_000, 800_100)
            if rng.random() < 0.2:  # @ the bot in the group: a pointer to private chat
                at = [{"type": "at", "data": {"qq": str(standin.self_id)}},
                      {"type": "text", "data": {"text": " 怎么登记"}}]
                await standin.push(standin.message(at, user_id=user, group_id=group))
            else:
                await standin.push(standin.message("大家好，今天有没有岗位", user_id=user,
                                                   group_id=group))

    killing = asyncio.create_task(killer())
    talking = asyncio.create_task(chatter())
    while time.perf_counter() < stop_at:
        await asyncio.sleep(rng.expovariate(args.soak_arrivals))
        tasks.append(asyncio.create_task(harness.register(harness.new_worker())))
    await killing
    talking.cancel()
    await asyncio.gather(talking, return_exceptions=True)
    await harness.bot_up.wait()
    await asyncio.gather(*tasks)
    await asyncio.sleep(1.0)  # the last replies (and any that were pending) go out
    return kills


# ----- reporting ----------------------------------------------------------------------------
FIGURES = ("ready_s", "msgs_per_s", "first_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms", "peak_rss_mb",
           "bot_cpu_s", "messages", "chatter", "users", "elapsed_s", "prompts", "prompt_s", "prompts_per_s")


def show(result: dict[str, Any]) -> str:
    parts = []
    for key in FIGURES:
        value = result.get(key)
        if isinstance(value, float):
            parts.append(f"{key}={value:.3g}" if abs(value) < 100 else f"{key}={value:.0f}")
        elif value is not None:
            parts.append(f"{key}={value}")
    parts.append(f"outbox={result.get('outbox')}")
    if result.get("kills"):
        parts.append(f"kills={result['kills']} redeliveries={result['redeliveries']}")
    if result.get("extras"):
        parts.append(f"extras={result['extras']}")
    problems = result.get("problems") or []
    parts.append("checks: OK" if not problems else f"PROBLEMS: {problems[:5]}")
    return "  ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description="返岗通 load harness (see the module docstring)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--users", type=int, default=200, help="workers registering at once")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="steady inbound messages per second instead (open loop)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long --rate runs")
    parser.add_argument("--chatter-share", type=float, default=0.0,
                        help="with --rate: this share of the messages is group talk not "
                             "addressed to the bot (seen, ignored, no reply)")
    parser.add_argument("--preload", type=int, default=0, help="registered workers inserted first")
    parser.add_argument("--soak", type=float, default=0.0,
                        help="seconds of traffic with the bot SIGKILLed at random points")
    parser.add_argument("--soak-arrivals", type=float, default=4.0,
                        help="new workers per second in --soak")
    parser.add_argument("--soak-chatter", type=float, default=5.0,
                        help="group messages per second in --soak")
    parser.add_argument("--patience", type=float, default=300.0,
                        help="seconds a worker waits for a reply before counting it lost "
                             "(in --soak: 5, then the event is delivered again)")
    parser.add_argument("--no-extras", action="store_true", help="register only")
    parser.add_argument("--steps", type=int, default=0,
                        help="each worker sends only this many messages (1: just the first)")
    parser.add_argument("--morning", type=float, default=0.0, metavar="TIMEOUT",
                        help="with --preload: the morning check-in prompt falls due 2 minutes "
                             "after the start; wait (at most TIMEOUT s) until every preloaded "
                             "worker has it")
    parser.add_argument("--repeat", type=int, default=1, help="fresh runs; medians are printed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="append each run's figures to this file")
    parser.add_argument("--bot-root", type=Path,
                        help="run the bot from this checkout instead (e.g. a `git archive` of an "
                             "older commit), to compare")
    parser.add_argument("--profile", type=Path,
                        help="sample the bot with py-spy (pip install py-spy) into this file "
                             "(collapsed stacks, for flamegraph.pl or speedscope)")
    args = parser.parse_args()
    if args.soak and args.patience == 300.0:
        args.patience = 5.0
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · "
          f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    results = []
    for n in range(args.repeat):
        result = asyncio.run(run_once(args))
        result["run"] = n + 1
        result["load_avg"] = os.getloadavg()[0]
        results.append(result)
        print(f"run {n + 1}: {show(result)}", flush=True)
        if args.json:
            with args.json.open("a", encoding="utf-8") as f:
                f.write(json.dumps({**vars(args), **result}, default=str, ensure_ascii=False)
                        + "\n")
    if len(results) > 1:
        medians = {key: statistics.median(r[key] for r in results)
                   for key in FIGURES if all(isinstance(r.get(key), int | float) for r in results)}
        problems = [p for r in results for p in r["problems"]]
        print(f"median of {len(results)}: {show({**medians, 'problems': problems})}")
    return 1 if any(r["problems"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
