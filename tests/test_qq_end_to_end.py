"""The whole bot behind a OneBot v11 stand-in over a real WebSocket on loopback."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.app import App
from bot.transports.onebot import OneBotForwardTransport
from tests.ids import make_id
from tests.onebot_standin import OneBotStandIn

pytestmark = pytest.mark.integration


@pytest.fixture
async def qq(settings):
    standin = OneBotStandIn(heartbeat_interval=0.5)
    url = await standin.start()
    transport = OneBotForwardTransport(url, standin.access_token, backoff_initial=0.05,
                                       backoff_max=0.2)
    fast = replace(settings, send_rate_per_min=100_000, send_chat_gap=0.0)
    app = App(fast, transports=[transport])
    await app.start()
    assert await transport.wait_connected(3)
    yield standin, transport
    async with asyncio.timeout(10):
        await app.stop()
        await standin.stop()


def texts(call: dict) -> str:
    return "".join(s["data"]["text"] for s in call["params"]["message"] if s["type"] == "text")


async def say(standin: OneBotStandIn, text: str, **kw) -> str:
    """Send a message as a QQ user; return the text of the bot's next private reply."""
    before = len([c for c in standin.calls if c["action"] == "send_private_msg"])
    await standin.push(standin.message(text, **kw))
    call = await standin.wait_call("send_private_msg", before + 1, within=5)
    return texts(call)


async def test_registration_in_private_chat_over_qq(qq):
    standin, _ = qq
    answers = [
        ("登记", "同意"), ("同意", "姓名"), ("王小明", "身份证"), (make_id(), "手机号"),
        ("13812345678", "乡镇"), ("青岩", "村"), ("歪脚村", "组"), ("跳过", "户主"),
        ("本人", "哪类人员"), ("3", "身体"), ("1", "不舒服"), ("1", "困难"), ("没有", "技能"),
        ("跳过", "工作"), ("跳过", "就业情况"), ("4", "打算"), ("3", "请核对"),
        ("确认", "登记成功"),
    ]
    for text, expected in answers:
        reply = await say(standin, text, user_id=20001, form="string")
        assert expected in reply, (text, reply)
    call = standin.calls[-1]
    assert call["params"]["user_id"] == 20001


async def test_group_mention_gets_a_reply_with_an_at_segment(qq):
    standin, _ = qq
    at_bot = [{"type": "at", "data": {"qq": str(standin.self_id)}},
              {"type": "text", "data": {"text": " 怎么登记"}}]
    await standin.push(standin.message(at_bot, user_id=20002, group_id=30001))
    call = await standin.wait_call("send_group_msg", 1, within=5)
    assert call["params"]["group_id"] == 30001
    segments = call["params"]["message"]
    assert segments[0] == {"type": "at", "data": {"qq": "20002"}}
    assert "私聊" in texts(call)
    # chatter that does not mention the bot is left alone
    await standin.push(standin.message("大家好", user_id=20003, group_id=30001))
    await say(standin, "你好", user_id=20003)  # handled after the group chatter
    assert len([c for c in standin.calls if c["action"] == "send_group_msg"]) == 1


async def test_cq_code_typed_by_a_user_comes_back_as_plain_text(qq):
    standin, _ = qq
    for text in ("登记", "同意", "王小明", make_id(), "13812345678", "青岩", "歪脚村", "跳过",
                 "本人", "3", "1", "1", "没有"):
        await say(standin, text, user_id=20004, form="string")
    # a skill typed as a CQ code (in the CQ-string form it arrives escaped, as QQ sends it)
    await say(standin, "[CQ:at,qq=all]", user_id=20004, form="string")
    echo = await say(standin, "返回", user_id=20004, form="string")
    assert "[CQ:at,qq=all]" in echo
    call = standin.calls[-1]
    assert all(seg["type"] == "text" for seg in call["params"]["message"])
    assert not any(seg["type"] == "at" for c in standin.calls
                   for seg in c["params"].get("message", []) if isinstance(seg, dict))


async def test_dropped_connection_recovers(qq):
    standin, _transport = qq
    assert "同意" in await say(standin, "你好", user_id=20005)
    connections = standin.connections
    await standin.drop()
    await standin.wait_for(lambda: standin.connections > connections, within=5)
    await asyncio.sleep(0.05)
    assert "姓名" in await say(standin, "同意", user_id=20005)


async def test_friend_request_is_accepted_and_greeted_and_newcomers_welcomed(qq):
    standin, _ = qq
    await standin.push(standin.friend_request(20006, flag="f-1"))
    approve = await standin.wait_call("set_friend_add_request", 1, within=5)
    assert approve["params"]["flag"] == "f-1" and approve["params"]["approve"] is True
    await standin.push(standin.notice("friend_add", user_id=20006))
    greeting = await standin.wait_call("send_private_msg", 1, within=5)
    assert greeting["params"]["user_id"] == 20006 and "登记" in texts(greeting)
    await standin.push(standin.notice("group_increase", sub_type="approve", group_id=30001,
                                      user_id=20007, operator_id=0))
    welcome = await standin.wait_call("send_group_msg", 1, within=5)
    assert welcome["params"]["message"][0] == {"type": "at", "data": {"qq": "20007"}}
    assert "私聊" in texts(welcome)
