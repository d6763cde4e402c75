"""The WeChat transport against a real wechaty puppet service (PuppetMock) on loopback.

The service is ``tests/wechaty_puppet/server.mjs`` under Node; install it once with
``npm ci --prefix tests/wechaty_puppet``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.messages import ChatRef, Inbound, Outbound
from bot.transports.base import PlatformEvent
from bot.transports.wechat import TOKEN_ENV, WechatAuthError, WechatError, WechatTransport

pytestmark = [
    pytest.mark.integration,
    # python-wechaty's FileBox calls the deprecated Logger.warn (filtered in production too)
    pytest.mark.filterwarnings(r"ignore::DeprecationWarning:wechaty_puppet\.file_box"),
]

PUPPET_DIR = Path(__file__).parent / "wechaty_puppet"
NODE = shutil.which("node")
TOKEN = "test-token-3f1c2a"
BOT_NAME = "返岗通"
FAST = {"reconnect_min": 0.2, "reconnect_max": 1.0, "login_timeout": 15.0}
# a 1x1 PNG, padded past the 20 KB that wechaty-puppet-service passes through unconverted
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _skip_reason() -> str | None:
    if NODE is None:
        return (
            "node is not on PATH: install Node 18+ and run `npm ci --prefix tests/wechaty_puppet`"
        )
    if not (PUPPET_DIR / "node_modules").is_dir():
        return "the puppet service is not installed: run `npm ci --prefix tests/wechaty_puppet`"
    return None


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait until ``condition()`` holds; fail the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {seconds} s")
        await asyncio.sleep(0.02)


class PuppetService:
    """``server.mjs`` in a subprocess: JSON commands on stdin, answers and events on stdout."""

    def __init__(self, port: int = 0, token: str = TOKEN) -> None:
        reason = _skip_reason()
        if reason:
            pytest.skip(reason)
        assert NODE is not None
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [NODE, str(PUPPET_DIR / "server.mjs"), str(port), token, BOT_NAME],
            cwd=PUPPET_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.events: list[dict[str, Any]] = []
        self._replies: dict[int, dict[str, Any]] = {}
        self._next_id = 0
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            listening = self._wait(lambda: self._event("listening"), 30)
        except Exception:
            self.close()
            raise
        self.port: int = listening["port"]
        self.bot_id: str = listening["bot_id"]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                if "event" in obj:
                    self.events.append(obj)
                elif isinstance(obj.get("id"), int):
                    self._replies[obj["id"]] = obj
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _event(self, name: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e["event"] == name), None)

    def _wait(self, found: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while (result := found()) is None:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    self.stderr.seek(0)
                    raise AssertionError(
                        f"puppet service: timed out or exited ({self.proc.returncode});"
                        f" stderr:\n{self.stderr.read()[-3000:]}"
                    )
                self._cond.wait(min(left, 0.2))
        return result

    def command(self, cmd: str, **args: Any) -> dict[str, Any]:
        with self._cond:
            self._next_id += 1
            request_id = self._next_id
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"id": request_id, "cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        reply: dict[str, Any] = self._wait(lambda: self._replies.pop(request_id, None), 10)
        if not reply["ok"]:
            raise AssertionError(f"puppet service {cmd}: {reply['error']}")
        return reply

    async def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self.command, cmd, **args)

    def sent(self) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events if e["event"] == "sent"]

    async def wait_sent(self, count: int) -> list[dict[str, Any]]:
        await eventually(lambda: len(self.sent()) >= count)
        return self.sent()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()  # the server exits when its stdin closes
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)
        self.stderr.close()


class Inbox:
    """What the transport delivers."""

    def __init__(self) -> None:
        self.messages: list[Inbound] = []
        self.events: list[PlatformEvent] = []
        self.fail_next = False

    async def on_message(self, message: Inbound) -> None:
        self.messages.append(message)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("handler bug")

    async def on_event(self, event: PlatformEvent) -> None:
        self.events.append(event)

    async def wait(self, count: int, *, events: bool = False) -> None:
        items = self.events if events else self.messages
        await eventually(lambda: len(items) >= count)


@pytest.fixture(scope="module")
def service() -> Iterator[PuppetService]:
    s = PuppetService()
    yield s
    s.close()


Factory = Callable[..., Any]


@pytest.fixture
async def make_transport(service: PuppetService) -> AsyncIterator[Factory]:
    started: list[WechatTransport] = []

    async def make(**kwargs: Any) -> tuple[WechatTransport, Inbox]:
        transport = WechatTransport(f"127.0.0.1:{service.port}", TOKEN, **{**FAST, **kwargs})
        inbox = Inbox()
        started.append(transport)
        await transport.start(inbox.on_message, inbox.on_event)
        assert transport.logged_in
        return transport, inbox

    yield make
    for transport in started:
        await transport.stop()


@pytest.fixture
async def wx(make_transport: Factory) -> tuple[WechatTransport, Inbox]:
    return await make_transport()


async def test_private_text_reaches_handler_and_reply_is_seen(
    service: PuppetService, wx: tuple[WechatTransport, Inbox]
) -> None:
    transport, inbox = wx
    assert transport.self_id == service.bot_id
    contact = (await service.call("contact", name="张三"))["contact_id"]
    said = await service.call("say", **{"from": contact, "to": "bot", "text": "你好，我要登记"})
    await inbox.wait(1)
    msg = inbox.messages[0]
    assert msg.chat == ChatRef("wx", "private", contact)
    assert msg.identity == f"wx:{contact}"
    assert (msg.text, msg.sender_name, msg.message_id) == ("你好，我要登记", "张三", said["message_id"])
    assert msg.mentioned and not msg.has_media and msg.is_private
    assert msg.time.tzinfo is not None
    assert abs((datetime.now(UTC) - msg.time).total_seconds()) < 30

    before = len(service.sent())
    result = await transport.send(Outbound(ChatRef.private(f"wx:{contact}"), "请输入姓名"))
    assert result.delivered and result.platform_message_id
    sent = (await service.wait_sent(before + 1))[-1]
    assert sent["to"] == contact and sent["room_id"] is None
    assert sent["text"] == "请输入姓名"
    assert sent["message_id"] == result.platform_message_id
    await asyncio.sleep(0.3)  # the bot's own message comes back from the service: not delivered
    assert len(inbox.messages) == 1


async def test_room_mention_is_detected_and_removed(
    service: PuppetService, wx: tuple[WechatTransport, Inbox]
) -> None:
    _, inbox = wx
    a = (await service.call("contact", name="李四"))["contact_id"]
    room = (await service.call("room", topic="歪脚村务工群", members=[a]))["room_id"]
    await service.call("say", **{"from": a, "to": room, "text": "查询 岗位", "mention_bot": True})
    await service.call("say", **{"from": a, "to": room, "text": "大家好"})
    await inbox.wait(2)
    mentioned, plain = inbox.messages
    assert mentioned.chat == ChatRef("wx", "group", room)
    assert (mentioned.text, mentioned.mentioned, mentioned.sender_id) == ("查询 岗位", True, a)
    assert mentioned.sender_name == "李四"
    assert (plain.text, plain.mentioned) == ("大家好", False)


async def test_room_reply_with_mention_and_no_at_all(
    service: PuppetService, wx: tuple[WechatTransport, Inbox]
) -> None:
    transport, _ = wx
    a = (await service.call("contact", name="王二"))["contact_id"]
    room = (await service.call("room", topic="青岩镇返岗群", members=[a]))["room_id"]
    before = len(service.sent())
    result = await transport.send(Outbound(ChatRef("wx", "group", room), "请私聊我", mentions=(a,)))
    assert result.delivered
    sent = (await service.wait_sent(before + 1))[-1]
    assert sent["room_id"] == room and sent["to"] is None
    assert sent["mention_ids"] == [a]
    assert sent["text"] == "@王二\u2005请私聊我"

    result = await transport.send(Outbound(ChatRef("wx", "group", room), "@所有人 明天开会 @all"))
    assert result.delivered
    sent = (await service.wait_sent(before + 2))[-1]
    assert sent["mention_ids"] == []
    assert "@所有人" not in sent["text"] and "@all" not in sent["text"]
    assert "所有人 明天开会" in sent["text"]


async def test_image_and_file_are_sent(
    service: PuppetService, wx: tuple[WechatTransport, Inbox], tmp_path: Path
) -> None:
    transport, _ = wx
    contact = (await service.call("contact", name="赵六"))["contact_id"]
    chart = tmp_path / "日报.png"
    chart.write_bytes(PNG + b"\0" * 60_000)  # bigger than the service's 20 KB pass-through
    before = len(service.sent())
    chat = ChatRef("wx", "private", contact)
    result = await transport.send(Outbound(chat, "", file=str(chart)))
    assert result.delivered and result.platform_message_id
    sent = (await service.wait_sent(before + 1))[-1]
    assert sent["to"] == contact and sent["file"]["name"] == "日报.png"
    assert sent["file"]["size"] == chart.stat().st_size

    sheet = tmp_path / "名单.xlsx"
    sheet.write_bytes(b"PK\x03\x04 not really a workbook")
    result = await transport.send(Outbound(chat, "名单见附件", file=str(sheet)))
    assert result.delivered and result.extra["file_message_id"]
    text, file = (await service.wait_sent(before + 3))[-2:]
    assert text["text"] == "名单见附件" and file["file"]["name"] == "名单.xlsx"

    missing = await transport.send(Outbound(chat, "x", file=str(tmp_path / "nope.png")))
    assert not missing.delivered and not missing.maybe_sent and "nope.png" in (missing.error or "")


async def test_inbound_image_has_media_and_no_text(
    service: PuppetService, wx: tuple[WechatTransport, Inbox]
) -> None:
    _, inbox = wx
    contact = (await service.call("contact", name="孙七"))["contact_id"]
    png = base64.b64encode(PNG).decode()
    await service.call("say_file", **{"from": contact, "to": "bot", "name": "a.png", "base64": png})
    await inbox.wait(1)
    msg = inbox.messages[0]
    assert (msg.has_media, msg.text, msg.sender_id) == (True, "", contact)


async def test_handler_exception_is_caught_and_next_message_arrives(
    service: PuppetService, wx: tuple[WechatTransport, Inbox], caplog: pytest.LogCaptureFixture
) -> None:
    _, inbox = wx
    inbox.fail_next = True
    contact = (await service.call("contact", name="周八"))["contact_id"]
    with caplog.at_level(logging.ERROR, logger="bot.transports.wechat"):
        await service.call("say", **{"from": contact, "to": "bot", "text": "一"})
        await inbox.wait(1)
        await service.call("say", **{"from": contact, "to": "bot", "text": "二"})
        await inbox.wait(2)
    assert [m.text for m in inbox.messages] == ["一", "二"]
    assert "handler failed" in caplog.text


async def test_friend_request_is_accepted(
    service: PuppetService, make_transport: Factory
) -> None:
    _, inbox = await make_transport()
    request = await service.call("friendship", name="吴九", hello="我想找工作")
    await inbox.wait(1, events=True)
    event = inbox.events[0]
    assert event.kind == "friend_added"
    assert event.chat == ChatRef("wx", "private", request["contact_id"])
    assert (event.user_id, event.user_name) == (request["contact_id"], "吴九")
    assert any(
        e["event"] == "friendship_accepted" and e["friendship_id"] == request["friendship_id"]
        for e in service.events
    )

    _, quiet = await make_transport(accept_friends=False)
    await service.call("friendship", name="郑十")
    await asyncio.sleep(0.5)
    assert quiet.events == []


async def test_room_join_event_for_listed_rooms(
    service: PuppetService, make_transport: Factory
) -> None:
    a, b, c = [(await service.call("contact", name=n))["contact_id"] for n in ("甲", "乙", "丙")]
    listed = (await service.call("room", topic="务工群", members=[a]))["room_id"]
    other = (await service.call("room", topic="闲聊群", members=[a]))["room_id"]
    _, inbox = await make_transport(greet_rooms=[f"wx:{listed}"])
    await service.call("join", room=other, contacts=[b], inviter=a)
    await service.call("join", room=listed, contacts=[b, c], inviter=a)
    await inbox.wait(2, events=True)
    await asyncio.sleep(0.3)
    assert [(e.kind, e.chat, e.user_id, e.user_name) for e in inbox.events] == [
        ("member_joined", ChatRef("wx", "group", listed), b, "乙"),
        ("member_joined", ChatRef("wx", "group", listed), c, "丙"),
    ]


async def test_wrong_token_fails_fast_and_clearly(service: PuppetService) -> None:
    transport = WechatTransport(f"127.0.0.1:{service.port}", "wrong-token", **FAST)
    started = time.monotonic()
    with pytest.raises(WechatAuthError, match=TOKEN_ENV):
        await asyncio.wait_for(transport.start(Inbox().on_message), 10)
    assert time.monotonic() - started < 5
    await transport.stop()


async def test_missing_token_is_refused() -> None:
    transport = WechatTransport("127.0.0.1:1", "")
    with pytest.raises(WechatError, match=TOKEN_ENV):
        await transport.start(Inbox().on_message)


async def test_logout_and_login_again(
    service: PuppetService, wx: tuple[WechatTransport, Inbox]
) -> None:
    transport, _ = wx
    await service.call("logout")
    await eventually(lambda: not transport.logged_in)
    result = await transport.send(Outbound(ChatRef("wx", "private", "x"), "hi"))
    assert not result.delivered and "not logged in" in (result.error or "")
    await service.call("login")
    assert await transport.wait_logged_in(5)


async def test_reconnects_after_the_service_restarts(caplog: pytest.LogCaptureFixture) -> None:
    first = PuppetService()
    port = first.port
    transport = WechatTransport(f"127.0.0.1:{port}", TOKEN, **FAST)
    inbox = Inbox()
    second: PuppetService | None = None
    try:
        await transport.start(inbox.on_message, inbox.on_event)
        with caplog.at_level(logging.WARNING, logger="bot.transports.wechat"):
            first.kill()
            await eventually(lambda: not transport.logged_in, 10)
            second = await asyncio.to_thread(PuppetService, port)
            assert await transport.wait_logged_in(15)
        assert "lost the connection" in caplog.text
        contact = (await second.call("contact", name="冯一"))["contact_id"]
        await second.call("say", **{"from": contact, "to": "bot", "text": "还在吗"})
        await inbox.wait(1)
        assert inbox.messages[0].text == "还在吗"
        result = await transport.send(Outbound(ChatRef("wx", "private", contact), "在"))
        assert result.delivered
        assert (await second.wait_sent(1))[-1]["text"] == "在"
    finally:
        await transport.stop()
        first.close()
        if second is not None:
            second.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_start_returns_while_the_service_is_down_and_connects_later() -> None:
    if reason := _skip_reason():
        pytest.skip(reason)
    port = _free_port()
    transport = WechatTransport(f"127.0.0.1:{port}", TOKEN, **{**FAST, "login_timeout": 0.5})
    inbox = Inbox()
    service: PuppetService | None = None
    try:
        await asyncio.wait_for(transport.start(inbox.on_message), 5)
        assert not transport.logged_in
        assert "not logged in" in (await transport.send(
            Outbound(ChatRef("wx", "private", "x"), "hi"))).error  # type: ignore[operator]
        service = await asyncio.to_thread(PuppetService, port)
        assert await transport.wait_logged_in(10)
    finally:
        await transport.stop()
        if service is not None:
            service.close()


async def test_a_frozen_service_is_noticed_by_the_watchdog(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = PuppetService()
    transport = WechatTransport(
        f"127.0.0.1:{service.port}", TOKEN, heartbeat_interval=0.3, connect_timeout=0.5, **FAST
    )
    inbox = Inbox()
    try:
        await transport.start(inbox.on_message)
        with caplog.at_level(logging.WARNING, logger="bot.transports.wechat"):
            service.proc.send_signal(signal.SIGSTOP)  # TCP stays open, nothing answers
            await eventually(lambda: not transport.logged_in)
            service.proc.send_signal(signal.SIGCONT)
            assert await transport.wait_logged_in(10)
        assert "no answer to a ding" in caplog.text
        contact = (await service.call("contact", name="陈二"))["contact_id"]
        await service.call("say", **{"from": contact, "to": "bot", "text": "醒了"})
        await inbox.wait(1)
        assert inbox.messages[-1].text == "醒了"
    finally:
        service.proc.send_signal(signal.SIGCONT)
        await transport.stop()
        service.close()
