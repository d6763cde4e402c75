"""/企业: an enterprise's resumption, reported by the bureau, the task force or a township."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models.tables import Enterprise
from tests.factories import add_cadre
from tests.harness import BotDriver

REPORT = [
    ("贵阳某某食品有限公司", "乡镇"),
    ("青岩", "复工"),
    ("2月10日", "在册职工"),
    ("120人", "已经返岗"),
    ("八十", "还缺多少人"),
    ("30", "缺哪些工种"),
    ("普工20人、电焊工10人", "请核对企业复工情况"),
]


async def setup(bot: BotDriver) -> None:
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:dist", "district")
        await add_cadre(s, "sim:bur", "bureau", name="钱就业")
        await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村")


async def answer(bot, user, steps) -> str:
    reply = ""
    for text, expected in steps:
        reply = await bot.ask(user, text)
        assert expected in reply, f"after {text!r} expected {expected!r} in:\n{reply}"
    return reply


async def enterprises(bot) -> list[Enterprise]:
    async with bot.app.db.session() as s:
        return list((await s.execute(select(Enterprise).order_by(Enterprise.id))).scalars())


async def test_bureau_reports_an_enterprise_and_an_update_replaces_it(settings):
    async with BotDriver(settings) as bot:
        await setup(bot)
        assert "企业名称" in await bot.ask("bur", "/企业")
        summary = await answer(bot, "bur", REPORT)
        assert "在册职工：120人" in summary and "复工日期：2024年2月10日" in summary
        done = await bot.ask("bur", "确认")
        assert "已记录企业复工情况" in done and "返岗率66%" in done and "缺工30人" in done
        [e] = await enterprises(bot)
        assert (e.name, e.township, e.resumed_on) == ("贵阳某某食品有限公司", "青岩镇", date(2024, 2, 10))
        assert (e.staff_registered, e.staff_returned, e.shortage) == (120, 80, 30)
        assert e.jobs_wanted == "普工20人、电焊工10人" and e.reported_by is not None
        # the same enterprise again: updated, not counted twice in the tally
        await bot.ask("bur", "/enterprise")
        steps = [*REPORT[:4], ("120", "还缺多少人"), ("0", "请核对")]
        await answer(bot, "bur", steps)
        assert "已更新" in await bot.ask("bur", "确认")
        [e] = await enterprises(bot)
        assert (e.staff_returned, e.shortage, e.jobs_wanted) == (120, 0, None)
        listing = await bot.ask("dist", "/企业 列表")
        assert "贵阳某某食品有限公司（青岩镇）在册120 已返岗120 缺工0" in listing


async def test_answers_are_checked(settings):
    async with BotDriver(settings) as bot:
        await setup(bot)
        await bot.ask("dist", "/企业")
        await answer(bot, "dist", REPORT[:3])
        assert "请回复一个数字" in await bot.ask("dist", "很多")
        assert "已经返岗" in await bot.ask("dist", "50")
        assert "不能多于在册职工（50人）" in await bot.ask("dist", "60")
        assert "还缺多少人" in await bot.ask("dist", "50")
        assert "请核对" in await bot.ask("dist", "不缺")  # no shortage: no job types asked


async def test_township_reports_only_its_own_and_village_may_not(settings):
    async with BotDriver(settings) as bot:
        await setup(bot)
        first = await bot.ask("town", "/企业")
        assert "企业名称" in first
        reply = await bot.ask("town", "孟关某某厂")
        assert "之前填的是：青岩镇" in reply
        assert "您负责的是青岩镇" in await bot.ask("town", "孟关")
        assert "复工" in await bot.ask("town", "不变")
        assert "权限内" in await bot.ask("vil", "/企业")
        assert "工作人员用的命令" in await bot.ask("w1", "/企业")
        # typed in a group, the form is filled in privately
        out = await bot.say("bur", "/企业", chat="group:g1")
        chats = {o["chat"] for o in out}
        assert chats == {"group:g1", "private"}
        assert any("企业名称" in o["text"] for o in out if o["chat"] == "private")
