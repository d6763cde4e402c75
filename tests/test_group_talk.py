"""What the bot does with group messages not addressed to it: nothing, and it keeps no trace of
them; except an invite code posted there, which everyone has now seen and which is voided."""

from __future__ import annotations

from sqlalchemy import func, select

from models.tables import InboundSeen, Invite, OutboxMessage
from tests.harness import BotDriver


async def count(bot: BotDriver, model) -> int:
    async with bot.app.db.session() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def test_group_chatter_not_addressed_to_the_bot_is_neither_answered_nor_recorded(settings):
    async with BotDriver(settings) as bot:
        for text in ("大家好，今天有没有岗位", "登记", "我的身份证是520102199001011234", "/帮助"):
            assert await bot.say("m1", text, chat="group:g1", mention=False) == []
        assert await count(bot, InboundSeen) == 0 and await count(bot, OutboxMessage) == 0
        [reply] = await bot.say("m1", "怎么登记", chat="group:g1")  # with @: a pointer
        assert reply["chat"] == "group:g1" and "私聊" in reply["text"]


async def test_an_invite_code_posted_in_a_group_without_at_is_voided_too(settings):
    from models.cadres import create_invite

    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            code = await create_invite(s, "张镇长", "township", "青岩镇", None,
                                       bot.app.clock.utcnow())
        [reply] = await bot.say("c1", f"/绑定 {code}", chat="group:g1", mention=False)
        assert reply["chat"] == "group:g1" and "作废" in reply["text"]
        assert code not in reply["text"]
        refused = await bot.ask("c1", f"/绑定 {code}")
        assert "绑定成功" not in refused and "用过" in refused
        async with bot.app.db.session() as s:
            invite = await s.get(Invite, code)
        assert invite is not None and invite.used_by == "void:group"
