"""``/错峰 [天数]``: where the workers of the asker's scope are going over the next days (by
destination and day), with the same proposals the daily 错峰出行 job makes (scheduler/stagger.py):
spread a crowded day, or organise a bus.

Scope as everywhere: a village cadre sees their village, a township cadre their township, the
task force and the employment bureau the whole district (a section per township).  In private
chat the proposals carry masked names (王*明); in a group only counts.  Showing names is written
to the audit log.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import cn_number, normalize
from handlers.commands import command
from handlers.context import Context
from handlers.permissions import scope_text
from handlers.staff import READERS
from models.audit import audit_ctx
from models.scope import worker_scope
from models.tables import Cadre
from scheduler.stagger import Traveller, analyse, find_travel, open_buses, picture_text

MAX_DAYS = 60
_DAYS = re.compile(r"^(?:今后|未来|最近|接下来|近|后)?(.+?)(天|日|周|星期|个星期|礼拜|个礼拜)?"
                   r"(?:内|以内|之内)?$")
_WEEKS = ("周", "星期", "个星期", "礼拜", "个礼拜")


def parse_days(text: str, default: int) -> int:
    """"7", "七天", "两周", "今后10天" → a number of days (1–60); nothing → ``default``."""
    t = normalize(text).replace(" ", "")
    if not t:
        return default
    found = _DAYS.match(t)
    days = cn_number(found[1]) if found else None
    if days is not None and found and found[2] in _WEEKS:
        days *= 7
    if days is None or not 1 <= days <= MAX_DAYS:
        raise ParseError(f"天数请写 1 到 {MAX_DAYS} 之间的数字，例如：/错峰 7（看今后7天）。"
                         f"不写天数看今后{default}天。")
    return days


@command("错峰", "stagger", summary="错峰出行：今后几天各地返岗人数，错峰和包车建议",
         usage="/错峰 [天数]", roles=READERS)
async def stagger_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    settings = ctx.services.settings
    try:
        days = parse_days(args, settings.stagger_days)
    except ParseError as exc:
        ctx.reply(exc.hint)
        return
    settings = replace(settings, stagger_days=days)
    today = ctx.today
    first, last = today + timedelta(days=1), today + timedelta(days=days)
    travel = await find_travel(ctx.session, first,
                               last + timedelta(days=settings.stagger_spread_days),
                               worker_scope(cadre), today, horizon=last)
    buses = await open_buses(ctx.session, today)
    groups: dict[str, list[Traveller]] = {}
    if cadre.role in ("district", "bureau"):
        for t in travel.travellers:
            groups.setdefault(t.township, []).append(t)
        order = {t.name: i for i, t in enumerate(ctx.services.townships.all)}
        units = [(name, name) for name in sorted(groups, key=lambda n: (order.get(n, len(order)), n))]
    else:
        township = cadre.township or ""
        groups[township] = travel.travellers
        units = [(township, scope_text(cadre))]
    pictures = [analyse(township, label, groups[township], today=today, settings=settings,
                        buses=buses) for township, label in units]
    private = ctx.inbound is None or ctx.inbound.is_private
    text = picture_text(pictures, area=scope_text(cadre), first=first, last=last, travel=travel,
                        settings=settings, names=private)
    shown = sum(len(p.travellers) for p in pictures)
    if private and shown:
        audit_ctx(ctx, "stagger.view", scope_text(cadre), f"{days}天 {shown}人")
    ctx.reply(text)
