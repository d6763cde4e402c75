"""错峰出行: where workers go (destination_of), the spread and bus proposals, the daily job to the
township cadres and the task force (private, masked, once, again only when a group grew
notably, caught up after the bot was down), and ``/错峰`` for each role — on SQLite and
PostgreSQL, through the replay pipeline."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import ConfigError, Settings
from bot.messages import ChatRef
from dialogs.parsing.errors import ParseError
from handlers.stagger import parse_days
from models.tables import AuditLog, JobRun
from scheduler.stagger import (
    Destination,
    Traveller,
    bus_ideas,
    daily,
    destination_of,
    level,
    spreads_of,
)
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver

BJ = ZoneInfo("Asia/Shanghai")
D = date(2024, 2, 10)  # the crowded day; the tests start on 2024-02-03 (a Saturday)
DG = Destination("东莞", "广东东莞")


@pytest.mark.parametrize(("typed", "key", "label"), [
    ("广东东莞", "东莞", "广东东莞"),
    ("东莞市", "东莞", "广东东莞"),
    ("广东省东莞市长安镇", "东莞", "广东东莞"),
    ("东莞长安", "东莞", "广东东莞"),
    ("深圳宝安", "深圳", "广东深圳"),
    ("浙江宁波", "宁波", "浙江宁波"),
    ("江苏常熟市", "常熟", "江苏常熟"),  # a city the lexicon does not know, after a province
    ("江苏省常熟", "常熟", "江苏常熟"),
    ("福建石狮", "石狮", "福建石狮"),
    ("广东", "广东", "广东"),
    ("贵阳", "贵阳", "贵阳"),  # in the home province: no province in front
    ("上海", "上海", "上海"),
    ("  广东　东莞！ ", "东莞", "广东东莞"),
])
def test_destination_of(typed, key, label):
    assert destination_of(typed) == Destination(key, label)


@pytest.mark.parametrize("typed", [None, "", "外省", "外地", "省外", "东", "？？", "😀"])
def test_no_destination_for_vague_or_empty_places(typed):
    assert destination_of(typed) is None


def travellers(counts: dict[date, int], dest: Destination = DG) -> list[Traveller]:
    found, n = [], 0
    for day, count in counts.items():
        for _ in range(count):
            n += 1
            found.append(Traveller(n, f"王{n}明", "青岩镇", "歪脚村", day, dest))
    return found


def test_a_crowded_day_is_spread_evenly_over_the_days_around_it():
    people = travellers({D - timedelta(1): 1, D: 18, D + timedelta(2): 1})
    [s] = spreads_of(DG, people, first=date(2024, 2, 4), last=date(2024, 2, 17), threshold=10,
                     spread=2)
    assert s.days == [D + timedelta(i) for i in range(-2, 3)]
    assert s.before == [0, 1, 18, 0, 1]
    assert s.after == [4, 4, 4, 4, 4] and s.enough and s.moves == 14
    assert s.hot == [(D, 18)] and len(s.names) == 18 and s.names[0] == "王*明"


def test_spreading_near_today_and_two_crowded_days_in_one_window():
    # the window never starts before tomorrow; overlapping windows are one
    people = travellers({date(2024, 2, 4): 12, date(2024, 2, 6): 11})
    [s] = spreads_of(DG, people, first=date(2024, 2, 4), last=date(2024, 2, 17), threshold=10,
                     spread=2)
    assert s.days[0] == date(2024, 2, 4) and s.days[-1] == date(2024, 2, 8)
    assert sum(s.after) == 23 and max(s.after) - min(s.after) <= 1
    assert s.after[0] == 5 and s.after[2] == 5  # the extra ones stay on the crowded days
    # too many for ±2 days: the proposal says so
    [s] = spreads_of(DG, travellers({D: 60}), first=date(2024, 2, 4), last=date(2024, 2, 17),
                     threshold=10, spread=2)
    assert s.after == [12] * 5 and not s.enough
    # below the threshold: nothing
    assert spreads_of(DG, travellers({D: 9}), first=date(2024, 2, 4), last=date(2024, 2, 17),
                      threshold=10, spread=2) == []


def test_bus_ideas_pick_the_busiest_span_and_its_middle_day():
    people = travellers({D: 8, D + timedelta(1): 6, D + timedelta(3): 2,
                         date(2024, 2, 17): 3})
    # 2/7 … 2/14 hold 16 whichever day in 2/10 … 2/13 the bus goes; 2/10 and 2/11 are nearest
    # to everybody's own date (12 days in all), and the earlier is taken
    [idea] = bus_ideas(DG, people, first=date(2024, 2, 4), last=date(2024, 2, 17), minimum=15)
    assert idea.count == 16 and idea.day == D
    assert (idea.first, idea.last) == (D, D + timedelta(3))
    assert bus_ideas(DG, people, first=date(2024, 2, 4), last=date(2024, 2, 17), minimum=20) == []
    # everyone on one day: the bus goes that day, not three days before
    [idea] = bus_ideas(DG, travellers({D: 20}), first=date(2024, 2, 4), last=date(2024, 2, 17),
                       minimum=15)
    assert idea.day == D


def test_level_grows_by_half():
    assert [level(n, 10) for n in (10, 14, 15, 22, 23, 33, 34)] == [0, 0, 1, 1, 2, 2, 3]


@pytest.mark.parametrize(("typed", "days"), [
    ("", 14), ("7", 7), ("７天", 7), ("七", 7), ("十天", 10), ("两周", 14), ("一个星期", 7),
    ("今后10天", 10), ("未来三天内", 3), ("60", 60),
])
def test_days_argument(typed, days):
    assert parse_days(typed, 14) == days


@pytest.mark.parametrize("typed", ["0", "61", "abc", "明天", "-3", "3.5", "<b>7</b>"])
def test_days_argument_refused_with_a_clear_prompt(typed):
    with pytest.raises(ParseError) as caught:
        parse_days(typed, 14)
    assert "1 到 60" in caught.value.hint and "/错峰 7" in caught.value.hint


def test_settings():
    s = Settings.from_env({"STAGGER_THRESHOLD": "8", "BUS_SUGGEST_MIN": "25", "STAGGER_DAYS": "10",
                           "STAGGER_SPREAD_DAYS": "3", "STAGGER_TIME": "10:15"}, dotenv=False)
    assert (s.stagger_threshold, s.bus_suggest_min, s.stagger_days, s.stagger_spread_days,
            s.stagger_time) == (8, 25, 10, 3, time(10, 15))
    d = Settings.from_env({}, dotenv=False)
    assert (d.stagger_threshold, d.bus_suggest_min, d.stagger_days, d.stagger_spread_days,
            d.stagger_time) == (10, 20, 14, 2, time(9, 30))
    for name, value in (("STAGGER_THRESHOLD", "很多"), ("STAGGER_DAYS", "0"),
                        ("BUS_SUGGEST_MIN", "1"), ("STAGGER_TIME", "9点")):
        with pytest.raises(ConfigError) as caught:
            Settings.from_env({name: value}, dotenv=False)
        assert name in str(caught.value)


# ----- the whole flow ----------------------------------------------------------------------------
@pytest.fixture
def st_settings(settings):
    return replace(settings, stagger_threshold=10, bus_suggest_min=15, stagger_days=14,
                   stagger_spread_days=2, stagger_time=time(9, 30),
                   taskforce_groups=(ChatRef.group("sim:tf"),))


NAMES = ["王小明", "李秀英", "张三丰", "赵四海", "钱五福", "孙六顺", "周七星", "吴八斗", "郑九龙",
         "冯十全", "陈一鸣", "褚二妹", "卫三娃", "蒋四妹", "沈五妹", "韩六妹", "杨七妹", "朱八妹",
         "秦九妹", "尤十妹", "许一妹", "何二哥"]


async def people(bot: BotDriver) -> None:
    """青岩镇: 12 to 东莞 on 2/10 (crowded), 2 on 2/9, 1 on 2/12 (东莞市) — 15 within ±3 days
    (a bus); 石板镇: 3 to 东莞 on 2/10 (not crowded).  And those who do not count."""
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:town2", "township", "石板镇", name="周镇长")
        await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")
        await add_cadre(s, "sim:dist", "district", name="赵专班")
        await add_cadre(s, "sim:bur", "bureau", name="钱就业")
        n = 0

        async def add(day, city="广东东莞", township="青岩镇", village="歪脚村", **fields):
            nonlocal n
            fields.setdefault("status", "待返岗")
            fields.setdefault("work_area", "省外")
            await add_worker(s, f"sim:w{n}", name=NAMES[n % len(NAMES)] + ("" if n < len(NAMES)
                                                                            else str(n)),
                             township=township, village=village, work_city=city,
                             return_date=day, **fields)
            n += 1

        for _ in range(12):
            await add(D, village="歪脚村" if n % 2 else "龙井村")
        await add(D - timedelta(1))
        await add(D - timedelta(1))
        await add(D + timedelta(2), city="东莞市")
        for _ in range(3):
            await add(D, township="石板镇", village="石板村")
        # not counted: 县内 work, no job yet, leaving today, too far ahead, a vague place
        await add(D, city=None, work_area="县内")
        await add(None, city=None, status="暂无岗位", work_area=None)
        await add(date(2024, 2, 3))
        await add(date(2024, 2, 25))
        await add(D, city="外地")


def private(out: list[dict], user: str) -> str:
    return "\n".join(o["text"] for o in out if o.get("chat") == "private" and o.get("to") == user)


def flat(text: str) -> str:
    """The text with wrapped lines joined again (a wrapped line goes on after “\n　”)."""
    return text.replace("\n　", " ")


def told(out: list[dict]) -> list[str]:
    return sorted(o["to"] for o in out if o.get("chat") == "private" and "错峰出行" in o["text"])


def no_full_names(text: str) -> None:
    for name in NAMES:
        assert name not in text, name
    assert not re.search(r"1[3-9]\d{9}", text)  # no phone numbers


async def test_daily_proposal_to_the_township_cadre_and_the_task_force(st_settings):
    async with BotDriver(st_settings) as bot:  # 2024-02-03 09:00
        await people(bot)
        assert told(await bot.feed({"clock": "2024-02-03T09:29"})) == []
        out = await bot.feed({"clock": "2024-02-03T09:30"})
        assert told(out) == ["dist", "town"]  # not 石板镇 (3 people), not villages, not the bureau
        assert [o for o in out if o.get("chat") != "private"] == []  # nothing in any group
        town = private(out, "town")
        assert town.startswith("孙镇长，您好！【错峰出行建议】青岩镇，今后14天：")
        assert "▪广东东莞：2月10日12人打算出发" in town
        assert "王*明" in town and "李*英" in town and "等12人" in town
        # 2/8 … 2/12: 0, 2, 12, 0, 1 → 15 over five days, 3 a day
        assert "建议分到2月8日—12日，每天约3人：" in town
        assert "8日0→3 9日2→3 10日12→3 11日0→3 12日1→3" in flat(town)
        assert "共15人返岗，够组织一趟点对点包车" in town
        assert "发 /包车 组织：目的地填“东莞”，出发日期2月10日。" in town
        assert "哪天走请和本人、用工单位商量" in town and "/名单 未返岗" in town
        no_full_names(town)
        dist = private(out, "dist")
        assert "【错峰出行建议】全区" in dist and "〔青岩镇〕已告诉乡镇干部" in dist
        assert "2月10日12人打算出发" in dist and "石板镇" not in dist
        no_full_names(dist)

        # the next days: nothing new, nothing sent — also across a restart
        assert told(await bot.feed({"clock": "2024-02-04T09:30"})) == []
        await bot.restart()
        assert told(await bot.feed({"clock": "2024-02-04T12:00"})) == []

        # the crowd grows by half (12 → 18 on 2/10): proposed again, the bus not (15 → 21)
        async with bot.app.db.session() as s:
            for i in range(6):
                await add_worker(s, None, name=f"新来{i}", work_city="东莞", return_date=D,
                                 status="待返岗", work_area="省外")
        out = await bot.feed({"clock": "2024-02-05T09:30"})
        assert told(out) == ["dist", "town"]
        town = private(out, "town")
        assert "2月10日18人打算出发" in town and "包车" not in town.split("以上是建议")[0]
        async with bot.app.db.session() as s:
            keys = sorted((await s.execute(select(JobRun.key).where(JobRun.job == "stagger")))
                          .scalars())
        assert keys == ["2024-02-03", "2024-02-04", "2024-02-05"]


async def test_a_township_without_its_cadre_is_passed_to_the_task_force(st_settings):
    settings = replace(st_settings, stagger_threshold=3)
    async with BotDriver(settings) as bot:
        await people(bot)
        async with bot.app.db.session() as s:
            from models.tables import Cadre

            (await s.get(Cadre, 2)).active = False  # 石板镇's cadre left
        out = await bot.feed({"clock": "2024-02-03T09:30"})
        assert told(out) == ["dist", "town"]
        dist = private(out, "dist")
        assert "〔石板镇〕还没有乡镇干部绑定机器人，请转告" in dist
        assert "2月10日3人打算出发" in dist


async def test_nobody_to_tell_keeps_the_proposal_for_later(st_settings):
    async with BotDriver(st_settings) as bot:
        await people(bot)
        async with bot.app.db.session() as s:
            from models.tables import Cadre

            for cadre in (await s.execute(select(Cadre))).scalars():
                cadre.active = cadre.role not in ("township", "district")
        assert told(await bot.feed({"clock": "2024-02-03T09:30"})) == []
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:new", "township", "青岩镇", name="新镇长")
        out = await bot.feed({"clock": "2024-02-04T09:30"})
        assert told(out) == ["new"] and "2月10日12人打算出发" in private(out, "new")


async def test_a_bot_down_at_the_time_sends_once_when_it_starts(st_settings):
    bot = BotDriver(st_settings)
    await bot.boot()  # 09:00
    await people(bot)
    await bot.shutdown()
    try:
        await bot.boot(datetime(2024, 2, 3, 11, 0, tzinfo=BJ))
        assert told(await bot.feed({"sync": 1})) == ["dist", "town"]
        await bot.restart()
        assert told(await bot.feed({"sync": 2})) == []
        # after 20:00 a missed day is not caught up (and it stays owed to nobody)
        await bot.shutdown()
        await bot.boot(datetime(2024, 2, 4, 21, 0, tzinfo=BJ))
        assert told(await bot.feed({"sync": 3})) == []
    finally:
        await bot.shutdown()


async def test_the_job_twice_at_once_sends_once(st_settings):
    async with BotDriver(st_settings) as bot:
        await people(bot)
        when = datetime(2024, 2, 3, 9, 30, tzinfo=BJ)
        first = await daily(bot.app, when)
        assert first == 2 and await daily(bot.app, when) == 0


async def test_cadres_see_their_scope_with_stagger_command(st_settings):
    async with BotDriver(st_settings) as bot:
        await people(bot)
        town = await bot.ask("town", "/错峰")
        assert town.startswith("【错峰出行】青岩镇 2月4日—17日\n待返岗、要去县外的 15 人")
        assert "▪广东东莞 15人：2月9日2 10日12⚠ 12日1" in flat(town)
        assert "另有1人的务工城市没填或看不出。" in town
        assert "建议分到2月8日—12日" in town and "王*明" in town
        assert "⚠：同一天去同一个地方有10人以上" in town
        no_full_names(town)
        vil = await bot.ask("vil", "/错峰")
        assert vil.startswith("【错峰出行】青岩镇歪脚村") and "▪广东东莞 9人：2月9日2 10日6 12日1" in vil
        assert "建议" not in vil.split("⚠：")[0]
        town2 = await bot.ask("town2", "/错峰")
        assert "▪广东东莞 3人：2月10日3" in town2 and "暂时不用错峰" in town2
        bur = await bot.ask("bur", "/错峰")
        assert "〔青岩镇〕15人" in bur and "〔石板镇〕3人" in bur and "【错峰出行】全区" in bur
        short = await bot.ask("town", "/错峰 3")
        assert short.startswith("【错峰出行】青岩镇 2月4日—6日\n这几天没有")
        assert "天数请写 1 到 60" in await bot.ask("town", "/错峰 很多天")
        assert "工作人员用的命令" in await bot.ask("w0", "/错峰")
        # in a group: counts, no names
        out = await bot.say("town", "/错峰", chat="group:g1")
        text = "\n".join(o["text"] for o in out)
        assert "▪广东东莞 15人" in text and "*" not in text
        async with bot.app.db.session() as s:
            actions = (await s.execute(select(AuditLog.actor).where(
                AuditLog.action == "stagger.view"))).scalars().all()
        assert sorted(set(actions)) == ["sim:bur", "sim:town", "sim:town2", "sim:vil"]


async def test_an_open_bus_replaces_the_proposal_and_its_passengers_leave_the_count(st_settings):
    async with BotDriver(st_settings) as bot:
        await people(bot)
        await bot.ask("town", "/包车")
        for text in ("广东东莞", "2月10日", "20", "青岩镇政府门口 早上7点", "跳过"):
            await bot.ask("town", text)
        await bot.say("town", "确认")
        for user in ("w0", "w1", "w2"):
            assert "报名成功" in await bot.ask(user, "报名包车 1")
        town = await bot.ask("town", "/错峰")
        assert "另有3人已报名包车（不算在内），1人的务工城市没填或看不出。" in town
        assert "▪广东东莞 12人：2月9日2 10日9 12日1" in flat(town)  # 9 on 2/10: no longer crowded
        assert "已有包车1号（2月10日，已报名3/20）" in town and "还有12人没报名" in town
        assert "报名包车 1" in town
        out = await bot.feed({"clock": "2024-02-03T09:30"})
        assert told(out) == []  # nothing crowded; the bus is organised
