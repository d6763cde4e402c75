"""Transports chosen by ``.env`` alone, several at once: QQ and WeChat and the simulator."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings
from bot.transports.factory import build_transports
from bot.transports.multi import PlatformGroup
from bot.transports.onebot import OneBotForwardTransport
from bot.transports.simulator import SimulatorTransport
from bot.transports.wechat import WechatTransport
from tests.onebot_standin import OneBotStandIn
from tests.test_wechat_transport import TOKEN, PuppetService, eventually

ROOT = Path(__file__).resolve().parent.parent


def test_env_chooses_transports():
    settings = Settings.from_env({
        "ONEBOT_WS_URL": "ws://127.0.0.1:3001", "ONEBOT_REVERSE_WS": "127.0.0.1:8081",
        "ONEBOT_ACCESS_TOKEN": "t", "WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:8788",
        "WECHATY_PUPPET_SERVICE_TOKEN": "w",
    })
    sim, qq, wx = build_transports(settings)
    assert isinstance(sim, SimulatorTransport) and isinstance(wx, WechatTransport)
    assert isinstance(qq, PlatformGroup) and len(qq.members) == 2
    only_qq = build_transports(Settings.from_env({
        "ONEBOT_WS_URL": "ws://127.0.0.1:3001", "ONEBOT_ACCESS_TOKEN": "t", "SIMULATOR": "off"}))
    assert [type(t) for t in only_qq] == [OneBotForwardTransport]


@pytest.mark.parametrize("env, needle", [
    ({"ONEBOT_WS_URL": "ws://127.0.0.1:3001"}, "ONEBOT_ACCESS_TOKEN"),
    ({"WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:8788"}, "WECHATY_PUPPET_SERVICE_TOKEN"),
])
def test_missing_tokens_are_refused_in_chinese(env, needle):
    with pytest.raises(ConfigError) as err:
        build_transports(Settings.from_env(env))
    assert (needle in str(err.value) and "必须" in str(err.value)) or "需要" in str(err.value)


@pytest.mark.integration
async def test_python_m_bot_serves_qq_and_wechat_together(database_url, tmp_path):
    standin = OneBotStandIn(heartbeat_interval=1.0)
    url = await standin.start()
    service = await asyncio.to_thread(PuppetService)
    env = {**os.environ, "DATABASE_URL": database_url, "SIMULATOR": "off",
           "ONEBOT_WS_URL": url, "ONEBOT_ACCESS_TOKEN": standin.access_token,
           "WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{service.port}",
           "WECHATY_PUPPET_SERVICE_TOKEN": TOKEN, "SEND_CHAT_GAP_SECONDS": "0"}
    proc = await asyncio.to_thread(
        subprocess.Popen, [sys.executable, "-m", "bot"], cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await standin.wait_for(lambda: standin.open_sockets > 0, within=20)
        contact = (await service.call("contact", name="张三"))["contact_id"]

        async def wx_reply() -> bool:
            return any(e["to"] == contact for e in service.sent())

        # WeChat logs in after QQ connects; keep saying hello until the bot answers
        for _ in range(40):
            await service.call("say", **{"from": contact, "to": "bot", "text": "你好"})
            try:
                await eventually(lambda: any(e["to"] == contact for e in service.sent()), 0.5)
                break
            except AssertionError:
                continue
        assert "同意" in next(e for e in service.sent() if e["to"] == contact)["text"]
        await standin.push(standin.message("你好", user_id=20001))
        call = await standin.wait_call("send_private_msg", 1, within=10)
        assert call["params"]["user_id"] == 20001
    finally:
        proc.terminate()
        out, err = await asyncio.to_thread(proc.communicate, timeout=20)
        service.close()
        await standin.stop()
    assert "qq" in out and "wx" in out, out + err
    assert standin.access_token not in err and TOKEN not in err
