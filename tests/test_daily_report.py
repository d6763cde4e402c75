"""The daily report in the task-force group: on time, exactly once (across restarts, a failure
half-way and two processes on one PostgreSQL database), late when the bot was down, with its
chart, on Beijing dates; and the outbound upkeep job."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.messages import ChatRef
from models.tables import Checkin, InboundSeen, JobRun, OutboxMessage, TallySnapshot
from scheduler import chart as chart_module
from scheduler import report as report_module
from tests.factories import add_worker
from tests.harness import BotDriver
from tests.test_tally import district, staff

ROOT = Path(__file__).resolve().parent.parent
BJ = ZoneInfo("Asia/Shanghai")
TF = "group:tf"


@pytest.fixture
def tf_settings(settings, tmp_path):
    return replace(settings, taskforce_groups=(ChatRef.group("sim:tf"),),
                   target_date=date(2024, 2, 29), extra={"charts_dir": str(tmp_path / "charts")})


def reports(out: list[dict]) -> list[dict]:
    return [o for o in out if o.get("chat") == TF]


async def job_runs(bot: BotDriver) -> list[str]:
    async with bot.app.db.session() as s:
        return sorted((await s.execute(select(JobRun.key).where(JobRun.job == "daily_report")))
                      .scalars())


async def test_report_at_report_time_once_a_day_with_its_chart(tf_settings):
    async with BotDriver(tf_settings) as bot:
        await staff(bot)
        async with bot.app.db.session() as s:
            await district(s)
        assert reports(await bot.feed({"clock": "2024-02-03T17:29"})) == []
        out = reports(await bot.feed({"clock": "2024-02-03T17:30"}))
        assert len(out) == 1
        text = out[0]["text"]
        assert text.startswith("【花溪区农民工返岗就业日报】\n2月3日 周六 17:30\n")
        assert "补发" not in text
        assert "返岗目标日 2月29日，还有 26 天" in text and "已返岗就业 40%（4/10 人）" in text
        assert "〔全区〕\n登记 10 人，今日新增 2\n返岗就业 4 人（40%）\n" in text
        assert "▪青岩镇 登记7 返岗3(43%)" in text and "▪石板镇 登记3 返岗1(33%)" in text
        assert "在招岗位 3 个，缺 12 人" in text and "企业缺工 35 人" in text
        assert max(len(line) for line in text.splitlines() if not line.startswith("尚无登记")) <= 24
        png = Path(out[0]["file"])
        assert png.parent == Path(tf_settings.extra["charts_dir"]) and png.suffix == ".png"
        with open(png, "rb") as f:  # noqa: ASYNC230 - a test reading a few bytes
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        assert await job_runs(bot) == ["2024-02-03:sim:group:tf"]

        assert reports(await bot.feed({"clock": "2024-02-04T09:00"})) == []  # no second one
        out = reports(await bot.feed({"clock": "2024-02-04T17:30"}))
        assert len(out) == 1 and "2月4日 周日 17:30" in out[0]["text"]
        assert "返岗就业 4 人（40%），较昨日持平" in out[0]["text"]
        assert await job_runs(bot) == ["2024-02-03:sim:group:tf", "2024-02-04:sim:group:tf"]
        async with bot.app.db.session() as s:
            days = (await s.execute(select(TallySnapshot.day).where(
                TallySnapshot.township == "全区").order_by(TallySnapshot.day))).scalars().all()
        assert days == [date(2024, 2, 3), date(2024, 2, 4)]


async def test_a_restart_after_the_report_does_not_repeat_it(tf_settings):
    async with BotDriver(tf_settings) as bot:
        assert len(reports(await bot.feed({"clock": "2024-02-03T17:30"}))) == 1
        await bot.restart()
        assert reports(await bot.feed({"sync": 1})) == []
        assert reports(await bot.feed({"clock": "2024-02-03T23:00"})) == []
        await bot.restart()
        assert reports(await bot.feed({"clock": "2024-02-04T17:00"})) == []
        assert len(reports(await bot.feed({"clock": "2024-02-04T17:30"}))) == 1


async def test_a_report_missed_while_down_is_posted_late_once(tf_settings):
    bot = BotDriver(tf_settings)
    await bot.boot()  # 2024-02-03 09:00
    async with bot.app.db.session() as s:
        await add_worker(s, None, status="已返岗")
    assert reports(await bot.feed({"sync": 1})) == []
    await bot.shutdown()  # down over 17:30
    try:
        await bot.boot(datetime(2024, 2, 3, 19, 5, tzinfo=BJ))
        out = reports(await bot.feed({"sync": 2}))
        assert len(out) == 1 and "file" in out[0]
        text = out[0]["text"]
        assert text.startswith("【补发】【花溪区农民工返岗就业日报】\n2月3日 周六 19:05\n"
                               "（原定17:30发送，机器人当时未运行）\n（数字截至19:05）")
        assert "登记 1 人" in text
        await bot.restart()
        assert reports(await bot.feed({"clock": "2024-02-03T23:59"})) == []
        # Down from the 3rd at 23:59 to the 5th at 08:00: the 4th's report is owed.
        await bot.shutdown()
        await bot.boot(datetime(2024, 2, 5, 8, 0, tzinfo=BJ))
        out = reports(await bot.feed({"sync": 3}))
        assert len(out) == 1
        assert out[0]["text"].startswith("【补发】【花溪区农民工返岗就业日报】\n2月4日 周日 08:00\n")
        assert "（数字截至2月5日08:00）" in out[0]["text"]
        out = reports(await bot.feed({"clock": "2024-02-05T17:30"}))
        assert len(out) == 1 and "补发" not in out[0]["text"] and "2月5日" in out[0]["text"]
        assert await job_runs(bot) == [f"2024-02-0{d}:sim:group:tf" for d in (3, 4, 5)]
    finally:
        await bot.shutdown()


async def test_a_fresh_installation_gets_no_report_for_yesterday(tf_settings):
    """Yesterday's report is owed only to a group that had reports before."""
    async with BotDriver(tf_settings, start="2024-02-03T08:00") as bot:
        assert reports(await bot.feed({"clock": "2024-02-03T17:00"})) == []
        assert await job_runs(bot) == []


