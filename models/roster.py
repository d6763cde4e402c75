"""Rosters as Excel workbooks: the export cadres get (``/导出``, ``python -m bot export``) and
the import of the survey sheets villages already keep (``python -m bot import``).

The export has the columns a district employment bureau uses, with full ID numbers and phones:
it only ever goes, privately, to a cadre whose scope covers every row (or to the admin at the
command line), and every export is written to the audit log.

The import matches column names flexibly (身份证/身份证号码/公民身份号码…), checks every row with
the same parsers the chat registration uses, and either takes every row in one transaction or
nothing at all, with a Chinese report of the rows rejected and why.  An exported workbook read
back in changes nothing.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import data_folder
from dialogs.parsing.choices import Option, match_choice, match_choices, parse_yes_no
from dialogs.parsing.dates import parse_date
from dialogs.parsing.errors import ParseError
from dialogs.parsing.idcard import parse_id_number
from dialogs.parsing.names import parse_free_text, parse_person_name, parse_salary
from dialogs.parsing.phone import parse_phone
from dialogs.parsing.places import TownshipDirectory, parse_group, parse_village
from dialogs.registration import AREA, CATEGORY, HEALTH, INTENT, RELATION, RETURN_MODE, STATUS, SYMPTOMS
from models.tables import Cadre, Checkin, Household, Worker

# 已有岗位（待返岗）、已返岗、本地已就业 count as employed (一户一人: a household with none of
# these is a 零就业户).
EMPLOYED = ("已返岗", "本地已就业", "待返岗")
SELF = "本人"
POVERTY, RELOCATED = "建档立卡贫困劳动力", "易地扶贫搬迁劳动力"


# ----- columns -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str  # the field read on import ("" = not imported)
    title: str  # the header written on export
    aliases: tuple[str, ...] = ()  # other headers accepted on import
    width: int = 10
    text: bool = False  # an Excel text cell (ID numbers, phones: never a number)
    health: bool = False  # health data: left out of the employment bureau's export


WORKER_COLUMNS: tuple[Column, ...] = (
    Column("", "序号", width=6),
    Column("", "系统编号", ("编号id",), width=9),
    Column("name", "姓名", ("名字", "务工人员姓名", "劳动力姓名", "人员姓名")),
    Column("", "性别", width=6),
    Column("id_number", "身份证号", ("身份证", "身份证号码", "公民身份号码", "公民身份证号", "公民身份证号码",
                                    "证件号码", "身份证件号码", "证件号"), width=21, text=True),
    Column("phone", "联系电话", ("手机号", "手机", "电话", "手机号码", "联系方式", "电话号码"),
           width=14, text=True),
    Column("township", "乡镇（街道）", ("乡镇", "乡镇街道", "街道", "镇", "乡", "所在乡镇", "乡镇名称")),
    Column("village", "村（社区）", ("村", "村社区", "村居", "社区", "村委会", "行政村", "所在村", "村名")),
    Column("group", "组", ("村民组", "村民小组", "组别", "小组")),
    Column("head", "户主姓名", ("户主", "户主名字")),
    Column("relation", "与户主关系", ("与户主的关系", "关系", "家庭关系")),
    Column("category", "人员类别", ("人员类型", "类别", "劳动力类别", "人员属性"), width=20),
    Column("poverty", "", ("是否建档立卡", "是否建档立卡贫困劳动力", "是否贫困户", "是否贫困劳动力",
                           "建档立卡")),
    Column("relocated", "", ("是否易地扶贫搬迁", "是否易地扶贫搬迁劳动力", "是否搬迁户", "是否易地搬迁",
                             "易地扶贫搬迁")),
    Column("health", "健康状况", ("身体状况", "健康情况", "身体情况"), health=True),
    Column("symptoms", "近期症状", ("症状", "有无症状", "有无发热咳嗽等症状"), health=True),
    Column("difficulty", "家庭困难", ("家庭困难情况", "是否需要帮扶", "困难帮扶需求", "帮扶需求", "困难情况"),
           width=16),
    Column("skills", "技能特长", ("技能", "特长", "职业技能", "技能证书"), width=14),
    Column("experience", "务工经历", ("过往务工经历", "工作经历", "以往务工经历"), width=20),
    Column("status", "就业状态", ("就业情况", "务工状态", "返岗状态", "目前状态", "就业现状"), width=12),
    Column("work_area", "务工地点", ("就业地点", "务工区域", "工作地点", "务工地"), width=10),
    Column("work_city", "务工城市", ("具体地点", "务工地址", "城市", "务工城市地址"), width=12),
    Column("employer", "就业单位", ("工作单位", "务工单位", "单位名称", "用工单位", "就业企业"), width=18),
    Column("return_date", "返岗时间", ("返岗日期", "计划返岗时间", "预计返岗时间", "返岗时间月日"), width=12),
    Column("return_mode", "返岗方式", ("出行方式", "交通方式", "返岗交通方式"), width=10),
    Column("intent", "就业意愿", ("务工意愿", "意愿", "求职意愿"), width=10),
    Column("wanted_job", "期望工种", ("意向工种", "求职意向", "期望岗位", "意向岗位", "期望职业"), width=12),
    Column("wanted_place", "期望地点", ("期望就业地点", "意向地点", "期望务工地点", "意向就业地点"),
           width=12),
    Column("wanted_salary", "期望月薪", ("期望薪资", "期望工资", "月薪要求", "期望收入"), width=11),
    Column("", "登记时间", width=17),
    Column("", "录入人", width=9),
)
HOUSEHOLD_TITLES = ("序号", "乡镇（街道）", "村（社区）", "户主姓名", "登记人数", "已就业人数",
                    "零就业户", "建档立卡人数", "成员")
CHECKIN_TITLES = ("序号", "系统编号", "姓名", "乡镇（街道）", "村（社区）", "是否打卡", "打卡时间", "体温",
                  "症状", "所在位置", "地点", "是否异常", "原话")
SHEET_WORKERS, SHEET_HOUSEHOLDS, SHEET_CHECKINS = "务工人员", "家庭户", "今日打卡"


def _norm_header(value: Any) -> str:
    """“乡镇（街道）”, “身份证号码\\n(18位)”, “ 联系电话 ” → comparable keys."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = re.sub(r"[\s()（）\[\]【】*:：、/,，.。]", "", text)
    return text.lower()


