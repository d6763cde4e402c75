"""The daily check-in as conversations through the replay pipeline, on SQLite and PostgreSQL:
the morning prompt and the afternoon reminder on a controlled clock, the reply, a correction
the same day, the alerts for an abnormal reading and who may see what, the follow-up the next
day, the cadres' /打卡, restarts between prompt and reply, and the district's midnight."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, time

from sqlalchemy import func, select

from bot.app import App
from bot.clock import ManualClock
from bot.messages import ChatRef
from models.tables import AuditLog, Checkin, DialogState, Nudge, OutboxMessage, Worker
from scheduler.checkin_jobs import morning
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver

SUNDAY = "2024-02-04"
WORKERS = ("u1", "u2", "u3")


def setup(settings):
    return replace(settings, checkin_time=time(8, 0), checkin_remind_time=time(14, 0),
                   taskforce_groups=(ChatRef.group("sim:tf"),))


async def people(bot: BotDriver) -> dict[str, Worker]:
    """Three reachable workers (two in 歪脚村, one in 龙井村), one without WeChat/QQ, cadres at
    every level, a cadre of another village, the employment bureau, and a village cadre who is
    registered as a worker too."""
    async with bot.app.db.session() as s:
        found = {
            "u1": await add_worker(s, "sim:u1", name="王小明", phone="13812345678",
                                   group_name="3组"),
            "u2": await add_worker(s, "sim:u2", name="李秀英", phone="13987654321"),
            "u3": await add_worker(s, "sim:u3", name="张三", village="龙井村"),
            "nochat": await add_worker(s, None, name="赵老六"),
            "cv": await add_worker(s, "sim:cv", name="李书记"),
        }
        await add_cadre(s, "sim:cv", "village", "青岩镇", "歪脚村", name="李书记")
        await add_cadre(s, "sim:ct", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:cd", "district", name="赵专班")
        await add_cadre(s, "sim:co", "village", "青岩镇", "龙井村", name="周书记")
        await add_cadre(s, "sim:cb", "bureau", name="钱就业")
    return found


def private(out: list[dict], user: str) -> str:
    return "\n".join(o["text"] for o in out if o.get("chat") == "private" and o.get("to") == user)


def recipients(out: list[dict]) -> list[str]:
    return sorted(o["to"] for o in out if o.get("chat") == "private")


def group_lines(out: list[dict]) -> list[str]:
    return [o["text"] for o in out if o.get("chat") == "group:tf"]


async def rows(bot: BotDriver, model, *where) -> list:
    async with bot.app.db.session() as s:
        stmt = select(model).where(*where)
        if model is Checkin:
            stmt = stmt.order_by(Checkin.id)
        return list((await s.execute(stmt)).scalars())


async def test_prompt_once_a_day_to_registered_workers_even_across_restarts(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        assert await bot.feed({"clock": f"{SUNDAY}T07:59"}) == []
        out = await bot.feed({"clock": f"{SUNDAY}T08:00"})
        # not the cadre who is registered too, not the worker without WeChat/QQ, no cadres
        assert recipients(out) == list(WORKERS)
        prompt = private(out, "u1")
        assert "王小明" in prompt and "2月4日" in prompt and "36.5 正常 在家" in prompt
        assert group_lines(out) == []
        assert await bot.feed({"clock": f"{SUNDAY}T08:30"}) == []
        # A second run of the same morning (another instance, a clock set back): nothing again.
        await bot.shutdown()
        await bot.boot(datetime.fromisoformat(f"{SUNDAY}T07:30").replace(tzinfo=bot.settings.tz))
        assert await bot.feed({"clock": f"{SUNDAY}T08:05"}) == []
        # The prompt was sent before the restart; the reply after it is still understood.
        await bot.restart()
        reply = await bot.ask("u1", "36度5 正常 在家")
        assert "打卡成功" in reply and "体温 36.5℃，无症状，在家" in reply
        # Anything from a worker asked today who has not answered: an example, not a guess.
        assert "36.5 正常 在家" in await bot.ask("u2", "嗯嗯")
        # "你好" is not taken for a check-in: the menu answers it.
        hello = await bot.ask("u2", "你好")
        assert "打卡成功" not in hello and "我能帮您" in hello
        assert len(await rows(bot, Nudge, Nudge.kind == "checkin_prompt")) == 3
        [c] = await rows(bot, Checkin)
        assert (c.day, c.temperature, c.symptoms, c.location, c.abnormal) == (
            date(2024, 2, 4), 36.5, [], "在家", False)


async def test_reminder_only_to_the_silent_and_once(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        await bot.feed({"clock": f"{SUNDAY}T08:00"})
        assert "打卡成功" in await bot.ask("u1", "36.6 没有不舒服", at=f"{SUNDAY}T09:12")
        out = await bot.feed({"clock": f"{SUNDAY}T14:00"})
        assert recipients(out) == ["u2", "u3"]
        assert "还没有健康打卡" in private(out, "u2")
        # no second reminder (the report may post, the villages' cadres hear about their rates)
        late = recipients(await bot.feed({"clock": f"{SUNDAY}T18:00"}))
        assert [r for r in late if r in WORKERS] == []
        await bot.restart()
        assert recipients(await bot.feed({"clock": f"{SUNDAY}T20:00"})) == []
        # The next morning everyone is asked again.
        out = await bot.feed({"clock": "2024-02-05T08:00"})
        assert recipients(out) == list(WORKERS)


async def test_a_bot_down_at_prompt_time_sends_the_missed_prompt_when_it_is_back(settings):
    def at(hhmm: str, day: str = SUNDAY) -> datetime:
        return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=settings.tz)

    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        await bot.shutdown()  # down from 07:00 to 10:30: the 08:00 prompt did not go
        await bot.boot(at("10:30"))
        out = await bot.feed({"sync": 1})
        assert recipients(out) == list(WORKERS) and "36.5 正常 在家" in private(out, "u1")
        await bot.restart()  # an ordinary restart sends nothing again
        assert recipients(await bot.feed({"sync": 2})) == []
        assert "打卡成功" in await bot.ask("u1", "36.5 正常")
        await bot.shutdown()  # down over the 14:00 reminder
        await bot.boot(at("15:10"))
        out = await bot.feed({"sync": 3})
        assert recipients(out) == ["u2", "u3"] and "还没有健康打卡" in private(out, "u2")
        await bot.shutdown()  # down all the next day until the evening: nothing that late
        await bot.boot(at("20:30", "2024-02-05"))
        assert recipients(await bot.feed({"sync": 4})) == []


async def test_a_check_in_before_the_prompt_needs_no_prompt(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T06:30") as bot:
        await people(bot)
        # Unasked, only what clearly is a check-in is taken.
        assert "打卡成功" not in await bot.ask("u1", "没事")
        assert "打卡成功" in await bot.ask("u1", "体温三十六度八 在家")
        out = await bot.feed({"clock": f"{SUNDAY}T08:00"})
        assert recipients(out) == ["u2", "u3"]
        # An unregistered person's reply starts the registration, it is not a check-in.
        assert "同意" in await bot.ask("u9", "36.5 正常")
        assert await rows(bot, Checkin, Checkin.worker_id == -1) == []


async def test_correction_the_same_day_keeps_history(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        found = await people(bot)
        await bot.feed({"clock": f"{SUNDAY}T08:00"})
        assert "打卡成功！2月4日" in await bot.ask("u2", "36.5 正常")
        updated = await bot.ask("u2", "刚才说错了 是36.8 正常 在屋头")
        assert "已更新" in updated and "体温 36.8℃" in updated and "之前是：体温 36.5℃" in updated
        # A bare "好的" after that is no correction.
        assert "打卡成功" not in await bot.ask("u2", "好的")
        history = await rows(bot, Checkin, Checkin.worker_id == found["u2"].id)
        assert [(c.temperature, c.superseded) for c in history] == [(36.5, True), (36.8, False)]
        assert history[1].location == "在家"
        record = await bot.ask("u2", "打卡记录")
        assert "2月4日：体温 36.8℃" in record and "2月3日：未打卡" in record


async def test_abnormal_reading_alerts_the_right_people_and_masks_the_group(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        found = await people(bot)
        await bot.feed({"clock": f"{SUNDAY}T08:00"})
        out = await bot.say("u1", "体温37度8，有点发烧咳嗽，在家")
        worker = private(out, "u1")
        assert "打卡成功" in worker and "体温 37.8℃，发热、咳嗽，在家" in worker
        assert "花溪区人民医院" in worker and "口罩" in worker and "核酸" in worker
        # village, township and district cadres privately; not another village, not the bureau
        assert recipients(out) == ["cd", "ct", "cv", "u1"]
        for cadre in ("cv", "ct", "cd"):
            alert = private(out, cadre)
            assert "王小明" in alert and "歪脚村3组" in alert and "138****5678" in alert
            assert "37.8℃" in alert and "发热、咳嗽" in alert and "在家" in alert
            assert "13812345678" not in alert and found["u1"].id_number not in alert
        [line] = group_lines(out)
        assert "歪脚村" in line and "王*明" in line and "发热、咳嗽" in line
        for secret in ("王小明", "138", "5678", found["u1"].id_number, "37.8"):
            assert secret not in line
        # The same reading again changes nothing for the cadres or the group.
        again = await bot.say("u1", "37.8 发烧 咳嗽 在家")
        assert recipients(again) == ["u1"] and group_lines(again) == []
        # Corrected to normal: the cadres and the group hear that, still masked.
        out = await bot.say("u1", "更正：体温36.6 正常 不咳嗽")
        assert "已更新" in private(out, "u1") and "定点医院" not in private(out, "u1")
        assert recipients(out) == ["cd", "ct", "cv", "u1"]
        assert "更正" in private(out, "cv") and "不再是异常" in private(out, "cv")
        [line] = group_lines(out)
        assert "更正" in line and "王*明" in line and "王小明" not in line


async def test_another_villages_worker_alerts_only_their_cadres(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        out = await bot.say("u3", "乏力 气短 37.1")
        assert "打卡成功" in private(out, "u3") and "定点医院" in private(out, "u3")
        assert recipients(out) == ["cd", "co", "ct", "u3"]
        [line] = group_lines(out)
        assert "龙井村 张*：气促、乏力" in line


async def test_follow_up_the_next_day_instead_of_the_prompt(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        await bot.feed({"clock": f"{SUNDAY}T08:00"})
        await bot.ask("u1", "38.2 发烧")
        await bot.ask("u2", "36.4 正常")
        await bot.ask("u3", "咳嗽")
        await bot.feed({"clock": "2024-02-05T07:59"})  # (the cadres' evening reminder on the way)
        out = await bot.feed({"clock": "2024-02-05T08:00"})
        assert recipients(out) == list(WORKERS)  # one message each
        follow = private(out, "u1")
        assert "昨天" in follow and "发热" in follow and "38.2" in follow and "核酸" in follow
        assert "花溪区人民医院" in follow and "早上好" not in follow
        assert "昨天" in private(out, "u3") and "咳嗽" in private(out, "u3")
        assert "早上好" in private(out, "u2")
        reply = await bot.ask("u1", "36.8 不烧了 还有点咳嗽")
        assert "打卡成功" in reply and "定点医院" in reply  # a cough is still a key symptom
        kinds = {(n.kind, n.worker_id) for n in await rows(bot, Nudge, Nudge.day == date(2024, 2, 5))}
        assert len([k for k, _ in kinds if k == "checkin_followup"]) == 2
        assert len([k for k, _ in kinds if k == "checkin_prompt"]) == 1


async def test_a_bot_down_all_morning_still_follows_up_yesterdays_abnormal(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        await bot.ask("u1", "38.2 发烧")
        await bot.shutdown()  # down from Sunday until Monday 15:00: prompt and reminder missed
        await bot.boot(datetime.fromisoformat("2024-02-05T15:00").replace(tzinfo=bot.settings.tz))
        out = await bot.feed({"sync": 1})
        assert recipients(out) == list(WORKERS)  # one message each, not two for u1
        assert "昨天" in private(out, "u1") and "38.2" in private(out, "u1")
        assert "还没有健康打卡" in private(out, "u2") and "昨天" not in private(out, "u2")


async def test_cadre_command_scope_and_privacy(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        found = await people(bot)
        await bot.ask("u1", "37.9 咳嗽")
        await bot.ask("u3", "36.5 正常")
        village = await bot.ask("cv", "/打卡")
        # 歪脚村: 王小明 (abnormal), 李秀英 and 赵老六 (silent), 李书记 registered too
        assert "青岩镇歪脚村" in village and "应打卡 4 人，已打卡 1 人（25%）" in village
        assert "异常 1 人" in village and "王*明" in village and "37.9℃" in village
        assert "李*英" in village and "赵*六" in village and "张*" not in village
        assert "王小明" not in village and "13812345678" not in village and "138****5678" in village
        assert "没有绑定微信/QQ" in village
        assert "不在您的范围" in await bot.ask("cv", "/打卡 龙井村")
        assert "不在您的范围" in await bot.ask("co", "/打卡 歪脚村")
        town = await bot.ask("ct", "/打卡")
        assert "应打卡 5 人，已打卡 2 人" in town and "歪脚村：1/4" in town and "龙井村：1/1" in town
        assert "应打卡 4 人" in await bot.ask("ct", "/打卡 歪脚村")
        district = await bot.ask("cd", "/打卡")
        assert "【今日打卡】全区" in district and "王*明 青岩镇歪脚村3组" in district
        assert "不在您（区人社局/就业局）的权限内" in await bot.ask("cb", "/打卡")
        assert "/打卡" not in await bot.ask("cb", "/帮助")  # no health data for the bureau
        assert "/打卡 [村]" in await bot.ask("cv", "/帮助")
        # In a group: the counts, no names.
        out = await bot.say("cv", "/打卡", chat="group:g1")
        [said] = [o["text"] for o in out if o.get("chat") == "group:g1"]
        assert "已打卡 1 人" in said and "私聊" in said and "*" not in said
        # The lists are audited.
        audit = await rows(bot, AuditLog, AuditLog.action == "checkin.list")
        assert {a.actor for a in audit} == {"sim:cv", "sim:ct", "sim:cd"}
        assert found["u1"].name not in " ".join(a.detail for a in audit)


async def test_worker_typing_the_command_or_the_word(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        # the command is for staff; the word alone asks for the reading with an example
        for text in ("/打卡", "/打卡 36.6 正常", "/打卡 歪脚村"):
            assert "工作人员用的命令" in await bot.ask("u2", text)
        assert "/打卡" not in await bot.ask("u2", "/帮助")
        assert "例如：36.5 正常 在家" in await bot.ask("u1", "打卡")
        assert "打卡成功" in await bot.ask("u1", "打卡：36.7，正常，在家")
        assert "还没有登记" in await bot.ask("u9", "打卡")
        assert "/打卡" in await bot.ask("co", "打卡")  # a cadre is pointed to the command
        out = await bot.say("u3", "38.5 发烧", chat="group:g1")  # @the bot in a group
        assert "私聊" in out[0]["text"] and "38.5" not in out[0]["text"]
        assert len(await rows(bot, Checkin)) == 1


async def test_worker_in_a_dialog_is_prompted_and_can_check_in_without_losing_it(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        assert "同意" in await bot.ask("u2", "修改信息")
        assert "姓名" in await bot.ask("u2", "同意")
        out = await bot.feed({"clock": f"{SUNDAY}T08:00"})
        assert "打卡 36.5 正常 在家" in private(out, "u2") and "登记还没填完" in private(out, "u2")
        assert "打卡 " not in private(out, "u1")
        reply = await bot.ask("u2", "打卡 36.5 正常 在家")
        assert "打卡成功" in reply and "继续" in reply
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u2")
        assert state is not None and not state.paused and state.step == "name"  # untouched
        assert "姓名" in await bot.ask("u2", "继续")


async def test_a_photo_when_asked_gets_words_back(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        await bot.feed({"clock": f"{SUNDAY}T08:00"})
        assert "文字" in await bot.ask("u1", "", media=True)
        assert "不太对" in await bot.ask("u1", "体温45度")


async def test_midnight_in_beijing_separates_the_days(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T23:00") as bot:
        found = await people(bot)
        first = await bot.ask("u1", "36.5 正常", at=f"{SUNDAY}T23:59")
        second = await bot.ask("u1", "36.6 正常", at="2024-02-05T00:01")
        assert "打卡成功！2月4日" in first and "打卡成功！2月5日" in second
        assert "已更新" not in second
        readings = await rows(bot, Checkin, Checkin.worker_id == found["u1"].id)
        assert [(c.day, c.superseded) for c in readings] == [
            (date(2024, 2, 4), False), (date(2024, 2, 5), False)]
        # 23:59 Beijing is 15:59 UTC: stored in UTC, counted on the district's date.
        assert readings[0].at.astimezone(bot.settings.tz).date() == date(2024, 2, 4)


async def test_two_instances_running_the_morning_together_prompt_once(settings):
    settings = setup(settings)
    async with BotDriver(settings, start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
    when = datetime.fromisoformat(f"{SUNDAY}T08:00").replace(tzinfo=settings.tz)
    apps = [App(settings, clock=ManualClock(when)) for _ in range(2)]
    try:
        await asyncio.gather(*(morning(app, when) for app in apps))
        async with apps[0].db.session() as s:
            per_chat = (await s.execute(
                select(OutboxMessage.chat, func.count()).group_by(OutboxMessage.chat))).all()
    finally:
        for app in apps:
            await app.db.close()
    assert sorted(per_chat) == [(f"sim:private:{u}", 1) for u in WORKERS]


async def test_a_cadres_dialog_answer_starting_with_the_word_is_left_to_the_dialog(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        assert "企业名称" in await bot.ask("ct", "/企业")
        assert "乡镇" in await bot.ask("ct", "打卡科技有限公司")
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:ct")
        assert state.answers["name"] == "打卡科技有限公司"
        assert await rows(bot, Checkin) == []


def test_designated_hospitals_are_configuration():
    from bot.config import DEFAULT_HOSPITALS, Settings

    assert Settings.from_env({}, dotenv=False).designated_hospitals == DEFAULT_HOSPITALS
    env = {"DESIGNATED_HOSPITALS": "甲医院（甲路1号）；乙医院, 发热门诊;\n"}
    assert Settings.from_env(env, dotenv=False).designated_hospitals == (
        "甲医院（甲路1号）", "乙医院, 发热门诊")


async def test_a_bare_all_is_well_after_checking_in_says_it_is_done(settings):
    async with BotDriver(setup(settings), start=f"{SUNDAY}T07:00") as bot:
        await people(bot)
        assert "打卡成功" in await bot.ask("u1", "36.5 在家")
        again = await bot.ask("u1", "正常")
        assert "今天已经打过卡了" in again and "36.5" in again and "我能帮您" not in again
        [c] = await rows(bot, Checkin)  # not taken as a correction
        assert c.temperature == 36.5
