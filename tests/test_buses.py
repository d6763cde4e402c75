"""点对点 chartered buses: publishing, invitations, sign-up, the passenger list, and the seat
limit when several workers sign up at the same moment (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from models.tables import AuditLog, Bus, BusSeat, Checkin
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver

AT = datetime(2024, 2, 3, 1, 0, tzinfo=UTC)
BUS_STEPS = [
    ("广东东莞", "哪天出发"),
    ("2月15日", "座位"),
    ("2", "集合"),
    ("青岩镇政府门口 早上7点", "带队人"),
    ("张三 13800001111", "请核对包车信息"),
]


async def setup(bot: BotDriver) -> dict[str, int]:
    ids = {}
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:dist", "district", name="赵专班")
        await add_cadre(s, "sim:bur", "bureau", name="钱就业")
        await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")
        for user, name, township, village, city, day, status in [
            ("w1", "王小明", "青岩镇", "歪脚村", "广东东莞", date(2024, 2, 15), "待返岗"),
            ("w2", "王大山", "青岩镇", "龙井村", "东莞市", date(2024, 2, 17), "待返岗"),
            ("w3", "李春花", "青岩镇", "歪脚村", "广东省东莞市", date(2024, 2, 25), "待返岗"),
            ("w4", "张秋生", "青岩镇", "歪脚村", "浙江宁波", date(2024, 2, 15), "待返岗"),
            ("w5", "刘冬梅", "青岩镇", "歪脚村", None, None, "暂无岗位"),
            ("w6", "陈六", "孟关苗族布依族乡", "高寨村", "广东东莞", date(2024, 2, 14), "待返岗"),
            (None, "吴七", "青岩镇", "歪脚村", "东莞", date(2024, 2, 15), "待返岗"),
        ]:
            w = await add_worker(s, f"sim:{user}" if user else None, name=name, township=township,
                                 village=village, work_city=city, return_date=day, status=status,
                                 work_area="省外" if city else None, health="健康")
            ids[user or name] = w.id
    return ids


async def answer(bot, user, steps) -> str:
    reply = ""
    for text, expected in steps:
        reply = await bot.ask(user, text)
        assert expected in reply, f"after {text!r} expected {expected!r} in:\n{reply}"
    return reply


async def test_township_bus_invites_workers_going_that_way(settings):
    async with BotDriver(settings) as bot:
        await setup(bot)
        assert "开往哪里" in await bot.ask("town", "/包车")
        summary = await answer(bot, "town", BUS_STEPS)
        assert "座位数：2人" in summary and "2024年2月15日" in summary
        out = await bot.say("town", "确认")
        invited = sorted(o["to"] for o in out if "报名包车 1" in o["text"] and o["to"] != "town")
        # w3 returns on 2/25 (too late), w4 goes to 宁波, w5 has no job, w6 is in 孟关
        assert invited == ["w1", "w2"]
        invite = next(o["text"] for o in out if o["to"] == "w1")
        assert "包车1号：2月15日开往广东东莞" in invite and "带队：张三 13800001111" in invite
        reply = next(o["text"] for o in out if o["to"] == "town")
        assert "已通知 2 位" in reply and "另有 1 人没有绑定微信/QQ" in reply
        async with bot.app.db.session() as s:
            bus = await s.get(Bus, 1)
        assert (bus.township, bus.seats, bus.taken, bus.escort) == ("青岩镇", 2, 0, "张三 13800001111")
        # 孟关's worker may not take a seat on 青岩镇's bus
        assert "只接青岩镇的务工人员" in await bot.ask("w6", "报名包车 1")


async def test_district_bus_reaches_every_township(settings):
    async with BotDriver(settings) as bot:
        await setup(bot)
        await bot.ask("dist", "/包车")
        await answer(bot, "dist", BUS_STEPS)
        out = await bot.say("dist", "确认")
        invited = sorted(o["to"] for o in out if "报名包车 1" in o["text"] and o["to"] != "dist")
        assert invited == ["w1", "w2", "w6"]


async def test_sign_up_full_duplicate_cancel_and_passenger_list(settings):
    async with BotDriver(settings) as bot:
        ids = await setup(bot)
        await bot.ask("bur", "/包车")
        await answer(bot, "bur", BUS_STEPS)
        await bot.ask("bur", "确认")
        async with bot.app.db.session() as s:
            s.add(Checkin(worker_id=ids["w2"], day=date(2024, 2, 3), at=AT, temperature=38.1,
                          symptoms=["发热"], abnormal=True))
        ok = await bot.ask("w1", "报名包车 1")
        assert "报名成功" in ok and "您是第1位" in ok and "取消包车 1" in ok
        assert "您已经报名了" in await bot.ask("w1", "报名包车1")
        second = await bot.ask("w2", "报名包车 1号")
        assert "您是第2位" in second and "定点医院" in second  # abnormal check-in today
        full = await bot.ask("w4", "报名包车 1")
        assert "已经报满了" in full
        passengers = await bot.ask("bur", "/包车 1")
        assert "已报名 2/2 人（已满）" in passengers
        assert "王*明" in passengers and "王*山" in passengers and "王小明" not in passengers
        assert "138****" in passengers
        # the bureau sees employment data only: no health status, no check-in
        assert "异常" not in passengers and "打卡" not in passengers and "健康" not in passengers
        # cancelling frees the seat for someone else
        assert "已取消" in await bot.ask("w1", "取消包车 1")
        assert "您没有报名" in await bot.ask("w1", "取消包车 1")
        assert "报名成功" in await bot.ask("w4", "报名包车 1")
        # the passenger list is personal: never in a group; the bus list may be
        group = await bot.say("bur", "/包车 1", chat="group:g1")
        assert "请私聊我" in group[0]["text"] and "王" not in group[0]["text"]
        listing = await bot.say("bur", "/包车 列表", chat="group:g1")
        assert "已报名2/2" in listing[0]["text"]
        # who may see it: the task force; not a township (the bus is district-wide), not a village
        district = await bot.ask("dist", "/包车 1")
        assert "已报名 2/2 人" in district
        assert "⚠异常：38.1℃ 发热" in district and "今日：未打卡" in district
        assert "没有您能查看的包车1号" in await bot.ask("town", "/包车 1")
        assert "权限内" in await bot.ask("vil", "/包车 1")
        async with bot.app.db.session() as s:
            rows = (await s.execute(select(AuditLog.actor).where(
                AuditLog.action == "bus.passengers"))).scalars().all()
        assert rows == ["sim:bur", "sim:dist"]


async def test_sign_up_edge_cases(settings):
    async with BotDriver(settings) as bot:
        await setup(bot)
        assert "要先登记" in await bot.ask("stranger", "报名包车 1")
        assert "没有找到包车1号" in await bot.ask("w1", "报名包车 1")
        async with bot.app.db.session() as s:
            s.add(Bus(destination="广东东莞", day=date(2024, 2, 1), seats=10,
                      meeting_point="青岩", created_at=AT))
        assert "已经在2月1日发车了" in await bot.ask("w1", "报名包车 1")
        assert "用法" in await bot.ask("town", "/包车 明天")
        assert "没有待发的包车" in await bot.ask("town", "/包车 列表")
        assert "开往哪里" in await bot.ask("town", "/包车")
        assert "哪天出发" in await bot.ask("town", "广东东莞")
        assert "已经过去了" in await bot.ask("town", "2月1日")


async def _race(bot: BotDriver, users: list[str], bus_id: int) -> list[str]:
    results = await asyncio.gather(*(bot.say(u, f"报名包车 {bus_id}") for u in users))
    outputs = [o for out in results for o in out] + await bot.feed({"sync": 1})
    return [o["text"] for o in outputs if "text" in o]


async def test_two_workers_signing_up_at_the_same_moment_never_overfill(settings):
    async with BotDriver(settings) as bot:
        ids = await setup(bot)
        async with bot.app.db.session() as s:
            s.add(Bus(destination="广东东莞", day=date(2024, 2, 15), seats=1,
                      meeting_point="青岩镇政府", created_at=AT))
        texts = await _race(bot, ["w1", "w2"], 1)
        assert sum("报名成功" in t for t in texts) == 1
        assert sum("已经报满了" in t for t in texts) == 1
        async with bot.app.db.session() as s:
            bus = await s.get(Bus, 1)
            seats = (await s.execute(select(func.count()).select_from(BusSeat))).scalar_one()
        assert bus.taken == 1 and seats == 1
        assert ids


async def test_many_workers_racing_for_few_seats(settings):
    async with BotDriver(settings) as bot:
        await setup(bot)
        async with bot.app.db.session() as s:
            s.add(Bus(destination="广东东莞", day=date(2024, 2, 15), seats=3,
                      meeting_point="青岩镇政府", created_at=AT))
            for i in range(8):
                await add_worker(s, f"sim:r{i}", name=f"赛跑{'一二三四五六七八'[i]}")
        for _ in range(2):  # twice, so a second wave meets a full bus too
            texts = await _race(bot, [f"r{i}" for i in range(8)], 1)
        async with bot.app.db.session() as s:
            bus = await s.get(Bus, 1)
            seats = (await s.execute(select(func.count()).select_from(BusSeat))).scalar_one()
        assert bus.taken == 3 and seats == 3
        assert sum("报名成功" in t for t in texts) == 0 and sum("已经报满了" in t for t in texts) + sum(
            "您已经报名了" in t for t in texts) == 8
