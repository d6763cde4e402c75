"""Commands everyone has: help, and binding an invite code."""

from __future__ import annotations

from handlers.commands import command, visible_to
from handlers.context import Context
from handlers.permissions import ROLES, scope_text
from models.cadres import redeem_invite
from models.tables import Cadre

WORKER_MENU = (
    "· 回复“登记”：登记就业意愿和返岗信息",
    "· 回复“我的信息”：查看已登记的内容",
    "· 回复“继续”：接着填没填完的登记",
)


def worker_help() -> str:
    from handlers.keywords import menu_lines

    return "我能帮您：\n" + "\n".join([*WORKER_MENU, *menu_lines()])


@command("帮助", "help", "菜单", summary="看看能用哪些命令")
async def help_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    lines = [worker_help()] if cadre is None else [f"您是{ROLES[cadre.role]}（{scope_text(cadre)}）。"]
    commands = visible_to(cadre)
    if commands:
        lines.append("\n可用命令：")
        lines.extend(f"{c.usage} — {c.summary}" for c in commands)
    ctx.reply("\n".join(lines))


@command("绑定", "bind", summary="用邀请码绑定工作人员身份", usage="/绑定 邀请码", private_only=True)
async def bind_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    code = args.strip().upper()
    if not code:
        ctx.reply("请在命令后面加上邀请码，例如：/绑定 7K3P9Q")
        return
    message = await redeem_invite(ctx, code)
    ctx.reply(message)
