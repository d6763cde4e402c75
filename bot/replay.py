"""``python -m bot replay FILE.jsonl``: a scripted conversation through the whole pipeline.

Each input line is one message (``{"user", "chat", "text", "name"?, "at"?, "id"?}``), a clock
step (``{"clock": "2024-02-03T17:30"}``, which runs every job that falls due on the way) or a
sync marker (``{"sync": 7}``, echoed once everything before it is printed).  A message's ``at``
moves the clock too, running the jobs due on the way before the message is handled.  The clock
starts at midnight of the first named day (the real time if no line names one).  Everything the bot
sends, to anyone in any chat, is printed as one JSON line, and flushed before the next input
line is read.  See DESIGN.md for the contract.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any, TextIO

from bot.app import App
from bot.clock import ManualClock
from bot.config import Settings
from bot.messages import ChatRef, Inbound, Outbound
from bot.transports.collect import CollectingTransport


class ReplayError(ValueError):
    """A line of the script cannot be used; the message says which and why."""


def parse_time(value: str, settings: Settings) -> datetime:
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=settings.tz)
    return when


def parse_chat(value: str, user: str) -> ChatRef:
    if value in ("", "private"):
        return ChatRef("sim", "private", user)
    if value.startswith("group:") and len(value) > len("group:"):
        return ChatRef("sim", "group", value.removeprefix("group:"))
    raise ReplayError(f'"chat" must be "private" or "group:<id>", not {value!r}')


def render(out: Outbound) -> dict[str, Any]:
    """One output line of the replay contract."""
    line: dict[str, Any] = {}
    if out.chat.kind == "private":
        line["chat"] = "private"
        line["to"] = out.chat.chat_id
    else:
        line["chat"] = f"group:{out.chat.chat_id}"
        if out.mentions:
            line["at"] = list(out.mentions)
        if out.mention_all:
            line["at_all"] = True
    if out.chat.platform != "sim":
        line["platform"] = out.chat.platform
    line["text"] = out.text
    if out.file:
        line["file"] = out.file
    return line


class Replay:
    """Feeds lines to an :class:`App` running on a manual clock with a collecting transport."""

    def __init__(self, settings: Settings, start: datetime | None = None) -> None:
        self.clock = ManualClock(start)
        # False while the clock is the real time by default: the first line that names a time
        # then sets the day, even an earlier one.
        self._anchored = start is not None
        self.transport = CollectingTransport("sim")
        self.app = App(settings, clock=self.clock, transports=[self.transport])
        self.settings = settings

    async def __aenter__(self) -> Replay:
        await self.app.start(live=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.stop()

    async def feed(self, line: dict[str, Any]) -> list[dict[str, Any]]:
        """Handle one input line; return the output lines it caused."""
        if "sync" in line:
            await self.app.outbound.drain()
            return [*self._outputs(), {"sync": line["sync"]}]
        if "clock" in line:
            await self._move_to(parse_time(str(line["clock"]), self.settings), "clock")
            await self.app.outbound.drain()
            return self._outputs()
        user = str(line.get("user") or "").strip()
        if not user:
            raise ReplayError('a message line needs "user"')
        if "at" in line:  # time passes up to the message: the jobs due on the way run first
            await self._move_to(parse_time(str(line["at"]), self.settings), "at")
        chat = parse_chat(str(line.get("chat", "private")), user)
        msg = Inbound(
            chat=chat,
            sender_id=user,
            sender_name=str(line.get("name") or user),
            text=str(line.get("text") or ""),
            message_id=str(line.get("id") or uuid.uuid4().hex),
            time=self.clock.now(),
            mentioned=chat.kind == "private" or bool(line.get("mention", True)),
            has_media=bool(line.get("media", False)),
            account="sim",
        )
        await self.app.handle(msg)
        await self.app.outbound.drain()
        return self._outputs()

    def _outputs(self) -> list[dict[str, Any]]:
        return [render(out) for out in self.transport.take()]

    async def _move_to(self, when: datetime, field: str) -> None:
        if not self._anchored:
            self._anchored = True
            if when < self.clock.now():
                day = when.astimezone(self.settings.tz).date()
                self.clock.rewind(datetime.combine(day, time(0, 0), tzinfo=self.settings.tz))
        self._not_backwards(when, field)
        await self.app.jobs.advance(when)

    def _not_backwards(self, when: datetime, field: str) -> None:
        if when < self.clock.now():
            shown = self.clock.now().astimezone(self.settings.tz).isoformat(timespec="minutes")
            raise ReplayError(f'"{field}" goes back in time: the replay clock is at {shown}')


def start_of_script(first: dict[str, Any], settings: Settings) -> datetime | None:
    """Where the replay clock starts: midnight (district time) of the day the first line names.

    A script dated in the past (``"at": "2024-02-03T08:30"``) must run on that day, and a first
    ``clock`` line must run the jobs of that morning; a script whose first line names no time
    runs at the real time.
    """
    value = first.get("at", first.get("clock"))
    if value is None:
        return None
    when = parse_time(str(value), settings).astimezone(settings.tz)
    return datetime.combine(when.date(), time(0, 0), tzinfo=settings.tz)


async def run_replay(settings: Settings, lines: Iterable[str], out: TextIO) -> int:
    """Play ``lines``; print outputs to ``out``.  Returns the number of bad input lines."""
    bad = 0
    numbered = enumerate(lines, 1)
    pending: list[tuple[int, str]] = []
    start: datetime | None = None
    for number, raw in numbered:  # read up to the first line that is a JSON object
        pending.append((number, raw))
        try:
            first = json.loads(raw.strip())
        except json.JSONDecodeError:
            continue
        if isinstance(first, dict):
            try:
                start = start_of_script(first, settings)
            except ValueError:
                start = None
            break
    async with Replay(settings, start=start) as replay:
        for number, raw in itertools.chain(pending, numbered):
            raw = raw.strip()
            if not raw or raw.startswith("#"):
                continue
            try:
                line = json.loads(raw)
                if not isinstance(line, dict):
                    raise ReplayError("each line must be a JSON object")
                outputs = await replay.feed(line)
            except (json.JSONDecodeError, ReplayError, ValueError) as exc:
                bad += 1
                outputs = [{"error": f"line {number}: {exc}"}]
            for item in outputs:
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
            out.flush()
    return bad
