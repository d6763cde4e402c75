"""Session 3 features through the replay pipeline, on SQLite and PostgreSQL:

* a completed departure declaration (出发前健康申报) is that day's check-in when the worker has
  not checked in: no afternoon reminder, 打卡记录 and the tally see it; abnormal, it is an
  abnormal check-in that alerts the cadres once (the declaration's alert) and the task-force
  group once; a check-in the worker sent themselves is left alone;
* /修改培训 N: a course's time and place edited at the posting dialog's summary, the workers
  signed up told privately; someone else's course refused; the seats never below the sign-ups.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from sqlalchemy import select

from bot.messages import ChatRef
from models.tables import AuditLog, Checkin
from models.tally import compute_tally
from models.training import Training
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver, with_settings
from tests.test_registration import answer_all as answer

EVE = "2024-02-14"  # the day before the departure
EVE_DAY = date(2024, 2, 14)
DECLARE_OK = [("36.5", "最近14天"), ("没有", "接触过"), ("没有", "怎么去"), ("不变", "请核对")]
DECLARE_FEVER = [("37.8", "最近14天"), ("发烧", "接触过"), ("没有", "怎么去"), ("不变", "请核对")]
COUNTED = "这次申报也算作您今天（2月14日）的健康打卡"


def private(out: list[dict], user: str) -> str:
    return "\n".join(o["text"] for o in out if o.get("chat") == "private" and o.get("to") == user)


def recipients(out: list[dict]) -> list[str]:
    return sorted({o["to"] for o in out if o.get("chat") == "private"})


def group_lines(out: list[dict]) -> list[str]:
    return [o["text"] for o in out if o.get("chat") == "group:tf"]


async def checkins(bot: BotDriver) -> list[Checkin]:
    async with bot.app.db.session() as s:
        return list((await s.execute(select(Checkin).order_by(Checkin.id))).scalars())


# ----- the declaration is the day's check-in -------------------------------------------------------
def dsettings(settings):
    return replace(settings, checkin_time=time(8, 0), checkin_remind_time=time(14, 0),
                   taskforce_groups=(ChatRef.group("sim:tf"),))


async def leavers(bot: BotDriver) -> None:
    """w1 returns by train tomorrow (gets the handbook and the declaration at 10:00); w2 stays
    (only checks in); cadres of 歪脚村, 青岩镇 and the district."""
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:cv", "village", "青岩镇", "歪脚村", name="李书记")
        await add_cadre(s, "sim:ct", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:cd", "district", name="赵专班")
        await add_worker(s, "sim:w1", name="王小明", status="待返岗", return_date=date(2024, 2, 15),
                         return_mode="火车", work_area="省外", work_city="广东东莞")
        await add_worker(s, "sim:w2", name="李秀英")


async def test_a_declaration_is_the_days_checkin_no_reminder_record_and_tally(settings):
    async with BotDriver(dsettings(settings), start=f"{EVE}T07:00") as bot:
        await leavers(bot)
        assert recipients(await bot.feed({"clock": f"{EVE}T08:00"})) == ["w1", "w2"]
        out = await bot.feed({"clock": f"{EVE}T10:00"})
        assert "今天量的体温" in private(out, "w1")
        await answer(bot, "w1", DECLARE_OK)
        out = await bot.say("w1", "确认")
        done = private(out, "w1")
        assert "可以按计划明天（2月15日）出发" in done and COUNTED in done
        assert recipients(out) == ["w1"] and group_lines(out) == []  # normal: nobody else hears
        # No reminder that afternoon for w1; w2, who said nothing, is reminded.
        out = await bot.feed({"clock": f"{EVE}T14:00"})
        assert recipients(out) == ["w2"] and "还没有健康打卡" in private(out, "w2")
        # 打卡记录 shows the day's reading; a bare 正常 is told it is done.
        record = await bot.ask("w1", "打卡记录")
        assert "2月14日：体温 36.5℃，无症状" in record and "今天还没打卡" not in record
        assert "您今天已经打过卡了" in await bot.ask("w1", "正常")
        # The cadres' /打卡 and the daily tally count it.
        today = await bot.ask("cv", "/打卡")
        assert "已打卡 1 人" in today and "未打卡 1 人" in today
        assert "王*明" not in today.split("未打卡：")[-1]
        async with bot.app.db.session() as s:
            tally = await compute_tally(s, EVE_DAY)
        assert (tally.total.figures.checked_in, tally.total.figures.abnormal) == (1, 0)


async def test_an_abnormal_declaration_is_an_abnormal_checkin_told_once(settings):
    async with BotDriver(dsettings(settings), start=f"{EVE}T07:00") as bot:
        await leavers(bot)
        await bot.feed({"clock": f"{EVE}T10:00"})
        await answer(bot, "w1", DECLARE_FEVER)
        out = await bot.say("w1", "确认")
        told = private(out, "w1")
        assert "请先不要出发" in told and "花溪区人民医院" in told and COUNTED in told
        # Each cadre hears once (the declaration's alert, no second 【健康异常】 alert) …
        assert recipients(out) == ["cd", "ct", "cv", "w1"]
        for cadre in ("cv", "ct", "cd"):
            [alert] = [o["text"] for o in out if o.get("to") == cadre]
            assert alert.startswith("【出发前健康申报异常】") and "37.8℃" in alert
        # … and the group as of any abnormal check-in: one masked line.
        assert group_lines(out) == ["【健康异常】青岩镇歪脚村 王*明：发热。已通知村、镇干部跟进。"]
        async with bot.app.db.session() as s:
            tally = await compute_tally(s, EVE_DAY)
        assert (tally.total.figures.checked_in, tally.total.figures.abnormal) == (1, 1)
        assert "异常 1 人" in await bot.ask("cv", "/打卡")
        # Declared again, now well: the cadres hear the declaration's correction only, the group
        # the check-in's; the day's reading is replaced, the first one kept as history.
        await bot.ask("w1", "健康申报")
        await answer(bot, "w1", DECLARE_OK)
        out = await bot.say("w1", "确认")
        assert COUNTED in private(out, "w1")
        for cadre in ("cv", "ct", "cd"):
            [note] = [o["text"] for o in out if o.get("to") == cadre]
            assert note.startswith("【出发前健康申报更正】")
        assert group_lines(out) == ["【更正】青岩镇歪脚村 王*明 今天的打卡已更正，无异常。"]
        assert [(c.temperature, c.abnormal, c.superseded) for c in await checkins(bot)] == [
            (37.8, True, True), (36.5, False, False)]


async def test_an_abnormal_declaration_is_followed_up_the_next_morning(settings):
    async with BotDriver(dsettings(settings), start=f"{EVE}T07:00") as bot:
        await leavers(bot)
        await bot.feed({"clock": f"{EVE}T10:00"})
        await answer(bot, "w1", DECLARE_FEVER)
        await bot.say("w1", "确认")
        out = await bot.feed({"clock": "2024-02-15T08:00"})
        follow = private(out, "w1")
        assert "昨天" in follow and "发热" in follow and "37.8" in follow


async def test_a_checkin_already_sent_that_day_is_left_alone(settings):
    async with BotDriver(dsettings(settings), start=f"{EVE}T07:00") as bot:
        await leavers(bot)
        await bot.feed({"clock": f"{EVE}T08:00"})
        assert "打卡成功" in await bot.ask("w1", "36.6 正常 在家")
        await bot.feed({"clock": f"{EVE}T10:00"})
        await answer(bot, "w1", DECLARE_FEVER)
        out = await bot.say("w1", "确认")
        told = private(out, "w1")
        assert "请先不要出发" in told and "打卡" not in told.split("村干部会和您联系")[-1]
        assert COUNTED not in told
        # The declaration's alert goes to the cadres as before; the check-in is not touched, so
        # the group hears nothing.
        assert recipients(out) == ["cd", "ct", "cv", "w1"] and group_lines(out) == []
        [row] = await checkins(bot)
        assert (row.temperature, row.location, row.abnormal, row.text) == (
            36.6, "在家", False, "36.6 正常 在家")
        assert "2月14日：体温 36.6℃，无症状，在家" in await bot.ask("w1", "打卡记录")


# ----- /修改培训 -------------------------------------------------------------------------------------
ONE_LINE = "/发布培训 电焊 花溪区职业技术学校 3月1日到3月10日 3人 补贴1500元 电话0851-83851234"


def tsettings(settings):
    return with_settings(settings, job_groups=())


async def course(bot: BotDriver, signed: tuple[str, ...] = ("want", "poor")) -> None:
    """Cadres of 青岩镇 (the poster), 歪脚村, another township and the bureau; three welders of
    青岩镇; course 1 (3 seats) posted by the township cadre, ``signed`` signed up."""
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:town2", "township", "石板镇", name="周镇长")
        await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")
        await add_cadre(s, "sim:bur", "bureau", name="钱就业")
        for user, name in (("want", "王小山"), ("poor", "李贫"), ("late", "赵后")):
            await add_worker(s, f"sim:{user}", name=name, wanted_job="焊工", intent="就近就业")
    assert "请核对培训信息" in await bot.ask("town", ONE_LINE)
    assert "发布成功" in await bot.ask("town", "确认")
    for user in signed:
        assert "报名成功" in await bot.ask(user, "培训报名 1")


async def test_edit_a_courses_time_and_place_tells_those_signed_up(settings):
    async with BotDriver(tsettings(settings)) as bot:
        await course(bot)
        assert "已取消培训1" in await bot.ask("poor", "取消培训 1")  # withdrawn: not told
        summary = await bot.ask("town", "/修改培训 1")
        assert summary.startswith("修改培训1。") and "2. 培训地点：花溪区职业技术学校" in summary
        assert "3. 培训时间：2024年3月1日至3月10日（10天）" in summary
        place = await bot.ask("town", "修改 2")
        assert "在哪里培训" in place and "之前填的是：花溪区职业技术学校" in place
        assert "请写在哪里培训" in await bot.ask("town", "1")  # a bad answer: asked again
        await answer(bot, "town", [("青岩镇就业服务中心", "请核对培训信息"), ("修改 3", "哪天开班")])
        assert "已经过去了" in await bot.ask("town", "2月1日到2月5日")
        summary = await bot.ask("town", "3月5日到3月12日")
        assert "培训地点：青岩镇就业服务中心" in summary and "3月5日至3月12日（8天）" in summary
        out = await bot.say("town", "确认")
        done = private(out, "town")
        assert "培训1已修改" in done and "已私信告诉1位报了名的务工人员新的时间和地点" in done
        assert "青岩镇就业服务中心" in done
        assert recipients(out) == ["town", "want"]
        notice = private(out, "want")
        assert notice.startswith("【培训变更】王小山，您好！您报名的培训1（电焊）有变化")
        assert "时间改为：3月5日至3月12日（8天）（原来是3月1日至3月10日（10天））" in notice
        assert "地点改为：青岩镇就业服务中心（原来是花溪区职业技术学校）" in notice
        assert "取消培训 1" in notice
        detail = await bot.ask("town", "/培训 1")
        assert "地点：青岩镇就业服务中心" in detail and "3月5日至3月12日" in detail
        assert "1. 电焊，3月5日至3月12日（8天），青岩镇就业服务中心 — 已报名" in await bot.ask(
            "want", "我的培训")
        # Only the subsidy changed: nobody signed up is bothered; /培训修改 is the same command.
        await bot.ask("town", "/培训修改 1")
        await answer(bot, "town", [("修改 5", "补贴"), ("免费培训", "请核对培训信息")])
        out = await bot.say("town", "确认")
        assert recipients(out) == ["town"] and "已私信" not in private(out, "town")
        async with bot.app.db.session() as s:
            t = await s.get(Training, 1)
            edits = (await s.execute(select(AuditLog.actor).where(
                AuditLog.action == "training.edit"))).scalars().all()
        assert (t.place, t.starts_on, t.ends_on, t.subsidy) == (
            "青岩镇就业服务中心", date(2024, 3, 5), date(2024, 3, 12), "免费培训")
        assert edits == ["sim:town", "sim:town"]


async def test_someone_elses_course_may_not_be_edited(settings):
    async with BotDriver(tsettings(settings)) as bot:
        await course(bot, signed=())
        for cadre in ("vil", "town2"):
            assert "培训1不是您发布的，不能修改" in await bot.ask(cadre, "/修改培训 1")
        assert "工作人员用的命令" in await bot.ask("want", "/修改培训 1")
        assert "没有编号为9的培训" in await bot.ask("town", "/修改培训 9")
        assert "用法" in await bot.ask("town", "/修改培训")
        group = await bot.say("town", "/修改培训 1", chat="group:g1")
        assert "请私聊我使用" in group[0]["text"]
        # The bureau manages every course; 取消 leaves it as it was.
        assert "修改培训1。" in await bot.ask("bur", "/修改培训 1")
        await answer(bot, "bur", [("修改 2", "在哪里培训"), ("别处", "请核对")])
        assert "培训1的修改先停在这里，培训还没有改动" in await bot.ask("bur", "取消")
        async with bot.app.db.session() as s:
            assert (await s.get(Training, 1)).place == "花溪区职业技术学校"
            denied = (await s.execute(select(AuditLog.actor).where(
                AuditLog.action == "denied", AuditLog.detail == "修改培训"))).scalars().all()
        assert sorted(denied) == ["sim:town2", "sim:vil"]
        # A course that has ended is not edited.
        ended = await bot.ask("town", "/修改培训 1", at="2024-03-11T09:00")
        assert "已经在3月10日结束了，不能修改" in ended


async def test_seats_may_not_go_below_those_signed_up(settings):
    async with BotDriver(tsettings(settings)) as bot:
        await course(bot)
        await answer(bot, "town", [("/修改培训 1", "4. 名额：3人"), ("修改 4", "多少个名额")])
        refused = await bot.ask("town", "1")
        assert "已经有2人报名，名额不能少于2人" in refused
        assert "名额：2人" in await bot.ask("town", "2")  # at the summary, nothing lost
        # Someone signs up before the cadre confirms: checked again, nothing saved.
        assert "您是第3位" in await bot.ask("late", "培训报名 1")
        refused = await bot.ask("town", "确认")
        assert "现在已经有3人报名，名额不能少于3人，这次修改没有保存" in refused
        async with bot.app.db.session() as s:
            assert (await s.get(Training, 1)).seats == 3
        # More seats are fine.
        await answer(bot, "town", [("/修改培训 1", "请核对"), ("修改 4", "名额"), ("5人", "名额：5人")])
        assert "培训1已修改" in await bot.ask("town", "确认")
        async with bot.app.db.session() as s:
            assert (await s.get(Training, 1)).seats == 5
