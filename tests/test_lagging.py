"""Villages to watch: the labour file, which villages are listed (check-in rate, survey
progress), the neutral block in the daily report, and the private reminder to their cadres
before it — once a day per cadre, caught up after the bot was down, never in a group — on
SQLite and PostgreSQL, through the replay pipeline."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import DEFAULT_LABOUR_CSV, ConfigError, Settings
from bot.messages import ChatRef
from dialogs.parsing.places import TownshipDirectory
from models.tables import JobRun
from scheduler.jobs import all_jobs
from scheduler.lagging import (
    LabourFileError,
    Lagging,
    Village,
    read_labour,
    remind_time,
    report_lines,
    village_key,
    wrap_items,
)
from tests.factories import add_cadre, add_worker
from tests.test_tally import bj, checkin

BJ = ZoneInfo("Asia/Shanghai")
BLAME = ("落后", "批评", "差", "倒数", "末位", "不力", "通报", "问责", "排名", "最低", "拖后腿")
TF = "group:tf"


@pytest.fixture(scope="module")
def townships() -> TownshipDirectory:
    return TownshipDirectory.from_csv(Settings().townships_csv)


# ----- the labour file ---------------------------------------------------------------------------
def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "labour.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_the_labour_file_is_read_with_notes_short_names_and_blanks(tmp_path, townships):
    path = write(tmp_path, "# 说明：每行一个村\n\n乡镇,村,劳动力人数\n青岩,歪脚村,420\n"
                           "青岩镇,龙井,\"1,200\"\n孟关乡,高寨村,80人\n石板镇,石板村,\n")
    labour = read_labour(path, townships)
    assert len(labour) == 3  # 石板村's count is not known yet
    assert labour.get("青岩镇", "歪脚村") == 420 and labour.get("青岩镇", "歪脚") == 420
    assert labour.get("青岩镇", "龙井村") == 1200
    assert labour.get("孟关苗族布依族乡", "高寨村委会") == 80
    assert labour.get("石板镇", "石板村") is None


def test_the_shipped_file_has_no_rows_and_excel_gb18030_works(tmp_path, townships):
    assert len(read_labour(DEFAULT_LABOUR_CSV, townships)) == 0
    path = write(tmp_path, "乡镇（街道）,村（社区）,劳动力\r\n青岩镇,歪脚村,42\r\n", "gb18030")
    assert read_labour(path, townships).get("青岩镇", "歪脚村") == 42
    path = write(tmp_path, "township,village,labour\n青岩镇,歪脚村,42\n")
    assert read_labour(path, townships).get("青岩镇", "歪脚村") == 42


@pytest.mark.parametrize(("text", "said"), [
    ("村,人数\n歪脚村,3\n", "第1行应是表头：乡镇,村,劳动力人数"),
    ("乡镇,村,劳动力人数\n青岩镇,歪脚村,很多\n", "第2行：劳动力人数应是整数，现在是“很多”"),
    ("乡镇,村,劳动力人数\n青岩镇,歪脚村,-3\n", "第2行：劳动力人数应是整数"),
    ("乡镇,村,劳动力人数\n火星镇,歪脚村,3\n", "第2行：在花溪区的乡镇、街道里没有找到"),
    ("乡镇,村,劳动力人数\n青岩镇,<b>,3\n", "第2行："),
    ("# 说明\n乡镇,村,劳动力人数\n青岩镇,歪脚村,3\n青岩镇,歪脚,4\n",
     "第4行：青岩镇歪脚和第3行重复了"),
])
def test_a_mistake_in_the_labour_file_names_its_line(tmp_path, townships, text, said):
    with pytest.raises(LabourFileError) as caught:
        read_labour(write(tmp_path, text), townships)
    assert said in str(caught.value)


def test_village_key():
    assert village_key("歪脚村") == village_key("歪脚") == village_key("歪脚村委会") == "歪脚"
    assert village_key("龙井社区") == "龙井" and village_key("新村") == "新村"


def test_settings():
    s = Settings.from_env({"LAG_CHECKIN_RATE": "60%", "LAG_SURVEY_RATE": "0.75",
                           "LAG_REMIND_MINUTES": "45", "LABOUR_CSV": "/x/劳动力.csv"},
                          dotenv=False)
    assert (s.lag_checkin_rate, s.lag_survey_rate, s.lag_remind_minutes) == (0.6, 0.75, 45)
    assert str(s.labour_csv) == "/x/劳动力.csv"
    d = Settings.from_env({}, dotenv=False)
    assert (d.lag_checkin_rate, d.lag_survey_rate, d.lag_remind_minutes) == (0.6, 0.8, 30)
    assert d.labour_csv == DEFAULT_LABOUR_CSV
    for name, value in (("LAG_CHECKIN_RATE", "六成"), ("LAG_SURVEY_RATE", "1.5"),
                        ("LAG_REMIND_MINUTES", "-1")):
        with pytest.raises(ConfigError) as caught:
            Settings.from_env({name: value}, dotenv=False)
        assert name in str(caught.value)
    assert remind_time(replace(d, report_time=time(17, 30))) == time(17, 0)
    assert remind_time(replace(d, report_time=time(0, 10))) == time(23, 40)


def test_report_lines_are_short_and_neutral():
    many = [Village("青岩镇", f"第{i}村", 10, i) for i in range(40)]
    lag = Lagging(date(2024, 2, 3), 0.6, 0.8, checkin=many,
                  survey=[Village("石板镇", "摆勺村", 3, 0, 20)])
    lines = report_lines(lag)
    assert lines[0] == "打卡率低于60%的村（请关注）："
    assert lines[1].startswith("　青岩镇：第0村0%、第1村10%")
    assert lines[-3] == "　另有10个村"
    assert lines[-2:] == ["摸排进度低于80%的村（请关注）：", "　石板镇：摆勺村15%"]
    assert max(len(line) for line in lines) <= 24
    assert not any(word in "".join(lines) for word in BLAME)
    assert report_lines(Lagging(date(2024, 2, 3), 0.6, 0.8)) == []
    assert wrap_items(["一二三四五六七八九十一二三四五六七八九十一二三四五"], "　", "　") == [
        "　一二三四五六七八九十一二三四五六七八九十一二三四五"]  # a long item keeps its line


# ----- the whole flow ----------------------------------------------------------------------------
@pytest.fixture
def lag_settings(settings, tmp_path):
    labour = tmp_path / "labour.csv"
    labour.write_text("乡镇,村,劳动力人数\n青岩镇,歪脚村,10\n青岩镇,龙井村,4\n石板镇,摆勺村,20\n",
                      encoding="utf-8")
    return replace(settings, taskforce_groups=(ChatRef.group("sim:tf"),), report_time=time(17, 30),
                   lag_checkin_rate=0.6, lag_survey_rate=0.8, lag_remind_minutes=30,
                   labour_csv=labour, extra={"charts_dir": str(tmp_path / "charts")})


async def district(bot) -> dict[str, int]:
    """歪脚村: 5 registered (one typed 歪脚), 2 checked in by 17:00 — 40% — and 5 of 10 surveyed;
    龙井村: 4 of 4, all checked in; 石板镇/石板村 (no labour count): 2, nobody checked in;
    石板镇/摆勺村: nobody registered of 20."""
    ids: dict[str, int] = {}
    async with bot.app.db.session() as s:
        for user, name, township, village in [
            ("a1", "王小明", "青岩镇", "歪脚村"), ("a2", "李秀英", "青岩镇", "歪脚村"),
            ("a3", "张三丰", "青岩镇", "歪脚村"), ("a4", "赵四海", "青岩镇", "歪脚村"),
            ("a5", "钱五福", "青岩镇", "歪脚"),
            ("b1", "孙六顺", "青岩镇", "龙井村"), ("b2", "周七星", "青岩镇", "龙井村"),
            ("b3", "吴八斗", "青岩镇", "龙井村"), ("b4", "郑九龙", "青岩镇", "龙井村"),
            ("c1", "冯十全", "石板镇", "石板村"), ("c2", "陈一鸣", "石板镇", "石板村"),
        ]:
            w = await add_worker(s, f"sim:{user}", name=name, township=township, village=village)
            ids[user] = w.id
        for user in ("a1", "b1", "b2", "b3", "b4"):
            s.add(checkin(ids[user], bj("2024-02-03 08:30")))
        await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")
        await add_cadre(s, "sim:vil2", "village", "青岩镇", "龙井村", name="周书记")
        await add_cadre(s, "sim:vil3", "village", "石板镇", "石板村", name="吴书记")
        await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:town2", "township", "石板镇", name="郑镇长")
        await add_cadre(s, "sim:dist", "district", name="赵专班")
        await add_cadre(s, "sim:bur", "bureau", name="钱就业")
    return ids


def reminders(out: list[dict]) -> dict[str, str]:
    """The reminders sent, by recipient (not the workers' check-in reminders)."""
    return {o["to"]: o["text"] for o in out
            if o.get("chat") == "private" and ("请关注" in o["text"] or "的情况：" in o["text"])}


def no_blame(text: str) -> None:
    for word in BLAME:
        assert word not in text, word


async def test_reminders_before_the_report_then_the_report_lists_the_villages(lag_settings):
    from tests.harness import BotDriver

    async with BotDriver(lag_settings) as bot:  # 2024-02-03 09:00
        await district(bot)
        # a worker checks in by replying, through the whole pipeline: 歪脚村 is now 2 of 5
        assert "打卡成功" in await bot.ask("a2", "36.5 正常 在家")
        assert reminders(await bot.feed({"clock": "2024-02-03T16:59"})) == {}
        out = await bot.feed({"clock": "2024-02-03T17:00"})
        sent = reminders(out)
        assert sorted(sent) == ["town", "town2", "vil", "vil3"]  # not 龙井村, the district, the bureau
        assert [o for o in out if o.get("chat") != "private"] == []
        vil = sent["vil"]
        assert vil.startswith("李书记，您好！今天（2月3日）截至17:00，歪脚村的情况：")
        assert "· 今日打卡 2/5 人（40%），还有 3 人没打卡。发“/名单 未打卡”可以看是谁" in vil
        assert "· 摸排登记 5 人，劳动力约 10 人（进度 50%）。入户时可以用“/登记”" in vil
        assert "17:30 发日报，现在补上还来得及。辛苦了！" in vil
        town = sent["town"]
        assert town.startswith("孙镇长，您好！今天（2月3日）截至17:00，青岩镇有 1 个村请关注：")
        assert "· 歪脚村：打卡 2/5 人（40%），摸排 5/10 人（50%）\n" in town
        assert "/名单 未打卡 歪脚村" in town and "龙井村" not in town
        town2 = sent["town2"]
        assert "石板镇有 2 个村请关注" in town2
        assert "· 石板村：打卡 0/2 人（0%）" in town2 and "· 摆勺村：摸排 0/20 人（0%）" in town2
        assert "今日打卡 0/2 人（0%），还有 2 人没打卡" in sent["vil3"]
        assert "摸排" not in sent["vil3"]  # 石板村 has no labour count
        for text in sent.values():
            no_blame(text)
            assert "王小明" not in text and "李秀英" not in text

        out = await bot.feed({"clock": "2024-02-03T17:30"})
        [report] = [o["text"] for o in out if o.get("chat") == TF]
        block = report[report.index("打卡率低于"):report.index("各村明细")].strip().splitlines()
        assert block == ["打卡率低于60%的村（请关注）：", "　青岩镇：歪脚村40%",
                         "　石板镇：石板村0%",
                         "摸排进度低于80%的村（请关注）：", "　青岩镇：歪脚村50%",
                         "　石板镇：摆勺村0%"]
        no_blame(report)
        assert max(len(line) for line in report.splitlines() if not line.startswith("尚无登记")) <= 24
        async with bot.app.db.session() as s:
            runs = sorted((await s.execute(select(JobRun.key).where(JobRun.job == "lag_remind")))
                          .scalars())
        assert len(runs) == 4 and all(r.startswith("2024-02-03:") for r in runs)

        # once a day: a restart, the clock passing the time again on another day
        await bot.restart()
        assert reminders(await bot.feed({"sync": 1})) == {}
        out = await bot.feed({"clock": "2024-02-04T17:00"})
        assert sorted(reminders(out)) == ["town", "town2", "vil", "vil2", "vil3"]  # nobody checked in
        assert "今日打卡 0/4 人（0%）" in reminders(out)["vil2"]


async def test_a_bot_down_at_the_reminder_time_sends_it_before_the_report_only(lag_settings):
    from tests.harness import BotDriver

    bot = BotDriver(lag_settings)
    await bot.boot()
    await district(bot)
    await bot.shutdown()
    try:
        await bot.boot(datetime(2024, 2, 3, 17, 10, tzinfo=BJ))
        assert sorted(reminders(await bot.feed({"sync": 1}))) == ["town", "town2", "vil", "vil3"]
        await bot.restart()
        assert reminders(await bot.feed({"sync": 2})) == {}
        await bot.shutdown()
        await bot.boot(datetime(2024, 2, 4, 17, 40, tzinfo=BJ))  # after the report: too late
        assert reminders(await bot.feed({"sync": 3})) == {}
    finally:
        await bot.shutdown()


async def test_everyone_checked_in_and_surveyed_means_no_reminder_and_no_block(lag_settings,
                                                                                 tmp_path):
    from tests.harness import BotDriver

    labour = tmp_path / "full.csv"
    labour.write_text("乡镇,村,劳动力人数\n青岩镇,龙井村,4\n", encoding="utf-8")
    settings = replace(lag_settings, labour_csv=labour)
    async with BotDriver(settings) as bot:
        ids = await district(bot)
        async with bot.app.db.session() as s:
            for user in ("a2", "a3", "a4", "a5", "c1", "c2"):
                s.add(checkin(ids[user], bj("2024-02-03 09:00")))
        out = await bot.feed({"clock": "2024-02-03T17:30"})
        assert reminders(out) == {}
        [report] = [o["text"] for o in out if o.get("chat") == TF]
        assert "请关注" not in report and "低于" not in report


async def test_a_broken_labour_file_leaves_out_survey_progress_only(lag_settings, tmp_path, caplog):
    from tests.harness import BotDriver

    broken = tmp_path / "broken.csv"
    broken.write_text("乡镇,村,劳动力人数\n火星镇,歪脚村,10\n", encoding="utf-8")
    async with BotDriver(replace(lag_settings, labour_csv=broken)) as bot:
        await district(bot)
        out = await bot.feed({"clock": "2024-02-03T17:30"})
        [report] = [o["text"] for o in out if o.get("chat") == TF]
        assert "打卡率低于60%的村（请关注）：" in report and "摸排进度" not in report
        assert "劳动力人数表" in caplog.text and "第2行" in caplog.text


async def test_no_reminder_job_when_it_is_turned_off(lag_settings):
    from tests.harness import BotDriver

    async with BotDriver(replace(lag_settings, lag_remind_minutes=0)) as bot:
        assert "lag_remind" not in [j.name for j in all_jobs(bot.app)]
        await district(bot)
        out = await bot.feed({"clock": "2024-02-03T17:30"})
        assert reminders(out) == {}
        assert any("打卡率低于" in o["text"] for o in out if o.get("chat") == TF)


async def test_the_pre_flight_check_names_a_mistake_in_the_labour_file(tmp_path):
    from tests.test_doctor import run_check

    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    code, out, _ = await run_check(url)
    assert code == 0 and "劳动力人数表还没有填" in out
    broken = tmp_path / "labour.csv"
    broken.write_text("乡镇,村,劳动力人数\n青岩镇,歪脚村,10\n青岩镇,龙井村,很多\n", encoding="utf-8")
    code, out, _ = await run_check(url, LABOUR_CSV=str(broken))
    assert code == 0 and "劳动力人数表 labour.csv 有误" in out and "第3行" in out
    broken.write_text("乡镇,村,劳动力人数\n青岩镇,歪脚村,10\n", encoding="utf-8")
    code, out, _ = await run_check(url, LABOUR_CSV=str(broken))
    assert "劳动力人数表：1 个村（labour.csv）" in out
