"""``/统计 [乡镇|村]``: the daily tally's figures, now, for the asker's area — computed by the same
function as the task-force report (``models.tally.compute_tally``), so the two never disagree.

Scope: a village cadre sees their village, a township cadre their township (and any village in
it), the task force and the employment bureau anything.  Only aggregates are shown, so it works
in a group too.  The employment bureau does not see health figures (check-ins, abnormal), as
everywhere else.  ``/统计 导出 [范围]`` sends the same table as an Excel file (private chat).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from handlers.commands import command
from handlers.context import Context
from handlers.staff import READERS, AreaError, area_label, resolve_area, sees_health
from models.roster import clean_old_exports, export_dir
from models.tables import Cadre
from models.tally import Tally, compute_tally
from scheduler.report_text import md, tally_table, tally_text

EXPORT_WORDS = frozenset({"导出", "表格", "excel", "Excel", "EXCEL", "下载"})


async def tally_for(ctx: Context, township: str | None, village: str | None) -> Tally:
    return await compute_tally(
        ctx.session, ctx.today, township, village, tz=ctx.services.settings.tz,
        townships=[t.name for t in ctx.services.townships.all],
        now=ctx.services.clock.utcnow())


@command("统计", "tally", "stats", summary="返岗就业统计（与日报同一口径）",
         usage="/统计 [乡镇|村]，/统计 导出 [范围]", roles=READERS)
async def tally_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    words = args.split()
    export = bool(words) and words[0] in EXPORT_WORDS
    if export:
        words = words[1:]
    try:
        township, village = await resolve_area(ctx, cadre, " ".join(words))
    except AreaError as exc:
        ctx.reply(str(exc))
        return
    settings = ctx.services.settings
    health = sees_health(cadre)
    private = ctx.inbound is None or ctx.inbound.is_private
    if export:
        if not private:
            ctx.reply("统计表请私聊我发“/统计 导出”，文件会私聊发给您。")
            return
        tally = await tally_for(ctx, township, village)
        path = await write_workbook(ctx, tally, health)
        ctx.reply(f"{area_label(township, village)}返岗就业统计表（{md(ctx.today)}"
                  f" {ctx.now:%H:%M}，口径与日报相同）。", file=str(path))
        return
    tally = await tally_for(ctx, township, village)
    ctx.reply(tally_text(tally, district=settings.district_name, target=settings.target_date,
                         at=ctx.now, health=health, private=private))


async def write_workbook(ctx: Context, tally: Tally, health: bool) -> Path:
    folder = export_dir(ctx.services.settings)
    clean_old_exports(folder, ctx.services.clock.utcnow())
    area = ctx.services.settings.district_name if tally.township is None else tally.area
    path = folder / f"{area}返岗就业统计_{tally.day:%Y%m%d}_{ctx.now:%H%M}.xlsx"
    headers, rows = tally_table(tally, health=health)
    title = f"{area}返岗就业统计 {tally.day:%Y-%m-%d} {ctx.now:%H:%M}"
    await asyncio.to_thread(_save, path, title, headers, rows)
    return path


def _save(path: Path, title: str, headers: list[str], rows: list[list[object]]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "统计"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(headers)
    for i, _ in enumerate(headers, 1):
        cell = ws.cell(row=2, column=i)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = 16 if i == 1 else 10
    for row in rows:
        ws.append(row)
    rate_columns = [i for i, h in enumerate(headers, 1) if h.endswith("率")]
    for r in range(3, 3 + len(rows)):
        for c in rate_columns:
            ws.cell(row=r, column=c).number_format = "0.0%"
    ws.cell(row=2 + len(rows), column=1).font = Font(bold=True)
    ws.freeze_panes = "B3"
    wb.save(path)