_DIGITS_IN_PARENS = re.compile(r"\d+位$")


def match_header(value: Any) -> str | None:
    """The field a header names, or None.  Exact names first, then a name the header starts
    with (“身份证号码18位”, “联系电话手机”), the longest such name winning."""
    h = _DIGITS_IN_PARENS.sub("", _norm_header(value))
    if not h:
        return None
    best: tuple[int, str] | None = None
    for col in WORKER_COLUMNS:
        names = [n for n in (col.title, *col.aliases) if n]
        keys = {_norm_header(n) for n in names}
        if h in keys:
            return col.key or None
        for k in keys:
            if len(k) >= 2 and h.startswith(k) and (best is None or len(k) > best[0]):
                best = (len(k), col.key)
    return (best[1] or None) if best else None


# ----- the export --------------------------------------------------------------------------------
@dataclass
class ExportResult:
    path: Path
    workers: int
    households: int
    checked_in: int


def export_dir(settings) -> Path:
    """Where exports wait to be sent: ``EXPORT_DIR`` in the settings' extras, else an
    ``exports`` folder beside the SQLite file, else ``data/exports``.  Only the bot's user may
    read it."""
    folder = data_folder(settings, "exports", "export_dir")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def clean_old_exports(folder: Path, now: datetime, keep: timedelta = timedelta(days=2)) -> None:
    """Exports hold full ID numbers: they are deleted once surely sent."""
    for path in folder.glob("*.xlsx"):
        try:
            if datetime.fromtimestamp(path.stat().st_mtime, now.tzinfo) < now - keep:
                path.unlink()
        except OSError:
            pass


def export_name(area: str, today: date, kind: str = "务工人员名册") -> str:
    area = re.sub(r"[^\w\u4e00-\u9fff]+", "", area) or "全区"
    return f"{kind}_{area}_{today:%Y%m%d}_{secrets.token_hex(3)}.xlsx"


