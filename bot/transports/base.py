"""The contract between the core and a platform adapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.messages import ChatRef, Inbound, Outbound, SendResult

InboundHandler = Callable[[Inbound], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PlatformEvent:
    """Something other than a message that the core may want to answer.

    ``friend_added``: a person became a contact of the bot (friend request accepted);
    ``member_joined``: a person joined a group the bot is in (``chat`` is that group).
    """

    kind: Literal["friend_added", "member_joined"]
    chat: ChatRef
    user_id: str
    user_name: str = ""
    account: str = ""


EventHandler = Callable[[PlatformEvent], Awaitable[None]]


class Transport(Protocol):
    """A platform connection.

    ``platform`` is the prefix of identities on it ("qq", "wx", "sim").  ``paced`` is True for
    real accounts that a platform may ban for sending fast; the outbound queue paces those.
    """

    platform: str
    account: str
    paced: bool

    async def start(self, on_message: InboundHandler, on_event: EventHandler | None = None) -> None:
        """Connect and begin delivering inbound messages; return once running (not when done).

        A transport reconnects by itself after a lost connection and logs why it was lost.
        """

    async def send(self, message: Outbound) -> SendResult:
        """Send one message; never raise for a platform error, report it in the result."""

    async def stop(self) -> None:
        """Disconnect and stop reconnecting."""
