"""Defects a reviewer found in the simulator, each as what the person sees, on SQLite and
PostgreSQL: the words of 取消 in /修改, “no requirements”, past days, closed vacancies, 找工作
without a match, the check-in echo and corrections, 打卡记录 since registration, staff commands
typed by a worker, “报名 abc”, an invite code sent in a group, the task-force group's lines, the
family-difficulty question, and a vacancy posted from an enterprise's shortage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from bot.messages import ChatRef
from models.tables import Checkin, Invite, Vacancy, Worker
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver, with_settings
from tests.ids import make_id

JOBS = ChatRef.group("sim:jobs")
TF = ChatRef.group("sim:tf")
ONE_LINE = "/发布岗位 花溪某电子厂 普工 县内 20人 4000-5000 联系电话13800001111 截止3月1日"


async def answer(bot: BotDriver, user: str, steps: list[tuple[str, str]]) -> str:
    reply = ""
    for text, expected in steps:
        reply = await bot.ask(user, text)
        assert expected in reply, f"after {text!r} expected {expected!r} in:\n{reply}"
    return reply


async def all_of(bot: BotDriver, model, *where) -> list:
    async with bot.app.db.session() as s:
        return list((await s.execute(select(model).where(*where).order_by(model.id))).scalars())


def to(out: list[dict], user: str) -> str:
    return "\n".join(o["text"] for o in out if o.get("chat") == "private" and o.get("to") == user)


def in_group(out: list[dict], group: str) -> list[str]:
    return [o["text"] for o in out if o.get("chat") == group]


# 1 ------------------------------------------------------------------------------------------------
async def test_cancel_in_an_edit_speaks_of_the_edit(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:cv", "village", "青岩镇", "歪脚村")
            worker = await add_worker(s, None, name="王小明")
        assert "修改编号" in await bot.ask("cv", f"/修改 {worker.id}")
        paused = await bot.ask("cv", "取消")
        assert f"编号{worker.id}的修改先停在这里" in paused and "还没有任何改动" in paused
        assert "继续" in paused and f"/修改 {worker.id}" in paused
        assert "代为登记" not in paused and "/登记" not in paused
        assert "请核对登记信息" in await bot.ask("cv", "继续")
        # A new registration on someone's behalf still speaks of 代为登记.
        await bot.ask("cv", "/登记")
        assert "代为登记先停在这里" in await bot.ask("cv", "取消")


async def test_cancel_in_a_vacancy_edit_speaks_of_the_edit(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "bureau")
        await bot.ask("c1", ONE_LINE)
        await bot.ask("c1", "确认")
        assert "修改岗位1" in await bot.ask("c1", "/修改岗位 1")
        paused = await bot.ask("c1", "取消")
        assert "岗位1的修改先停在这里" in paused and "先不发布" not in paused


# 2 ------------------------------------------------------------------------------------------------
POST_TO_REQUIREMENTS = [
    ("/发布岗位", "用工单位"),
    ("花溪某电子厂", "岗位（工种）"),
    ("普工", "在哪里工作"),
    ("1", "乡镇或街道"),
    ("青岩", "招几个人"),
    ("20人", "月薪"),
    ("4000-5000", "要求"),
]


async def test_no_requirements_is_understood(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "bureau")
        await answer(bot, "c1", POST_TO_REQUIREMENTS)
        for word in ("无", "不限", "没有要求"):
            reply = await bot.ask("c1", word)
            assert "太短了" not in reply and "联系人和电话" in reply, reply
            assert "要求" in await bot.ask("c1", "返回")
        await bot.ask("c1", "无")
        summary = await answer(bot, "c1", [("张经理 13800001111", "截止"),
                                           ("3月1日", "公益性岗位"), ("否", "请核对岗位信息")])
        assert "岗位要求：（未填）" in summary
        assert "发布成功" in await bot.ask("c1", "确认")
        [vacancy] = await all_of(bot, Vacancy)
        assert vacancy.requirements is None
        # The one-line form too; “男女不限” is a requirement and is kept.
        summary = await bot.ask("c1", ONE_LINE + " 要求：无")
        assert "岗位要求：（未填）" in summary and "太短了" not in summary
        summary = await bot.ask("c1", ONE_LINE + " 要求：男女不限")
        assert "岗位要求：男女不限" in summary


# 3 ------------------------------------------------------------------------------------------------
async def test_yesterday_is_said_to_be_past(settings):
    async with BotDriver(settings) as bot:  # 2024-02-03
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:town", "township", "青岩镇")
        await answer(bot, "town", [*POST_TO_REQUIREMENTS, ("跳过", "联系人和电话"),
                                   ("张经理 13800001111", "截止")])
        for text, day in (("截止昨天", "2月2日"), ("前天", "2月1日")):
            reply = await bot.ask("town", text)
            assert f"{day}已经过去了" in reply and "具体哪一天" not in reply, reply
        assert "公益性岗位" in await bot.ask("town", "明天")
        # The one-line form says what was wrong and asks for the deadline.
        await bot.ask("town", "取消")
        line = await bot.ask("town", ONE_LINE.replace("截止3月1日", "截止昨天"))
        assert "2月2日已经过去了" in line
        # A chartered bus cannot leave yesterday.
        await bot.ask("town", "/包车")
        assert "哪天出发" in await bot.ask("town", "广东东莞")
        reply = await bot.ask("town", "昨天")
        assert "2月2日已经过去了" in reply and "具体哪一天" not in reply


# 4 ------------------------------------------------------------------------------------------------
async def test_withdrawing_from_a_closed_vacancy_does_not_invite_to_apply_again(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "township", "青岩镇")
            await add_worker(s, "sim:w1", name="王小明", wanted_job="普工", intent="就近就业")
        await bot.ask("c1", ONE_LINE)
        await bot.ask("c1", "确认")
        assert "报名成功" in await bot.ask("w1", "报名 1")
        await bot.ask("c1", "/关闭岗位 1")
        reply = await bot.ask("w1", "取消报名 1")
        assert "已取消岗位1的报名" in reply and "已经停止招聘" in reply and "不能再报名" in reply
        assert "想再报名" not in reply


# 5 ------------------------------------------------------------------------------------------------
async def test_find_jobs_without_a_match_names_the_wanted_job(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "township", "青岩镇")
            await add_worker(s, "sim:w1", name="王小明", wanted_job="保洁", intent="就近就业")
            await add_worker(s, "sim:w2", name="李小红", intent="就近就业")
        await bot.ask("c1", "/发布岗位 花溪某钢构厂 电焊工 县内 2人 6000 电话13800001111")
        await bot.ask("c1", "确认")
        wanted = await bot.ask("w1", "找工作")
        assert "没有和您想做的“保洁”对得上" in wanted and "第一时间告诉您" in wanted
        assert "登记时写上技能" not in wanted and "花溪某钢构厂" in wanted
        nothing = await bot.ask("w2", "找工作")
        assert "登记时写上技能和想做的工种" in nothing


# 6 ------------------------------------------------------------------------------------------------
def checkin_settings(settings):
    return replace(settings, checkin_time=time(8, 0), checkin_remind_time=time(14, 0),
                   taskforce_groups=(TF,))


async def test_checkin_echo_and_a_correction_keeps_the_place(settings):
    async with BotDriver(checkin_settings(settings), start="2024-02-04T07:00") as bot:
        async with bot.app.db.session() as s:
            worker = await add_worker(s, "sim:u1", name="王小明")
        assert "不发热、不咳嗽" in await bot.ask("u1", "打卡 不发烧也不咳嗽 在家")
        corrected = await bot.ask("u1", "更正 36.8 正常")
        assert "已更新" in corrected and "体温 36.8℃，无症状，在家" in corrected
        assert "沿用之前的：在家" in corrected
        rows = await all_of(bot, Checkin, Checkin.worker_id == worker.id)
        assert [c.location for c in rows] == ["在家", "在家"]
        # A correction that does say where keeps what it says.
        moved = await bot.ask("u1", "36.6 正常 在东莞上班")
        assert "已到岗（东莞）" in moved and "沿用" not in moved


# 7 ------------------------------------------------------------------------------------------------
async def test_checkin_history_starts_at_registration(settings):
    async with BotDriver(checkin_settings(settings), start="2024-02-05T07:00") as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1", name="王小明",
                             registered_at=datetime(2024, 2, 4, 2, 0, tzinfo=UTC))  # 2月4日10点
        await bot.ask("u1", "36.5 正常 在家")
        record = await bot.ask("u1", "打卡记录")
        assert "2月5日：体温 36.5℃" in record and "2月4日：未打卡" in record
        assert "2月3日" not in record and "1月30日" not in record and "登记以来" in record


# 8 ------------------------------------------------------------------------------------------------
async def test_a_registered_worker_typing_a_staff_command_is_not_invited_to_register(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:w1", name="王小明")
        registered = await bot.ask("w1", "/名单 异常")
        assert "工作人员用的命令" in registered and "登记" not in registered
        assert "/帮助" in registered
        stranger = await bot.ask("w9", "/名单 异常")
        assert "工作人员用的命令" in stranger and "如需登记" in stranger
        # In a group nobody's registration shows: the same words for everyone.
        [group] = await bot.say("w1", "/名单 异常", chat="group:g1")
        assert "如需登记" in group["text"]


# 9 ------------------------------------------------------------------------------------------------
async def test_apply_without_a_number_gets_a_hint(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:w1", name="王小明")
        for text in ("报名 abc", "报名", "我要报名普工"):
            reply = await bot.ask("w1", text)
            assert "请在报名后面写岗位编号，例如“报名 12”" in reply, reply
            assert "回复“找工作”看岗位和编号" in reply and "我能帮您" not in reply


# 10 -----------------------------------------------------------------------------------------------
async def test_an_invite_code_sent_in_a_group_is_voided(settings):
    from models.cadres import create_invite

    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            code = await create_invite(s, "张镇长", "township", "青岩镇", None,
                                       bot.app.clock.utcnow())
        [reply] = await bot.say("c1", f"/绑定 {code}", chat="group:g1")
        assert reply["chat"] == "group:g1"
        assert "作废" in reply["text"] and "新的邀请码" in reply["text"] and "私聊" in reply["text"]
        assert code not in reply["text"]
        refused = await bot.ask("c1", f"/绑定 {code}")
        assert "绑定成功" not in refused and "用过" in refused
        async with bot.app.db.session() as s:
            invite = await s.get(Invite, code)
        assert invite is not None and invite.used_at is not None


# 11 -----------------------------------------------------------------------------------------------
async def test_the_group_hears_once_of_an_abnormal_person_a_day(settings):
    async with BotDriver(checkin_settings(settings), start="2024-02-04T07:00") as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1", name="王小明")
            await add_cadre(s, "sim:cv", "village", "青岩镇", "歪脚村")
        lines: list[str] = []
        alerts: list[str] = []
        for text in ("37.8 发烧 在家", "37.9 发烧 咳嗽 在家", "38.2 发烧 咳嗽 乏力", "38.0 咳嗽"):
            out = await bot.say("u1", text)
            lines += in_group(out, "group:tf")
            alerts.append(to(out, "cv"))
        assert len(lines) == 1 and "王*明" in lines[0] and "王小明" not in lines[0]
        assert all("健康异常" in a for a in alerts)  # the cadre still hears every change
        out = await bot.say("u1", "更正 36.6 正常 不咳嗽")
        [corrected] = in_group(out, "group:tf")
        assert "已更正" in corrected and "王*明" in corrected


# 12 -----------------------------------------------------------------------------------------------
async def test_family_difficulty_one_asks_what_it_is(settings):
    async with BotDriver(settings) as bot:
        question = await answer(bot, "u1", [
            ("登记", "同意"), ("同意", "姓名"), ("王小明", "身份证"),
            (make_id(birth="19900101", seq="123"), "手机号"), ("13812345678", "乡镇"),
            ("青岩", "村"), ("歪脚村", "组"), ("3组", "户主"), ("本人", "哪类人员"),
            ("3", "身体状况"), ("健康", "不舒服"), ("没有", "困难"),
        ])
        assert "1. 有" in question and "2. 没有" in question
        for yes in ("1", "有"):
            assert "请简单说一下是什么困难" in await bot.ask("u1", yes)
        assert "技能" in await bot.ask("u1", "家里老人生病要照顾")
        await answer(bot, "u1", [("跳过", "工作"), ("跳过", "就业情况"), ("4", "打算"),
                                 ("暂不就业", "请核对")])
        assert "登记成功" in await bot.ask("u1", "确认")
        [worker] = await all_of(bot, Worker)
        assert worker.difficulty == "家里老人生病要照顾"


# 13 -----------------------------------------------------------------------------------------------
REPORT = [
    ("/企业", "企业名称"),
    ("贵阳某某食品有限公司", "乡镇"),
    ("不变", "复工"),
    ("2月10日", "在册职工"),
    ("120人", "已经返岗"),
    ("八十", "还缺多少人"),
    ("30", "缺哪些工种"),
]


async def test_an_enterprise_shortage_is_posted_as_a_vacancy(settings):
    async with BotDriver(with_settings(settings, job_groups=(JOBS,))) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
            await add_cadre(s, "sim:other", "township", "孟关苗族布依族乡", name="周镇长")
            await add_worker(s, "sim:w1", name="王小明", wanted_job="普工", intent="就近就业")
        await answer(bot, "town", [*REPORT, ("普工", "请核对企业复工情况")])
        done = await bot.ask("town", "确认")
        assert "缺工30人（普工）" in done and "/发布岗位 企业1" in done
        assert "只需补月薪、联系人和报名截止日期" in done
        # Someone else's township: refused.
        assert "没有企业编号1" in await bot.ask("other", "/发布岗位 企业1")
        started = await bot.ask("town", "/发布岗位 企业1")
        assert "贵阳某某食品有限公司" in started and "已经填好" in started and "月薪" in started
        summary = await answer(bot, "town", [("4000-5000", "联系人和电话"),
                                             ("王经理 13800002222", "截止"),
                                             ("3月1日", "请核对岗位信息")])
        for shown in ("用工单位：贵阳某某食品有限公司", "岗位：普工", "工作地点：县内",
                      "乡镇/街道：青岩镇", "招聘人数：30人", "公益性岗位：否"):
            assert shown in summary, summary
        out = await bot.say("town", "确认")
        assert any("发布成功" in o["text"] for o in out if o.get("to") == "town")
        assert "岗位推荐" in to(out, "w1") and in_group(out, "group:jobs")
        [vacancy] = await all_of(bot, Vacancy)
        assert (vacancy.employer, vacancy.title, vacancy.area, vacancy.township, vacancy.headcount,
                vacancy.pay_min, vacancy.deadline) == (
            "贵阳某某食品有限公司", "普工", "县内", "青岩镇", 30, 4000, date(2024, 3, 1))


async def test_an_enterprise_lacking_several_jobs_posts_one_each(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await answer(bot, "town", [*REPORT, ("普工20人、电焊工10人", "请核对企业复工情况")])
        done = await bot.ask("town", "确认")
        assert "/发布岗位 企业1 普工" in done and "/发布岗位 企业1 电焊工" in done
        started = await bot.ask("town", "/发布岗位 企业1 电焊工")
        assert "月薪" in started
        summary = await answer(bot, "town", [("跳过", "联系人和电话"), ("王经理 13800002222", "截止"),
                                             ("跳过", "请核对岗位信息")])
        assert "岗位：电焊工" in summary and "招聘人数：10人" in summary
        # Without a job named, the job and the headcount are asked.
        started = await bot.ask("town", "/发布岗位 企业1")
        assert "一个岗位发一次" in started and "什么岗位" in started
        # An enterprise that lacks nobody has nothing to post.
        await answer(bot, "town", [*REPORT[:6], ("0", "请核对")])
        await bot.ask("town", "确认")
        assert "不缺工" in await bot.ask("town", "/发布岗位 企业1")
