"""Safe departure (安全出行) through the replay pipeline, on SQLite and PostgreSQL: the handbook and
the health declaration the day before a departure (by return date or by chartered bus), once per
departure across restarts and two instances; normal, abnormal and corrected declarations and who
hears of them; bad answers; a worker in the middle of another form; /发口罩 with its scope,
audit and the tally; 注销."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from bot.app import App
from bot.clock import ManualClock
from bot.messages import ChatRef
from models.departure import DepartureDeclaration, MaskHandout
from models.tables import AuditLog, Bus, BusSeat, DialogState, Nudge, OutboxMessage
from models.tally import compute_tally
from scheduler.departure import HANDBOOK, handbook_text, send_handbooks
from scheduler.report_text import report_text
from tests.factories import NOW, add_cadre, add_worker
from tests.harness import BotDriver, with_settings

EVE = "2024-02-14"  # the day before the departures
DAY = date(2024, 2, 15)
ANSWERS_OK = [("36.5", "最近14天"), ("没有", "接触过"), ("没有", "怎么去"), ("不变", "请核对")]


def tf(settings):
    return with_settings(settings, taskforce_groups=(ChatRef.group("sim:tf"),))


async def people(bot: BotDriver) -> dict[str, int]:
    """w1 returns by train tomorrow; w2 has a seat on tomorrow's bus (organised by the bureau);
    the others are not leaving tomorrow by the rules: w3 the day after, w4 already back at work,
    w5 on a bus two days earlier, nochat without WeChat/QQ, cv a cadre registered as a worker."""
    ids: dict[str, int] = {}
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:cv", "village", "青岩镇", "歪脚村", name="李书记")
        await add_cadre(s, "sim:ct", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:cd", "district", name="赵专班")
        await add_cadre(s, "sim:co", "village", "青岩镇", "龙井村", name="周书记")
        bureau = await add_cadre(s, "sim:cb", "bureau", name="钱就业")
        for user, name, extra in [
            ("w1", "王小明", {"return_date": DAY, "return_mode": "火车", "phone": "13812345678",
                             "group_name": "3组"}),
            ("w2", "王大山", {"return_date": DAY + timedelta(days=2), "return_mode": "自行返岗"}),
            ("w3", "李春花", {"return_date": DAY + timedelta(days=1)}),
            ("w4", "张秋生", {"return_date": DAY, "status": "已返岗"}),
            ("w5", "刘冬梅", {"return_date": DAY}),
            ("nochat", "赵老六", {"return_date": DAY}),
            ("cv", "李书记", {"return_date": DAY}),
        ]:
            fields = {"status": "待返岗", "work_city": "广东东莞", "work_area": "省外", **extra}
            w = await add_worker(s, None if user == "nochat" else f"sim:{user}", name=name,
                                 **fields)
            ids[user] = w.id  # type: ignore[assignment]
        tomorrow = Bus(destination="广东东莞", day=DAY, seats=40, taken=1,
                       meeting_point="青岩镇政府门口 早上7点", organiser=bureau.id, created_at=NOW)
        earlier = Bus(destination="广东东莞", day=DAY - timedelta(days=2), seats=40, taken=1,
                      meeting_point="青岩镇政府", created_at=NOW)
        s.add_all([tomorrow, earlier])
        await s.flush()
        ids["bus"] = tomorrow.id  # type: ignore[assignment]
        s.add_all([BusSeat(bus_id=tomorrow.id, worker_id=ids["w2"], at=NOW),  # type: ignore[arg-type]
                   BusSeat(bus_id=earlier.id, worker_id=ids["w5"], at=NOW)])  # type: ignore[arg-type]
    return ids


def to(out: list[dict], user: str) -> list[dict]:
    return [o for o in out if o.get("chat") == "private" and o.get("to") == user]


def text_to(out: list[dict], user: str) -> str:
    return "\n".join(o["text"] for o in to(out, user))


def private_recipients(out: list[dict]) -> list[str]:
    return sorted({o["to"] for o in out if o.get("chat") == "private"})


def handbooks(out: list[dict]) -> list[str]:
    """Who got the handbook (the daily check-in prompts go on as well)."""
    return sorted(o["to"] for o in out if o.get("chat") == "private" and "防护须知" in o["text"])


async def answer(bot: BotDriver, user: str, steps) -> list[dict]:
    out: list[dict] = []
    for text, expected in steps:
        out = await bot.say(user, text)
        reply = text_to(out, user)
        assert expected in reply, f"after {text!r} expected {expected!r} in:\n{reply}"
    return out


async def count(bot: BotDriver, model, *where) -> int:
    async with bot.app.db.session() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


# ----- the handbook ----------------------------------------------------------------------------
async def test_handbook_the_day_before_once_per_departure_even_across_restarts(settings):
    async with BotDriver(tf(settings), start=f"{EVE}T07:00") as bot:
        ids = await people(bot)
        assert handbooks(await bot.feed({"clock": f"{EVE}T09:59"})) == []
        out = await bot.feed({"clock": f"{EVE}T10:00"})
        assert handbooks(out) == ["w1", "w2"] and private_recipients(out) == ["w1", "w2"]
        assert [o for o in out if o.get("chat") != "private"] == []  # nothing in a group
        first, question = to(out, "w1")
        assert first["file"].endswith("departure_handbook.png")
        assert "王小明，您好！您登记的返岗时间是明天（2月15日）" in first["text"]
        assert "【返岗路上防护须知】" in first["text"] and "戴口罩" in first["text"]
        assert "路上不舒服" in first["text"] and "#" not in first["text"]  # comments left out
        assert "健康申报" in question["text"] and "今天量的体温" in question["text"]
        bus_handbook = to(out, "w2")[0]["text"]
        assert "您报名了明天（2月15日）开往广东东莞的包车" in bus_handbook
        assert "青岩镇政府门口 早上7点集合" in bus_handbook
        # Later runs the same day, a restart, a clock set back: nothing again.
        assert handbooks(await bot.feed({"clock": f"{EVE}T15:00"})) == []
        await bot.shutdown()
        await bot.boot(datetime.fromisoformat(f"{EVE}T09:30").replace(tzinfo=bot.settings.tz))
        assert handbooks(await bot.feed({"clock": f"{EVE}T11:00"})) == []
        assert await count(bot, Nudge, Nudge.kind == "departure_handbook") == 2
        # The day after, w3 (leaving on the 16th) gets it; nobody is written to at night.
        assert handbooks(await bot.feed({"clock": "2024-02-15T09:59"})) == []
        assert handbooks(await bot.feed({"clock": "2024-02-15T10:00"})) == ["w3"]
        assert ids


async def test_a_worker_registered_in_the_afternoon_still_gets_it(settings):
    async with BotDriver(settings, start=f"{EVE}T09:00") as bot:
        await bot.feed({"clock": f"{EVE}T10:00"})
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:late", name="晚登记", status="待返岗", return_date=DAY)
        out = await bot.feed({"clock": f"{EVE}T16:30"})
        assert handbooks(out) == ["late"] and "返岗时间是明天" in text_to(out, "late")
        # after 20:00 nobody new is written to
        await bot.feed({"clock": f"{EVE}T20:01"})
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:night", name="夜登记", status="待返岗", return_date=DAY)
        assert handbooks(await bot.feed({"clock": f"{EVE}T23:30"})) == []


async def test_two_instances_sending_together_send_once(settings):
    async with BotDriver(settings, start=f"{EVE}T07:00") as bot:
        await people(bot)
    when = datetime.fromisoformat(f"{EVE}T10:00").replace(tzinfo=settings.tz)
    apps = [App(settings, clock=ManualClock(when)) for _ in range(2)]
    try:
        await asyncio.gather(*(send_handbooks(app, when) for app in apps))
        async with apps[0].db.session() as s:
            files = (await s.execute(select(OutboxMessage.chat, func.count())
                                     .where(OutboxMessage.file.is_not(None))
                                     .group_by(OutboxMessage.chat))).all()
    finally:
        for app in apps:
            await app.db.close()
    assert sorted(files) == [("sim:private:w1", 1), ("sim:private:w2", 1)]


def test_handbook_text_is_the_editable_file(tmp_path):
    edited = tmp_path / "handbook.txt"
    edited.write_text("# 说明\n【须知】\n第一条：戴口罩\n", encoding="utf-8")
    assert handbook_text(edited) == "【须知】\n第一条：戴口罩"
    assert "戴好口罩" in handbook_text(tmp_path / "missing.txt")  # the short version
    assert "勤洗手" in handbook_text(HANDBOOK)


# ----- the declaration -------------------------------------------------------------------------
async def test_normal_declaration_is_recorded_and_tells_nobody_else(settings):
    async with BotDriver(tf(settings), start=f"{EVE}T09:00") as bot:
        ids = await people(bot)
        await bot.feed({"clock": f"{EVE}T10:00"})
        out = await answer(bot, "w1", ANSWERS_OK[:3])
        assert "之前填的是：火车" in text_to(out, "w1")  # the registered way, kept with 不变
        out = await answer(bot, "w1", ANSWERS_OK[3:])
        summary = text_to(out, "w1")
        assert "今天体温：36.5℃" in summary and "出行方式：火车" in summary
        out = await bot.say("w1", "确认")
        assert private_recipients(out) == ["w1"]
        assert "可以按计划明天（2月15日）出发" in text_to(out, "w1")
        async with bot.app.db.session() as s:
            [row] = (await s.execute(select(DepartureDeclaration))).scalars().all()
            assert await s.get(DialogState, "sim:w1") is None
        assert (row.worker_id, row.day, row.temperature, row.symptoms, row.contact,
                row.travel_mode, row.abnormal) == (ids["w1"], DAY, 36.5, [], False, "火车", False)
        # the check-in goes on as usual afterwards
        assert "打卡成功" in await bot.ask("w1", "36.6 正常")
        # declared again, now with a fever: the cadres' first alert (not an update)
        await bot.ask("w1", "健康申报")
        await answer(bot, "w1", [("38", "最近14天"), ("发烧", "接触过"), ("没有", "怎么去"),
                                 ("不变", "请核对")])
        out = await bot.say("w1", "确认")
        assert text_to(out, "cv").startswith("【出发前健康申报异常】青岩镇歪脚村3组 王小明")


async def test_abnormal_declaration_keeps_the_worker_home_and_alerts_cadres_and_organiser(settings):
    async with BotDriver(tf(settings), start=f"{EVE}T09:00") as bot:
        ids = await people(bot)
        await bot.feed({"clock": f"{EVE}T10:00"})
        out = await answer(bot, "w2", [("三十七度八", "最近14天"), ("前两天咳嗽 现在好了", "接触过"),
                                       ("没有", "怎么去")])
        assert "之前填的是：包车点对点" in text_to(out, "w2")
        await answer(bot, "w2", [("不变", "最近14天的不舒服：咳嗽")])
        out = await bot.say("w2", "确认")
        told = text_to(out, "w2")
        assert "请先不要出发" in told and "今天体温37.8℃" in told and "最近14天有咳嗽" in told
        assert "花溪区人民医院" in told and f"包车{ids['bus']}号这次先不要坐" in told
        # the cadres covering 歪脚村 (not 龙井村's, not the bureau as a cadre), privately
        assert private_recipients(out) == ["cb", "cd", "ct", "cv", "w2"]
        alert = text_to(out, "cv")
        assert "【出发前健康申报异常】青岩镇歪脚村 王大山" in alert and "138****" in alert
        assert "37.8℃" in alert and "咳嗽" in alert and f"2月15日坐包车{ids['bus']}号" in alert
        assert text_to(out, "cd") == alert == text_to(out, "ct")
        organiser = text_to(out, "cb")
        assert "【包车乘客暂缓出行】" in organiser and "王*山" in organiser
        assert "王大山" not in organiser and "咳嗽" not in organiser and "37.8" not in organiser
        # It is today's check-in too: the group hears what it hears of an abnormal check-in, once.
        assert [(o["chat"], o["text"]) for o in out if o.get("chat") != "private"] == [
            ("group:tf", "【健康异常】青岩镇歪脚村 王*山：咳嗽。已通知村、镇干部跟进。")]
        # Checked at the hospital, fine: declaring again tells the same people.
        intro = await bot.ask("w2", "健康申报")
        assert "一共4个问题" in intro and "今天量的体温" in intro
        await answer(bot, "w2", [("36.6", "最近14天"), ("都没有", "接触过"), ("没有", "怎么去"),
                                 ("3", "请核对")])
        out = await bot.say("w2", "确认")
        assert "可以按计划" in text_to(out, "w2")
        assert "【出发前健康申报更正】" in text_to(out, "cv") and "已无异常" in text_to(out, "ct")
        assert "【包车乘客可以出行】" in text_to(out, "cb")
        async with bot.app.db.session() as s:
            [row] = (await s.execute(select(DepartureDeclaration))).scalars().all()
        assert (row.abnormal, row.temperature, row.travel_mode, row.bus_id) == (
            False, 36.6, "包车点对点", ids["bus"])


async def test_contact_with_a_case_alone_is_abnormal(settings):
    async with BotDriver(settings, start=f"{EVE}T09:00") as bot:
        await people(bot)
        await bot.feed({"clock": f"{EVE}T10:00"})
        await answer(bot, "w1", [("没量", "最近14天"), ("没有", "接触过"), ("有", "怎么去"),
                                 ("火车", "今天体温：没量")])
        out = await bot.say("w1", "确认")
        assert "接触过确诊或疑似病人" in text_to(out, "w1") and "请先不要出发" in text_to(out, "w1")
        assert "接触确诊或疑似病人：有" in text_to(out, "cv")


async def test_bad_answers_are_asked_again_and_nothing_is_lost(settings):
    async with BotDriver(settings, start=f"{EVE}T09:00") as bot:
        await people(bot)
        await bot.feed({"clock": f"{EVE}T10:00"})
        assert "没看懂" in await bot.ask("w1", "abc")
        assert "这一题问的是体温" in await bot.ask("w1", "有点发烧")
        assert "最近14天" in await bot.ask("w1", "36.9")
        assert "没看懂" in await bot.ask("w1", "嗯嗯")
        assert "接触过" in await bot.ask("w1", "没有")
        assert "请回复“有”或“没有”" in await bot.ask("w1", "不知道")
        back = await bot.ask("w1", "返回")
        assert "最近14天" in back and "之前填的是：没有" in back
        assert "先停在这里" in await bot.ask("w1", "取消")
        resumed = await bot.ask("w1", "继续")
        assert "最近14天" in resumed
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:w1")
        assert state.answers["temperature"] == 36.9 and state.answers["symptoms"] == []


async def test_a_worker_in_another_form_is_not_interrupted(settings):
    async with BotDriver(settings, start=f"{EVE}T09:00") as bot:
        await people(bot)
        assert "同意" in await bot.ask("w1", "重新登记")
        out = await bot.feed({"clock": f"{EVE}T10:00"})
        told = text_to(out, "w1")
        assert "防护须知" in told and "登记还没填完" in told and "健康申报" in told
        async with bot.app.db.session() as s:
            assert (await s.get(DialogState, "sim:w1")).dialog == "registration"
        assert "请先填完" in await bot.ask("w1", "健康申报")
        await bot.ask("w1", "取消")
        started = await bot.ask("w1", "健康申报")
        assert "今天量的体温" in started and "先放下了" in started


async def test_declaring_without_a_departure_or_a_registration(settings):
    async with BotDriver(settings, start=f"{EVE}T09:00") as bot:
        await people(bot)
        assert "您还没有登记" in await bot.ask("stranger", "健康申报")
        far = await bot.ask("w4", "健康申报")  # already back at work
        assert "没有查到您这几天要出发" in far
        # w3 leaves the day after tomorrow: may declare already; w5's bus has left
        assert "后天（2月16日）出发" in await bot.ask("w3", "健康申报")
        assert "没有查到" in await bot.ask("w5", "出发申报")


async def test_an_unanswered_declaration_is_dropped_after_the_trip(settings):
    async with BotDriver(settings, start=f"{EVE}T09:00") as bot:
        await people(bot)
        await bot.feed({"clock": f"{EVE}T10:00"})
        await bot.feed({"clock": "2024-02-17T10:30"})
        async with bot.app.db.session() as s:
            assert await s.get(DialogState, "sim:w1") is None
        assert "我能帮您" in await bot.ask("w1", "你好")


# ----- masks -----------------------------------------------------------------------------------
async def test_masks_handed_out_are_recorded_in_scope_audited_and_counted(settings):
    async with BotDriver(tf(settings), start="2024-02-03T09:00") as bot:
        async with bot.app.db.session() as s:
            a = await add_worker(s, "sim:u1", name="王小明", phone="13812345678")
            b = await add_worker(s, "sim:u2", name="王小红", phone="13900001111")
            c = await add_worker(s, "sim:u3", name="张三", township="石板镇", village="石板村")
            await add_cadre(s, "sim:cv", "village", "青岩镇", "歪脚村", name="李书记")
            await add_cadre(s, "sim:cd", "district", name="赵专班")
        reply = await bot.ask("cv", f"/发口罩 编号{a.id} 10")
        assert f"已记录：编号{a.id} 王小明（歪脚村）领口罩 10 个" in reply
        assert "一共领了 15 个" in await bot.ask("cv", "/发口罩 5678 五个")
        assert "一共领了 3 个" in await bot.ask("cv", "/发口罩 王小红3个")
        several = await bot.ask("cv", "/发口罩 王小 10")
        assert "多位" in several and "王*明" in several and "王小明" not in several
        assert "没有找到" in await bot.ask("cv", "/发口罩 张三 10")  # another township
        assert "请写上发了多少个" in await bot.ask("cv", f"/发口罩 编号{a.id}")
        assert "1 到 500" in await bot.ask("cv", f"/发口罩 编号{a.id} 0")
        assert "用法" in await bot.ask("cv", "/发口罩")
        assert "工作人员用的命令" in await bot.ask("u1", f"/发口罩 编号{a.id} 10")
        group = await bot.say("cv", f"/发口罩 编号{a.id} 10", chat="group:g1")
        assert "私聊" in group[0]["text"] and "王小明" not in group[0]["text"]
        await bot.ask("cd", f"/发口罩 编号{c.id} 20")
        async with bot.app.db.session() as s:
            audits = (await s.execute(select(AuditLog.target, AuditLog.detail).where(
                AuditLog.action == "mask.handout").order_by(AuditLog.id))).all()
            tally = await compute_tally(s, date(2024, 2, 3))
            town = await compute_tally(s, date(2024, 2, 3), "青岩镇")
        assert audits == [(str(a.id), "10个"), (str(a.id), "5个"), (str(b.id), "3个"),
                          (str(c.id), "20个")]
        assert tally.total.figures.masks == 38
        assert tally.row("青岩镇").figures.masks == 18 and tally.row("石板镇").figures.masks == 20
        assert town.row("歪脚村").figures.masks == 18
        text = report_text(tally, district="花溪区", target=None, at=NOW)
        assert "发放口罩 38 个" in text and "口罩18" in text
        assert "发放口罩 18 个" in await bot.ask("cv", "/统计")
        # 注销: the worker's data goes, the masks handed out still count
        await bot.ask("u1", "注销")
        await bot.ask("u1", "确认注销")
        async with bot.app.db.session() as s:
            rows = (await s.execute(select(MaskHandout.worker_id, MaskHandout.count)
                                    .order_by(MaskHandout.id))).all()
            after = await compute_tally(s, date(2024, 2, 3))
        assert rows[:2] == [(None, 10), (None, 5)] and after.total.figures.masks == 38
