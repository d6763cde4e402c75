"""Where each inbound message goes: dropped as a duplicate, a slash command, an answer in a
dialog, or a keyword (登记, 继续, 我的信息…).

Each message is handled in one database transaction that also records its platform id and
queues its replies: a duplicate delivery finds the id and is dropped; a crash leaves nothing
half done, and the platform's redelivery is then handled afresh.  Messages of one person are
handled one after another, never two against the same dialog state at once: in one process by
an asyncio lock per person; across instances on PostgreSQL by a transaction-scoped advisory
lock per person as well (on SQLite the id's insert already takes the database's write lock).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError

from dialogs.engine import DialogEngine
from dialogs.parsing.textnorm import normalize
from handlers import commands, keywords
from handlers.context import Context
from handlers.views import my_info
from models.tables import InboundSeen
from models.workers import worker_of

if TYPE_CHECKING:
    from bot.app import Services
    from bot.messages import Inbound
    from bot.transports.base import PlatformEvent

log = logging.getLogger(__name__)

REGISTER_WORDS = ("登记", "注册", "我要登记", "开始登记", "摸排登记", "报名登记", "修改登记", "修改信息")
RESTART_WORDS = ("重新登记", "重新开始", "重填")
LINK_WORDS = ("关联", "关联账号", "我登记过", "我已经登记过", "已登记", "绑定账号")
INFO_WORDS = ("我的信息", "查看信息", "我的登记", "查看登记")
HELP_WORDS = ("帮助", "菜单", "?", "？", "你好", "您好", "在吗", "hi", "hello")
SORRY = "抱歉，系统刚才出了点问题，您的消息没有处理成功，请稍后再发一次。"
# First half of the two-part advisory lock key of a person (the migration uses the one-part form).
_PERSON_LOCKS = 0x46475450


_SEEN: Any = InboundSeen.__table__
_INSERT_SEEN = insert(_SEEN).values(platform=bindparam("platform"),
                                    message_id=bindparam("message_id"),
                                    seen_at=bindparam("seen_at"))
# INSERT … SELECT … FROM (SELECT pg_advisory_xact_lock(ns, key)): the lock is taken before the
# row is inserted, and held until the transaction ends.
_INSERT_SEEN_LOCKED = insert(_SEEN).from_select(
    ["platform", "message_id", "seen_at"],
    select(bindparam("platform", type_=_SEEN.c.platform.type),
           bindparam("message_id", type_=_SEEN.c.message_id.type),
           bindparam("seen_at", type_=_SEEN.c.seen_at.type))
    .select_from(select(func.pg_advisory_xact_lock(bindparam("lock_ns", type_=Integer),
                                                   bindparam("lock_key", type_=Integer)))
                 .subquery("person_lock")))


def _voids_an_invite(text: str | None) -> bool:
    """``/绑定 code`` in a group, even without @-ing the bot: everyone there has seen the code,
    so the bot must void it (``handlers.basic_commands.bind_command``)."""
    if not text or text.lstrip()[:1] not in ("/", "／"):
        return False
    parsed = commands.parse_command(normalize(text))
    return parsed is not None and parsed[0] in ("绑定", "bind") and bool(parsed[1].strip())


class _Duplicate(Exception):
    """The message's id is recorded already: a redelivery."""


def _person_key(identity: str) -> int:
    return int.from_bytes(hashlib.blake2b(identity.encode(), digest_size=4).digest(), "big",
                          signed=True)


