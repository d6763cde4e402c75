"""What a handler gets for one inbound message: the database session it must use, and the
means to reply.  Replies become outbox rows in the same transaction as every other change the
message causes, so either all of it happens or none of it does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import ChatRef, Inbound
from models.db import add_row
from models.tables import PRIORITY_BULK, PRIORITY_NOW, OutboxMessage

if TYPE_CHECKING:
    from bot.app import Services

_OUTBOX: Any = OutboxMessage.__table__


@dataclass
class Context:
    services: Services
    session: AsyncSession
    inbound: Inbound | None = None
    queued: int = field(default=0)

    @property
    def now(self) -> datetime:
        """Now in the district's time zone."""
        return self.services.clock.local(self.services.settings.tz)

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def identity(self) -> str:
        assert self.inbound is not None
        return self.inbound.identity

    def send(
        self,
        chat: ChatRef,
        text: str,
        *,
        mentions: tuple[str, ...] = (),
        mention_all: bool = False,
        file: str | None = None,
        account: str = "",
        bulk: bool = False,
        batch: str | None = None,
    ) -> None:
        """Queue a message; it is sent after this message's transaction commits.

        ``bulk=True`` for one of many messages sent at once (check-in prompts, vacancy pushes,
        broadcasts, invitations): those wait while replies to people who just wrote and alerts
        go first.  Within a chat nothing overtakes: a reply to someone whose prompt is still
        queued is sent right after that prompt.  ``batch``: the key of a ``SendBatch`` whose
        owner is told the outcome once all its messages are settled."""
        add_row(self.session, _OUTBOX, {
            "platform": chat.platform,
            "chat": chat.key,
            "account": account or (self.inbound.account if self.inbound else ""),
            "text": text,
            "mentions": list(mentions),
            "mention_all": mention_all,
            "file": file,
            "status": "pending",
            "attempts": 0,
            "created_at": self.services.clock.utcnow(),
            "priority": PRIORITY_BULK if bulk else PRIORITY_NOW,
            "batch": batch,
        })
        self.queued += 1

    def reply(self, text: str, *, file: str | None = None, mention: bool | None = None) -> None:
        """Answer in the chat the message came from; in a group, @ the sender by default."""
        assert self.inbound is not None
        chat = self.inbound.chat
        in_group = chat.kind == "group"
        mentions = (self.inbound.sender_id,) if (in_group if mention is None else mention) else ()
        self.send(chat, text, mentions=mentions, file=file)

    def tell(self, identity: str, text: str, *, file: str | None = None,
             bulk: bool = False, batch: str | None = None) -> None:
        """A private message to ``platform:id`` (``bulk``, ``batch``: see :meth:`send`)."""
        self.send(ChatRef.private(identity), text, file=file, bulk=bulk, batch=batch)
