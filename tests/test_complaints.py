"""Complaints about employers (投诉, §三(五)) through the replay pipeline, on SQLite and
PostgreSQL: the worker's dialog (registered or not) with its re-prompts, the number, who hears of
it and where (handlers in private, nobody in a group, never an employer), the staff commands
(list, detail, reply, close) with their permissions, bad input and audit, the worker's 我的投诉 and
补充投诉, anonymity, a dialog in progress, restarts, and 注销."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from dialogs.complaint import parse_when
from dialogs.engine import ParseEnv
from dialogs.parsing.dates import parse_past_date
from dialogs.parsing.errors import ParseError
from models.complaints import ADDITION, CLOSED, OPEN, REPLY, Complaint, ComplaintNote
from models.departure import MaskHandout
from models.erase import rows_referencing_worker
from models.tables import (
    AuditLog,
    DialogState,
    Enterprise,
    Identity,
    OutboxMessage,
    Vacancy,
    Worker,
)
from tests.factories import NOW, add_cadre, add_worker
from tests.harness import BotDriver
from tests.test_registration import BASE, answer_all

TODAY = date(2024, 2, 3)  # the harness starts on Saturday 3 February 2024, 09:00
PHONE = "13812345678"
WHAT = "说是防疫要求，要我们自己花钱去医院体检（300元），不体检就不让上班！"
EMPLOYER = "花溪某某电子厂"
# employer, what happened, when, may we call: the complaint of a registered worker, who agrees
# to a call on the registered phone.
ANSWERS = [(EMPLOYER, "发生了什么"), (WHAT, "什么时候"), ("上周三", "打电话"),
           ("可以", "手机号"), ("不变", "请核对")]


async def staff(bot: BotDriver, *, worker: bool = True) -> None:
    """b1 and b2 of the bureau, d1 of the district task force, a township and a village cadre,
    one bureau cadre no longer active; u1 a registered worker (王小明, 青岩镇歪脚村)."""
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:b1", "bureau", name="钱就业")
        await add_cadre(s, "sim:b2", "bureau", name="孙社保")
        await add_cadre(s, "sim:d1", "district", name="赵专班")
        await add_cadre(s, "sim:t1", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:v1", "village", "青岩镇", "歪脚村", name="李书记")
        gone = await add_cadre(s, "sim:b0", "bureau", name="周调走")
        gone.active = False
        s.add(gone)
        if worker:
            await add_worker(s, "sim:u1", name="王小明", phone=PHONE, group_name="3组")


def to(out: list[dict], user: str) -> str:
    return "\n".join(o["text"] for o in out if o.get("chat") == "private" and o.get("to") == user)


def recipients(out: list[dict]) -> list[str]:
    return sorted({o.get("to") or o["chat"] for o in out})


async def file(bot: BotDriver, user: str = "u1", answers=ANSWERS) -> list[dict]:
    """Complain through the whole dialog; returns what 确认 sent."""
    assert "哪个用人单位" in await bot.ask(user, "投诉")
    await answer_all(bot, user, answers)
    return await bot.say(user, "确认")


async def complaints(bot: BotDriver) -> list[Complaint]:
    async with bot.app.db.session() as s:
        return list((await s.execute(select(Complaint).order_by(Complaint.id))).scalars())


async def audits(bot: BotDriver, prefix: str = "complaint.") -> list[tuple[str, str, str]]:
    async with bot.app.db.session() as s:
        rows = (await s.execute(select(AuditLog).where(AuditLog.action.startswith(prefix))
                                .order_by(AuditLog.id))).scalars().all()
        return [(a.actor, a.action, a.target) for a in rows]


# ===== the whole flow =================================================================================
async def test_registered_worker_complains_and_the_bureau_handles_it(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        intro = await bot.ask("u1", "我要投诉")
        assert "不会告诉用人单位" in intro and "（第1题）" in intro and "哪个用人单位" in intro
        # Bad answers get a clear re-prompt and the same question stays open.
        assert "请写用人单位的名称" in await bot.ask("u1", "确认")
        assert "发生了什么" in await bot.ask("u1", EMPLOYER)
        assert "请说得具体一些" in await bot.ask("u1", "体检")
        assert "什么时候" in await bot.ask("u1", WHAT)
        assert "还没到" in await bot.ask("u1", "明天")
        assert "大概是什么时候" in await bot.ask("u1", "哈哈哈")
        call = await bot.ask("u1", "上周三")
        assert "可以打电话给您吗" in call and "跳过" in call
        assert "请回复“可以”" in await bot.ask("u1", "看情况吧再说")
        phone = await bot.ask("u1", "可以")
        assert "手机号" in phone and "138****5678" in phone and PHONE not in phone
        summary = await bot.ask("u1", "不变")
        assert "1. 用人单位：花溪某某电子厂" in summary
        assert f"2. 发生了什么：{WHAT}" in summary  # Chinese punctuation as typed
        assert "3. 什么时候：1月24日（周三）" in summary
        assert "5. 联系电话：138****5678" in summary and PHONE not in summary

        out = await bot.say("u1", "确认")
        assert recipients(out) == ["b1", "b2", "d1", "u1"]  # no group, no other cadre
        assert all(o["chat"] == "private" for o in out)
        done = to(out, "u1")
        assert "投诉1" in done and "补充投诉 1" in done and "不会告诉用人单位" in done
        alert = to(out, "b1")
        assert alert == to(out, "b2") == to(out, "d1")
        assert "【新投诉】投诉1" in alert and f"用人单位：{EMPLOYER}" in alert
        assert f"经过：{WHAT}" in alert and "发生时间：1月24日（周三）" in alert
        assert "投诉人：王小明（138****5678）" in alert and PHONE not in alert
        assert "保密" in alert and "/回复投诉 1" in alert and "/结案 1" in alert

        [c] = await complaints(bot)
        assert (c.identity, c.employer, c.what, c.status) == ("sim:u1", EMPLOYER, WHAT, OPEN)
        assert c.worker_id is not None and c.call_ok and c.phone == PHONE
        assert c.happened_from == c.happened_to == date(2024, 1, 24)
        async with bot.app.db.session() as s:
            assert await s.get(DialogState, "sim:u1") is None

        # The handlers: the list, the detail (with the number to call: the worker agreed).
        listed = await bot.ask("b1", "/投诉")
        assert "未结案的投诉 1 件" in listed and "投诉1" in listed and EMPLOYER in listed
        assert "未回复" in listed and "王小明" not in listed
        detail = await bot.ask("d1", "/投诉 1")
        assert "投诉1（处理中）" in detail and WHAT in detail
        assert "王小明，青岩镇歪脚村3组" in detail and f"电话联系：可以，{PHONE}" in detail

        # A reply reaches the worker, as typed, without the staff member's name.
        out = await bot.say("b1", "/回复投诉 1 已联系企业核实，体检费会退还；请耐心等待。")
        assert recipients(out) == ["b1", "u1"]
        reply = to(out, "u1")
        assert "【投诉1 回复】" in reply and "已联系企业核实，体检费会退还；请耐心等待。" in reply
        assert "钱就业" not in reply and "补充投诉 1" in reply
        assert "已把回复发给投诉1的投诉人" in to(out, "b1")

        # The worker adds to it; the handlers are told, privately.
        out = await bot.say("u1", "补充投诉 1 还有，加班费也没给。")
        assert recipients(out) == ["b1", "b2", "d1", "u1"]
        assert "投诉人补充：还有，加班费也没给。" in to(out, "b2")
        assert "已经补充到投诉1" in to(out, "u1")
        mine = await bot.ask("u1", "我的投诉")
        assert "投诉1：花溪某某电子厂" in mine and "处理中" in mine
        assert "工作人员回复：已联系企业核实" in mine and "您补充：还有，加班费也没给。" in mine

        listed = await bot.ask("b2", "/投诉")
        assert "已回复1次" in listed and "补充1次" in listed
        detail = await bot.ask("b2", "/投诉1")  # the number typed without a space
        assert "钱就业回复：已联系企业核实" in detail and "投诉人补充：还有" in detail

        # Closing tells the worker, with the result; after that nothing more can be added.
        out = await bot.say("d1", "/结案 1 已责令企业停止强制体检，费用已退还。")
        closed = to(out, "u1")
        assert "【投诉1 已结案】" in closed and "处理结果：已责令企业停止强制体检，费用已退还。" in closed
        assert "赵专班" not in closed
        assert "投诉1已结案" in to(out, "d1")
        [c] = await complaints(bot)
        assert c.status == CLOSED and c.result == "已责令企业停止强制体检，费用已退还。"
        assert c.closed_at is not None
        assert "已经结案" in await bot.ask("u1", "补充投诉 1 还有一件事要说")
        assert "已经结案" in await bot.ask("b1", "/回复投诉 1 再问一下")
        assert "投诉1已结案（2月3日），不用再结案" in await bot.ask("b2", "/结案 1")
        assert "已结案" in await bot.ask("u1", "我的投诉")
        assert "现在没有未结案的投诉" in await bot.ask("b1", "/投诉")
        assert "投诉1" in await bot.ask("b1", "/投诉 全部")
        async with bot.app.db.session() as s:
            notes = (await s.execute(select(ComplaintNote.kind, ComplaintNote.text)
                                     .order_by(ComplaintNote.id))).all()
            assert notes == [(REPLY, "已联系企业核实，体检费会退还；请耐心等待。"),
                             (ADDITION, "还有，加班费也没给。")]

        # Every read, reply and close is audited; the audit holds no complaint text or phone.
        assert await audits(bot) == [
            ("sim:b1", "complaint.list", ""), ("sim:d1", "complaint.view", "1"),
            ("sim:b1", "complaint.reply", "1"), ("sim:b2", "complaint.list", ""),
            ("sim:b2", "complaint.view", "1"), ("sim:d1", "complaint.close", "1"),
            ("sim:b1", "complaint.list", ""),  # “/投诉 全部” (an empty list shows nobody)
        ]
        async with bot.app.db.session() as s:
            details = " ".join((await s.execute(select(AuditLog.detail))).scalars())
        assert "体检" not in details and PHONE not in details and "王小明" not in details


async def test_someone_not_registered_complains_and_is_answered(settings):
    async with BotDriver(settings) as bot:
        await staff(bot, worker=False)
        out = await file(bot, "u9", [("青岩镇王老板的砖厂", "发生了什么"),
                                     ("老板说不做核酸检测就不给发工资", "什么时候"),
                                     ("记不清了", "打电话"), ("可以", "手机号"),
                                     ("12345", "手机号"), ("13900001111", "请核对")])
        assert "投诉1" in to(out, "u9")
        alert = to(out, "b1")
        assert "投诉人：未登记" in alert and "发生时间：记不清" in alert
        assert "13900001111" not in alert and "1111" not in alert
        [c] = await complaints(bot)
        assert c.worker_id is None and c.identity == "sim:u9" and c.phone == "13900001111"
        assert c.happened_from is None and c.when_label == "记不清"
        assert "电话联系：可以，13900001111" in await bot.ask("b1", "/投诉 1")

        out = await bot.say("b2", "/回复投诉 1 您好，请问是哪个村的砖厂？")
        assert "【投诉1 回复】" in to(out, "u9")
        # A thank-you from someone who has not registered is not taken as a wish to register.
        thanks = await bot.ask("u9", "好的谢谢")
        assert "投诉1正在处理" in thanks and "补充投诉 1" in thanks and "同意登记" not in thanks
        assert "已经补充到投诉1" in await bot.ask("u9", "补充投诉1：是石板村那个砖厂")
        out = await bot.say("b1", "/结案 1")
        closed = to(out, "u9")
        assert "【投诉1 已结案】" in closed and "处理结果" not in closed
        # Closed: the same person's next unknown message is the ordinary welcome again.
        assert "同意登记吗" in await bot.ask("u9", "你好")


async def test_when_it_happened_is_read_like_people_say_it(settings):
    """Spans and days, through the dialog: the stored dates follow the label."""
    async with BotDriver(settings) as bot:
        await staff(bot)
        answers = [(EMPLOYER, "发生了什么"), (WHAT, "什么时候"), ("上周", "打电话"),
                   ("不要", "请核对")]
        out = await file(bot, answers=answers)
        assert "发生时间：上周（1月22日至1月28日）" in to(out, "b1")
        assert "电话联系：不希望接电话" in to(out, "b1")
        [c] = await complaints(bot)
        assert (c.happened_from, c.happened_to) == (date(2024, 1, 22), date(2024, 1, 28))
        assert not c.call_ok and c.phone is None
        # Skipping the call question means no call.
        answers = [(EMPLOYER, "发生了什么"), (WHAT, "什么时候"), ("前天", "打电话"),
                   ("跳过", "请核对")]
        out = await file(bot, answers=answers)
        assert "发生时间：2月1日（周四）" in to(out, "b1") and "不希望接电话" in to(out, "b1")
        detail = await bot.ask("b1", "/投诉 2")
        assert "不希望接电话（登记的手机 138****5678）" in detail and PHONE not in detail


@pytest.mark.parametrize(("said", "label", "first", "last"), [
    ("前天", "2月1日（周四）", date(2024, 2, 1), date(2024, 2, 1)),
    ("昨天下午", "2月2日（周五）", date(2024, 2, 2), date(2024, 2, 2)),
    ("3月2日", "2023年3月2日（周四）", date(2023, 3, 2), date(2023, 3, 2)),  # not yet this year
    ("1月15号", "1月15日（周一）", date(2024, 1, 15), date(2024, 1, 15)),
    ("上周三", "1月24日（周三）", date(2024, 1, 24), date(2024, 1, 24)),
    ("周五", "2月2日（周五）", date(2024, 2, 2), date(2024, 2, 2)),
    ("星期天", "1月28日（周日）", date(2024, 1, 28), date(2024, 1, 28)),
    ("5天前", "1月29日（周一）", date(2024, 1, 29), date(2024, 1, 29)),
    ("上个月15号", "1月15日（周一）", date(2024, 1, 15), date(2024, 1, 15)),
    ("去年12月20日", "2023年12月20日（周三）", date(2023, 12, 20), date(2023, 12, 20)),
    ("上周", "上周（1月22日至1月28日）", date(2024, 1, 22), date(2024, 1, 28)),
    ("上个月", "上个月（1月1日至1月31日）", date(2024, 1, 1), date(2024, 1, 31)),
    ("这周", "这周（1月29日至2月3日）", date(2024, 1, 29), date(2024, 2, 3)),
    ("前几天", "前几天（1月27日至2月3日）", date(2024, 1, 27), date(2024, 2, 3)),
    ("12月份", "12月（2023年12月1日至2023年12月31日）", date(2023, 12, 1), date(2023, 12, 31)),
    ("记不清了", "记不清", None, None),
    ("忘了", "记不清", None, None),
])
def test_when_answers(said, label, first, last):
    value = parse_when(said, ParseEnv(today=TODAY, answers={}, ctx=None))  # type: ignore[arg-type]
    assert value["label"] == label
    assert value["from"] == (first.isoformat() if first else None)
    assert value["to"] == (last.isoformat() if last else None)


@pytest.mark.parametrize(("said", "hint"), [
    ("明天", "还没到"), ("下周一", "还没到"), ("这周日", "还没到"), ("2024年3月1日", "还没到"),
    ("2月30日", "没有30日"), ("腊月二十", "正月"), ("嗯", "大概是什么时候"), ("", "大概是什么时候"),
])
def test_when_answers_refused_with_a_hint(said, hint):
    with pytest.raises(ParseError) as err:
        parse_when(said, ParseEnv(today=TODAY, answers={}, ctx=None))  # type: ignore[arg-type]
    assert hint in err.value.hint


def test_past_dates_are_the_latest_such_day():
    assert parse_past_date("初五", TODAY) == date(2023, 1, 26)  # 2024's Spring Festival is 2/10
    assert parse_past_date("初五", date(2024, 2, 20)) == date(2024, 2, 14)
    assert parse_past_date("15号", date(2024, 3, 10)) == date(2024, 2, 15)
    assert parse_past_date("上上周一", TODAY) == date(2024, 1, 15)
    assert parse_past_date("两个星期前", TODAY) == date(2024, 1, 20)


# ===== permissions, groups, bad input ================================================================
async def test_only_the_bureau_and_the_task_force_handle_complaints(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await file(bot)
        for cadre in ("t1", "v1"):  # township, village
            for cmd in ("/投诉", "/投诉 1", "/回复投诉 1 你好", "/结案 1"):
                reply = await bot.ask(cadre, cmd)
                assert "不在您" in reply, (cadre, cmd, reply)
                assert EMPLOYER not in reply and "王小明" not in reply
        # A worker, and a bureau cadre no longer active: not staff, so /投诉 is their own
        # complaint form (tests/test_session3_fixes.py); the handlers' commands are refused.
        for who in ("u1", "b0"):
            for cmd in ("/回复投诉 1 你好", "/结案 1"):
                reply = await bot.ask(who, cmd)
                assert "工作人员用的命令" in reply and EMPLOYER not in reply, (who, cmd, reply)
        # In a group: nothing, even from a handler; the complaint is untouched.
        for cmd in ("/投诉", "/投诉 1", "/回复投诉 1 你好", "/结案 1 好了"):
            out = await bot.say("b1", cmd, chat="group:g1")
            assert out and all(o["chat"] == "group:g1" for o in out)
            assert all("私聊" in o["text"] and EMPLOYER not in o["text"] for o in out)
        [c] = await complaints(bot)
        assert c.status == OPEN
        async with bot.app.db.session() as s:
            assert await s.scalar(select(func.count()).select_from(ComplaintNote)) == 0
        assert await audits(bot) == []
        help_text = await bot.ask("b1", "/帮助")
        assert "/投诉" in help_text and "/回复投诉" in help_text and "/结案" in help_text
        assert "/回复投诉" not in await bot.ask("v1", "/帮助")
        assert "回复“投诉”" in await bot.ask("u1", "/帮助")


async def test_nothing_about_a_complaint_goes_to_a_group(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        out = await bot.say("u1", "投诉 花溪某某电子厂强制体检", chat="group:g1")
        assert [o["chat"] for o in out] == ["group:g1"]
        assert "私聊" in out[0]["text"] and "体检" not in out[0]["text"]
        assert "王小明" not in out[0]["text"]
        out = await bot.say("u1", "投诉", chat="group:g1", mention=False)  # not to the bot
        assert out == []
        async with bot.app.db.session() as s:
            assert await s.get(DialogState, "sim:u1") is None
        await file(bot)
        async with bot.app.db.session() as s:
            chats = set((await s.execute(select(OutboxMessage.chat))).scalars())
        assert {c for c in chats if "group" in c} == {"sim:group:g1"}
        assert all(":private:" in c for c in chats - {"sim:group:g1"})


async def test_bad_staff_input_is_answered_in_chinese(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await file(bot)
        assert "看一件投诉请写编号" in await bot.ask("b1", "/投诉 花溪")
        assert "没有投诉99" in await bot.ask("b1", "/投诉 99")
        assert "请写上投诉编号" in await bot.ask("b1", "/回复投诉")
        assert "请写上投诉编号" in await bot.ask("b1", "/回复投诉 你好")
        assert "请在编号后面写上回复的内容" in await bot.ask("b1", "/回复投诉 1")
        assert "没有投诉7" in await bot.ask("b1", "/回复投诉 7 你好")
        assert "不要只发表情" in await bot.ask("b1", "/回复投诉 1 👍👍")
        assert "太长" in await bot.ask("b1", "/回复投诉 1 " + "很" * 501)
        assert "请写上投诉编号" in await bot.ask("b1", "/结案")
        assert "没有投诉3" in await bot.ask("b1", "/结案 投诉3")
        async with bot.app.db.session() as s:
            assert await s.scalar(select(func.count()).select_from(ComplaintNote)) == 0
        # Markup in a reply stays literal text; it is passed on as typed.
        out = await bot.say("b1", "/回复投诉 投诉1 [CQ:at,qq=all] <b>请</b>到人社局面谈")
        assert "[CQ:at,qq=all] <b>请</b>到人社局面谈" in to(out, "u1")
        assert all(not o.get("mention_all") for o in out)


async def test_worker_side_bad_input_and_other_peoples_complaints(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await file(bot)
        assert "请写上投诉编号" in await bot.ask("u1", "补充投诉")
        assert "请写上投诉编号" in await bot.ask("u1", "补充投诉 老板又打电话来了")
        assert "请在编号后面写上要补充的内容" in await bot.ask("u1", "补充投诉 1")
        assert "不要只发表情" in await bot.ask("u1", "补充投诉 1 😡😡")
        # Someone else's complaint: the same words as one that does not exist.
        other = await bot.ask("u2", "补充投诉 1 我也被强制体检了")
        assert other.startswith("没有找到您的投诉1")
        assert other.replace("1", "9") == (await bot.ask("u2", "补充投诉 9 我也是")).replace(
            "1", "9")
        assert "还没有投诉过" in await bot.ask("u2", "我的投诉")
        async with bot.app.db.session() as s:
            assert await s.scalar(select(func.count()).select_from(ComplaintNote)) == 0


async def test_employer_is_never_told_nor_any_record_touched(settings):
    """Anonymous to the employer, always: the employer's contact on a vacancy and an
    enterprise report of the same name get nothing, and no record of theirs changes."""
    async with BotDriver(settings) as bot:
        await staff(bot)
        async with bot.app.db.session() as s:
            boss = await add_cadre(s, "sim:boss", "township", "青岩镇", name="电子厂厂长")
            s.add(Enterprise(name=EMPLOYER, township="青岩镇", staff_registered=50,
                             reported_by=boss.id, reported_at=NOW))
            s.add(Vacancy(employer=EMPLOYER, title="普工", area="县内", contact=PHONE[:-1] + "0",
                          posted_by=boss.id, created_at=NOW, updated_at=NOW))
        out = await file(bot)
        out += await bot.say("b1", "/回复投诉 1 已立案调查")
        out += await bot.say("u1", "补充投诉 1 厂长还说要扣工资")
        out += await bot.say("b1", "/结案 1 已处理")
        assert set(recipients(out)) == {"b1", "b2", "d1", "u1"}
        async with bot.app.db.session() as s:
            enterprise = (await s.execute(select(Enterprise))).scalar_one()
            vacancy = (await s.execute(select(Vacancy))).scalar_one()
            assert (enterprise.staff_registered, enterprise.reported_at) == (50, NOW)
            assert vacancy.updated_at == NOW and vacancy.status == "open"
            chats = set((await s.execute(select(OutboxMessage.chat))).scalars())
            assert chats == {"sim:private:b1", "sim:private:b2", "sim:private:d1",
                             "sim:private:u1"}


# ===== the dialog among others ========================================================================
async def test_a_form_in_progress_is_kept_unless_the_worker_sets_it_aside(settings):
    async with BotDriver(settings) as bot:
        await staff(bot, worker=False)
        await answer_all(bot, "u5", BASE[:4])  # consent, name and ID number given
        asked = await bot.ask("u5", "投诉")
        assert "还有没填完的登记" in asked and "先投诉" in asked
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u5")
            assert state is not None and state.dialog == "registration"
            assert state.answers["name"] == "王小明"
        assert "手机号" in await bot.ask("u5", "继续")  # the registration goes on
        assert "哪个用人单位" in await bot.ask("u5", "先投诉")
        # Someone only asked to consent (nothing typed yet) goes straight to the complaint.
        assert "同意" in await bot.ask("u6", "你好")
        assert "哪个用人单位" in await bot.ask("u6", "投诉")


async def test_cancel_resume_restart_and_change_at_the_summary(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await bot.ask("u1", "投诉")
        await answer_all(bot, "u1", ANSWERS[:2])
        assert "还没有交给任何人" in await bot.ask("u1", "取消")
        async with bot.app.db.session() as s:
            assert await s.scalar(select(func.count()).select_from(Complaint)) == 0
        resumed = await bot.ask("u1", "投诉")
        assert "接着投诉" in resumed and "什么时候" in resumed
        await bot.restart()  # answers survive a restart
        await answer_all(bot, "u1", ANSWERS[2:])
        changed = await bot.ask("u1", "修改 1")
        assert "哪个用人单位" in changed and "之前填的是：花溪某某电子厂" in changed
        summary = await bot.ask("u1", "花溪另一家电子厂")
        assert "1. 用人单位：花溪另一家电子厂" in summary
        out = await bot.say("u1", "确认")
        assert "用人单位：花溪另一家电子厂" in to(out, "b1")
        # Typing 投诉 in the middle of a complaint asks the same question again.
        await bot.ask("u1", "投诉")
        assert "发生了什么" in await bot.ask("u1", EMPLOYER)
        assert "接着投诉" in await bot.ask("u1", "投诉")


async def test_complaints_a_day_are_limited(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        for _ in range(5):
            await file(bot, answers=[(EMPLOYER, "发生了什么"), (WHAT, "什么时候"),
                                     ("前天", "打电话"), ("不要", "请核对")])
        limited = await bot.ask("u1", "投诉")
        assert "今天已经投诉了5次" in limited and "补充投诉" in limited
        assert len(await complaints(bot)) == 5
        await bot.feed({"clock": "2024-02-04T09:00"})
        assert "哪个用人单位" in await bot.ask("u1", "投诉")


async def test_replies_reach_the_account_the_worker_uses_now(settings):
    """A registered worker is answered on the chat account they used last."""
    async with BotDriver(settings) as bot:
        await staff(bot)
        await file(bot)
        async with bot.app.db.session() as s:
            worker = (await s.execute(select(Worker))).scalar_one()
            s.add(Identity(identity="sim:u1b", worker_id=worker.id, display_name="小明",
                           first_seen=NOW, last_seen=NOW.replace(year=2025)))
        out = await bot.say("b1", "/回复投诉 1 收到")
        assert "【投诉1 回复】" in to(out, "u1b") and to(out, "u1") == ""
        assert "投诉1：花溪某某电子厂" in await bot.ask("u1b", "我的投诉")


# ===== 注销 ===============================================================================================
async def test_erasing_a_registered_worker_deletes_their_complaints(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await file(bot)
        await bot.ask("b1", "/回复投诉 1 已联系企业")
        await bot.ask("u1", "补充投诉 1 还有加班费的事情")
        await file(bot, "u2", [("某砖厂", "发生了什么"), ("老板不让戴口罩上工", "什么时候"),
                               ("昨天", "打电话"), ("不要", "请核对")])
        async with bot.app.db.session() as s:
            worker_id = (await s.execute(select(Worker.id))).scalar_one()
            s.add(MaskHandout(worker_id=worker_id, township="青岩镇", village="歪脚村", count=5,
                              at=NOW))
        asked = await bot.ask("u1", "注销")
        assert "您的投诉（1件）" in asked and "确认注销" in asked
        done = await bot.ask("u1", "确认注销")
        assert "已注销" in done and "投诉" in done
        async with bot.app.db.session() as s:
            assert await rows_referencing_worker(s, worker_id) == {}
            left = (await s.execute(select(Complaint.id, Complaint.identity))).all()
            assert left == [(2, "sim:u2")]  # someone else's stays
            notes = (await s.execute(select(ComplaintNote))).scalars().all()
            assert notes == []
            texts = "\n".join((await s.execute(select(OutboxMessage.text))).scalars())
            assert WHAT not in texts and "还有加班费的事情" not in texts
            assert "老板不让戴口罩上工" in texts
            erased = (await s.execute(select(AuditLog.detail).where(
                AuditLog.action == "worker.erase"))).scalar_one()
            assert "complaint 1" in erased and "complaintnote 2" in erased
        assert "没有投诉1" in await bot.ask("b1", "/投诉 1")
        assert "投诉2" in await bot.ask("b1", "/投诉")


async def test_erasing_someone_not_registered_deletes_their_complaints(settings):
    async with BotDriver(settings) as bot:
        await staff(bot, worker=False)
        await file(bot, "u9", [("某砖厂", "发生了什么"), ("老板说不做核酸不给发工资", "什么时候"),
                               ("记不清", "打电话"), ("可以", "手机号"),
                               ("13900001111", "请核对")])
        asked = await bot.ask("u9", "注销")
        assert "投诉记录（1件）" in asked and "确认注销" in asked
        assert "已删除您的投诉记录" in await bot.ask("u9", "确认注销")
        assert await complaints(bot) == []
        async with bot.app.db.session() as s:
            texts = "\n".join((await s.execute(select(OutboxMessage.text))).scalars())
            assert "老板说不做核酸不给发工资" not in texts and "13900001111" not in texts
            erased = (await s.execute(select(AuditLog.actor, AuditLog.target).where(
                AuditLog.action == "worker.erase"))).all()
            assert erased == [("worker", "")]
        assert "不需要注销" in await bot.ask("u9", "注销")
