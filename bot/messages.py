"""Transport-neutral messages.

Every platform adapter (WeChat, QQ, the web simulator, the replay) turns what it receives into an
:class:`Inbound` and sends an :class:`Outbound`.  Nothing outside ``bot/transports`` knows which
platform a message came from beyond the ``platform`` string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ChatKind = Literal["private", "group"]


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a message is said: a private chat with ``chat_id`` (a user id) or a group."""

    platform: str  # "qq", "wx", "sim"
    kind: ChatKind
    chat_id: str  # the user id for a private chat, the group id for a group

    @property
    def key(self) -> str:
        """Stable text form, e.g. ``qq:group:123`` or ``sim:private:u1``."""
        return f"{self.platform}:{self.kind}:{self.chat_id}"

    @classmethod
    def parse(cls, key: str) -> ChatRef:
        platform, kind, chat_id = key.split(":", 2)
        if kind not in ("private", "group"):
            raise ValueError(f"bad chat key {key!r}")
        return cls(platform, kind, chat_id)  # type: ignore[arg-type]

    @classmethod
    def private(cls, identity: str) -> ChatRef:
        """The private chat with a person given as ``platform:id``."""
        platform, user_id = identity.split(":", 1)
        return cls(platform, "private", user_id)

    @classmethod
    def group(cls, spec: str) -> ChatRef:
        """A group given as ``platform:group_id`` (the form of ``TASKFORCE_GROUPS``)."""
        platform, group_id = spec.split(":", 1)
        return cls(platform, "group", group_id)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message a person sent, as any platform delivers it."""

    chat: ChatRef
    sender_id: str  # platform user id, without the platform prefix
    text: str  # plain text; mentions of the bot removed, other markup rendered as text
    message_id: str  # the platform's id, used to drop duplicate deliveries
    time: datetime  # timezone-aware
    sender_name: str = ""
    mentioned: bool = False  # the bot was @-mentioned (always True in private chats)
    has_media: bool = False  # an image, sticker, voice or file came with (or instead of) text
    account: str = ""  # which bot account received it (several may run at once)

    @property
    def identity(self) -> str:
        """The sender as ``platform:id`` (DESIGN.md's identity form)."""
        return f"{self.chat.platform}:{self.sender_id}"

    @property
    def is_private(self) -> bool:
        return self.chat.kind == "private"


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message the bot sends.

    ``text`` is always plain text: transports must send it so that nothing in it can become
    platform markup (CQ codes, @all).  Mentions are explicit platform user ids; ``mention_all``
    is set only by a command that asks for it.
    """

    chat: ChatRef
    text: str
    mentions: tuple[str, ...] = ()
    mention_all: bool = False
    file: str | None = None  # path of an image or file to attach
    account: str = ""

    @property
    def to(self) -> str | None:
        """The person a private message goes to (``chat_id`` of a private chat)."""
        return self.chat.chat_id if self.chat.kind == "private" else None


@dataclass(slots=True)
class SendResult:
    """What a transport knows after trying to send.

    ``delivered`` is True when the platform confirmed the message.  ``maybe_sent`` is True when
    the outcome is unknown (timeout after the request left): such a message is never retried
    blindly, because the platform may already have shown it.
    """

    delivered: bool
    platform_message_id: str | None = None
    maybe_sent: bool = False
    error: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