def salary_text(low: int | None, high: int | None) -> str:
    if low is None and high is None:
        return ""
    if high is None:
        return f"{low}以上"
    if low is None:
        return f"{high}以下"
    return str(low) if low == high else f"{low}-{high}"


def category_text(w: Worker) -> str:
    parts = [name for flag, name in ((w.poverty, POVERTY), (w.relocated, RELOCATED)) if flag]
    return "、".join(parts) or "其他"


def _local(moment: datetime | None, tz) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def worker_row(w: Worker, seq: int, head: str, tz, cadres: dict[int, str]) -> dict[str, Any]:
    """One worker as the export's cells, by column title."""
    return {
        "序号": seq,
        "系统编号": w.id,
        "姓名": w.name,
        "性别": w.gender or "",
        "身份证号": w.id_number or "",
        "联系电话": w.phone or "",
        "乡镇（街道）": w.township,
        "村（社区）": w.village,
        "组": w.group_name or "",
        "户主姓名": head,
        "与户主关系": w.relation or "",
        "人员类别": category_text(w),
        "健康状况": w.health or "",
        "近期症状": "、".join(w.symptoms or []) or "无",
        "家庭困难": w.difficulty or "无",
        "技能特长": w.skills or "",
        "务工经历": w.experience or "",
        "就业状态": w.status,
        "务工地点": w.work_area or "",
        "务工城市": w.work_city or "",
        "就业单位": w.employer or "",
        "返岗时间": w.return_date,
        "返岗方式": w.return_mode or "",
        "就业意愿": w.intent or "",
        "期望工种": w.wanted_job or "",
        "期望地点": w.wanted_place or "",
        "期望月薪": salary_text(w.salary_min, w.salary_max),
        "登记时间": _local(w.registered_at, tz),
        "录入人": cadres.get(w.entered_by, "") if w.entered_by else "本人",
    }


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _sheet(wb: Workbook, title: str, headers: Sequence[str], widths: Sequence[int], first: bool):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(list(headers))
    for i, width in enumerate(widths, 1):
        cell = ws.cell(row=1, column=i)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    return ws


async def export_workbook(
    session: AsyncSession, where: Any, path: Path, *, today: date, tz, health: bool = True,
) -> ExportResult:
    """Write the workers matching ``where`` (a condition on Worker: scope and area), their
    households and today's check-ins to ``path``.  ``health=False`` leaves health data out
    (the employment bureau's export)."""
    workers = list((await session.execute(
        select(Worker).where(where).order_by(Worker.township, Worker.village, Worker.household_id,
                                             Worker.id))).scalars())
    household_ids = {w.household_id for w in workers if w.household_id}
    households: dict[int, Household] = {}
    if household_ids:
        rows = (await session.execute(
            select(Household).where(Household.id.in_(household_ids)))).scalars()
        households = {h.id: h for h in rows}  # type: ignore[misc]
    cadres = {c.id: c.name for c in (await session.execute(select(Cadre))).scalars()}

    wb = Workbook()
    columns = [c for c in WORKER_COLUMNS if c.title and (health or not c.health)]
    ws = _sheet(wb, SHEET_WORKERS, [c.title for c in columns], [c.width for c in columns], True)
    for seq, w in enumerate(workers, 1):
        head = households[w.household_id].head_name if w.household_id in households else w.name
        cells = worker_row(w, seq, head, tz, cadres)
        ws.append([cells[c.title] for c in columns])
        for i, col in enumerate(columns, 1):
            cell = ws.cell(row=seq + 1, column=i)
            if col.text:
                cell.number_format = "@"
            elif col.key == "return_date" and cell.value:
                cell.number_format = "yyyy-mm-dd"

    ws = _sheet(wb, SHEET_HOUSEHOLDS, HOUSEHOLD_TITLES, (6, 14, 12, 10, 9, 10, 9, 12, 40), False)
    members: dict[int, list[Worker]] = {}
    for w in workers:
        if w.household_id:
            members.setdefault(w.household_id, []).append(w)
    for seq, (hid, people) in enumerate(
        sorted(members.items(), key=lambda kv: (households[kv[0]].township, households[kv[0]].village,
                                                households[kv[0]].head_name)), 1):
        h = households[hid]
        employed = sum(1 for p in people if p.status in EMPLOYED)
        ws.append([seq, h.township, h.village, h.head_name, len(people), employed,
                   "是" if employed == 0 else "否", sum(1 for p in people if p.poverty),
                   "、".join(p.name for p in people)])

    checked = 0
    if health:
        ws = _sheet(wb, SHEET_CHECKINS, CHECKIN_TITLES, (6, 9, 10, 14, 12, 9, 17, 7, 16, 9, 14, 9, 30),
                    False)
        today_rows: dict[int, Checkin] = {}
        ids = [w.id for w in workers]
        for chunk in _chunks(ids, 500):
            rows = (await session.execute(select(Checkin).where(
                Checkin.day == today, Checkin.worker_id.in_(chunk), Checkin.superseded.is_(False)))).scalars()
            for c in rows:
                today_rows[c.worker_id] = c
        for seq, w in enumerate(workers, 1):
            c = today_rows.get(w.id)  # type: ignore[arg-type]
            if c is None:
                ws.append([seq, w.id, w.name, w.township, w.village, "否", "", "", "", "", "", "", ""])
                continue
            checked += 1
            ws.append([seq, w.id, w.name, w.township, w.village, "是", _local(c.at, tz),
                       c.temperature, "、".join(c.symptoms or []) or "无", c.location or "",
                       c.place or "", "是" if c.abnormal else "否", c.text])
    await asyncio.to_thread(_save, wb, path)
    return ExportResult(path, len(workers), len(members), checked)


