"""A transport that keeps what it is asked to send: the replay's and the tests' platform."""

from __future__ import annotations

from itertools import count

from bot.messages import Outbound, SendResult
from bot.transports.base import EventHandler, InboundHandler


class CollectingTransport:
    """Platform ``sim``: every sent message is appended to ``sent``; nothing is paced."""

    paced = False

    def __init__(self, platform: str = "sim", account: str = "sim") -> None:
        self.platform = platform
        self.account = account
        self.sent: list[Outbound] = []
        self._ids = count(1)

    async def start(self, on_message: InboundHandler, on_event: EventHandler | None = None) -> None:
        self.on_message = on_message
        self.on_event = on_event

    async def send(self, message: Outbound) -> SendResult:
        self.sent.append(message)
        return SendResult(delivered=True, platform_message_id=str(next(self._ids)))

    async def stop(self) -> None:
        return None

    def take(self) -> list[Outbound]:
        """Everything sent since the last call."""
        sent, self.sent = self.sent, []
        return sent
