"""A OneBot v11 implementation stand-in (what NapCat / go-cqhttp look like to the bot).

As a server (forward mode): ``await standin.start()`` listens on 127.0.0.1 at a free port;
the bot connects to :attr:`OneBotStandIn.url`.  As a client (reverse mode):
``await standin.connect_reverse(url)`` connects to the bot's server.  Either way each socket
gets a lifecycle ``connect`` event, then heartbeats every ``heartbeat_interval`` seconds; the
stand-in answers ``send_private_msg``/``send_group_msg``/``set_friend_add_request``/
``upload_*_file``/``get_login_info`` and records every call in :attr:`calls`.

Usable from tests and from a load harness (nothing here depends on pytest).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web

Json = dict[str, Any]


def text_to_cq(text: str) -> str:
    """Plain text as a CQ string (escaped the way implementations do)."""
    return text.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")


class OneBotStandIn:
    """One QQ account behind a OneBot implementation."""

    def __init__(
        self, *, access_token: str = "test-token", self_id: int = 10001,
        heartbeat_interval: float = 5.0, auth_scheme: str = "Bearer",
    ) -> None:
        self.access_token = access_token
        self.self_id = self_id
        self.heartbeat_interval = heartbeat_interval
        self.auth_scheme = auth_scheme  # used as a reverse client: "Token" (gocq) or "Bearer"
        self.heartbeats = True  # set False to fall silent (the link looks dead)
        self.answer = True  # set False to receive API calls and never answer them
        # answers (without echo) for the next calls, in order; None answers a call normally
        self.failures: list[Json | None] = []
        self.echo_transform: Callable[[Any], Any] = lambda echo: echo
        self.calls: list[Json] = []
        self.auth_headers: list[str] = []
        self.rejected = 0  # connections refused for a wrong or missing token
        self.connections = 0  # sockets accepted (or opened) so far
        self._sockets: set[Any] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self._message_ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    # --- server (forward mode) ------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._accept)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"ws://{host}:{self._runner.addresses[0][1]}/"
        return self.url

    async def _accept(self, request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        self.auth_headers.append(header)
        given = header.partition(" ")[2] or request.query.get("access_token", "")
        if given != self.access_token:
            self.rejected += 1
            await self._notify()
            return web.Response(status=401, text="token wrong")  # what go-cqhttp does
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await self._open(ws)
        await self._pump(ws)
        return ws

    # --- client (reverse mode) ------------------------------------------------------------

    async def connect_reverse(
        self, url: str, *, token: str | None = None, role: str = "Universal",
        self_id: int | None = None,
    ) -> None:
        """Connect to the bot's reverse server and serve the socket in the background.

        Raises :class:`aiohttp.WSServerHandshakeError` if the bot refuses (401 for a bad token).
        """
        headers = {"X-Self-ID": str(self_id or self.self_id), "X-Client-Role": role}
        token = self.access_token if token is None else token
        if token:
            headers["Authorization"] = f"{self.auth_scheme} {token}"
        if self._session is None:
            self._session = aiohttp.ClientSession()
        ws = await self._session.ws_connect(url, headers=headers)
        await self._open(ws)
        task = asyncio.create_task(self._pump(ws))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- one socket -----------------------------------------------------------------------

    async def _open(self, ws: Any) -> None:
        """Register a socket and say hello (lifecycle connect) before any event can be pushed."""
        self._sockets.add(ws)
        self.connections += 1
        await ws.send_str(json.dumps(self._meta("lifecycle", sub_type="connect")))
        await self._notify()

    async def _pump(self, ws: Any) -> None:
        beat = asyncio.create_task(self._beat(ws))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_call(ws, json.loads(msg.data))
        except (ConnectionError, RuntimeError):
            pass
        finally:
            beat.cancel()
            self._sockets.discard(ws)
            await self._notify()

    async def _beat(self, ws: Any) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while not ws.closed:
                await asyncio.sleep(self.heartbeat_interval)
                if self.heartbeats and not ws.closed:
                    status = {"online": True, "good": True}
                    await ws.send_str(json.dumps(self._meta(
                        "heartbeat", interval=int(self.heartbeat_interval * 1000), status=status)))

    async def _on_call(self, ws: Any, call: Json) -> None:
        self.calls.append(call)
        await self._notify()
        if not self.answer:
            return
        action = call.get("action")
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            reply = dict(failure)
        elif action in ("send_private_msg", "send_group_msg", "send_msg"):
            reply = self._ok({"message_id": next(self._message_ids)})
        elif action in ("set_friend_add_request", "upload_group_file", "upload_private_file"):
            reply = self._ok(None)
        elif action == "get_login_info":
            reply = self._ok({"user_id": self.self_id, "nickname": "stand-in"})
        else:
            reply = {"status": "failed", "retcode": 1404, "data": None}
        reply["echo"] = self.echo_transform(call.get("echo"))
        await ws.send_str(json.dumps(reply, ensure_ascii=False))

    @staticmethod
    def _ok(data: Any) -> Json:
        return {"status": "ok", "retcode": 0, "data": data}

    def _meta(self, kind: str, **fields: Any) -> Json:
        return {"time": int(time.time()), "self_id": self.self_id, "post_type": "meta_event",
                "meta_event_type": kind, **fields}

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- what tests and harnesses use -----------------------------------------------------

    async def push(self, event: Json | str) -> None:
        """Send an event (a dict, or raw text for malformed frames) on every open socket."""
        frame = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
        for ws in list(self._sockets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(frame)

    def message(
        self, text: str | list[Json], *, user_id: int = 20001, group_id: int | None = None,
        form: str = "array", name: str = "张三", card: str = "", message_id: int | None = None,
    ) -> Json:
        """A private (or, with ``group_id``, group) message event; ``text`` is plain text
        or a segment array; ``form`` "string" sends the message as a CQ string."""
        segments = [{"type": "text", "data": {"text": text}}] if isinstance(text, str) else text
        cq = "".join(
            text_to_cq(s["data"]["text"]) if s["type"] == "text"
            else "[CQ:{}{}]".format(s["type"], "".join(
                f",{k}={text_to_cq(str(v)).replace(',', '&#44;')}" for k, v in s["data"].items()))
            for s in segments
        )
        event: Json = {
            "time": int(time.time()), "self_id": self.self_id, "post_type": "message",
            "message_type": "group" if group_id else "private",
            "sub_type": "normal" if group_id else "friend",
            "message_id": next(self._message_ids) if message_id is None else message_id,
            "user_id": user_id, "message": cq if form == "string" else segments,
            "raw_message": cq, "font": 0,
            "sender": {"user_id": user_id, "nickname": name, "card": card, "sex": "unknown"},
        }
        if group_id:
            event["group_id"] = group_id
        return event

    def notice(self, notice_type: str, **fields: Any) -> Json:
        return {"time": int(time.time()), "self_id": self.self_id, "post_type": "notice",
                "notice_type": notice_type, **fields}

    def friend_request(self, user_id: int, flag: str = "flag-1") -> Json:
        return {"time": int(time.time()), "self_id": self.self_id, "post_type": "request",
                "request_type": "friend", "user_id": user_id, "comment": "", "flag": flag}

    async def wait_for(self, predicate: Callable[[], bool], within: float = 3.0) -> None:
        """Wait until ``predicate()`` holds (checked whenever a call or connection happens)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_call(self, action: str, count: int = 1, within: float = 3.0) -> Json:
        """The ``count``-th call of ``action`` (waiting for it)."""
        def seen() -> list[Json]:
            return [c for c in self.calls if c.get("action") == action]
        await self.wait_for(lambda: len(seen()) >= count, within)
        return seen()[count - 1]

    @property
    def open_sockets(self) -> int:
        return len(self._sockets)

    async def drop(self) -> None:
        """Close every socket, as a crashing or restarting implementation would."""
        for ws in list(self._sockets):
            await ws.close()

    async def stop(self) -> None:
        await self.drop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
