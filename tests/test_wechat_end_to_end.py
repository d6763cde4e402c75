"""The whole bot behind a real wechaty puppet service on loopback: a registration in private
chat and an @mention exchange in a room."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.app import App
from bot.transports.wechat import WechatTransport
from tests.ids import make_id
from tests.test_wechat_transport import FAST, TOKEN, PuppetService, eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings(r"ignore::DeprecationWarning:wechaty_puppet\.file_box"),
]


@pytest.fixture
async def wechat(settings) -> AsyncIterator[tuple[PuppetService, App]]:
    service = PuppetService()
    transport = WechatTransport(f"127.0.0.1:{service.port}", TOKEN, **FAST)
    app = App(replace(settings, send_rate_per_min=100_000, send_chat_gap=0.0),
              transports=[transport])
    await app.start()
    try:
        yield service, app
    finally:
        await app.stop()
        service.close()


async def say(service: PuppetService, sender: str, to: str, text: str, **kw) -> dict:
    """Say ``text``; return the bot's next message (to that person or that room)."""
    before = len(service.sent())
    await service.call("say", **{"from": sender, "to": to, "text": text, **kw})
    await eventually(lambda: len(service.sent()) > before, 10)
    return service.sent()[before]


async def test_registration_over_wechat(wechat):
    service, app = wechat
    worker = (await service.call("contact", name="王小明"))["contact_id"]
    steps = [
        ("我要登记", "同意"), ("同意", "姓名"), ("王小明", "身份证"), (make_id(), "手机号"),
        ("13812345678", "乡镇"), ("青岩", "村"), ("歪脚村", "组"), ("3组", "户主"),
        ("本人", "哪类人员"), ("1", "身体"), ("1", "不舒服"), ("1", "困难"), ("没有", "技能"),
        ("电焊", "工作"), ("跳过", "就业情况"), ("1", "在哪里工作"), ("省外", "城市"),
        ("广东东莞", "单位"), ("东莞某电子厂", "哪天"), ("下周一", "怎么去"), ("火车", "请核对"),
        ("确认", "登记成功"),
    ]
    for text, expected in steps:
        sent = await say(service, worker, "bot", text)
        assert sent["to"] == worker and sent["room_id"] is None
        assert expected in sent["text"], (text, sent["text"])
    from sqlalchemy import select

    from models.tables import Identity, Worker

    async with app.db.session() as s:
        w = (await s.execute(select(Worker))).scalar_one()
        link = await s.get(Identity, f"wx:{worker}")
    assert w.work_city == "广东东莞" and w.return_mode == "火车" and link.worker_id == w.id


async def test_room_mention_gets_a_reply_that_mentions_the_sender(wechat):
    service, _ = wechat
    member = (await service.call("contact", name="李四"))["contact_id"]
    room = (await service.call("room", topic="歪脚村务工群", members=[member]))["room_id"]
    sent = await say(service, member, room, "怎么登记", mention_bot=True)
    assert sent["room_id"] == room and sent["mention_ids"] == [member]
    assert "私聊" in sent["text"]
    before = len(service.sent())
    await service.call("say", **{"from": member, "to": room, "text": "大家好"})
    reply = await say(service, member, "bot", "你好")  # handled after the room chatter
    assert reply["to"] == member
    assert len(service.sent()) == before + 1  # nothing was said in the room
