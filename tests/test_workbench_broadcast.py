"""/广播 and /导出: who may, to whom it goes, where it may be said, and the audit log."""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select, update

from models.tables import AuditLog, OutboxMessage
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver, with_settings


async def setup(bot: BotDriver) -> None:
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:dist", "district", name="赵专班")
        await add_cadre(s, "sim:bur", "bureau", name="钱就业")
        await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")
        await add_worker(s, "sim:w1", name="王小明", health="健康")
        await add_worker(s, "sim:w2", name="王大山")
        await add_worker(s, None, name="刘冬梅")  # registered by a cadre, no chat account
        await add_worker(s, "sim:w3", name="李春花", village="龙井村")
        await add_worker(s, "sim:w4", name="张秋生", township="孟关苗族布依族乡", village="高寨村")


def private_to(out: list[dict]) -> list[str]:
    return sorted(o["to"] for o in out if o.get("chat") == "private" and "通知】" in o["text"])


async def test_broadcast_reaches_the_scope_and_counts(settings):
    async with BotDriver(settings) as bot:
        await setup(bot)
        out = await bot.say("vil", "/广播 明天上午9点村委会有招聘会")
        assert private_to(out) == ["w1", "w2"]
        notice = next(o for o in out if o.get("to") == "w1")["text"]
        assert notice == "【青岩镇歪脚村通知】明天上午9点村委会有招聘会\n——李书记"
        reply = next(o for o in out if o.get("to") == "vil")["text"]
        assert "已排队发给 2 人" in reply and "另有 1 人没有绑定" in reply
        out = await bot.say("town", "/广播 请大家每天打卡")
        assert private_to(out) == ["w1", "w2", "w3"]
        out = await bot.say("dist", "/broadcast 全区招聘会")
        assert private_to(out) == ["w1", "w2", "w3", "w4"]
        async with bot.app.db.session() as s:
            rows = (await s.execute(select(AuditLog).where(AuditLog.action == "broadcast")
                                    .order_by(AuditLog.id))).scalars().all()
        assert [(r.actor, r.target) for r in rows] == [
            ("sim:vil", "青岩镇歪脚村"), ("sim:town", "青岩镇"), ("sim:dist", "全区")]


async def test_broadcast_rules(settings):
    async with BotDriver(settings) as bot:
        await setup(bot)
        assert "用法" in await bot.ask("vil", "/广播")
        assert "太长" in await bot.ask("vil", "/广播 " + "通知" * 300)
        out = await bot.say("w1", "/广播 大家好")
        assert private_to(out) == [] and "工作人员用的命令" in out[0]["text"]
        out = await bot.say("bur", "/广播 大家好")
        assert private_to(out) == [] and "权限内" in out[0]["text"]
        # a broadcast may be typed in a group: only the count shows there
        out = await bot.say("vil", "/广播 停水通知", chat="group:g1")
        assert private_to(out) == ["w1", "w2"]
        [group] = [o for o in out if o["chat"] == "group:g1"]
        assert "已排队发给 2 人" in group["text"] and group["at"] == ["vil"]


async def test_broadcast_estimates_time_when_paced(settings):
    slow = with_settings(settings, send_rate_per_min=1)
    async with BotDriver(slow) as bot:
        await setup(bot)
        reply = await bot.ask("town", "/广播 测试")
        assert "已排队发给 3 人，消息逐条发出，约 3 分钟发完" in reply


