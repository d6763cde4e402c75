"""The QQ transport over real WebSockets on loopback, against the OneBot stand-in."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import ConfigError
from bot.messages import ChatRef, Inbound, Outbound
from bot.transports.base import PlatformEvent
from bot.transports.onebot import (
    OneBotForwardTransport,
    OneBotReverseServer,
    _Link,
    parse_host_port,
)
from bot.transports.onebot_codec import echo_key
from tests.onebot_standin import OneBotStandIn

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent / "data" / "onebot"
TOKEN = "s3cret-token-value"
FAST = {"backoff_initial": 0.02, "backoff_max": 0.1, "stop_grace": 0.5}


class Inbox:
    """Collects what the transport delivers; optionally replies through it."""

    def __init__(self) -> None:
        self.messages: list[Inbound] = []
        self.events: list[PlatformEvent] = []
        self.transport: Any = None
        self.echo = False
        self._changed = asyncio.Event()

    async def on_message(self, message: Inbound) -> None:
        self.messages.append(message)
        self._changed.set()
        if self.echo:
            await self.transport.send(Outbound(message.chat, message.text,
                                               account=message.account))

    async def on_event(self, event: PlatformEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait(self, count: int, *, events: bool = False, within: float = 3.0) -> None:
        items = self.events if events else self.messages
        async with asyncio.timeout(within):
            while len(items) < count:
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def standin() -> AsyncIterator[OneBotStandIn]:
    s = OneBotStandIn(access_token=TOKEN, heartbeat_interval=0.5)
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def forward(standin: OneBotStandIn) -> AsyncIterator[tuple[OneBotForwardTransport, Inbox]]:
    transport = OneBotForwardTransport(standin.url, TOKEN, api_timeout=1.0, **FAST)
    inbox = Inbox()
    inbox.transport = transport
    await transport.start(inbox.on_message, inbox.on_event)
    assert await transport.wait_connected(3)
    await standin.wait_for(lambda: transport.account == "10001")
    yield transport, inbox
    await transport.stop()


@pytest.fixture
async def reverse() -> AsyncIterator[tuple[OneBotReverseServer, Inbox]]:
    server = OneBotReverseServer("127.0.0.1", 0, TOKEN, api_timeout=1.0, stop_grace=0.5)
    inbox = Inbox()
    inbox.transport = server
    await server.start(inbox.on_message, inbox.on_event)
    yield server, inbox
    await server.stop()


def texts(call: dict[str, Any]) -> list[dict[str, Any]]:
    return call["params"]["message"]


# --- configuration ----------------------------------------------------------------------------


async def test_refuses_to_start_without_token() -> None:
    async def ignore(_: Any) -> None: ...
    with pytest.raises(ConfigError, match="ONEBOT_ACCESS_TOKEN"):
        await OneBotForwardTransport("ws://127.0.0.1:1/", "").start(ignore)
    with pytest.raises(ConfigError, match="ONEBOT_ACCESS_TOKEN"):
        await OneBotReverseServer("127.0.0.1", 0, " ").start(ignore)


def test_parse_host_port() -> None:
    assert parse_host_port("8081") == ("127.0.0.1", 8081)
    assert parse_host_port(":8081") == ("127.0.0.1", 8081)
    assert parse_host_port("0.0.0.0:6700") == ("0.0.0.0", 6700)
    assert parse_host_port("[::1]:6700") == ("::1", 6700)
    assert parse_host_port("ws://localhost:6700/onebot") == ("localhost", 6700)
    assert parse_host_port("9000", default_host="::1") == ("::1", 9000)
    for bad in ("", "host:", "host:port", "1.2.3.4:70000", "x:0"):
        with pytest.raises(ConfigError, match="ONEBOT_REVERSE_WS"):
            parse_host_port(bad)


async def test_send_without_connection_is_not_delivered() -> None:
    transport = OneBotForwardTransport("ws://127.0.0.1:1/", TOKEN)
    result = await transport.send(Outbound(ChatRef("qq", "private", "1"), "hi"))
    assert (result.delivered, result.maybe_sent) == (False, False)
    assert result.error


# --- forward WebSocket ------------------------------------------------------------------------


async def test_forward_private_message_and_reply(
    standin: OneBotStandIn, forward: tuple[OneBotForwardTransport, Inbox]
) -> None:
    transport, inbox = forward
    inbox.echo = True
    assert standin.auth_headers[-1] == f"Bearer {TOKEN}"
    assert (transport.platform, transport.paced) == ("qq", True)
    await standin.push(standin.message("36.5 正常", user_id=20001, name="张三"))
    call = await standin.wait_call("send_private_msg")
    got = inbox.messages[0]
    assert (got.chat, got.sender_id, got.text, got.mentioned) == (
        ChatRef("qq", "private", "20001"), "20001", "36.5 正常", True)
    assert (got.sender_name, got.account, got.identity) == ("张三", "10001", "qq:20001")
    assert call["params"] == {"user_id": 20001,
                              "message": [{"type": "text", "data": {"text": "36.5 正常"}}]}
    result = await transport.send(Outbound(got.chat, "收到"))
    assert result.delivered and result.platform_message_id is not None


async def test_group_mention_detected_in_both_forms(
    standin: OneBotStandIn, forward: tuple[OneBotForwardTransport, Inbox]
) -> None:
    _, inbox = forward
    at_bot = [{"type": "at", "data": {"qq": "10001"}},
              {"type": "text", "data": {"text": " 报名 3"}}]
    at_other = [{"type": "at", "data": {"qq": "42", "name": "李四"}},
                {"type": "text", "data": {"text": " 你好"}}]
    await standin.push(standin.message(at_bot, group_id=30001, form="array", card="村民A"))
    await standin.push(standin.message(at_bot, group_id=30001, form="string"))
    await standin.push(standin.message(at_other, group_id=30001, form="string"))
    await inbox.wait(3)
    first, second, third = inbox.messages
    assert (first.text, first.mentioned) == ("报名 3", True)
    assert first.chat == ChatRef("qq", "group", "30001")
    assert first.sender_name == "村民A"
    assert (second.text, second.mentioned) == ("报名 3", True)
    assert (third.text, third.mentioned) == ("@李四 你好", False)


async def test_cq_injection_is_echoed_as_literal_text(
    standin: OneBotStandIn, forward: tuple[OneBotForwardTransport, Inbox]
) -> None:
    _, inbox = forward
    inbox.echo = True
    event = standin.message("x", group_id=30001, form="string")
    event["message"] = event["raw_message"] = "&#91;CQ:at,qq=all&#93;"
    await standin.push(event)
    call = await standin.wait_call("send_group_msg")
    assert inbox.messages[0].text == "[CQ:at,qq=all]"
    assert call["params"]["group_id"] == 30001
    assert texts(call) == [{"type": "text", "data": {"text": "[CQ:at,qq=all]"}}]


async def test_dropped_connection_recovers(
    standin: OneBotStandIn, forward: tuple[OneBotForwardTransport, Inbox]
) -> None:
    transport, inbox = forward
    await standin.drop()
    await standin.wait_for(lambda: standin.connections >= 2 and standin.open_sockets == 1)
    assert await transport.wait_connected(3)
    await standin.push(standin.message("还在吗"))
    await inbox.wait(1)
    assert inbox.messages[0].text == "还在吗"


async def test_heartbeat_timeout_reconnects(caplog: pytest.LogCaptureFixture) -> None:
    standin = OneBotStandIn(access_token=TOKEN, heartbeat_interval=0.05)
    await standin.start()
    transport = OneBotForwardTransport(standin.url, TOKEN, **FAST)
    inbox = Inbox()
    try:
        with caplog.at_level(logging.INFO, logger="bot.transports.onebot"):
            await transport.start(inbox.on_message)
            await standin.wait_for(lambda: standin.connections == 1)
            await asyncio.sleep(0.12)  # a couple of heartbeats: the interval is now known
            standin.heartbeats = False
            await standin.wait_for(lambda: standin.connections >= 2, within=2)
            standin.heartbeats = True
        assert any("no heartbeat" in r.getMessage() for r in caplog.records)
    finally:
        await transport.stop()
        await standin.stop()


async def test_wrong_token_is_logged_and_retried(
    standin: OneBotStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    transport = OneBotForwardTransport(standin.url + "?access_token=oops", "wrong-" + TOKEN, **FAST)
    with caplog.at_level(logging.DEBUG, logger="bot.transports.onebot"):
        await transport.start(Inbox().on_message)
        await standin.wait_for(lambda: standin.rejected >= 3)
        await transport.stop()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused authentication (HTTP 401)" in logged
    assert "ONEBOT_ACCESS_TOKEN" in logged and "reconnecting" in logged
    assert TOKEN not in logged and "oops" not in logged
    assert standin.connections == 0


async def test_unanswered_call_may_have_been_sent(standin: OneBotStandIn) -> None:
    transport = OneBotForwardTransport(standin.url, TOKEN, api_timeout=0.1, **FAST)
    await transport.start(Inbox().on_message)
    try:
        assert await transport.wait_connected(3)
        standin.answer = False
        result = await transport.send(Outbound(ChatRef("qq", "group", "30001"), "日报"))
        assert (result.delivered, result.maybe_sent) == (False, True)
        assert "no answer" in (result.error or "")
    finally:
        await transport.stop()


@pytest.mark.parametrize(("fixture", "expected"), [
    ("gocq_api_error_retcode100_send_msg.json", "SEND_MSG_API_ERROR: 请参考 go-cqhttp 端输出"),
    ("spec_ws_api_response_failed_1404.json", "unknown or unsupported API action"),
])
async def test_failed_answers_become_errors(
    standin: OneBotStandIn, forward: tuple[OneBotForwardTransport, Inbox],
    fixture: str, expected: str,
) -> None:
    transport, _ = forward
    standin.failures.append(json.loads((DATA / fixture).read_text(encoding="utf-8")))
    result = await transport.send(Outbound(ChatRef("qq", "private", "20001"), "hi"))
    assert (result.delivered, result.maybe_sent) == (False, False)
    assert expected in (result.error or "")


async def test_echo_returned_as_int_still_matches(
    standin: OneBotStandIn, forward: tuple[OneBotForwardTransport, Inbox]
) -> None:
    transport, _ = forward
    standin.echo_transform = lambda echo: int(echo)
    result = await transport.send(Outbound(ChatRef("qq", "group", "1"), "hi"))
    assert result.delivered
    assert (await transport.call_api("get_login_info"))["data"]["user_id"] == 10001


async def test_friend_request_accepted_and_notices(
    standin: OneBotStandIn, forward: tuple[OneBotForwardTransport, Inbox]
) -> None:
    _, inbox = forward
    await standin.push(standin.friend_request(20002, flag="f-9"))
    call = await standin.wait_call("set_friend_add_request")
    assert call["params"] == {"flag": "f-9", "approve": True}
    await standin.push(standin.notice("friend_add", user_id=20002))
    await standin.push(standin.notice("group_increase", group_id=30001, user_id="20003",
                                      operator_id=0, sub_type="approve"))
    await inbox.wait(2, events=True)
    assert inbox.events == [
        PlatformEvent("friend_added", ChatRef("qq", "private", "20002"), "20002", account="10001"),
        PlatformEvent("member_joined", ChatRef("qq", "group", "30001"), "20003", account="10001"),
    ]


async def test_files_are_sent_as_image_or_upload(
    standin: OneBotStandIn, forward: tuple[OneBotForwardTransport, Inbox], tmp_path: Path
) -> None:
    transport, _ = forward
    chart, sheet = tmp_path / "chart.png", tmp_path / "名单.xlsx"
    done = await transport.send(Outbound(ChatRef("qq", "group", "30001"), "日报", file=str(chart)))
    assert done.delivered
    call = await standin.wait_call("send_group_msg")
    assert texts(call)[1] == {"type": "image", "data": {"file": f"file://{chart}"}}
    to_worker = ChatRef("qq", "private", "20001")
    done = await transport.send(Outbound(to_worker, "名单", file=str(sheet)))
    assert done.delivered and done.platform_message_id is not None
    upload = await standin.wait_call("upload_private_file")
    assert upload["params"] == {"user_id": 20001, "file": str(sheet), "name": "名单.xlsx"}
    failed = {"status": "failed", "retcode": 1200, "data": None}
    standin.failures.append(failed)
    nothing = await transport.send(Outbound(ChatRef("qq", "group", "1"), "", file=str(sheet)))
    assert (nothing.delivered, nothing.maybe_sent) == (False, False)
    assert "NapCat" in (nothing.error or "")
    standin.failures += [None, failed]  # the text goes out, the file does not: never resend
    partial = await transport.send(Outbound(ChatRef("qq", "group", "1"), "名单", file=str(sheet)))
    assert (partial.delivered, partial.maybe_sent) == (False, True)
    assert partial.platform_message_id is not None


FILES = sorted(p.name for p in DATA.glob("*.json"))


async def test_every_payload_goes_through_dispatch(
    standin: OneBotStandIn, forward: tuple[OneBotForwardTransport, Inbox]
) -> None:
    """All real payloads (and junk) pushed over the socket: nothing breaks the connection."""
    transport, inbox = forward
    for name in FILES:
        await standin.push((DATA / name).read_text(encoding="utf-8"))
    for junk in ("not json", "[1, 2]", "null", '{"post_type": "message", "message": {}}'):
        await standin.push(junk)
    await standin.push(standin.message("最后一条"))
    await inbox.wait(1)
    await asyncio.sleep(0.05)
    assert inbox.messages[-1].text == "最后一条"
    # message fixtures from other accounts (whose self_id differs) arrive as messages too
    assert len(inbox.messages) == 10
    assert transport.connected.is_set()
    assert [c["action"] for c in standin.calls] == ["set_friend_add_request"]


@pytest.mark.parametrize("name", [n for n in FILES if "api_response" in n or "api_error" in n])
async def test_api_response_fixtures_matched_by_echo(name: str) -> None:
    payload = json.loads((DATA / name).read_text(encoding="utf-8"))
    transport = OneBotForwardTransport("ws://127.0.0.1:1/", TOKEN)
    link = _Link(ws=None, label="test")
    key = echo_key(payload.get("echo"))
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    link.pending[key or "unmatchable"] = future
    transport._on_payload(link, payload)
    assert future.done() is (key is not None)
    if key is not None:
        assert future.result() is payload


async def test_per_chat_order_kept_other_chats_not_blocked(
    standin: OneBotStandIn, forward: tuple[OneBotForwardTransport, Inbox]
) -> None:
    transport, _ = forward
    seen: list[str] = []
    release, finished = asyncio.Event(), asyncio.Event()

    async def slow(message: Inbound) -> None:
        if message.text == "a1":
            await release.wait()
        seen.append(message.text)
        if message.text == "b1":
            release.set()
        if len(seen) == 3:
            finished.set()

    transport._on_message = slow
    await standin.push(standin.message("a1", user_id=1))
    await standin.push(standin.message("a2", user_id=1))
    await standin.push(standin.message("b1", user_id=2))
    await asyncio.wait_for(finished.wait(), 3)
    assert seen == ["b1", "a1", "a2"]


# --- reverse WebSocket ------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
async def test_reverse_message_and_reply(
    reverse: tuple[OneBotReverseServer, Inbox], scheme: str
) -> None:
    server, inbox = reverse
    inbox.echo = True
    standin = OneBotStandIn(access_token=TOKEN, self_id=10002, auth_scheme=scheme)
    try:
        await standin.connect_reverse(f"ws://127.0.0.1:{server.port}/onebot/v11/ws")
        await standin.push(standin.message("&#91;CQ:at,qq=all&#93;", group_id=30001,
                                           form="string"))
        call = await standin.wait_call("send_group_msg")
        assert texts(call) == [{"type": "text", "data": {"text": "&#91;CQ:at,qq=all&#93;"}}]
        await standin.push(standin.message("你好", user_id=20001))
        call = await standin.wait_call("send_private_msg")
        assert texts(call) == [{"type": "text", "data": {"text": "你好"}}]
        assert inbox.messages[-1].account == "10002" and server.account == "10002"
    finally:
        await standin.stop()


async def test_reverse_rejects_bad_tokens(
    reverse: tuple[OneBotReverseServer, Inbox], caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = reverse
    url = f"ws://127.0.0.1:{server.port}/"
    standin = OneBotStandIn(access_token=TOKEN)
    try:
        for token in ("wrong", ""):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await standin.connect_reverse(url, token=token)
            assert refused.value.status == 401
        await standin.connect_reverse(url + f"?access_token={TOKEN}", token="")
        await standin.wait_for(lambda: standin.open_sockets == 1)
        assert server.accounts == ["10001"]
    finally:
        await standin.stop()
    assert "missing or wrong access token" in caplog.text and TOKEN not in caplog.text


async def test_reverse_routes_by_account_and_survives_reconnect(
    reverse: tuple[OneBotReverseServer, Inbox],
) -> None:
    server, inbox = reverse
    url = f"ws://127.0.0.1:{server.port}/"
    one = OneBotStandIn(access_token=TOKEN, self_id=10001, auth_scheme="Token")
    two = OneBotStandIn(access_token=TOKEN, self_id=10002)
    group = ChatRef("qq", "group", "30001")
    try:
        await one.connect_reverse(url)
        await one.wait_for(lambda: server.accounts == ["10001"])
        await two.connect_reverse(url)
        await two.wait_for(lambda: server.accounts == ["10001", "10002"])
        assert (await server.send(Outbound(group, "default"))).delivered
        assert (await server.send(Outbound(group, "to two", account="10002"))).delivered
        assert not (await server.send(Outbound(group, "nobody", account="999"))).delivered
        assert texts(await one.wait_call("send_group_msg"))[0]["data"]["text"] == "default"
        assert texts(await two.wait_call("send_group_msg"))[0]["data"]["text"] == "to two"
        await one.drop()
        await one.wait_for(lambda: server.accounts == ["10002"])
        await one.connect_reverse(url)
        await one.wait_for(lambda: one.open_sockets == 1)
        await one.push(one.message("回来了"))
        await inbox.wait(1)
        assert inbox.messages[0].account == "10001"
    finally:
        await one.stop()
        await two.stop()


async def test_reverse_api_and_event_pair(reverse: tuple[OneBotReverseServer, Inbox]) -> None:
    server, inbox = reverse
    url = f"ws://127.0.0.1:{server.port}/"
    events = OneBotStandIn(access_token=TOKEN, self_id=10003)
    api = OneBotStandIn(access_token=TOKEN, self_id=10003)
    try:
        await events.connect_reverse(url, role="Event")
        await api.connect_reverse(url, role="API")
        await api.wait_for(lambda: api.open_sockets == 1)
        inbox.echo = True
        await events.push(events.message("hi"))
        await api.wait_call("send_private_msg")
        assert events.calls == []
    finally:
        await events.stop()
        await api.stop()


def test_backoff_grows_capped_with_jitter() -> None:
    transport = OneBotForwardTransport("ws://127.0.0.1:1/", TOKEN, backoff_initial=1.0,
                                       backoff_max=60.0)
    delays = [transport._delay(n) for n in range(12)]
    assert 0.5 <= delays[0] <= 1.0 and 4.0 <= delays[3] <= 8.0
    assert all(30.0 <= d <= 60.0 for d in delays[6:])
    assert len({transport._delay(8) for _ in range(20)}) > 1
