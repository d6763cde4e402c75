"""WeChat through python-wechaty 0.10 and a wechaty puppet service (gRPC, ``host:port``).

Identities are ``wx:<contact id>``; a room is ``ChatRef("wx", "group", <room id>)``.

python-wechaty is imported only when a transport starts (importing this module is cheap).
Its own ``Wechaty.start()`` is not used as is: it swallows errors, retries after a fixed 60 s,
and stops the whole event loop on some puppet errors.  Instead each connection runs the same
steps (``init_puppet``, ``init_puppet_event_bridge``, ``puppet.start()``) in a background task
under a supervisor that reports why a connection ended and reconnects with backoff.  Every
connection gets a fresh ``Wechaty`` object and fresh ``Contact``/``Room`` caches, because
python-wechaty keeps those at class level and would otherwise hand out objects bound to a
dead connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from bot.messages import ChatRef, Inbound, Outbound, SendResult
from bot.transports.base import EventHandler, InboundHandler, PlatformEvent

log = logging.getLogger(__name__)

TOKEN_ENV = "WECHATY_PUPPET_SERVICE_TOKEN"
ENDPOINT_ENV = "WECHATY_PUPPET_SERVICE_ENDPOINT"
DEFAULT_CACHE_DIR = "data/wechaty"
AT_SEPARATOR = "\u2005"  # WeChat ends an @mention with a four-per-em space
AT_ALL_TEXT = "@所有人"
_AT_ALL_RE = re.compile(r"@(所有人|all\b)", re.IGNORECASE)
_AT_ALL_IDS = frozenset({"@all", "notify@all", "all"})
_FRIEND_DEDUP_SECONDS = 600.0


class WechatError(RuntimeError):
    """The WeChat transport cannot work; the message says why."""


class WechatAuthError(WechatError):
    """The puppet service rejected the token."""


class _ConnectionDead(WechatError):
    """The watchdog got no answer from the puppet service."""


@functools.cache
def _wechaty() -> SimpleNamespace:
    """Import python-wechaty once, on the first start, with the fixes it needs here."""
    # wechaty writes its caches under CACHE_DIR (default ".wechaty" in the working directory),
    # and logs every message text at INFO level: keep both out of the way unless configured.
    os.environ.setdefault("CACHE_DIR", DEFAULT_CACHE_DIR)
    os.environ.setdefault("WECHATY_LOG", "warn")
    had_dot_wechaty = os.path.isdir(".wechaty")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # wechaty imports telnetlib
        # Python 3.11+: `import wechaty` fails with "mutable default <class PuppetOptions> for
        # field puppet_options is not allowed", because WechatyOptions declares
        # `puppet_options: PuppetOptions = PuppetOptions()` and dataclasses reject unhashable
        # defaults since 3.11.  Making PuppetOptions hashable (by identity) lets the import
        # pass.  The shared default instance is harmless here: every WechatyOptions we build
        # gets its own PuppetOptions.  This must run before the first `import wechaty`.
        from wechaty_puppet.schemas.puppet import PuppetOptions

        if PuppetOptions.__hash__ is None:
            PuppetOptions.__hash__ = object.__hash__  # type: ignore[assignment,method-assign]

        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError
        from wechaty import Wechaty, WechatyOptions
        from wechaty_puppet import FileBox, FriendshipType, MessageType, ScanStatus
    # wechaty_puppet/config.py creates ".wechaty" in the working directory whatever CACHE_DIR
    # says; remove it again when it is empty and was not there before.
    if not had_dot_wechaty:
        with contextlib.suppress(OSError):
            os.rmdir(".wechaty")
    # PuppetService logs the token at WARNING when it is given with an endpoint, and FileBox
    # warns about a deprecated attribute on every file sent.  wechaty imports the puppet
    # module only when it makes the puppet, and that import resets the logger's level: import
    # it now, then quiet it.
    import wechaty_puppet_service.puppet  # noqa: F401

    logging.getLogger("PuppetService").setLevel(logging.ERROR)
    logging.getLogger("FileBox").setLevel(logging.ERROR)
    warnings.filterwarnings(  # FileBox calls the deprecated Logger.warn on every file
        "ignore", category=DeprecationWarning, module=r"wechaty_puppet\.file_box"
    )
    return SimpleNamespace(
        AsyncIOScheduler=AsyncIOScheduler,
        FileBox=FileBox,
        FriendshipType=FriendshipType,
        GRPCError=GRPCError,
        MessageType=MessageType,
        PuppetOptions=PuppetOptions,
        ScanStatus=ScanStatus,
        Status=Status,
        Wechaty=Wechaty,
        WechatyOptions=WechatyOptions,
    )


def _host_port(endpoint: str) -> tuple[str, int]:
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    if not parts.hostname:
        raise WechatError(f"{ENDPOINT_ENV} should be host:port, not {endpoint!r}")
    return parts.hostname, parts.port or 80


def _message_time(timestamp: float) -> datetime:
    if not timestamp:
        return datetime.now(UTC)
    if timestamp > 2_145_888_000:  # milliseconds (seconds would be after 2038)
        timestamp /= 1000
    return datetime.fromtimestamp(timestamp, UTC)


def _plain(text: str) -> str:
    """Text exactly as given, except that it can never notify everyone (@所有人 / @all)."""
    return _AT_ALL_RE.sub(lambda m: "＠" + m.group(1), text)


def _is_file(path: str) -> bool:
    return os.path.isfile(path)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    if text and isinstance(exc, WechatError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class WechatTransport:
    """A WeChat account served by a wechaty puppet service.

    ``start()`` returns once the account is logged in, raises :class:`WechatAuthError` for a
    rejected token, or returns after ``login_timeout`` seconds with a warning while it keeps
    connecting (or waiting for a QR scan) in the background.
    """

    platform = "wx"
    paced = True

    def __init__(
        self,
        endpoint: str,
        token: str,
        *,
        accept_friends: bool = True,
        greet_rooms: Sequence[str] = (),
        account: str = "",
        login_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        reconnect_min: float = 1.0,
        reconnect_max: float = 60.0,
        heartbeat_interval: float = 30.0,
        send_timeout: float = 20.0,
    ) -> None:
        self.endpoint = endpoint.strip()
        self.account = account
        self._token = token.strip()
        self._accept_friends = accept_friends
        # "wx:xxx@chatroom" (the TASKFORCE_GROUPS form) and a bare room id both work
        self._greet_rooms = frozenset(r.strip().removeprefix("wx:") for r in greet_rooms if r)
        self._login_timeout = login_timeout
        self._connect_timeout = connect_timeout
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._heartbeat_interval = heartbeat_interval
        self._send_timeout = send_timeout
        self._on_message: InboundHandler | None = None
        self._on_event: EventHandler | None = None
        self._bot: Any = None  # the Wechaty of the current connection
        self._supervisor: asyncio.Task[None] | None = None
        self._logged_in = asyncio.Event()
        self._stopping = False
        self._auth_error: str | None = None
        self._problem = "not connected yet"
        self._self_id = ""
        self._self_name = ""
        self._session_logged_in = False
        self._accepted: dict[str, float] = {}

    # -- status ---------------------------------------------------------------------------

    @property
    def logged_in(self) -> bool:
        return self._logged_in.is_set()

    async def wait_logged_in(self, seconds: float) -> bool:
        """Wait until the account is logged in; False if it is not within ``seconds``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._logged_in.wait(), seconds)
        return self.logged_in

    @property
    def self_id(self) -> str:
        """The bot's own contact id once logged in."""
        return self._self_id

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, on_message: InboundHandler, on_event: EventHandler | None = None) -> None:
        if not self._token:
            raise WechatError(
                f"WeChat needs a puppet service token: set {TOKEN_ENV} (and {ENDPOINT_ENV})"
            )
        if not self.endpoint:
            raise WechatError(f"WeChat needs the puppet service address: set {ENDPOINT_ENV}")
        _host_port(self.endpoint)
        if self._supervisor is not None and not self._supervisor.done():
            raise WechatError("this WeChat transport is already running")
        _wechaty()
        self._on_message, self._on_event = on_message, on_event
        self._stopping = False
        self._auth_error = None
        self._logged_in.clear()
        supervisor = asyncio.create_task(self._supervise(), name=f"wechat {self.endpoint}")
        self._supervisor = supervisor
        login = asyncio.create_task(self._logged_in.wait())
        try:
            await asyncio.wait(
                {login, supervisor},
                timeout=self._login_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            login.cancel()
        if supervisor.done():
            self._supervisor = None
            if self._stopping or supervisor.cancelled():
                return  # stop() was called meanwhile
            if self._auth_error:
                raise WechatAuthError(self._auth_error)
            supervisor.result()  # re-raises what ended it
            raise WechatError(f"WeChat transport ended: {self._problem}")
        if not self.logged_in:
            log.warning(
                "WeChat: not logged in %g s after start (%s); still trying in the background",
                self._login_timeout,
                self._problem,
            )

    async def stop(self) -> None:
        self._stopping = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await supervisor
        self._logged_in.clear()
        log.info("WeChat: stopped")

    async def _supervise(self) -> None:
        delay = self._reconnect_min
        while not self._stopping:
            self._session_logged_in = False
            try:
                await self._session()
                problem = "the puppet service ended the event stream"
            except WechatAuthError as exc:
                self._auth_error = str(exc)
                log.error("WeChat: %s", exc)
                return
            except Exception as exc:
                problem = _describe(exc)
            finally:
                self._logged_in.clear()
            if self._stopping:
                return
            if self._session_logged_in:
                delay = self._reconnect_min
            self._problem = f"puppet service {self.endpoint}: {problem}"
            log.warning(
                "WeChat: %s puppet service %s (%s); reconnecting in %.1f s",
                "lost the connection to the" if self._session_logged_in else "cannot use the",
                self.endpoint,
                problem,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_max)

    async def _session(self) -> None:
        """One connection: runs until the event stream ends or the connection is dead."""
        w = _wechaty()
        host, port = _host_port(self.endpoint)
        # wechaty checks the address with a blocking telnet; find out here, without blocking.
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), self._connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            raise WechatError(f"cannot connect: {_describe(exc)}") from exc
        writer.close()
        options = w.WechatyOptions(
            puppet_options=w.PuppetOptions(token=self._token, end_point=self.endpoint),
            token=self._token,
            endpoint=self.endpoint,
            port=0,  # wechaty's plugin web server: its port probe fails at once, never starts
            scheduler=w.AsyncIOScheduler(),  # not the default job store in CACHE_DIR
        )
        bot = w.Wechaty(options)
        await bot.init_puppet()
        for cls in (bot.Contact, bot.ContactSelf, bot.Room, bot.Tag):
            cls._pool = {}  # per connection, see the module docstring
        puppet = bot.puppet
        puppet.on("login", functools.partial(self._on_login, bot))
        puppet.on("logout", self._on_logout)
        puppet.on("scan", self._on_scan)
        bot.on("message", self._on_wechaty_message)
        bot.on("friendship", self._on_friendship)
        bot.on("room-join", self._on_room_join)
        bot.on("error", self._on_service_error)
        await bot.init_puppet_event_bridge(puppet)
        listen = asyncio.create_task(self._listen(puppet))
        watchdog = asyncio.create_task(self._watchdog(puppet))
        self._bot = bot
        try:
            done, _ = await asyncio.wait({listen, watchdog}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            self._bot = None
            for task in (listen, watchdog):
                task.cancel()
            await asyncio.gather(listen, watchdog, return_exceptions=True)
            self._dispose(bot)

    async def _listen(self, puppet: Any) -> None:
        w = _wechaty()
        try:
            await puppet.start()  # stop + start on the service, then the event stream
        except w.GRPCError as exc:
            if exc.status == w.Status.UNAUTHENTICATED:
                # not exc.message: the service quotes the rejected token there
                raise WechatAuthError(
                    f"the puppet service at {self.endpoint} rejected the token "
                    f"(UNAUTHENTICATED); check {TOKEN_ENV}"
                ) from None
            raise

    async def _watchdog(self, puppet: Any) -> None:
        """A half-open TCP connection never ends the event stream: ask now and then."""
        w = _wechaty()
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            try:
                await asyncio.wait_for(puppet.ding("watchdog"), self._connect_timeout * 2)
            except w.GRPCError:
                continue  # the service answered, even if with an error
            except Exception as exc:
                raise _ConnectionDead(f"no answer to a ding ({_describe(exc)})") from exc

    def _dispose(self, bot: Any) -> None:
        """Drop a connection without asking the service to stop the account."""
        puppet = bot._puppet
        if puppet is not None:
            with contextlib.suppress(Exception):
                puppet._event_stream.remove_all_listeners()
                # wechaty's listeners still running fail on the closed channel; pyee would
                # raise their errors into the event loop without an "error" listener
                puppet._event_stream.on("error", self._on_late_error)
            channel = getattr(puppet, "channel", None)
            if channel is not None:
                channel.close()
                puppet.channel = None
            puppet._puppet_stub = None
        with contextlib.suppress(Exception):
            scheduler = bot._plugin_manager.scheduler
            if scheduler.running:
                scheduler.shutdown(wait=False)
        bot.remove_all_listeners()

    # -- puppet events --------------------------------------------------------------------

    async def _on_login(self, bot: Any, payload: Any) -> None:
        self._self_id = payload.contact_id
        self._session_logged_in = True
        name = ""
        try:
            contact = bot.ContactSelf.load(payload.contact_id)
            await contact.ready()
            name = contact.name
        except Exception as exc:
            log.warning("WeChat: logged in but cannot read the account's name: %s", exc)
        self._self_name = name or self._self_name
        self._problem = "logged in"
        self._logged_in.set()
        log.info("WeChat: logged in as %s (%s) via %s", name, payload.contact_id, self.endpoint)

    async def _on_logout(self, payload: Any) -> None:
        self._logged_in.clear()
        self._problem = "the account logged out"
        reason = getattr(payload, "data", "") or ""
        log.warning("WeChat: account %s logged out %s", payload.contact_id, reason)

    async def _on_service_error(self, payload: Any) -> None:
        detail = getattr(payload, "data", payload)
        log.warning("WeChat: the puppet service reports an error: %s", detail)

    @staticmethod
    def _on_late_error(exc: Any) -> None:
        log.debug("WeChat: after disconnecting: %s", exc)

    async def _on_scan(self, payload: Any) -> None:
        w = _wechaty()
        if payload.status == w.ScanStatus.Waiting and payload.qrcode:
            self._problem = "waiting for a QR code scan"
            log.warning(
                "WeChat: not logged in; scan the QR code at https://wechaty.js.org/qrcode/%s",
                payload.qrcode,
            )

    # -- inbound --------------------------------------------------------------------------

    async def _on_wechaty_message(self, msg: Any) -> None:
        try:
            inbound = await self._to_inbound(msg)
        except Exception:
            log.exception("WeChat: cannot read message %s", getattr(msg, "message_id", "?"))
            return
        if inbound is None or self._on_message is None:
            return
        try:
            await self._on_message(inbound)
        except Exception:
            log.exception("WeChat: the message handler failed on %s", inbound.message_id)

    async def _to_inbound(self, msg: Any) -> Inbound | None:
        w = _wechaty()
        if msg.is_self():
            return None
        kind = msg.type()
        if kind in (w.MessageType.MESSAGE_TYPE_RECALLED, w.MessageType.MESSAGE_TYPE_UNSPECIFIED):
            return None  # a recall or a system notice, nothing a person said
        has_media = kind != w.MessageType.MESSAGE_TYPE_TEXT
        text = "" if has_media else (msg.text() or "")
        talker = msg.talker()
        room = msg.room()
        if room is None:
            chat = ChatRef(self.platform, "private", talker.contact_id)
            mentioned, name = True, talker.name
        else:
            chat = ChatRef(self.platform, "group", room.room_id)
            mentioned, text = await self._mention_of_self(msg, room, text)
            name = await self._room_alias(room, talker) or talker.name
        return Inbound(
            chat=chat,
            sender_id=talker.contact_id,
            text=text,
            message_id=msg.message_id,
            time=_message_time(msg.payload.timestamp),
            sender_name=name or "",
            mentioned=mentioned,
            has_media=has_media,
            account=self.account,
        )

    async def _mention_of_self(self, msg: Any, room: Any, text: str) -> tuple[bool, str]:
        """Whether the bot is @-mentioned, and the text without that mention."""
        if not text:
            return False, text
        mentioned = await msg.mention_self()
        names = {self._self_name}
        bot = self._bot
        if bot is not None and self._self_id:
            names.add(await self._room_alias(room, bot.Contact.load(self._self_id)))
        names.discard("")
        # the mention list is what counts; the text form covers services that leave it empty
        patterns = [re.compile(rf"@{re.escape(n)}(?:\s|$)") for n in names]
        if not mentioned:
            mentioned = any(p.search(text) for p in patterns)
        if mentioned:
            for pattern in patterns:
                text = pattern.sub("", text)
            text = text.strip()
        return mentioned, text

    @staticmethod
    async def _room_alias(room: Any, contact: Any) -> str:
        try:
            return await room.alias(contact) or ""
        except Exception:
            return ""

    async def _on_friendship(self, friendship: Any) -> None:
        w = _wechaty()
        try:
            kind = friendship.type()
            contact = friendship.contact()
            contact_id = contact.contact_id
            now = time.monotonic()
            self._accepted = {
                k: t for k, t in self._accepted.items() if now - t < _FRIEND_DEDUP_SECONDS
            }
            if kind == w.FriendshipType.FRIENDSHIP_TYPE_RECEIVE:
                if not self._accept_friends:
                    log.info("WeChat: friend request from %s left for a person", contact_id)
                    return
                await friendship.accept()
                self._accepted[contact_id] = now
                log.info("WeChat: accepted the friend request of %s", contact_id)
            elif kind != w.FriendshipType.FRIENDSHIP_TYPE_CONFIRM or contact_id in self._accepted:
                return
            with contextlib.suppress(Exception):
                await contact.ready()
            chat = ChatRef(self.platform, "private", contact_id)
            await self._emit(
                PlatformEvent("friend_added", chat, contact_id, contact.name or "", self.account)
            )
        except Exception:
            log.exception("WeChat: cannot handle a friendship event")

    async def _on_room_join(self, room: Any, invitees: list[Any], *_: Any) -> None:
        try:
            if self._greet_rooms and room.room_id not in self._greet_rooms:
                return
            chat = ChatRef(self.platform, "group", room.room_id)
            for contact in invitees:
                if contact.contact_id == self._self_id:
                    log.info("WeChat: the bot was added to room %s", room.room_id)
                    continue
                name = await self._room_alias(room, contact) or contact.name or ""
                await self._emit(
                    PlatformEvent("member_joined", chat, contact.contact_id, name, self.account)
                )
        except Exception:
            log.exception("WeChat: cannot handle a room-join event")

    async def _emit(self, event: PlatformEvent) -> None:
        if self._on_event is None:
            return
        try:
            await self._on_event(event)
        except Exception:
            log.exception("WeChat: the event handler failed on %s", event.kind)

    # -- outbound -------------------------------------------------------------------------

    async def send(self, message: Outbound) -> SendResult:
        chat = message.chat
        if chat.platform != self.platform:
            return SendResult(False, error=f"not a WeChat chat: {chat.key}")
        bot = self._bot
        if bot is None or not self.logged_in:
            return SendResult(False, error=f"WeChat is not logged in ({self._problem})")
        if message.file and not _is_file(message.file):
            return SendResult(False, error=f"file not found: {message.file}")
        if not message.text and not message.file and not message.mention_all:
            return SendResult(False, error="nothing to send")
        sent: list[str | None] = []
        try:
            await asyncio.wait_for(self._send(bot, message, sent), self._send_timeout)
        except TimeoutError:
            return SendResult(False, maybe_sent=True, error="timed out")
        except Exception as exc:
            log.warning("WeChat: sending to %s failed: %s", chat.key, _describe(exc))
            return SendResult(False, maybe_sent=bool(sent), error=_describe(exc))
        if not sent:
            return SendResult(False, error="nothing to send")
        extra = {"file_message_id": sent[-1] or ""} if message.file and len(sent) > 1 else {}
        return SendResult(True, platform_message_id=sent[0] or None, extra=extra)

    async def _send(self, bot: Any, message: Outbound, sent: list[str | None]) -> None:
        w = _wechaty()
        puppet = bot.puppet
        conversation = message.chat.chat_id
        text = _plain(message.text)
        mention_ids: list[str] = []
        if message.chat.kind == "group":
            prefix = AT_ALL_TEXT + AT_SEPARATOR if message.mention_all else ""
            for user_id in dict.fromkeys(m.removeprefix("wx:") for m in message.mentions):
                if user_id and user_id.lower() not in _AT_ALL_IDS:
                    mention_ids.append(user_id)
                    name = await self._member_name(bot, conversation, user_id)
                    prefix += _plain(f"@{name}") + AT_SEPARATOR
            text = prefix + text
        if text:
            sent.append(
                await puppet.message_send_text(
                    conversation_id=conversation, message=text, mention_ids=mention_ids or None
                )
                or None
            )
        if message.file:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # FileBox's logger.warn()
                file_box = w.FileBox.from_file(message.file)
            sent.append(
                await puppet.message_send_file(conversation_id=conversation, file=file_box)
                or None
            )

    async def _member_name(self, bot: Any, room_id: str, user_id: str) -> str:
        """How an @mention of ``user_id`` reads: the room alias, the name, else the id."""
        contact = bot.Contact.load(user_id)
        try:
            await contact.ready()
        except Exception:
            return user_id
        room = bot.Room.load(room_id)
        with contextlib.suppress(Exception):
            await room.ready()
        return await self._room_alias(room, contact) or contact.name or user_id