TRAINEE_TITLES = ("序号", "系统编号", "姓名", "性别", "身份证号", "联系电话", "乡镇（街道）", "村（社区）",
                  "组", "人员类别", "技能特长", "期望工种", "就业状态", "报名时间", "状态", "结业时间")
_TRAINEE_TEXT = {"身份证号", "联系电话"}


async def export_trainees(course: Sequence[tuple[str, Any]], trainees: Sequence[tuple[Any, Worker]],
                          path: Path, *, tz, status_text: dict[str, str]) -> None:
    """A training course's sign-up list (``/培训导出``): the trainees ``(sign-up, worker)`` with full
    ID numbers and phones — only ever for a cadre whose scope covers each of them — and a
    second sheet with the course (``course``: label, value)."""
    wb = Workbook()
    ws = _sheet(wb, "培训名单", TRAINEE_TITLES, (6, 9, 10, 6, 21, 14, 14, 12, 6, 20, 20, 12, 12, 17, 8, 17),
                True)
    for seq, (signup, w) in enumerate(trainees, 1):
        ws.append([seq, w.id, w.name, w.gender or "", w.id_number or "", w.phone or "", w.township,
                   w.village, w.group_name or "", category_text(w), w.skills or "", w.wanted_job or "",
                   w.status, _local(signup.created_at, tz),
                   status_text.get(signup.status, signup.status), _local(signup.completed_at, tz)])
        for i, title in enumerate(TRAINEE_TITLES, 1):
            if title in _TRAINEE_TEXT:
                ws.cell(row=seq + 1, column=i).number_format = "@"
    info = _sheet(wb, "培训信息", ("项目", "内容"), (12, 50), False)
    for label, value in course:
        info.append([label, value])
    await asyncio.to_thread(_save, wb, path)


def _save(wb: Workbook, path: Path) -> None:
    # Created private from the start: the file holds full ID numbers and phones.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        wb.save(handle)


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# ----- the import --------------------------------------------------------------------------------
@dataclass
class Rejected:
    row: int  # the Excel row number, as shown at the left of the sheet
    reasons: list[str]


@dataclass
class ImportReport:
    sheet: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    imported: bool = False

    def text(self) -> str:
        lines = [f"工作表“{self.sheet}”：共 {self.rows} 行数据。"]
        if self.rejected:
            lines.append(f"有 {len(self.rejected)} 行不符合要求，本次没有导入任何数据。请改正后重新导入：")
            for r in self.rejected:
                lines.append(f"  第{r.row}行：" + "；".join(r.reasons))
        elif self.imported:
            lines.append(f"已导入：新增 {self.created} 人，更新 {self.updated} 人，"
                         f"没有变化 {self.unchanged} 人。")
        else:
            lines.append(f"检查通过（未写入）：将新增 {self.created} 人，更新 {self.updated} 人，"
                         f"没有变化 {self.unchanged} 人。")
        return "\n".join(lines)