async def test_a_failure_half_way_leaves_nothing_and_the_report_follows(tf_settings, monkeypatch,
                                                                        caplog):
    """The claim, the message and the snapshot are one transaction: when the last step fails
    nothing is kept, and the periodic check posts the report (late) when it works again."""
    real = report_module.save_snapshot
    calls = []

    async def failing_once(session, tally, at):
        calls.append(at)
        if len(calls) <= 2:  # the job at 17:30 and the check right after it
            raise RuntimeError("database went away")
        return await real(session, tally, at)

    monkeypatch.setattr(report_module, "save_snapshot", failing_once)
    async with BotDriver(tf_settings) as bot:
        with caplog.at_level(logging.ERROR):
            assert reports(await bot.feed({"clock": "2024-02-03T17:45"})) == []
        assert "scheduled job daily_report failed" in caplog.text
        assert await job_runs(bot) == []
        async with bot.app.db.session() as s:
            assert (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar() == 0
        out = reports(await bot.feed({"clock": "2024-02-03T18:00"}))
        assert len(out) == 1 and out[0]["text"].startswith("【补发】")
        assert "2月3日 周六 18:00" in out[0]["text"]
        assert reports(await bot.feed({"clock": "2024-02-04T09:00"})) == []
        assert len(calls) == 3


async def test_without_a_task_force_group_the_figures_are_still_kept(settings, tmp_path):
    async with BotDriver(replace(settings, extra={"charts_dir": str(tmp_path / "charts")})) as bot:
        assert await bot.feed({"clock": "2024-02-03T17:30"}) == []
        async with bot.app.db.session() as s:
            saved = (await s.execute(select(TallySnapshot.day).where(
                TallySnapshot.township == "全区"))).scalars().all()
        assert saved == [date(2024, 2, 3)]
        assert not list(tmp_path.glob("charts/*.png"))  # nothing drawn for nobody


async def test_beijing_time_edges(tf_settings):
    """17:30 Beijing is 09:30 UTC; a check-in sent at 23:59 counts for that day, one at 00:01
    for the next; so does a registration."""
    async with BotDriver(tf_settings, start="2024-02-03T09:00") as bot:
        await staff(bot)
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:w1", name="甲", registered_at=datetime(2024, 2, 3, 15, 59,
                                                                             tzinfo=UTC))
            await add_worker(s, "sim:w2", name="乙", registered_at=datetime(2024, 2, 3, 16, 1,
                                                                             tzinfo=UTC))
            await add_worker(s, "sim:w3", name="丙", registered_at=datetime(2024, 2, 1, tzinfo=UTC))
        assert reports(await bot.feed({"clock": "2024-02-03T09:29:59+00:00"})) == []
        out = reports(await bot.feed({"clock": "2024-02-03T09:30:00+00:00"}))
        assert len(out) == 1 and "2月3日 周六 17:30" in out[0]["text"]
        # 甲 registered at 23:59 on the 3rd (15:59 UTC): new on the 3rd
        assert "登记 3 人，今日新增 1" in out[0]["text"]
        assert "今日打卡 0 人（0%）" in out[0]["text"]

        assert "打卡成功" in await bot.ask("w1", "36.5 正常 在家", at="2024-02-03T23:59")
        assert "今日打卡 1 人（33.3%）" in await bot.ask("dist", "/统计", at="2024-02-03T23:59:30")
        assert "打卡成功" in await bot.ask("w2", "36.6 正常", at="2024-02-04T00:01")
        assert "打卡成功" in await bot.ask("w3", "体温36度8 没有发烧", at="2024-02-04T00:01")
        out = reports(await bot.feed({"clock": "2024-02-04T17:30"}))
        assert "登记 3 人，今日新增 1" in out[0]["text"]  # 乙, at 00:01 on the 4th
        assert "今日打卡 2 人（66.7%）" in out[0]["text"]  # 乙 and 丙; 甲's was the 3rd's
        async with bot.app.db.session() as s:
            days = sorted((await s.execute(select(Checkin.day))).scalars())
        assert days == [date(2024, 2, 3), date(2024, 2, 4), date(2024, 2, 4)]


