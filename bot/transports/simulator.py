"""The local web simulator: chat with the bot as several people, privately and in groups.

``python -m bot`` serves it on http://127.0.0.1:8080 unless ``SIMULATOR=off``.  The page is
``simulator_page.html``; the JSON API is what the page and the tests use:

* ``POST /api/send`` ``{"user", "chat": "private"|"group:<id>", "text", "name"?, "id"?}`` —
  handles the message and answers ``{"replies": [...]}`` with every message the bot sent
  meanwhile (to anyone), once they are sent.
* ``GET /api/messages?after=N`` — the whole log after sequence number N (people's messages and
  the bot's), for the page to poll.
* ``GET /api/files/<n>`` — a file or image the bot attached to message n.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.messages import ChatRef, Inbound, Outbound, SendResult
from bot.transports.base import EventHandler, InboundHandler

log = logging.getLogger(__name__)
PAGE = Path(__file__).with_name("simulator_page.html")
MAX_TEXT = 10_000
MAX_LOG = 5_000


class SimulatorTransport:
    """Platform ``sim``.  ``flush`` is set by the app to send what is queued right away."""

    platform = "sim"
    paced = False

    def __init__(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.host, self.port = host, port
        self.account = "sim"
        self.log: list[dict[str, Any]] = []
        self.files: dict[int, Path] = {}
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self.flush: Callable[[], Awaitable[None]] | None = None
        self.on_message: InboundHandler | None = None
        self.on_event: EventHandler | None = None

    # ----- Transport --------------------------------------------------------------------------
    async def start(self, on_message: InboundHandler, on_event: EventHandler | None = None) -> None:
        self.on_message, self.on_event = on_message, on_event
        app = web.Application(client_max_size=256 * 1024)
        app.router.add_get("/", self._page)
        app.router.add_post("/api/send", self._send)
        app.router.add_get("/api/messages", self._messages)
        app.router.add_get("/api/files/{seq}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # tests ask for any free port
            server = site._server
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("web simulator on http://%s:%d", self.host, self.port)

    async def send(self, message: Outbound) -> SendResult:
        entry = self._append(
            chat=_chat_name(message.chat),
            sender="bot",
            to=message.to,
            text=message.text,
            at=list(message.mentions),
        )
        if message.file:
            path = Path(message.file)
            self.files[entry["seq"]] = path
            entry["file"] = f"/api/files/{entry['seq']}"
            entry["file_name"] = path.name
        return SendResult(delivered=True, platform_message_id=str(entry["seq"]))

    async def stop(self) -> None:
        self._changed.set()  # let pending long-polls answer now rather than at their timeout
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----- log ----------------------------------------------------------------------------
    def _append(self, **fields: Any) -> dict[str, Any]:
        self._seq += 1
        entry = {"seq": self._seq, "time": datetime.now(UTC).isoformat(timespec="seconds"),
                 **fields}
        self.log.append(entry)
        if len(self.log) > MAX_LOG:
            del self.log[: len(self.log) - MAX_LOG]
        self._changed.set()
        return entry

    # ----- HTTP ---------------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(PAGE, headers={"Cache-Control": "no-store"})

    async def _send(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return _error("请求内容应是 JSON 对象")
        user = str(body.get("user") or "").strip()
        chat_name = str(body.get("chat") or "private").strip()
        text = str(body.get("text") or "")
        if not user or len(user) > 64 or ":" in user:
            return _error("user 必须是不含冒号的名字，例如 u1")
        if len(text) > MAX_TEXT:
            return _error(f"消息太长（超过 {MAX_TEXT} 字）")
        if chat_name == "private":
            chat = ChatRef("sim", "private", user)
        elif chat_name.startswith("group:") and len(chat_name) > 6:
            chat = ChatRef("sim", "group", chat_name[6:])
        else:
            return _error('chat 应是 "private" 或 "group:群名"')
        name = str(body.get("name") or user)[:64]
        mentioned = chat.kind == "private" or bool(body.get("mention", True))
        start = self._seq
        self._append(chat=_chat_name(chat), sender=user, name=name, to=None, text=text)
        msg = Inbound(
            chat=chat, sender_id=user, sender_name=name, text=text,
            message_id=str(body.get("id") or uuid.uuid4().hex),
            time=datetime.now(UTC), mentioned=mentioned,
            has_media=bool(body.get("media", False)), account="sim",
        )
        assert self.on_message is not None
        await self.on_message(msg)
        if self.flush is not None:
            await self.flush()
        replies = [e for e in self.log if e["seq"] > start and e["sender"] == "bot"]
        return web.json_response({"replies": replies}, dumps=_dumps)

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            after = int(request.query.get("after", "0"))
            wait = min(float(request.query.get("wait", "0")), 25.0)
        except ValueError:
            return _error("after 应是整数")
        if wait > 0 and self._seq <= after:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=wait)
            except TimeoutError:
                pass
        items = [e for e in self.log if e["seq"] > after]
        return web.json_response({"messages": items, "last": self._seq}, dumps=_dumps)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        try:
            path = self.files[int(request.match_info["seq"])]
        except (KeyError, ValueError):
            raise web.HTTPNotFound() from None
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)


def _chat_name(chat: ChatRef) -> str:
    return f"private:{chat.chat_id}" if chat.kind == "private" else f"group:{chat.chat_id}"


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _error(text: str) -> web.Response:
    return web.json_response({"error": text}, status=400, dumps=_dumps)
