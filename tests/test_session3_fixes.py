"""Defects found in the third review, each as what the person sees, on SQLite and PostgreSQL:
/统计 in a group pointing to an export that only works in private chat, a worker's /投诉 refused
as a staff command, and the refusals of /回复投诉, /结案, /修改岗位, /关闭岗位 and /录用 (their
checks now shared) saying what they said before."""

from __future__ import annotations

from sqlalchemy import select

from models.complaints import CLOSED, OPEN, Complaint
from models.tables import AuditLog, DialogState
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver
from tests.test_complaints import ANSWERS, EMPLOYER, PHONE
from tests.test_registration import answer_all

ONE_LINE = "/发布岗位 花溪某电子厂 普工 县内 20人 4000-5000 联系电话13800001111 截止3月1日"


async def complaints(bot: BotDriver) -> list[Complaint]:
    async with bot.app.db.session() as s:
        return list((await s.execute(select(Complaint).order_by(Complaint.id))).scalars())


def export_line(text: str) -> str:
    [line] = [x for x in text.splitlines() if x.startswith("Excel 表")]
    return line


# 1 ------------------------------------------------------------------------------------------------
async def test_statistics_in_a_group_say_the_excel_comes_in_private_chat(settings):
    async with BotDriver(settings, start="2024-02-03T16:00") as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:dist", "district", name="赵专班")
            await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")
            await add_worker(s, "sim:w1", name="张大", township="青岩镇", village="歪脚村")
        for cadre in ("dist", "vil"):
            [out] = await bot.say(cadre, "/统计", chat="group:g1")
            assert out["chat"] == "group:g1" and "登记 1 人" in out["text"]
            assert export_line(out["text"]) == "Excel 表：私聊我发“/统计 导出”", out["text"]
            # What that line says works: in private chat the file comes.
            assert export_line(await bot.ask(cadre, "/统计")) == "Excel 表：/统计 导出"
        [file] = await bot.say("dist", "/统计 导出")
        assert file["chat"] == "private" and file["file"].endswith(".xlsx")