def test_the_report_job_fires_at_report_time_in_the_district_time_zone():
    from bot.config import Settings

    class FakeApp:
        def __init__(self) -> None:
            self.settings = Settings(simulator=False, report_time=time(17, 30))
            self.on_start: list = []

    app = FakeApp()
    jobs = {j.name: j for j in report_module.jobs(app)}
    trigger = jobs["daily_report"].trigger(BJ)
    fire = trigger.get_next_fire_time(None, datetime(2024, 2, 3, 9, 31, tzinfo=UTC))
    assert fire == datetime(2024, 2, 4, 9, 30, tzinfo=UTC)
    assert jobs["outbound_upkeep"].at == time(3, 30)
    assert app.on_start  # the catch-up runs at every start


async def test_the_chart_shows_every_township_in_a_chinese_font(tf_settings, tmp_path):
    from matplotlib.image import imread

    from models.tally import Figures, compute_tally

    assert chart_module.find_cjk_font() == "Noto Sans CJK SC"  # Debian's fonts-noto-cjk
    async with BotDriver(tf_settings) as bot:
        async with bot.app.db.session() as s:
            await district(s)
            tally = await compute_tally(s, date(2024, 2, 3), tz=BJ,
                                        townships=[t.name for t in bot.app.services.townships.all])
    trend = [(date(2024, 2, 3) - timedelta(days=n), Figures(registered=10, employed=4 - n // 3))
             for n in range(12, 0, -1)]
    path = chart_module.render_chart(tally, trend, tmp_path, title="花溪区返岗就业日报 2月3日",
                                     target_date=date(2024, 2, 29))
    assert path is not None and path.parent == tmp_path
    image = imread(path)
    assert image.shape[1] == 1080 and image.shape[0] > 1200  # 7.2 in × 150 dpi, tall enough


async def test_without_a_chinese_font_the_report_goes_out_as_text(tf_settings, monkeypatch,
                                                                  caplog):
    monkeypatch.setattr(chart_module, "find_cjk_font", lambda: None)
    async with BotDriver(tf_settings) as bot:
        with caplog.at_level(logging.WARNING):
            out = reports(await bot.feed({"clock": "2024-02-03T17:30"}))
    assert len(out) == 1 and "file" not in out[0] and "日报" in out[0]["text"]
    assert "fonts-noto-cjk" in caplog.text


async def test_upkeep_prunes_old_message_ids_and_old_sent_messages_and_never_resends(tf_settings):
    async with BotDriver(tf_settings) as bot:
        now = datetime(2024, 2, 3, 1, 0, tzinfo=UTC)
        async with bot.app.db.session() as s:
            s.add(InboundSeen(platform="qq", message_id="old", seen_at=now - timedelta(days=8)))
            s.add(InboundSeen(platform="qq", message_id="new", seen_at=now - timedelta(days=1)))
            s.add(OutboxMessage(platform="sim", chat="sim:private:u1", text="也许已发出",
                                status="unknown", created_at=now))
            for status in ("sent", "unknown", "failed", "pending"):  # 31 days old
                s.add(OutboxMessage(platform="sim", chat="sim:private:u2", text=f"旧的{status}",
                                    status=status, created_at=now - timedelta(days=31),
                                    not_before=now + timedelta(days=30)))
            s.add(OutboxMessage(platform="sim", chat="sim:private:u2", text="上周的",
                                status="sent", created_at=now - timedelta(days=7)))
        charts = tf_settings.extra["charts_dir"]
        os.makedirs(charts)
        for name, age in (("report-20240101-old.png", 31), ("report-20240203-new.png", 1)):
            with open(os.path.join(charts, name), "wb") as f:  # noqa: ASYNC230
                f.write(b"png")
            stamp = (datetime.now(UTC) - timedelta(days=age)).timestamp()
            os.utime(os.path.join(charts, name), (stamp, stamp))
        await bot.feed({"clock": "2024-02-04T03:31"})
        left = sorted(os.listdir(charts))  # file ages go by the real clock
        assert "report-20240101-old.png" not in left and "report-20240203-new.png" in left
        assert len(left) == 2  # and the report's own chart of the 3rd
        async with bot.app.db.session() as s:
            ids = (await s.execute(select(InboundSeen.message_id))).scalars().all()
            status = (await s.execute(select(OutboxMessage.status).where(
                OutboxMessage.text == "也许已发出"))).scalar_one()
            texts = set((await s.execute(select(OutboxMessage.text).where(
                OutboxMessage.chat == "sim:private:u2"))).scalars())
        assert ids == ["new"] and status == "unknown"
        # settled a month ago: gone (their texts are people's answers); still to send: kept
        assert texts == {"旧的pending", "上周的"}


async def test_two_instances_claiming_at_the_same_moment_post_once(tf_settings, monkeypatch):
    """Both instances get past the check that the report is still owed, draw it, and claim it
    at the same moment: the claim's primary key lets exactly one post it."""
    import asyncio

    barrier = asyncio.Barrier(2)
    real = report_module.claim

    async def together(session, job, key, at):
        await barrier.wait()
        return await real(session, job, key, at)

    monkeypatch.setattr(report_module, "claim", together)
    one, two = BotDriver(tf_settings), BotDriver(tf_settings)
    await one.boot()
    await two.boot()
    try:
        posted = await asyncio.gather(one.app.daily_report.post(date(2024, 2, 3)),
                                      two.app.daily_report.post(date(2024, 2, 3)))
        assert sorted(len(p) for p in posted) == [0, 1]
        out = reports(await one.feed({"sync": 1})) + reports(await two.feed({"sync": 1}))
        assert len(out) == 1
        assert await job_runs(one) == ["2024-02-03:sim:group:tf"]
        assert [c.path for c in os.scandir(tf_settings.extra["charts_dir"])] == [out[0]["file"]]
    finally:
        await one.shutdown()
        await two.shutdown()


# ----- two bot processes on one PostgreSQL database ------------------------------------------------
def replay_process(database_url: str, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ONEBOT_", "WECHATY_", "TASKFORCE", "REPORT_", "DATABASE_URL"))}
    env.update({"DATABASE_URL": database_url, "SIMULATOR": "off", "TASKFORCE_GROUPS": "sim:tf",
                "TZ_NAME": "Asia/Shanghai", "REPORT_TIME": "17:30",
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")})
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "bot", "replay", "-"], cwd=cwd, env=env,
                            text=True, encoding="utf-8", stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_processes_on_postgresql_post_each_report_once(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances share a PostgreSQL database")
    # Both replays start on the day of the first line and move the clock two days on, at the
    # same time (a fixed date: the outcome must not depend on when the test runs).
    now = datetime(2024, 2, 3, 9, 0, tzinfo=BJ)
    until = datetime.combine(now.date() + timedelta(days=2), time(17, 31), tzinfo=BJ)
    procs = [replay_process(database_url, tmp_path / f"p{i}") for i in range(2)]
    lines = [{"clock": (now + timedelta(hours=h)).isoformat()} for h in (0, 6, 20, 30)]
    lines += [{"clock": until.isoformat()}, {"sync": 1}]
    outputs: list[dict] = []
    try:
        for proc in procs:  # both get every line before either is read
            assert proc.stdin is not None
            proc.stdin.write("".join(json.dumps(line) + "\n" for line in lines))
            proc.stdin.flush()
        for proc in procs:
            assert proc.stdout is not None
            while True:
                got = json.loads(proc.stdout.readline())
                if got == {"sync": 1}:
                    break
                outputs.append(got)
    finally:
        for proc in procs:
            if proc.stdin:
                proc.stdin.close()
        for proc in procs:
            proc.wait(timeout=60)
    for proc in procs:
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    posted = [o for o in outputs if o.get("chat") == TF]
    days = [o["text"].split("\n")[1].split(" ")[0] for o in posted]
    expected = [now.date() + timedelta(days=n) for n in range(3)]
    assert sorted(days) == sorted(f"{d.month}月{d.day}日" for d in expected), days
    assert all("file" in o for o in posted)
    # and in the database: one claim and one message per day
    import asyncio

    from models.db import Database

    async def count() -> tuple[list[str], int]:
        db = Database(database_url)
        try:
            async with db.session() as s:
                keys = (await s.execute(select(JobRun.key).where(
                    JobRun.job == "daily_report"))).scalars().all()
                rows = (await s.execute(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.chat == "sim:group:tf"))).scalar()
            return sorted(keys), rows
        finally:
            await db.close()

    keys, rows = asyncio.run(count())
    assert keys == [f"{d.isoformat()}:sim:group:tf" for d in expected] and rows == 3