class RowError(Exception):
    pass


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    return str(value).strip()


def _choice(text: str, options: Sequence[Option], what: str) -> str:
    try:
        return match_choice(text, options).value
    except ParseError:
        allowed = "、".join(o.value for o in options)
        raise RowError(f"{what}“{text}”看不懂，应为：{allowed}") from None


_IN_PROVINCE = ("贵州", "贵阳", "遵义", "安顺", "六盘水", "毕节", "铜仁", "黔", "凯里", "都匀", "兴义")


def _area_from_place(place: str) -> str:
    if "花溪" in place or "县内" in place or "区内" in place:
        return "县内"
    if any(word in place for word in _IN_PROVINCE):
        return "省内县外"
    return "省外"


_NONE_WORDS = frozenset({"", "无", "没有", "否", "没", "不需要", "不用", "暂无", "/", "-"})
_FULL_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+0{1,2}:00(?::00)?)?")


class RowReader:
    """Reads one data row (cells by field key) into the fields of a Worker."""

    def __init__(self, townships: TownshipDirectory, today: date, default_township: str | None,
                 default_village: str | None) -> None:
        self.townships = townships
        self.today = today
        self.default_township = default_township
        self.default_village = default_village

    def read(self, cells: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """(worker fields, head of household) or RowError listing every problem."""
        problems: list[str] = []
        out: dict[str, Any] = {}

        def field_(key: str, what: str, parse: Callable[[str], Any], required: bool = False,
                   default: Any = None) -> None:
            text = _cell_text(cells.get(key))
            if not text:
                if required:
                    problems.append(f"{what}没填")
                out[key] = default
                return
            try:
                out[key] = parse(text)
            except ParseError as exc:
                problems.append(f"{what}“{text}”有误：{exc.hint}")
            except RowError as exc:
                problems.append(str(exc))

        field_("name", "姓名", parse_person_name, required=True)
        raw_id = cells.get("id_number")
        if isinstance(raw_id, (int, float)) and len(_cell_text(raw_id)) >= 15:
            problems.append(f"身份证号“{_cell_text(raw_id)}”被Excel存成了数字，后几位可能已丢失；"
                            "请把这一列设为“文本”格式后重新填写")
        else:
            field_("id_number", "身份证号", lambda t: parse_id_number(t, self.today), required=True)
        field_("phone", "联系电话", parse_phone)
        township_text = _cell_text(cells.get("township")) or (self.default_township or "")
        try:
            out["township"] = self.townships.match(township_text).name if township_text else None
            if not township_text:
                problems.append("乡镇（街道）没填")
        except ParseError:
            problems.append(f"乡镇（街道）“{township_text}”不是本区的乡镇或街道")
        village_text = _cell_text(cells.get("village")) or (self.default_village or "")
        if not village_text:
            problems.append("村（社区）没填")
        else:
            try:
                out["village"] = parse_village(village_text)
            except ParseError as exc:
                problems.append(f"村（社区）“{village_text}”有误：{exc.hint}")
        field_("group", "组", parse_group)
        field_("head", "户主姓名", lambda t: SELF if t in (SELF, "户主") else parse_person_name(t))
        field_("relation", "与户主关系",
               lambda t: SELF if t in (SELF, "户主", "自己") else _choice(t, RELATION, "与户主关系"))
        field_("category", "人员类别", lambda t: [o.value for o in match_choices(t, CATEGORY)],
               default=[])
        field_("poverty", "是否建档立卡", parse_yes_no)
        field_("relocated", "是否易地扶贫搬迁", parse_yes_no)
        field_("health", "健康状况", lambda t: _choice(t, HEALTH, "健康状况"))
        field_("symptoms", "近期症状", lambda t: [o.value for o in match_choices(t, SYMPTOMS)],
               default=[])
        field_("difficulty", "家庭困难", self._difficulty)
        field_("skills", "技能特长", lambda t: parse_free_text(t, 100))
        field_("experience", "务工经历", lambda t: parse_free_text(t, 200))
        field_("status", "就业状态", lambda t: _choice(t, STATUS, "就业状态"), required=True)
        area_text = _cell_text(cells.get("work_area"))
        out["work_area"] = None
        if area_text:
            try:
                out["work_area"] = match_choice(area_text, AREA).value
            except ParseError:  # a place instead of 县内/省内县外/省外: keep it as the city
                out["work_area"] = _area_from_place(area_text)
                if not _cell_text(cells.get("work_city")):
                    cells = {**cells, "work_city": area_text}
        field_("work_city", "务工城市", lambda t: parse_free_text(t, 30))
        field_("employer", "就业单位", lambda t: parse_free_text(t, 60))
        raw_date = cells.get("return_date")
        if isinstance(raw_date, datetime):
            out["return_date"] = raw_date.date()
        elif isinstance(raw_date, date):
            out["return_date"] = raw_date
        else:
            field_("return_date", "返岗时间", self._date)
        field_("return_mode", "返岗方式", lambda t: _choice(t, RETURN_MODE, "返岗方式"))
        field_("intent", "就业意愿", lambda t: _choice(t, INTENT, "就业意愿"))
        field_("wanted_job", "期望工种", lambda t: parse_free_text(t, 60))
        field_("wanted_place", "期望地点", lambda t: parse_free_text(t, 30))
        field_("wanted_salary", "期望月薪", parse_salary, default=(None, None))
        if problems:
            raise RowError("；".join(problems))

        card = out["id_number"]
        head, relation = out["head"], out["relation"]
        is_self = head in (None, SELF, out["name"])
        if is_self and relation not in (None, SELF):
            raise RowError(f"与户主关系是“{relation}”，但户主姓名没填或就是本人")
        if not is_self and relation == SELF:
            raise RowError(f"与户主关系是“本人”，但户主姓名“{head}”和姓名“{out['name']}”不一样")
        categories = out["category"]
        poverty = POVERTY in categories if out["poverty"] is None else out["poverty"]
        relocated = RELOCATED in categories if out["relocated"] is None else out["relocated"]
        fields = {
            "name": out["name"],
            "id_number": card.number,
            "gender": card.gender,
            "birth_date": card.birth,
            "phone": out["phone"],
            "township": out["township"],
            "village": out["village"],
            "group_name": out["group"],
            "relation": SELF if is_self else relation,
            "poverty": bool(poverty),
            "relocated": bool(relocated),
            "health": out["health"],
            "symptoms": [s for s in out["symptoms"] if s != "无"],
            "difficulty": out["difficulty"],
            "skills": out["skills"],
            "experience": out["experience"],
            "status": out["status"],
            "work_area": out["work_area"],
            "work_city": out["work_city"],
            "employer": out["employer"],
            "return_date": out["return_date"],
            "return_mode": out["return_mode"],
            "intent": out["intent"],
            "wanted_job": out["wanted_job"],
            "wanted_place": out["wanted_place"],
            "salary_min": out["wanted_salary"][0],
            "salary_max": out["wanted_salary"][1],
        }
        return fields, out["name"] if is_self else head

    @staticmethod
    def _difficulty(text: str) -> str | None:
        if text.strip("。. ") in _NONE_WORDS:
            return None
        return parse_free_text(text, 200)

    def _date(self, text: str) -> date:
        """A full date as written in a sheet (2024-02-15, 2024/2/15, 2024年2月15日, 2024.2.15)
        is taken as it is, whatever the year; anything else as a person would say it."""
        full = _FULL_DATE.fullmatch(text.strip())
        if full:
            try:
                return date(int(full[1]), int(full[2]), int(full[3]))
            except ValueError:
                raise ParseError(f"没有这一天（{text}）") from None
        return parse_date(text, self.today)


def _find_header(ws) -> tuple[int, dict[int, str]] | None:
    """The header row among the first rows (a title row may come first) and which column is
    which field: the row naming the most known fields, with 姓名 and 身份证号 among them."""
    best: tuple[int, dict[int, str]] | None = None
    for r, row in enumerate(ws.iter_rows(min_row=1, max_row=15, values_only=True), 1):
        found: dict[int, str] = {}
        for c, value in enumerate(row):
            key = match_header(value)
            if key and key not in found.values():
                found[c] = key
        keys = set(found.values())
        if {"name", "id_number"} <= keys and (best is None or len(found) > len(best[1])):
            best = (r, found)
    return best


def read_workbook(path: str | Path) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    """(sheet name, [(Excel row number, {field: cell value})]) of the first sheet that looks
    like a roster.  Empty rows and rows without a name and an ID number are left out."""
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise RowError(f"找不到文件 {path}") from None
    except Exception as exc:  # zipfile.BadZipFile, InvalidFileException, KeyError…
        raise RowError(f"读不了这个文件（需要 .xlsx 格式的 Excel 工作簿）：{exc}") from None
    try:
        sheets = sorted(wb.worksheets, key=lambda s: s.title != SHEET_WORKERS)
        for ws in sheets:
            header = _find_header(ws)
            if header is None:
                continue
            header_row, columns = header
            rows: list[tuple[int, dict[str, Any]]] = []
            for r, row in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True),
                                    header_row + 1):
                cells = {key: row[c] for c, key in columns.items() if c < len(row)}
                if not _cell_text(cells.get("name")) and not _cell_text(cells.get("id_number")):
                    continue  # blank, or a note such as “填表人：…”
                rows.append((r, cells))
            return ws.title, rows
    finally:
        wb.close()
    raise RowError("没有找到表头：需要一行写着“姓名”“身份证号”等列名的表格")


