"""Commands everyone has: help, and binding an invite code."""

from __future__ import annotations

from handlers.commands import command, visible_to
from handlers.context import Context
from handlers.permissions import ROLES, scope_text
from models.cadres import redeem_invite, void_invite
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


# Not ``private_only``: a code sent in a group must be voided, not only refused.
@command("绑定", "bind", summary="用邀请码绑定工作人员身份（请私聊）", usage="/绑定 邀请码")
async def bind_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    code = args.strip().upper()
    if ctx.inbound is not None and not ctx.inbound.is_private:
        # Everyone in the group has seen the code: it is voided (the same words whether it was
        # a live code or not, and never the code itself).
        if code:
            await void_invite(ctx, code)
            ctx.reply("邀请码发在群里，大家都看得到，为了安全这个邀请码已经作废，不能再用了。"
                      "请向管理员要一个新的邀请码，然后私聊我发“/绑定 新邀请码”。")
        else:
            ctx.reply("绑定工作人员身份请私聊我发“/绑定 邀请码”，邀请码不要发在群里。")
        return
    if not code:
        ctx.reply("请在命令后面加上邀请码，例如：/绑定 7K3P9Q")
        return
    message = await redeem_invite(ctx, code)
    ctx.reply(message)