class PersonLocks:
    """One lock per person, dropped when nobody waits on it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: defaultdict[str, int] = defaultdict(int)

    def hold(self, key: str) -> _Held:
        return _Held(self, key)


class _Held:
    def __init__(self, locks: PersonLocks, key: str) -> None:
        self.locks, self.key = locks, key

    async def __aenter__(self) -> None:
        locks = self.locks
        locks._users[self.key] += 1
        lock = locks._locks.setdefault(self.key, asyncio.Lock())
        await lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        locks = self.locks
        locks._locks[self.key].release()
        locks._users[self.key] -= 1
        if locks._users[self.key] == 0:
            del locks._users[self.key]
            del locks._locks[self.key]


class Router:
    def __init__(self, services: Services, engine: DialogEngine) -> None:
        self.services = services
        self.engine = engine
        self.locks = PersonLocks()
        # At most this many messages in the database at once; the rest wait their turn here,
        # in order, so that the outbound queue is never stuck behind all of them: replies flow
        # while a crowd's messages are handled, not in one wave at the end.
        self.slots = asyncio.Semaphore(4 if services.db.dialect == "sqlite" else 8)
        commands.load_all()

    async def handle(self, msg: Inbound) -> bool:
        """Handle one message; False when it was a duplicate delivery."""
        if not (msg.is_private or msg.mentioned or _voids_an_invite(msg.text)):
            # Group talk not addressed to the bot: nothing to do, so nothing is recorded either
            # (no database work for a busy group, no trace of who said what there).
            return True
        db = self.services.db
        async with self.locks.hold(msg.identity), self.slots:
            try:
                async with db.session() as session:
                    # OneBot ids are 32-bit hashes: the same id from two people is two messages.
                    # A duplicate delivery fails this insert (no look-up first: one query less).
                    # On PostgreSQL the same statement first takes the person's advisory lock
                    # (another instance may have this person too): one round trip for both.
                    seen = {"platform": msg.chat.platform,
                            "message_id": f"{msg.sender_id}:{msg.message_id}",
                            "seen_at": self.services.clock.utcnow()}
                    if db.dialect == "postgresql":
                        seen |= {"lock_ns": _PERSON_LOCKS, "lock_key": _person_key(msg.identity)}
                    try:
                        await session.execute(
                            _INSERT_SEEN_LOCKED if db.dialect == "postgresql" else _INSERT_SEEN,
                            seen)
                    except IntegrityError:
                        raise _Duplicate from None
                    await self.route(Context(self.services, session, msg))
            except _Duplicate:
                log.info("duplicate delivery %s:%s dropped", msg.chat.platform, msg.message_id)
                return False
            except Exception:
                log.exception("handling a message from %s failed", msg.chat.key)
                async with db.session() as session:
                    Context(self.services, session, msg).reply(SORRY)
            finally:
                self.services.notify_outbound()
        return True

    async def route(self, ctx: Context) -> None:
        msg = ctx.inbound
        assert msg is not None
        text = normalize(msg.text or "")
        if text.startswith(("/", "／")):
            if msg.is_private or msg.mentioned or _voids_an_invite(text):
                await commands.dispatch(ctx, text)
            return
        if not msg.is_private:
            if msg.mentioned:
                await self.in_group(ctx)
            return
        state = await self.engine.load(ctx, msg.identity)
        bare = text.strip("。.!！~ ")
        if state is not None and not state.paused and await keywords.dispatch_anywhere(ctx, text):
            return  # 注销 works in the middle of a dialog too (the dialog is left as it was)
        if state is not None and not state.paused:
            if bare in LINK_WORDS and state.dialog == "registration" and not state.answers:
                await self.start_link(ctx)  # asked at the consent question: nothing is lost
                return
            await self.engine.handle(ctx, state, msg.text or "", msg.has_media)
            return
        if bare in RESTART_WORDS:
            await self.start_registration(ctx, restart=True)
        elif bare in REGISTER_WORDS:
            if state is not None:
                await self.engine.resume(ctx, state)
            else:
                await self.start_registration(ctx)
        elif bare in ("继续", "接着填", "继续登记"):
            if state is not None:
                await self.engine.resume(ctx, state)
            else:
                ctx.reply("现在没有没填完的登记。要登记请回复“登记”。")
        elif bare in INFO_WORDS:
            await my_info(ctx)
        elif bare in LINK_WORDS:
            await self.start_link(ctx)
        elif await keywords.dispatch(ctx, text):
            pass
        else:
            worker = await worker_of(ctx, msg.identity)
            if worker is None and state is None:
                await self.start_registration(ctx)
            elif state is not None:
                ctx.reply("您的登记还没填完，已填的内容都保留着。回复“继续”接着填，"
                          "回复“重新登记”从头填。")
            else:
                from handlers.basic_commands import worker_help

                ctx.reply(f"{worker.name}，您好！{worker_help()}")

    async def on_event(self, event: PlatformEvent) -> None:
        """A new friend is greeted and invited to register; a newcomer to a group is welcomed
        there (no personal data) and told how to register."""
        try:
            async with self.services.db.session() as session:
                ctx = Context(self.services, session, None)
                if event.kind == "friend_added":
                    ctx.send(event.chat, "您好！我是返岗通，帮助在家的务工人员登记、找岗位、安排返岗。"
                                         "回复“登记”开始登记。", account=event.account)
                elif event.kind == "member_joined":
                    ctx.send(event.chat, "欢迎新朋友！需要登记就业意愿、找岗位的，请加我好友后私聊"
                                         "发“登记”。", mentions=(event.user_id,),
                             account=event.account)
        except Exception:
            log.exception("handling platform event %s failed", event.kind)
        self.services.notify_outbound()

    async def start_link(self, ctx: Context) -> None:
        await self.engine.start(ctx, ctx.identity, "link_account",
                                intro="在别的微信或QQ上登记过的，核对两项信息就能关联，不用重填。")

    async def start_registration(self, ctx: Context, restart: bool = False) -> None:
        worker = await worker_of(ctx, ctx.identity)
        intro = ""
        if worker is not None:
            intro = "您已经登记过了，重新填写后会更新原来的登记。"
        elif restart:
            intro = "好的，我们从头开始。"
        await self.engine.start(ctx, ctx.identity, "registration", intro=intro)

    async def in_group(self, ctx: Context) -> None:
        """Personal data never goes to a group, nor whether someone has registered: everyone
        gets the same pointer to a private chat (a dialog in progress is left untouched)."""
        said = ctx.inbound.text if ctx.inbound else ""
        if "投诉" in said or "举报" in said:  # the same words for everyone, nothing taken down
            ctx.reply("投诉请私聊我发“投诉”，投诉人的信息保密，不会告诉用人单位。"
                      "请不要在群里说投诉的内容。")
            return
        ctx.reply("您好！我是返岗通。登记、打卡等请私聊我（加我好友后发“登记”）。"
                  "群里只发通知和统计。")