async def household_id_for(session: AsyncSession, township: str, village: str, head: str,
                           now: datetime) -> int:
    found = (await session.execute(select(Household.id).where(
        Household.township == township, Household.village == village,
        Household.head_name == head))).scalar()
    if found is not None:
        return found
    household = Household(township=township, village=village, head_name=head, created_at=now)
    session.add(household)
    await session.flush()
    return household.id  # type: ignore[return-value]


async def upsert_worker(
    session: AsyncSession, fields: dict[str, Any], head: str, now: datetime, *,
    worker: Worker | None = None, entered_by: int | None = None, consent: bool = False,
) -> tuple[Worker, str]:
    """Save ``fields`` into ``worker`` (or the worker with that ID number, or a new one).
    Returns the worker and "created", "updated" or "unchanged".  Phones are not used to find
    a worker: family members often share one."""
    values = dict(fields)
    values["household_id"] = await household_id_for(session, values["township"],
                                                     values["village"], head, now)
    if worker is None:
        worker = (await session.execute(
            select(Worker).where(Worker.id_number == values["id_number"]))).scalar()
    if worker is None:
        worker = Worker(**values, registered_at=now, updated_at=now, entered_by=entered_by,
                        consent_at=now if consent else None)
        session.add(worker)
        await session.flush()
        return worker, "created"
    changed = [k for k, v in values.items() if getattr(worker, k) != v]
    if not changed:
        return worker, "unchanged"
    for key in changed:
        setattr(worker, key, values[key])
    worker.updated_at = now
    session.add(worker)
    await session.flush()
    return worker, "updated"


