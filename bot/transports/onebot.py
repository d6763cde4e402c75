"""QQ through OneBot v11 (NapCat, go-cqhttp, LLOneBot, Lagrange.OneBot) over WebSocket.

Two ways to connect, both speaking the same protocol on one "Universal" socket:

* :class:`OneBotForwardTransport` — the bot connects to the implementation's WebSocket server
  (``ONEBOT_WS_URL`` + ``ONEBOT_ACCESS_TOKEN``), reconnecting with capped, jittered exponential
  backoff and treating the link as dead when heartbeats stop.
* :class:`OneBotReverseServer` — the implementation connects to the bot
  (``ONEBOT_REVERSE_WS`` = ``host:port``); several QQ accounts may connect at once.

A token is always required: OneBot endpoints without one have been taken over in the wild.
Payload parsing and encoding are pure functions in :mod:`bot.transports.onebot_codec`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web
from yarl import URL

from bot.config import ConfigError
from bot.messages import Inbound, Outbound, SendResult
from bot.transports import onebot_codec as codec
from bot.transports.base import EventHandler, InboundHandler, PlatformEvent

log = logging.getLogger("bot.transports.onebot")

__all__ = [
    "ApiTimeout",
    "NotConnected",
    "OneBotError",
    "OneBotForwardTransport",
    "OneBotReverseServer",
    "parse_host_port",
]

_ECHOES = itertools.count(1)
_MAX_MESSAGE = 16 * 1024 * 1024
_TOKEN_HELP = (
    "QQ（OneBot）连接必须设置访问令牌：请在 .env 中设置 ONEBOT_ACCESS_TOKEN，"
    "与 NapCat/go-cqhttp 中配置的 access_token 相同 (ONEBOT_ACCESS_TOKEN is required)"
)


class OneBotError(Exception):
    """An API call that did not get an answer."""


class NotConnected(OneBotError):
    """No connection to send on; nothing left the bot."""


class ApiTimeout(OneBotError):
    """The request left but no answer came (in time, or before the link dropped)."""


def parse_host_port(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``ONEBOT_REVERSE_WS`` as ``(host, port)``: ``8081``, ``:8081``, ``0.0.0.0:8081``,
    ``[::1]:8081`` (a ``ws://`` prefix and a path are tolerated)."""
    spec = text.strip()
    for prefix in ("ws://", "http://"):
        if spec.lower().startswith(prefix):
            spec = spec[len(prefix) :]
    spec = spec.split("/", 1)[0]
    host, sep, port_text = spec.rpartition(":")
    if not sep:
        host, port_text = "", spec
    host = host.strip().removeprefix("[").removesuffix("]") or default_host
    if not port_text.strip().isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(
            f"ONEBOT_REVERSE_WS 应写成 地址:端口，例如 127.0.0.1:8081，现在是 {text!r}"
        )
    return host, int(port_text)


def _redact(url: str) -> str:
    """A URL fit for a log line: no query (``access_token=``) and no user info."""
    try:
        return str(URL(url).with_query(None).with_user(None))
    except (ValueError, TypeError):
        return "<invalid url>"


class _Link:
    """One WebSocket to a OneBot implementation: API calls matched to answers by echo."""

    def __init__(self, ws: Any, label: str, self_id: str = "") -> None:
        self.ws = ws
        self.label = label
        self.self_id = self_id
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.heartbeat: float | None = None  # seconds, once the implementation announces it
        self.online: bool | None = None
        self.saw_event = False

    async def call(self, action: str, params: dict[str, Any], wait: float) -> dict[str, Any]:
        echo = str(next(_ECHOES))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[echo] = future
        frame = {"action": action, "params": params, "echo": echo}
        try:
            await self.ws.send_str(json.dumps(frame, ensure_ascii=False))
        except Exception as exc:
            self.pending.pop(echo, None)
            raise NotConnected(f"cannot write to {self.label}: {exc!r}") from exc
        try:
            return await asyncio.wait_for(future, wait)
        except TimeoutError:
            raise ApiTimeout(f"no answer to {action} within {wait:g} s") from None
        finally:
            self.pending.pop(echo, None)

    def resolve(self, response: dict[str, Any]) -> bool:
        key = codec.echo_key(response.get("echo"))
        future = self.pending.get(key) if key is not None else None
        if future is None or future.done():
            return False
        future.set_result(response)
        return True

    def drop_pending(self) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ApiTimeout(f"connection to {self.label} lost"))
        self.pending.clear()