async def test_export_goes_privately_with_the_scope(settings, tmp_path):
    settings = with_settings(settings, extra={"export_dir": str(tmp_path / "exports")})
    async with BotDriver(settings) as bot:
        await setup(bot)
        out = await bot.say("vil", "/导出")
        [msg] = out
        assert msg["to"] == "vil" and msg["chat"] == "private" and "file" in msg
        assert "青岩镇歪脚村名册已导出：务工人员 3 人" in msg["text"] and "不要转发到群里" in msg["text"]
        path = Path(msg["file"])
        assert path.parent == tmp_path / "exports" and path.suffix == ".xlsx"
        assert os.stat(path).st_mode & 0o077 == 0  # only the bot user may read it
        wb = load_workbook(path)
        assert wb.sheetnames == ["务工人员", "家庭户", "今日打卡"]
        names = [r[2] for r in wb["务工人员"].iter_rows(min_row=2, values_only=True)]
        assert sorted(names) == ["刘冬梅", "王大山", "王小明"]
        # the township cadre may narrow to a village of theirs, not go outside
        out = await bot.say("town", "/导出 龙井村")
        assert "青岩镇龙井村名册已导出：务工人员 1 人" in out[0]["text"]
        assert "不在您的范围" in await bot.ask("town", "/导出 孟关")
        assert "不在您的范围" in await bot.ask("vil", "/导出 青岩镇")
        assert "还没有登记的人员" in await bot.ask("dist", "/导出 石板镇")
        # never in a group, never for workers
        group = await bot.say("dist", "/导出", chat="group:g1")
        assert "file" not in group[0] and "请私聊我使用" in group[0]["text"]
        assert "工作人员用的命令" in await bot.ask("w1", "/导出")
        async with bot.app.db.session() as s:
            rows = (await s.execute(select(AuditLog).where(AuditLog.action == "export")
                                    .order_by(AuditLog.id))).scalars().all()
        assert [(r.actor, r.target) for r in rows] == [("sim:vil", "青岩镇歪脚村"),
                                                       ("sim:town", "青岩镇龙井村")]


async def test_bureau_export_has_no_health_data(settings, tmp_path):
    settings = with_settings(settings, extra={"export_dir": str(tmp_path)})
    async with BotDriver(settings) as bot:
        await setup(bot)
        [msg] = await bot.say("bur", "/导出")
        assert "务工人员 5 人" in msg["text"] and "打卡" not in msg["text"]
        wb = load_workbook(msg["file"])
        assert wb.sheetnames == ["务工人员", "家庭户"]
        header = [c.value for c in wb["务工人员"][1]]
        assert "健康状况" not in header and "近期症状" not in header and "就业状态" in header
        [msg] = await bot.say("dist", "/导出")
        header = [c.value for c in load_workbook(msg["file"])["务工人员"][1]]
        assert "健康状况" in header


async def test_the_sender_is_told_when_a_broadcast_has_gone_out(settings):
    async with BotDriver(settings) as bot:  # 09:00
        await setup(bot)
        reply = await bot.ask("town", "/广播 明天上午9点村委会有招聘会")
        assert "全部发完后会告诉您" in reply
        async with bot.app.db.session() as s:  # one of the three could not be delivered
            first = await s.scalar(select(OutboxMessage.id).where(
                OutboxMessage.batch.is_not(None)).order_by(OutboxMessage.id))
            await s.execute(update(OutboxMessage).where(OutboxMessage.id == first)
                            .values(status="failed"))
        out = await bot.feed({"clock": "2024-02-03T09:10"})
        [done] = [o["text"] for o in out if o.get("to") == "town"]
        assert "2月3日 09:00 发的通知“明天上午9点村委会有招聘…”已经发完" in done
        assert "共 3 人，发出 2 条" in done and "1 人没发出去" in done
        # told once: not again later, nor after a restart
        assert [o for o in await bot.feed({"clock": "2024-02-03T10:00"}) if o.get("to") == "town"] == []
        await bot.restart()
        assert [o for o in await bot.feed({"clock": "2024-02-03T11:00"}) if o.get("to") == "town"] == []


async def test_no_report_while_a_broadcast_is_still_going_out(settings):
    from models.tables import SendBatch
    from scheduler.batches import report_batches

    async with BotDriver(settings) as bot:
        await setup(bot)
        await bot.ask("vil", "/广播 停水通知")
        async with bot.app.db.session() as s:  # as if one were still waiting for its turn
            await s.execute(update(OutboxMessage).where(OutboxMessage.batch.is_not(None))
                            .values(status="pending"))
        await report_batches(bot.app, bot.app.clock.now())
        async with bot.app.db.session() as s:
            [batch] = (await s.execute(select(SendBatch))).scalars().all()
            told = (await s.execute(select(OutboxMessage).where(
                OutboxMessage.chat == "sim:private:vil", OutboxMessage.text.contains("已经发完"))
            )).scalars().all()
        assert batch.reported_at is None and told == []
