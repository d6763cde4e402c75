"""Drive the bot the way the replay does: a person says something, we see what the bot sent.

In the spirit of nonebug: ``await bot.say("u1", "登记")`` returns every message the bot sent
because of it (to anyone), in the replay's output form.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.replay import Replay


class BotDriver:
    def __init__(self, settings: Settings, start: str = "2024-02-03T09:00") -> None:
        self.settings = settings
        self.start = datetime.fromisoformat(start).replace(tzinfo=settings.tz)
        self.replay: Replay | None = None

    async def __aenter__(self) -> BotDriver:
        await self.boot()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    async def boot(self, when: datetime | None = None) -> None:
        self.replay = Replay(self.settings, start=when or self.start)
        await self.replay.__aenter__()

    async def shutdown(self) -> None:
        if self.replay is not None:
            await self.replay.__aexit__(None, None, None)
            self.replay = None

    async def restart(self) -> None:
        """Stop the bot and start a new one on the same database, at the same time."""
        assert self.replay is not None
        now = self.replay.clock.now()
        await self.shutdown()
        await self.boot(now)

    @property
    def app(self):
        assert self.replay is not None
        return self.replay.app

    async def feed(self, line: dict[str, Any]) -> list[dict[str, Any]]:
        assert self.replay is not None
        return await self.replay.feed(line)

    async def say(self, user: str, text: str, chat: str = "private", **extra: Any) -> list[dict]:
        return await self.feed({"user": user, "chat": chat, "text": text, **extra})

    async def ask(self, user: str, text: str, **extra: Any) -> str:
        """Say something privately and return the bot's private reply to that person, joined."""
        out = await self.say(user, text, **extra)
        return "\n".join(o["text"] for o in out if o.get("to") == user)


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)
