"""What a worker sees of their own record (masked, private chat only)."""

from __future__ import annotations

from dialogs.parsing.idcard import mask_id
from dialogs.parsing.phone import mask_phone
from handlers.context import Context
from models.training import courses_text
from models.workers import worker_of


async def my_info(ctx: Context) -> None:
    worker = await worker_of(ctx, ctx.identity)
    if worker is None:
        ctx.reply("您还没有登记。回复“登记”开始。")
        return
    place = f"{worker.township}{worker.village}{worker.group_name or ''}"
    lines = [
        f"姓名：{worker.name}",
        f"身份证号：{mask_id(worker.id_number or '')}",
        f"手机号：{mask_phone(worker.phone or '')}",
        f"住址：{place}",
        f"就业状态：{worker.status}",
    ]
    if worker.employer:
        lines.append(f"就业单位：{worker.employer}")
    if worker.return_date:
        lines.append(f"返岗时间：{worker.return_date.month}月{worker.return_date.day}日")
    if worker.wanted_job:
        lines.append(f"期望工种：{worker.wanted_job}")
    courses = await courses_text(ctx.session, worker.id, ctx.services.settings.tz)  # type: ignore[arg-type]
    if courses:
        lines.append(f"技能培训：{courses}")
    lines.append("\n要修改请回复“登记”重新填写。")
    ctx.reply("\n".join(lines))


def mask_name(name: str) -> str:
    """王小明 → 王*明, 王五 → 王*, 阿依古丽·买买提 → 阿****提: for groups and lists."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