def changed_fields(worker: Worker, fields: dict[str, Any]) -> list[str]:
    return [k for k, v in fields.items() if getattr(worker, k) != v]


async def import_rows(
    session: AsyncSession, sheet: str, rows: list[tuple[int, dict[str, Any]]],
    townships: TownshipDirectory, today: date, now: datetime, *,
    default_township: str | None = None, default_village: str | None = None, write: bool = True,
) -> ImportReport:
    """Check every row; if all are good (and ``write``), save them all in ``session``'s
    transaction.  Any rejected row means nothing is written."""
    report = ImportReport(sheet=sheet, rows=len(rows))
    reader = RowReader(townships, today, default_township, default_village)
    good: list[tuple[dict[str, Any], str]] = []
    seen: dict[str, int] = {}
    for number, cells in rows:
        try:
            fields, head = reader.read(cells)
        except RowError as exc:
            report.rejected.append(Rejected(number, [str(exc)]))
            continue
        first = seen.setdefault(fields["id_number"], number)
        if first != number:
            report.rejected.append(Rejected(number, [f"身份证号与第{first}行重复"]))
            continue
        good.append((fields, head))
    if report.rejected:
        return report
    existing: dict[str, Worker] = {}
    ids = [f["id_number"] for f, _ in good]
    for chunk in _chunks(ids, 500):
        for w in (await session.execute(select(Worker).where(Worker.id_number.in_(chunk)))).scalars():
            existing[w.id_number] = w  # type: ignore[index]
    if not write:
        for fields, head in good:
            w = existing.get(fields["id_number"])
            if w is None:
                report.created += 1
            else:
                hid = (await session.execute(select(Household.id).where(and_(
                    Household.township == fields["township"], Household.village == fields["village"],
                    Household.head_name == head)))).scalar()
                differs = changed_fields(w, fields) or hid != w.household_id
                report.updated += bool(differs)
                report.unchanged += not differs
        return report
    for fields, head in good:
        _, outcome = await upsert_worker(session, fields, head, now,
                                         worker=existing.get(fields["id_number"]))
        setattr(report, outcome, getattr(report, outcome) + 1)
    report.imported = True
    return report


