"""/查, /登记 (on a worker's behalf) and /修改, for each role, with scope and chat rules."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models.tables import AuditLog, DialogState, Household, Identity, Worker
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver
from tests.ids import make_id

ID_LI = make_id(birth="19700505", seq="551")


async def staff(bot: BotDriver) -> None:
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:dist", "district", name="赵专班")
        await add_cadre(s, "sim:bur", "bureau", name="钱就业")
        await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")


async def audits(bot: BotDriver, action: str) -> list[AuditLog]:
    async with bot.app.db.session() as s:
        return list((await s.execute(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))).scalars())


async def test_find_by_name_phone_tail_and_number(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        async with bot.app.db.session() as s:
            w = await add_worker(s, "sim:w1", name="王小明", phone="13812345678", health="健康",
                                 relation="本人", skills="电焊")
            await add_worker(s, None, name="王小红", phone="13912340000", village="龙井村")
        record = await bot.ask("vil", "/查 王小明")
        assert f"编号{w.id} 王小明" in record and "138****5678" in record
        assert "13812345678" not in record and w.id_number not in record
        assert "5201**********" in record and "技能：电焊" in record and "今日打卡：未打卡" in record
        assert f"编号{w.id}" in await bot.ask("vil", "/查 5678")
        assert "王小明" in await bot.ask("vil", f"/查 编号{w.id}")
        # 王小红 lives in 龙井村: the village cadre is told nothing about her
        assert "没有找到" in await bot.ask("vil", "/查 王小红")
        assert "没有找到" in await bot.ask("vil", "/查 0000")
        several = await bot.ask("town", "/查 王小")
        assert "多位" in several and "王*明" in several and "王*红" in several
        assert "王小红" not in several
        # the bureau reads employment data, not health
        bureau = await bot.ask("bur", "/查 王小明")
        assert "王小明" in bureau and "健康" not in bureau and "打卡" not in bureau
        # in a group: refused, nothing personal shown
        out = await bot.say("town", "/查 王小明", chat="group:g1")
        assert len(out) == 1 and "请私聊我使用" in out[0]["text"] and "王" not in out[0]["text"]
        viewed = await audits(bot, "worker.view")
        assert [a.actor for a in viewed] == ["sim:vil", "sim:vil", "sim:vil", "sim:bur"]
        assert all(a.target == str(w.id) for a in viewed)
        # a full phone or ID number typed as the query is found, and masked in the audit log
        assert "王小明" in await bot.ask("vil", "/查 13812345678")
        assert "王小明" in await bot.ask("vil", f"/查 {w.id_number}")
        assert "没有找到" in await bot.ask("vil", "/查 13912340000")
        logged = " ".join(a.detail for a in await audits(bot, "worker.view")
                          + await audits(bot, "worker.search"))
        assert "138****5678" in logged and "13812345678" not in logged
        assert w.id_number not in logged and "13912340000" not in logged


# The on-behalf registration: (answer, what the next question must contain).
ON_BEHALF = [
    ("是", "被登记人的姓名"),
    ("李老四", "被登记人的身份证号"),
    (ID_LI, "家里人的手机号"),
    ("13912345678", "乡镇"),
    ("不变", "村"),
    ("不变", "组"),
    ("2组", "户主"),
    ("本人", "哪类人员"),
    ("1", "身体状况"),
    ("健康", "不舒服"),
    ("没有", "困难"),
    ("没有", "技能"),
    ("跳过", "工作"),
    ("跳过", "就业情况"),
    ("4", "打算"),
    ("就近就业", "什么工作"),
    ("普工", "哪里工作"),
    ("花溪", "月薪"),
    ("跳过", "请核对登记信息"),
]


async def answer(bot: BotDriver, user: str, steps) -> str:
    reply = ""
    for text, expected in steps:
        reply = await bot.ask(user, text)
        assert expected in reply, f"after {text!r} expected {expected!r} in:\n{reply}"
    return reply


async def test_village_cadre_registers_a_worker_on_their_behalf(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        first = await bot.ask("vil", "/登记")
        assert "代为登记" in first and "已征得本人同意吗" in first and "关联" not in first
        summary = await answer(bot, "vil", ON_BEHALF)
        assert "李老四" in summary and "139****5678" in summary and ID_LI not in summary
        done = await bot.ask("vil", "确认")
        assert "已代为登记：李老四" in done and "/修改" in done
        async with bot.app.db.session() as s:
            [w] = (await s.execute(select(Worker))).scalars().all()
            cadre_id = (await s.execute(select(Worker.entered_by))).scalar()
            links = (await s.execute(select(Identity))).scalars().all()
            household = await s.get(Household, w.household_id)
        assert (w.name, w.id_number, w.township, w.village, w.group_name) == (
            "李老四", ID_LI, "青岩镇", "歪脚村", "2组")
        assert w.poverty and w.status == "暂无岗位" and w.consent_at is not None
        assert cadre_id is not None and household.head_name == "李老四"
        assert links == []  # the cadre's chat account is not linked to the worker
        [row] = await audits(bot, "worker.register")
        assert row.actor == "sim:vil" and row.target == str(w.id)
        assert f"编号{w.id} 李老四" in await bot.ask("vil", f"/查 编号{w.id}")
        assert "李书记代为登记" in await bot.ask("vil", f"/查 编号{w.id}")


async def test_on_behalf_registration_stays_in_scope(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await answer(bot, "vil", [("/登记", "同意"), ("同意", "姓名"), ("李老四", "身份证"),
                                  (ID_LI, "手机号"), ("13912345678", "乡镇")])
        refused = await bot.ask("vil", "孟关")
        assert "您负责的是青岩镇" in refused
        assert "村" in await bot.ask("vil", "青岩")
        assert "您负责的是歪脚村" in await bot.ask("vil", "龙井村")
        assert "组" in await bot.ask("vil", "歪脚村")
        # refusing consent ends it without saving anything
        assert "同意" in await bot.ask("town", "/登记")
        assert "没有征得本人同意不能登记" in await bot.ask("town", "不同意")
        async with bot.app.db.session() as s:
            assert await s.get(DialogState, "sim:town") is None
        # a worker, the bureau, and a group chat cannot start it
        assert "工作人员用的命令" in await bot.ask("w1", "/登记")
        assert "权限内" in await bot.ask("bur", "/登记")
        out = await bot.say("dist", "/登记", chat="group:g1")
        assert "请私聊我使用" in out[0]["text"]


async def test_district_cadre_registers_anywhere(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        steps = [s if s[0] != "不变" else None for s in ON_BEHALF]
        steps[4] = ("孟关", "村")
        steps[5] = ("高寨村", "组")
        await answer(bot, "dist", [("/登记", "同意"), *steps])
        assert "孟关苗族布依族乡高寨村" in await bot.ask("dist", "确认")


async def test_edit_corrects_one_worker_and_respects_scope(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        async with bot.app.db.session() as s:
            mine = await add_worker(s, "sim:w1", name="王小明", id_number=make_id(seq="111"),
                                    gender="男", birth_date=date(1990, 1, 1), relation="本人",
                                    phone="13812345678", status="暂无岗位", intent="就近就业",
                                    wanted_job="普工", wanted_place="花溪", health="健康")
            other = await add_worker(s, None, name="李春花", village="龙井村", relation="本人",
                                     id_number=make_id(seq="222"), gender="女",
                                     birth_date=date(1990, 1, 1), status="暂无岗位")
        summary = await bot.ask("vil", f"/修改 {mine.id}")
        assert f"修改编号{mine.id}（王小明）" in summary and "138****5678" in summary
        assert "修改 3" in summary
        assert "手机号" in await bot.ask("vil", "修改 3")
        assert "请核对登记信息" in await bot.ask("vil", "13900001111")
        # changing the status asks the new branch's questions
        assert "就业情况" in await bot.ask("vil", "修改 14")
        assert "在哪里工作" in await bot.ask("vil", "已返岗")
        assert "单位" in await bot.ask("vil", "县内")
        assert "请核对" in await bot.ask("vil", "青岩某某厂")
        done = await bot.ask("vil", "确认")
        assert f"已修改编号{mine.id}（王小明）" in done and "手机号" in done and "就业状态" in done
        async with bot.app.db.session() as s:
            w = await s.get(Worker, mine.id)
            count = len((await s.execute(select(Worker))).scalars().all())
            link = await s.get(Identity, "sim:w1")
        assert (w.phone, w.status, w.work_area, w.employer) == ("13900001111", "已返岗", "县内", "青岩某某厂")
        assert count == 2 and link.worker_id == mine.id  # the worker's own chat stays linked
        [row] = await audits(bot, "worker.edit")
        assert row.actor == "sim:vil" and "手机号" in row.detail
        # out of scope, unknown, and an ID number that belongs to someone else
        assert "没有编号" in await bot.ask("vil", f"/修改 {other.id}")
        assert "没有编号" in await bot.ask("vil", "/修改 999")
        assert "用法" in await bot.ask("vil", "/修改 王小明")
        await bot.ask("town", f"/修改 {mine.id}")
        await bot.ask("town", "修改 2")
        await bot.ask("town", make_id(seq="222"))
        clash = await bot.ask("town", "确认")
        assert f"已经登记为编号{other.id}" in clash and "没有修改" in clash
        async with bot.app.db.session() as s:
            assert (await s.get(Worker, mine.id)).id_number == make_id(seq="111")
        # the task force may correct anyone; the bureau, workers and groups may not
        assert "权限内" in await bot.ask("bur", f"/修改 {other.id}")
        assert "工作人员用的命令" in await bot.ask("w1", f"/修改 {other.id}")
        group = await bot.say("dist", f"/修改 {other.id}", chat="group:g1")
        assert "请私聊我使用" in group[0]["text"] and "李" not in group[0]["text"]
        assert "李春花" in await bot.ask("dist", f"/查 编号{other.id}")
        assert f"修改编号{other.id}（李春花）" in await bot.ask("dist", f"/修改 {other.id}")
        assert "组" in await bot.ask("dist", "修改 6")
        assert "请核对" in await bot.ask("dist", "2组")
        assert f"已修改编号{other.id}（李春花）：组。" in await bot.ask("dist", "确认")
