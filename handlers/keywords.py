"""Words a person types in private chat outside any dialog (找工作, 报名 3, 我的报名…), and
free-text readers (a check-in reply), registered by the modules that handle them.

Order in the router: slash command → dialog in progress → keyword → free-text readers (by
priority) → the fallback (invite to register, or the menu).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import Context

KeywordHandler = Callable[[Context, "re.Match[str]"], Awaitable[None]]
FreeTextReader = Callable[[Context, str], Awaitable[bool]]


@dataclass(frozen=True)
class Keyword:
    pattern: re.Pattern[str]
    handler: KeywordHandler
    help: str = ""  # a line for the worker's menu, e.g. "回复“找工作”：看适合您的岗位"
    anywhere: bool = False  # also taken in the middle of a dialog (注销)


KEYWORDS: list[Keyword] = []
READERS: list[tuple[int, FreeTextReader]] = []


def keyword(
    pattern: str, help: str = "", anywhere: bool = False
) -> Callable[[KeywordHandler], KeywordHandler]:
    """Register a handler for private messages that match ``pattern`` in full (after the text
    is normalised and trailing punctuation dropped).  ``anywhere``: the router also offers the
    message to it while a dialog is in progress, before the dialog sees it."""

    def register(func: KeywordHandler) -> KeywordHandler:
        KEYWORDS.append(Keyword(re.compile(pattern), func, help, anywhere))
        return func

    return register


def reader(priority: int = 50) -> Callable[[FreeTextReader], FreeTextReader]:
    """Register a free-text reader; it returns True when it took the message."""

    def register(func: FreeTextReader) -> FreeTextReader:
        READERS.append((priority, func))
        READERS.sort(key=lambda item: item[0])
        return func

    return register


async def dispatch(ctx: Context, text: str) -> bool:
    bare = text.strip().rstrip("。.!！~ ")
    for kw in KEYWORDS:
        match = kw.pattern.fullmatch(bare)
        if match:
            await kw.handler(ctx, match)
            return True
    for _, read in READERS:
        if await read(ctx, text):
            return True
    return False


async def dispatch_anywhere(ctx: Context, text: str) -> bool:
    """Only the keywords registered with ``anywhere=True`` (used in the middle of a dialog)."""
    bare = text.strip().rstrip("。.!！~ ")
    for kw in KEYWORDS:
        if kw.anywhere:
            match = kw.pattern.fullmatch(bare)
            if match:
                await kw.handler(ctx, match)
                return True
    return False


def menu_lines() -> list[str]:
    return [kw.help for kw in KEYWORDS if kw.help]
