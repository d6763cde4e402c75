"""The tally as text for a phone screen: short lines, the totals first, then one compact entry per
乡镇/街道 (or per 村 inside a township).  Used by the daily report and by ``/统计``; the table
form (:func:`tally_table`) is what ``/统计 导出`` writes.
"""

from __future__ import annotations

from datetime import date, datetime

from models.tally import Figures, Tally, TallyRow

WEEKDAYS = "一二三四五六日"


def pct(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    text = f"{100 * value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"


def signed(value: int | None) -> str:
    if value is None:
        return ""
    return f"+{value}" if value > 0 else str(value) if value < 0 else "持平"


def md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def target_lines(day: date, target: date | None, figures: Figures) -> list[str]:
    """The days left to the target date (TARGET_DATE) and the share returned so far."""
    if target is None:
        return []
    left = (target - day).days
    if left > 0:
        when = f"还有 {left} 天"
    elif left == 0:
        when = "就是今天"
    else:
        when = f"已过 {-left} 天"
    return [f"返岗目标日 {md(target)}，{when}",
            f"已返岗就业 {pct(figures.share)}（{figures.employed}/{figures.registered} 人）"]


def _delta(row: TallyRow, name: str) -> str:
    d = row.delta(name)
    return "" if d is None else f"，较昨日{signed(d)}"


def total_block(row: TallyRow, *, health: bool = True) -> list[str]:
    """The full figures of one area, a subject a line."""
    f = row.figures
    lines = [f"登记 {f.registered} 人，今日新增 {f.new}"]
    lines.append(f"返岗就业 {f.employed} 人（{pct(f.share)}）{_delta(row, 'employed')}")
    lines.append(f"　县内{f.employed_county} 省内县外{f.employed_province} 省外{f.employed_outside}")
    if f.employed_area_unknown:
        lines.append(f"　地点未填{f.employed_area_unknown}")
    lines.append(f"待返岗 {f.waiting_return}，有意愿待就业 {f.seeking}")
    lines.append(f"建档立卡 {f.poverty} 人，已就业 {f.poverty_employed}")
    lines.append(f"易地搬迁 {f.relocated} 人，已就业 {f.relocated_employed}")
    lines.append(f"零就业户 {f.zero_households} 户（共{f.households}户）{_delta(row, 'zero_households')}")
    lines.append(f"公益性岗位安置 {f.public_welfare} 人")
    lines.append(f"发放口罩 {f.masks} 个")
    if health:
        lines.append(f"今日打卡 {f.checked_in} 人（{pct(f.checkin_rate)}）")
        lines.append(f"打卡异常 {f.abnormal} 人")
    if f.vacancies_open is not None:
        lines.append(f"在招岗位 {f.vacancies_open} 个，缺 {f.places_open} 人")
        lines.append(f"岗位已招 {f.vacancies_filled} 人")
    if f.shortage is not None:
        lines.append(f"企业缺工 {f.shortage} 人")
    return lines


def compact_entry(row: TallyRow, *, health: bool = True) -> list[str]:
    """Three short lines for one 乡镇 or 村."""
    f = row.figures
    d = row.delta("employed")
    change = signed(d) if d else ""
    lines = [f"▪{row.area} 登记{f.registered} 返岗{f.employed}({pct(f.share, 0)}){change}",
             f"　待返岗{f.waiting_return} 待就业{f.seeking} 零就业{f.zero_households}户"]
    parts = []
    if health:
        parts.append(f"打卡{pct(f.checkin_rate, 0)}")
        if f.abnormal:
            parts.append(f"异常{f.abnormal}")
    if f.public_welfare:
        parts.append(f"公益岗{f.public_welfare}")
    if f.masks:
        parts.append(f"口罩{f.masks}")
    if f.shortage:
        parts.append(f"缺工{f.shortage}")
    if parts:
        lines.append("　" + " ".join(parts))
    return lines


def _entries(tally: Tally, health: bool) -> list[str]:
    lines: list[str] = []
    empty = [r.area for r in tally.rows if r.figures.registered == 0]
    for row in tally.rows:
        if row.figures.registered:
            lines += compact_entry(row, health=health)
    if empty:
        lines.append("尚无登记：" + "、".join(empty))
    return lines


def report_text(tally: Tally, *, district: str, target: date | None, at: datetime,
                late_from: datetime | None = None, notes: list[str] | None = None) -> str:
    """The task-force group's daily report.  ``at``: when it is posted (local time);
    ``late_from``: the time it was due, when it is posted late (补发); ``notes``: lines after
    the townships (the villages to watch, scheduler/lagging.py)."""
    day = tally.day
    head = f"【{district}农民工返岗就业日报】"
    lines = [head, f"{md(day)} 周{WEEKDAYS[day.weekday()]} {at:%H:%M}"]
    if late_from is not None:
        when = f"{at:%H:%M}" if at.date() == day else f"{md(at.date())}{at:%H:%M}"
        lines[0] = f"【补发】{head}"
        lines.append(f"（原定{late_from:%H:%M}发送，机器人当时未运行）")
        lines.append(f"（数字截至{when}）")
    lines += target_lines(day, target, tally.total.figures)
    lines.append("")
    lines.append(f"〔{tally.total.area}〕")
    lines += total_block(tally.total)
    lines.append("")
    lines.append("〔各乡镇/街道〕")
    lines += _entries(tally, True)
    if notes:
        lines.append("")
        lines += notes
    lines.append("")
    lines.append("各村明细：私聊我发“/统计 乡镇名”")
    return "\n".join(lines)


def tally_text(tally: Tally, *, district: str, target: date | None, at: datetime,
               health: bool = True, private: bool = True) -> str:
    """``/统计``: the same figures for the asker's area, as of now.  In a group (``private``
    false) the export hint says to ask in private chat, the only place the file is sent."""
    area = district if tally.township is None else tally.area
    lines = [f"【{area}返岗就业统计】{md(tally.day)} {at:%H:%M}"]
    lines += target_lines(tally.day, target, tally.total.figures)
    lines.append("")
    lines += total_block(tally.total, health=health)
    if tally.village is None and tally.rows:
        lines.append("")
        lines.append("〔各乡镇/街道〕" if tally.level == "township" else "〔各村/社区〕")
        lines += _entries(tally, health)
    lines.append("")
    lines.append("口径与日报相同。")
    if tally.township is None:
        lines.append("各村明细：/统计 乡镇名")
    lines.append("Excel 表：/统计 导出" if private else "Excel 表：私聊我发“/统计 导出”")
    return "\n".join(lines)


# ----- the table (``/统计 导出``) ----------------------------------------------------------------
COLUMNS: tuple[tuple[str, str], ...] = (
    ("registered", "登记人数"),
    ("new", "今日新增"),
    ("employed", "返岗就业"),
    ("share", "返岗就业率"),
    ("employed_county", "县内"),
    ("employed_province", "省内县外"),
    ("employed_outside", "省外"),
    ("waiting_return", "待返岗"),
    ("seeking", "有意愿待就业"),
    ("poverty", "建档立卡"),
    ("poverty_employed", "建档立卡已就业"),
    ("relocated", "易地搬迁"),
    ("relocated_employed", "易地搬迁已就业"),
    ("households", "户数"),
    ("zero_households", "零就业户"),
    ("public_welfare", "公益性岗位"),
    ("masks", "发放口罩"),
    ("checked_in", "今日打卡"),
    ("checkin_rate", "打卡率"),
    ("abnormal", "异常"),
    ("vacancies_open", "在招岗位"),
    ("places_open", "岗位缺人"),
    ("vacancies_filled", "已招"),
    ("shortage", "企业缺工"),
    ("employed_delta", "返岗较昨日"),
)
HEALTH_COLUMNS = frozenset({"checked_in", "checkin_rate", "abnormal"})


def _cell(row: TallyRow, key: str) -> object:
    f: Figures = row.figures
    if key in ("share", "checkin_rate"):
        value = getattr(f, key)
        return None if value is None else round(value, 4)
    if key == "employed_delta":
        return row.delta("employed")
    return getattr(f, key)


def tally_table(tally: Tally, *, health: bool = True) -> tuple[list[str], list[list[object]]]:
    """Headers and rows (the areas, then 合计) of the tally, for a spreadsheet."""
    columns = [(k, t) for k, t in COLUMNS if health or k not in HEALTH_COLUMNS]
    first = "乡镇/街道" if tally.level == "township" else "村/社区"
    headers = [first, *(t for _, t in columns)]
    rows = [[r.area, *(_cell(r, k) for k, _ in columns)] for r in tally.rows]
    rows.append([f"合计（{tally.total.area}）", *(_cell(tally.total, k) for k, _ in columns)])
    return headers, rows