class _OneBotBase:
    """What both connection modes share: dispatching events, calling the API, sending."""

    platform = "qq"
    paced = True

    def __init__(
        self, access_token: str, *, api_timeout: float, accept_friends: bool,
        heartbeat_grace: float, stop_grace: float,
    ) -> None:
        self._token = access_token
        self._api_timeout = api_timeout
        self._accept_friends = accept_friends
        self._heartbeat_grace = heartbeat_grace
        self._stop_grace = stop_grace
        self._on_message: InboundHandler | None = None
        self._on_event: EventHandler | None = None
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._tails: dict[str, asyncio.Task[None]] = {}

    def _require_token(self) -> None:
        if not self._token or not self._token.strip():
            raise ConfigError(_TOKEN_HELP)

    # --- reading --------------------------------------------------------------------------

    async def _read_loop(self, link: _Link) -> str:
        """Handle frames until the socket closes or heartbeats stop; return why it ended."""
        ws = link.ws
        while True:
            timeout = link.heartbeat * self._heartbeat_grace if link.heartbeat else None
            try:
                msg = await ws.receive(timeout=timeout)
            except TimeoutError:
                return f"no heartbeat for {timeout:.1f} s (interval {link.heartbeat:g} s)"
            except Exception as exc:  # a broken transport may raise instead of closing
                return f"receive failed: {exc!r}"
            if msg.type == WSMsgType.TEXT:
                self._on_frame(link, msg.data)
            elif msg.type == WSMsgType.BINARY:
                self._on_frame(link, msg.data.decode("utf-8", "replace"))
            elif msg.type == WSMsgType.ERROR:
                return f"socket error: {ws.exception()!r}"
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                code = ws.close_code
                return f"closed by peer (code {code})" if code else "closed"

    def _on_frame(self, link: _Link, data: str) -> None:
        try:
            payload = json.loads(data)
        except ValueError:
            log.debug("OneBot %s: ignoring non-JSON frame %.200r", link.label, data)
            return
        try:
            self._on_payload(link, payload)
        except Exception:  # never let one payload break the connection
            log.exception("OneBot %s: failed to handle a payload", link.label)

    def _on_payload(self, link: _Link, payload: Any) -> None:
        if not isinstance(payload, dict):
            log.debug("OneBot %s: ignoring non-object payload", link.label)
            return
        if codec.is_api_response(payload):
            if not link.resolve(payload):
                self._unmatched_response(link, payload)
            return
        self_id = codec.id_text(payload.get("self_id"))
        if self_id and not link.self_id:
            link.self_id = self_id
            self._learned_account(link)
        link.saw_event = True
        post_type = payload.get("post_type")
        if post_type == "meta_event":
            self._on_meta(link, payload)
        elif post_type == "request":
            self._on_request(link, payload)
        else:
            event = codec.parse_event(payload, link.self_id)
            if isinstance(event, Inbound) and self._on_message and not self._closing:
                key = f"{event.chat.key}:{event.sender_id}"
                self._spawn(self._on_message, event, key)
            elif isinstance(event, PlatformEvent) and self._on_event and not self._closing:
                self._spawn(self._on_event, event, f"{event.chat.key}:{event.user_id}")

    def _learned_account(self, link: _Link) -> None:
        """Hook: the account of a link became known."""

    def _unmatched_response(self, link: _Link, payload: dict[str, Any]) -> None:
        if payload.get("retcode") in (1401, 1403):
            log.error(
                "OneBot %s refused our access token (%s): check that ONEBOT_ACCESS_TOKEN matches"
                " the implementation's access_token", link.label, codec.api_error_text(payload),
            )
        else:
            log.debug("OneBot %s: answer with unknown echo %.100r", link.label, payload.get("echo"))

    def _on_meta(self, link: _Link, payload: dict[str, Any]) -> None:
        kind = payload.get("meta_event_type")
        if kind == "lifecycle":
            sub = payload.get("sub_type")
            log.info("QQ account %s: OneBot lifecycle %s (%s)", link.self_id or "?", sub,
                     link.label)
            return
        interval = codec.heartbeat_interval(payload)
        if interval is not None:
            link.heartbeat = interval
        status = payload.get("status")
        online = status.get("online") if isinstance(status, dict) else None
        if isinstance(online, bool) and online != link.online:
            if online:
                log.info("QQ account %s is logged in and online (%s)", link.self_id, link.label)
            else:
                log.warning(
                    "QQ account %s reports it is OFFLINE (kicked, logged out or risk-controlled?)"
                    " — messages will not go out until it logs in again", link.self_id,
                )
            link.online = online

    def _on_request(self, link: _Link, payload: dict[str, Any]) -> None:
        flag = codec.friend_request_flag(payload)
        user = codec.id_text(payload.get("user_id"))
        if flag is not None:
            if not self._accept_friends:
                log.info("QQ friend request from %s left pending (accept_friends off)", user)
                return
            log.info("QQ account %s: accepting friend request from %s", link.self_id, user)
            self._spawn(self._approve_friend, (link, flag), None)
        elif payload.get("request_type") == "group":
            log.info(
                "QQ account %s: ignoring %s request for group %s from %s", link.self_id,
                payload.get("sub_type"), payload.get("group_id"), user,
            )
        else:
            log.debug("OneBot: ignoring request %r", payload.get("request_type"))

    async def _approve_friend(self, item: tuple[_Link, str]) -> None:
        link, flag = item
        try:
            reply = await link.call(
                "set_friend_add_request", {"flag": flag, "approve": True}, self._api_timeout
            )
        except OneBotError as exc:
            log.warning("QQ: approving a friend request failed: %s", exc)
            return
        if not codec.api_ok(reply):
            log.warning("QQ: approving a friend request failed: %s", codec.api_error_text(reply))

    # --- handler tasks: concurrent across chats, in order within one sender's chat ----------

    def _spawn(self, handler: Callable[[Any], Awaitable[None]], item: Any, key: str | None) -> None:
        previous = self._tails.get(key) if key else None
        task = asyncio.create_task(self._run_handler(handler, item, key, previous))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if key:
            self._tails[key] = task

    async def _run_handler(
        self, handler: Callable[[Any], Awaitable[None]], item: Any, key: str | None,
        previous: asyncio.Task[None] | None,
    ) -> None:
        try:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])
            await handler(item)
        except Exception:
            log.exception("QQ: handler failed for %s", type(item).__name__)
        finally:
            if key and self._tails.get(key) is asyncio.current_task():
                del self._tails[key]

    async def _drain_handlers(self) -> None:
        self._closing = True
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        if tasks:
            _, still = await asyncio.wait(tasks, timeout=self._stop_grace)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)

    # --- sending ----------------------------------------------------------------------------

    async def _send_on(self, link: _Link | None, out: Outbound) -> SendResult:
        if link is None:
            return SendResult(delivered=False, error="QQ is not connected (OneBot)")
        try:
            action, params = codec.send_request(out)
            upload = codec.upload_request(out)
        except ValueError:
            return SendResult(delivered=False, error=f"not a QQ id: {out.chat.chat_id!r}")
        message_id: str | None = None
        if params["message"]:
            result = await self._call_for_send(link, action, params, out)
            if not result.delivered or upload is None:
                return result
            message_id = result.platform_message_id
        elif upload is None:
            return SendResult(delivered=False, error="empty message: no text and no file")
        assert upload is not None
        result = await self._call_for_send(link, *upload, out)
        if result.delivered:
            result.platform_message_id = message_id
        elif message_id is not None:  # the text went out, the file did not: never resend
            result.maybe_sent = True
            result.platform_message_id = message_id
        return result

    async def _call_for_send(
        self, link: _Link, action: str, params: dict[str, Any], out: Outbound
    ) -> SendResult:
        where = f"{out.chat.kind} {out.chat.chat_id}"
        try:
            reply = await link.call(action, params, self._api_timeout)
        except NotConnected as exc:
            log.warning("QQ %s to %s not sent: %s", action, where, exc)
            return SendResult(delivered=False, error=str(exc))
        except ApiTimeout as exc:
            log.warning("QQ %s to %s: outcome unknown, %s", action, where, exc)
            return SendResult(delivered=False, maybe_sent=True, error=str(exc))
        if not codec.api_ok(reply):
            error = codec.api_error_text(reply)
            log.warning("QQ %s to %s failed: %s", action, where, error)
            return SendResult(delivered=False, error=error)
        return SendResult(delivered=True, platform_message_id=codec.message_id_of(reply))


