"""Slash commands: each declared once with its names, who may use it and where.

``/帮助`` lists only what the asker may use.  Every command is checked against the asker's role
before it runs; a worker who types a staff command is told, politely, that it is for staff —
unless the command has a ``non_staff`` handler, which then serves them instead (a worker's
``/投诉`` starts the complaint form, as the word 投诉 does).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import Context
from handlers.permissions import ROLES, cadre_of
from models.tables import Cadre

log = logging.getLogger(__name__)
Handler = Callable[[Context, str, Cadre | None], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    summary: str
    usage: str
    roles: frozenset[str] | None  # None: anyone
    private_only: bool
    handler: Handler
    non_staff: Handler | None = None  # for someone who is not staff, in place of the refusal


COMMANDS: dict[str, Command] = {}
_ORDER: list[Command] = []


def command(
    name: str,
    *aliases: str,
    summary: str,
    usage: str = "",
    roles: frozenset[str] | None = None,
    private_only: bool = False,
    non_staff: Handler | None = None,
) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        cmd = Command(name, aliases, summary, usage or f"/{name}", roles, private_only, func,
                      non_staff)
        for key in (name, *aliases):
            COMMANDS[key.lower()] = cmd
        _ORDER.append(cmd)
        return func

    return register


_SPLIT = re.compile(r"^[/／]\s*(\S+)\s*(.*)$", re.S)


def parse_command(text: str) -> tuple[str, str] | None:
    match = _SPLIT.match(text.strip())
    if not match:
        return None
    return match.group(1).lower(), match.group(2).strip()


async def dispatch(ctx: Context, text: str) -> None:
    parsed = parse_command(text)
    if parsed is None:
        ctx.reply("命令要以“/”开头，例如 /帮助")
        return
    name, args = parsed
    cmd = COMMANDS.get(name)
    glued = re.fullmatch(r"(\D+?)(\d+)", name) if cmd is None else None
    if glued and glued[1] in COMMANDS:  # “/投诉3”: the number typed without a space
        name, args = glued[1], f"{glued[2]} {args}".strip()
        cmd = COMMANDS[name]
    if cmd is None:
        ctx.reply(f"没有“/{name}”这个命令。回复 /帮助 看看能用哪些。")
        return
    cadre = await cadre_of(ctx)
    if cmd.roles is not None and (cadre is None or cadre.role not in cmd.roles):
        if cadre is None and cmd.non_staff is not None:
            await cmd.non_staff(ctx, args, None)
        elif cadre is None:
            staff_only = f"“/{cmd.name}”是工作人员用的命令。"
            # In a group everyone gets the same words: whether someone registered is private.
            private = ctx.inbound is None or ctx.inbound.is_private
            if private and await _registered(ctx):
                ctx.reply(staff_only + "回复 /帮助 看看您能用的功能。")
            else:
                ctx.reply(staff_only + "您如需登记，请私聊我回复“登记”。")
        else:
            ctx.reply(f"“/{cmd.name}”不在您（{ROLES[cadre.role]}）的权限内。")
        return
    if cmd.private_only and ctx.inbound is not None and not ctx.inbound.is_private:
        ctx.reply(f"“/{cmd.name}”涉及个人信息，请私聊我使用。")
        return
    await cmd.handler(ctx, args, cadre)


async def _registered(ctx: Context) -> bool:
    from models.workers import worker_of

    return await worker_of(ctx, ctx.identity) is not None


def visible_to(cadre: Cadre | None) -> list[Command]:
    return [
        c for c in _ORDER if c.roles is None or (cadre is not None and cadre.role in c.roles)
    ]


# Modules that register commands, keywords and free-text readers when imported.
HANDLER_MODULES = (
    "handlers.basic_commands",
    "handlers.checkin",
    "handlers.vacancies",
    "handlers.training",
    "handlers.workbench",
    "handlers.tally",
    "handlers.lists",
    "handlers.buses",
    "handlers.stagger",
    "handlers.privacy",
    "handlers.departure",
    "handlers.complaints",
)


def load_all() -> None:
    import importlib

    for name in HANDLER_MODULES:
        importlib.import_module(name)