# 2 ------------------------------------------------------------------------------------------------
async def test_a_worker_typing_slash_complaint_gets_the_complaint_form(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:b1", "bureau", name="钱就业")
            await add_cadre(s, "sim:v1", "village", "青岩镇", "歪脚村", name="李书记")
            await add_worker(s, "sim:u1", name="王小明", phone=PHONE)
        intro = await bot.ask("u1", "/投诉")
        assert "工作人员用的命令" not in intro
        assert "不会告诉用人单位" in intro and "哪个用人单位" in intro
        await answer_all(bot, "u1", ANSWERS)
        out = await bot.say("u1", "确认")
        assert any(o.get("to") == "u1" and "投诉1" in o["text"] for o in out)
        assert any(o.get("to") == "b1" and "【新投诉】投诉1" in o["text"] for o in out)
        [c] = await complaints(bot)
        assert (c.identity, c.employer, c.status) == ("sim:u1", EMPLOYER, OPEN)

        # Someone not registered, with the full-width slash and the number glued on: the same.
        assert "哪个用人单位" in await bot.ask("u9", "／投诉")
        assert "哪个用人单位" in await bot.ask("u9", "/投诉3")  # the form already open goes on

        # Staff keep their command; other staff are still refused, nothing is started for them.
        assert "未结案的投诉 1 件" in await bot.ask("b1", "/投诉")
        assert "不在您（村/社区干部）的权限内" in await bot.ask("v1", "/投诉")
        async with bot.app.db.session() as s:
            assert await s.get(DialogState, "sim:v1") is None
        # The handlers' other commands stay staff-only.
        assert "工作人员用的命令" in await bot.ask("u1", "/结案 1")


async def test_a_worker_slash_complaint_mid_form_and_in_a_group(settings):
    async with BotDriver(settings) as bot:
        # In the middle of the registration with answers in it: asked first, as with “投诉”.
        await bot.ask("u2", "登记")
        await bot.ask("u2", "同意")
        await bot.ask("u2", "王小明")
        asked = await bot.ask("u2", "/投诉")
        assert "没填完的" in asked and "先投诉" in asked
        assert "哪个用人单位" in await bot.ask("u2", "先投诉")
        # In a group: the pointer to a private chat, nothing taken down, no form started.
        [out] = await bot.say("u3", "/投诉", chat="group:g1")
        assert out["chat"] == "group:g1"
        assert "私聊我发“投诉”" in out["text"] and "工作人员用的命令" not in out["text"]
        async with bot.app.db.session() as s:
            assert await s.get(DialogState, "sim:u3") is None


# 3 ------------------------------------------------------------------------------------------------
async def test_complaint_commands_refuse_as_before(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:b1", "bureau", name="钱就业")
        assert "哪个用人单位" in await bot.ask("u1", "投诉")
        await answer_all(bot, "u1", [*ANSWERS[:3], ("不要", "请核对")])
        await bot.ask("u1", "确认")
        assert "请写上投诉编号（数字），例如：/回复投诉 3" in await bot.ask("b1", "/回复投诉")
        assert "请写上投诉编号（数字），例如：/结案 3" in await bot.ask("b1", "/结案 花溪")
        assert "没有投诉7" in await bot.ask("b1", "/回复投诉 7 你好")
        assert ("请在编号后面写上回复的内容，例如：/回复投诉 1 已联系企业核实"
                in await bot.ask("b1", "/回复投诉 1"))
        assert "请在编号后面写上要补充的内容" in await bot.ask("u1", "补充投诉 1")
        assert "已经补充到投诉1里" in await bot.ask("u1", "补充投诉 1：老板还扣了押金。")
        assert "已把回复发给投诉1的投诉人" in await bot.ask("b1", "/回复投诉 1：已联系企业。")
        assert "投诉1已结案" in await bot.ask("b1", "/结案 1")
        assert "投诉1已经结案，不能再回复。" in await bot.ask("b1", "/回复投诉 1 再问一下")
        assert "投诉1已结案（2月3日），不用再结案。" in await bot.ask("b1", "/结案 1 好了")
        [c] = await complaints(bot)
        assert c.status == CLOSED and c.result is None
        mine = await bot.ask("u1", "我的投诉")
        assert "您补充：老板还扣了押金。" in mine and "工作人员回复：已联系企业。" in mine


async def test_vacancy_commands_refuse_as_before(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "bureau", name="钱就业")
            await add_cadre(s, "sim:vw", "village", "青岩镇", "歪脚村", name="李书记")
        await bot.ask("c1", ONE_LINE)
        await bot.ask("c1", "确认")
        for cmd, verb in (("/修改岗位 1", "修改"), ("/关闭岗位 1", "关闭"), ("/录用 1 王小明", "登记录用")):
            reply = await bot.ask("vw", cmd)
            assert "不是您发布的" in reply and verb in reply, (cmd, reply)
        async with bot.app.db.session() as s:
            denied = (await s.execute(select(AuditLog).where(AuditLog.action == "denied")
                                      .order_by(AuditLog.id))).scalars().all()
        assert [(a.target, a.detail) for a in denied] == [
            ("vacancy 1", "修改岗位"), ("vacancy 1", "关闭岗位"), ("vacancy 1", "录用")]
        assert "录用谁？" in await bot.ask("c1", "/录用 1")
        assert "没有编号为9的岗位" in await bot.ask("c1", "/关闭岗位 9")
        assert "已关闭" in await bot.ask("c1", "/关闭岗位 1")
        assert "岗位1已经关闭了。" in await bot.ask("c1", "/关闭岗位 1")
        assert ("岗位1已经关闭，不能修改。要再招人请发 /发布岗位 重新发布。"
                in await bot.ask("c1", "/修改岗位 1"))


def test_saying_no_to_a_phone_call_in_any_common_way_is_no():
    """“不可以” contains 可以: it was read as yes, and the worker was asked for a number that
    the bureau would then see."""
    from dialogs.complaint import parse_call

    for no in ("不可以", "不可以打电话", "不行", "不需要", "不必了", "没必要", "不要", "不用了"):
        assert parse_call(no, None) is False, no  # type: ignore[arg-type]
    for yes in ("可以", "可以打", "行", "好的", "方便"):
        assert parse_call(yes, None) is True, yes  # type: ignore[arg-type]