class OneBotForwardTransport(_OneBotBase):
    """QQ through a OneBot implementation's WebSocket server (the bot is the client)."""

    def __init__(
        self, url: str, access_token: str, *, api_timeout: float = 10.0,
        accept_friends: bool = True, backoff_initial: float = 1.0, backoff_max: float = 60.0,
        heartbeat_grace: float = 3.0, connect_timeout: float = 10.0,
        ping_interval: float | None = 30.0, stop_grace: float = 5.0,
    ) -> None:
        super().__init__(
            access_token, api_timeout=api_timeout, accept_friends=accept_friends,
            heartbeat_grace=heartbeat_grace, stop_grace=stop_grace,
        )
        self.url = url
        self.account = ""
        self.connected = asyncio.Event()
        self._label = _redact(url)
        self._backoff = (backoff_initial, backoff_max)
        self._connect_timeout = connect_timeout
        self._ping_interval = ping_interval
        self._link: _Link | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: asyncio.Task[None] | None = None

    async def start(self, on_message: InboundHandler, on_event: EventHandler | None = None) -> None:
        self._require_token()
        if not self.url.strip():
            raise ConfigError("ONEBOT_WS_URL 为空 (ONEBOT_WS_URL is empty)")
        self._on_message, self._on_event = on_message, on_event
        self._session = aiohttp.ClientSession()
        self._runner = asyncio.create_task(self._run(), name="onebot-forward")

    async def wait_connected(self, within: float | None = None) -> bool:
        """True once a connection is up (False if none within ``within`` seconds)."""
        try:
            await asyncio.wait_for(self.connected.wait(), within)
        except TimeoutError:
            return False
        return True

    async def send(self, message: Outbound) -> SendResult:
        return await self._send_on(self._link, message)

    async def call_api(self, action: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The raw answer to any API action; raises :class:`OneBotError` without one."""
        if self._link is None:
            raise NotConnected("QQ is not connected (OneBot)")
        return await self._link.call(action, params or {}, self._api_timeout)

    async def stop(self) -> None:
        await self._drain_handlers()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._session is not None:
            await self._session.close()
        log.info("QQ (OneBot forward %s) stopped", self._label)

    def _learned_account(self, link: _Link) -> None:
        self.account = link.self_id

    def _delay(self, attempt: int) -> float:
        initial, cap = self._backoff
        return min(cap, initial * 2 ** min(attempt, 30)) * random.uniform(0.5, 1.0)

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                if await self._connect_and_serve():
                    attempt = 0
            except Exception:  # whatever happens, keep reconnecting
                log.exception("QQ: OneBot connection to %s failed unexpectedly", self._label)
            if self._closing:
                return
            delay = self._delay(attempt)
            attempt += 1
            log.info("QQ: reconnecting to OneBot at %s in %.2f s", self._label, delay)
            await asyncio.sleep(delay)

    async def _connect_and_serve(self) -> bool:
        """One connection, until it ends; True if events came in (the link was healthy)."""
        link = await self._connect()
        if link is None:
            return False
        reason = "stopped"
        try:
            reason = await self._read_loop(link)
        finally:
            await self._close_link(link)
        if not self._closing:
            log.warning("QQ: lost connection to OneBot at %s: %s", self._label, reason)
        return link.saw_event

    async def _connect(self) -> _Link | None:
        assert self._session is not None
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with asyncio.timeout(self._connect_timeout):
                ws = await self._session.ws_connect(
                    self.url, headers=headers, heartbeat=self._ping_interval,
                    max_msg_size=_MAX_MESSAGE,
                )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403):
                log.error(
                    "QQ: OneBot at %s refused authentication (HTTP %s): ONEBOT_ACCESS_TOKEN does"
                    " not match the implementation's access_token", self._label, exc.status,
                )
            else:
                log.warning("QQ: OneBot at %s refused the WebSocket (HTTP %s)", self._label,
                            exc.status)
            return None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("QQ: cannot reach OneBot at %s (%s); is NapCat/go-cqhttp running?",
                        self._label, type(exc).__name__)
            return None
        link = _Link(ws, f"forward {self._label}", self.account)
        self._link = link
        self.connected.set()
        log.info("QQ: connected to OneBot at %s", self._label)
        return link

    async def _close_link(self, link: _Link) -> None:
        if self._link is link:
            self._link = None
            self.connected.clear()
        link.drop_pending()
        with contextlib.suppress(Exception):
            await link.ws.close()


class OneBotReverseServer(_OneBotBase):
    """QQ through OneBot implementations that connect to the bot (reverse WebSocket).

    Any path is accepted (``/``, ``/onebot/v11/ws``).  Each connection must carry the token
    (``Authorization: Token …`` or ``Bearer …``, or ``?access_token=``) and ``X-Self-ID``.
    """

    def __init__(
        self, host: str, port: int, access_token: str, *, api_timeout: float = 10.0,
        accept_friends: bool = True, heartbeat_grace: float = 3.0, stop_grace: float = 5.0,
        ping_interval: float | None = 30.0,
    ) -> None:
        super().__init__(
            access_token, api_timeout=api_timeout, accept_friends=accept_friends,
            heartbeat_grace=heartbeat_grace, stop_grace=stop_grace,
        )
        self.host, self.port = host, port
        self._ping_interval = ping_interval
        self._accounts: dict[str, dict[str, _Link]] = {}  # self_id -> role -> link
        self._runner: web.AppRunner | None = None
        self.account = ""  # the first connected account: the one :meth:`send` uses by default

    @property
    def accounts(self) -> list[str]:
        return list(self._accounts)

    async def start(self, on_message: InboundHandler, on_event: EventHandler | None = None) -> None:
        self._require_token()
        self._on_message, self._on_event = on_message, on_event
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        if self.host not in ("127.0.0.1", "::1", "localhost"):
            log.warning("QQ: reverse WebSocket listens on %s, reachable from other machines",
                        self.host)
        log.info("QQ: waiting for OneBot reverse WebSocket connections on %s:%s",
                 self.host, self.port)

    async def send(self, message: Outbound) -> SendResult:
        account = message.account or self.account
        roles = self._accounts.get(account, {})
        link = roles.get("universal") or roles.get("api")
        if link is None and message.account:
            return SendResult(delivered=False, error=f"QQ account {account} is not connected")
        return await self._send_on(link, message)

    async def call_api(
        self, action: str, params: dict[str, Any] | None = None, *, account: str = ""
    ) -> dict[str, Any]:
        roles = self._accounts.get(account or self.account, {})
        link = roles.get("universal") or roles.get("api")
        if link is None:
            raise NotConnected(f"QQ account {account or '(any)'} is not connected")
        return await link.call(action, params or {}, self._api_timeout)

    async def stop(self) -> None:
        await self._drain_handlers()
        for roles in list(self._accounts.values()):
            for link in list(roles.values()):
                with contextlib.suppress(Exception):
                    await link.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        log.info("QQ (OneBot reverse %s:%s) stopped", self.host, self.port)

    def _authorized(self, request: web.Request) -> bool:
        given = request.query.get("access_token", "")
        scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() in ("bearer", "token") and value.strip():
            given = value.strip()
        return bool(given) and hmac.compare_digest(given.encode(), self._token.encode())

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.remote or "?"
        if self._closing:
            return web.Response(status=503, text="stopping")
        if not self._authorized(request):
            log.warning("QQ: refused a reverse WebSocket from %s: missing or wrong access token"
                        " (ONEBOT_ACCESS_TOKEN)", peer)
            return web.Response(status=401, text="unauthorized")
        self_id = request.headers.get("X-Self-ID", "").strip()
        role = (request.headers.get("X-Client-Role") or "Universal").strip().lower()
        valid_id = self_id.isascii() and self_id.isdigit()
        if not valid_id or role not in ("universal", "api", "event"):
            log.warning("QQ: refused a reverse WebSocket from %s: X-Self-ID %r, X-Client-Role %r",
                        peer, self_id, role)
            return web.Response(status=400, text="X-Self-ID and X-Client-Role required")
        ws = web.WebSocketResponse(heartbeat=self._ping_interval, max_msg_size=_MAX_MESSAGE)
        await ws.prepare(request)
        link = _Link(ws, f"reverse {self_id}/{role} from {peer}", self_id)
        roles = self._accounts.setdefault(self_id, {})
        old = roles.get(role)
        roles[role] = link
        self.account = next(iter(self._accounts))
        if old is not None:
            log.info("QQ account %s reconnected (%s); closing the old connection", self_id, role)
            with contextlib.suppress(Exception):
                await old.ws.close()
        log.info("QQ account %s connected via reverse WebSocket (%s, from %s)", self_id, role, peer)
        reason = "stopped"
        try:
            reason = await self._read_loop(link)
        finally:
            link.drop_pending()
            if self._accounts.get(self_id, {}).get(role) is link:
                del self._accounts[self_id][role]
                if not self._accounts[self_id]:
                    del self._accounts[self_id]
                self.account = next(iter(self._accounts), "")
            with contextlib.suppress(Exception):
                await ws.close()
        if not self._closing:
            log.warning("QQ account %s lost its reverse WebSocket (%s): %s; waiting for it to"
                        " reconnect", self_id, role, reason)
        return ws