# ----- the command line (python -m bot export / import) ----------------------------------------
def parse_cli_area(text: str, townships: TownshipDirectory) -> tuple[str | None, str | None]:
    """“青岩镇/歪脚村” → (青岩镇, 歪脚村); raises ParseError."""
    parts = [p.strip() for p in text.replace("／", "/").split("/") if p.strip()]
    if not parts:
        return None, None
    township = townships.match(parts[0]).name
    village = parse_village(parts[1]) if len(parts) > 1 else None
    return township, village


async def cli_export(settings, area: str, output: str, out, err, clock=None) -> int:
    from bot.clock import Clock
    from models.audit import audit
    from models.db import Database
    from models.scope import area_scope

    townships = TownshipDirectory.from_csv(settings.townships_csv)
    try:
        township, village = parse_cli_area(area, townships)
    except ParseError as exc:
        print(f"范围有误：{exc.hint}", file=err)
        return 2
    label = f"{township}{village or ''}" if township else "全区"
    now = (clock or Clock()).utcnow()
    today = now.astimezone(settings.tz).date()
    path = Path(output) if output else Path(export_name(label, today))
    if path.parent and not path.parent.exists():
        print(f"文件夹 {path.parent} 不存在", file=err)
        return 2
    db = Database(settings.database_url)
    try:
        await db.migrate()
        async with db.session() as session:
            result = await export_workbook(session, area_scope(township, village), path,
                                           today=today, tz=settings.tz)
            audit(session, "cli", "export", label, f"{result.workers}人 {path}", at=now)
    finally:
        await db.close()
    print(f"已导出 {label}：务工人员 {result.workers} 人、家庭户 {result.households} 户、"
          f"今日打卡 {result.checked_in} 人 → {path}", file=out)
    print("文件里有完整的身份证号和手机号，请妥善保管。", file=out)
    return 0


async def cli_import(settings, file: str, area: str, check: bool, out, err, clock=None) -> int:
    from bot.clock import Clock
    from models.audit import audit
    from models.db import Database

    townships = TownshipDirectory.from_csv(settings.townships_csv)
    try:
        township, village = parse_cli_area(area, townships)
    except ParseError as exc:
        print(f"范围有误：{exc.hint}", file=err)
        return 2
    try:
        sheet, rows = await asyncio.to_thread(read_workbook, file)
    except RowError as exc:
        print(f"导入失败：{exc}", file=err)
        return 2
    now = (clock or Clock()).utcnow()
    today = now.astimezone(settings.tz).date()
    db = Database(settings.database_url)
    try:
        await db.migrate()
        async with db.session() as session:
            report = await import_rows(session, sheet, rows, townships, today, now,
                                       default_township=township, default_village=village,
                                       write=not check)
            if report.imported:
                audit(session, "cli", "import", Path(file).name,
                      f"新增{report.created} 更新{report.updated} 无变化{report.unchanged}", at=now)
    finally:
        await db.close()
    print(report.text(), file=out)
    return 1 if report.rejected else 0
