"""Several connections of one platform (say a forward and a reverse OneBot link) as one."""

from __future__ import annotations

from bot.messages import Outbound, SendResult
from bot.transports.base import EventHandler, InboundHandler, Transport


class PlatformGroup:
    """Routes a message to the connection whose account sent the conversation's last message
    (``Outbound.account``), else to the first connection."""

    def __init__(self, transports: list[Transport]) -> None:
        if not transports:
            raise ValueError("no transports")
        platforms = {t.platform for t in transports}
        if len(platforms) != 1:
            raise ValueError(f"one platform per group, got {sorted(platforms)}")
        self.members = transports
        self.platform = transports[0].platform
        self.paced = any(t.paced for t in transports)

    @property
    def account(self) -> str:
        return ",".join(t.account for t in self.members if t.account)

    async def start(self, on_message: InboundHandler, on_event: EventHandler | None = None) -> None:
        for transport in self.members:
            await transport.start(on_message, on_event)

    def _for(self, account: str) -> Transport:
        for transport in self.members:
            accounts = getattr(transport, "accounts", None) or [transport.account]
            if account and account in accounts:
                return transport
        return self.members[0]

    async def send(self, message: Outbound) -> SendResult:
        return await self._for(message.account).send(message)

    async def stop(self) -> None:
        for transport in reversed(self.members):
            await transport.stop()
