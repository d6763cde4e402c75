"""One worker, several chat accounts: linking a QQ account to a WeChat registration."""

from __future__ import annotations

from sqlalchemy import func, select

from models.tables import DialogState, Identity, Worker
from tests.factories import add_worker
from tests.harness import BotDriver


async def test_second_account_links_with_id_and_phone(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            w = await add_worker(s, "wx:wxid_abc", name="王小明")
            id_number, phone = w.id_number, w.phone
        first = await bot.ask("qq2", "你好")
        assert "关联" in first
        assert "身份证" in await bot.ask("qq2", "关联")
        assert "手机号" in await bot.ask("qq2", id_number)
        done = await bot.ask("qq2", phone)
        assert "关联成功" in done and "王小明" in done
        info = await bot.ask("qq2", "我的信息")
        assert "王小明" in info and phone not in info
        async with bot.app.db.session() as s:
            linked = await s.get(Identity, "sim:qq2")
            assert linked.worker_id == w.id
            assert await s.scalar(select(func.count()).select_from(Worker)) == 1


async def test_wrong_pair_links_nothing(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            w = await add_worker(s, "wx:wxid_abc")
            other = await add_worker(s, "wx:wxid_def", name="李四")
            id_number, phone = w.id_number, other.phone
        await bot.ask("qq3", "关联")
        await bot.ask("qq3", id_number)
        failed = await bot.ask("qq3", phone)
        assert "没有找到" in failed
        async with bot.app.db.session() as s:
            assert await s.get(Identity, "sim:qq3") is None
            assert await s.get(DialogState, "sim:qq3") is None
