"""Villages to watch (§四(二)(三)): low check-in rate or survey progress, named neutrally in the
daily report, with a friendly private reminder to their cadres before it.

**Which villages.**  For the report's day, every village with registered workers whose check-in
rate (today's check-ins ÷ registered, :func:`models.tally.compute_tally`'s figures — the same as
``/统计`` and the report) is below ``LAG_CHECKIN_RATE``; and every village listed in the labour
file (``LABOUR_CSV``) whose survey progress (registered ÷ the village's 劳动力 head count) is below
``LAG_SURVEY_RATE``.  There is no head count anywhere else, so survey progress is only computed
for the villages the district has filled in; a village not in the file is never listed for it.

**The labour file** (default ``bot/data/village_labour.csv``, shipped with a header and no rows):
a CSV with the columns 乡镇, 村, 劳动力人数 (``township,village,labour`` also work); lines
starting with ``#`` are notes; UTF-8 or, as Excel writes it on a Chinese Windows, GB18030.  A
township is matched like in registration (青岩 → 青岩镇); a village is matched on its name
without a trailing 村/社区/村委会/居委会 (歪脚 = 歪脚村), because workers type it either way.  It
is re-read when it changes.  A file with a mistake is not used at all: the log and ``python -m
bot check`` say which line and why, and the rest (check-in rates) carries on.

**The report** gets a short block (``report_lines``): “打卡率低于60%的村（请关注）：” with the
villages by township and their rates, the same for 摸排进度; nothing when no village is listed.
No word of blame (落后、批评、差…): the figures speak.

**The reminder** (``LAG_REMIND_MINUTES`` before ``REPORT_TIME``; 0 turns it off): each active
village cadre of a listed village, and each township cadre with listed villages, gets one private
message with their numbers and what helps (``/名单 未打卡``, ``/登记``).  Exactly once per day
per cadre: a :class:`~models.tables.JobRun` row ``("lag_remind", "<day>:<cadre id>")`` is
inserted in the transaction that queues the message.  A bot that was down at that time sends it
when it starts, if the report time has not passed yet.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from dialogs.parsing.errors import ParseError
from dialogs.parsing.places import TownshipDirectory, parse_village
from dialogs.parsing.textnorm import normalize
from handlers.context import Context
from models.tables import Cadre
from models.tally import village_counts
from scheduler.jobs import Job

if TYPE_CHECKING:
    from bot.app import App
    from bot.config import Settings

log = logging.getLogger(__name__)

JOB = "lag_remind"
WIDTH = 24  # the report's lines fit a phone held upright
MAX_LISTED = 30  # villages named per list in the report; the rest are counted
MAX_IN_MESSAGE = 20  # villages named in a township cadre's reminder


# ----- the labour file ---------------------------------------------------------------------------
class LabourFileError(ValueError):
    """The labour file cannot be used; the message (Chinese) says which line and why."""


_VILLAGE_OFFICE = re.compile(r"(?:村民委员会|居民委员会|村委会|居委会|村委|居委)$")
_VILLAGE_END = re.compile(r"(?:村|社区)$")
_HEADERS = {
    "township": ("乡镇", "乡镇街道", "乡镇/街道", "乡镇（街道）", "乡镇(街道)", "街道", "township"),
    "village": ("村", "村社区", "村/社区", "村（社区）", "村(社区)", "村居", "社区", "village"),
    "labour": ("劳动力人数", "劳动力", "劳动力数", "人数", "劳动力（人）", "劳动力(人)", "labour"),
}


def village_key(name: str) -> str:
    """歪脚村 ~ 歪脚 ~ 歪脚村委会: the name a village is matched on."""
    t = normalize(name).replace(" ", "")
    t = _VILLAGE_OFFICE.sub("", t)
    short = _VILLAGE_END.sub("", t)
    return short if len(short) >= 2 else t


@dataclass(frozen=True)
class Labour:
    """Each village's 劳动力 head count: ``(township, village_key) -> (village, count)``."""

    counts: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    source: str = ""

    def get(self, township: str, village: str) -> int | None:
        found = self.counts.get((township, village_key(village)))
        return found[1] if found else None

    def __len__(self) -> int:
        return len(self.counts)


def _text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")  # Excel's “CSV” on a Chinese Windows


def read_labour(path: str | Path, townships: TownshipDirectory) -> Labour:
    """Read the labour file; raises :class:`LabourFileError` (or OSError) when it cannot be used."""
    path = Path(path)
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(_text(path))), 1)
            if any(c.strip() for c in row) and not row[0].strip().startswith("#")]
    if not rows:
        return Labour(source=str(path))
    line, header = rows[0]
    names = [normalize(c).replace(" ", "") for c in header]
    columns: dict[str, int] = {}
    for what, words in _HEADERS.items():
        found = [i for i, c in enumerate(names) if c.lower() in words]
        if found:
            columns[what] = found[0]
    if len(columns) < 3:
        raise LabourFileError(f"第{line}行应是表头：乡镇,村,劳动力人数")
    counts: dict[tuple[str, str], tuple[str, int]] = {}
    where: dict[tuple[str, str], int] = {}
    for line, row in rows[1:]:
        def cell(what: str, row: list[str] = row) -> str:
            i = columns[what]
            return normalize(row[i]) if i < len(row) else ""

        number = cell("labour").replace(",", "").replace(" ", "").removesuffix("人")
        if not number:
            continue  # not known yet
        try:
            township = townships.match(cell("township")).name
            village = parse_village(cell("village"))
        except ParseError as exc:
            raise LabourFileError(f"第{line}行：{exc.hint.splitlines()[0]}") from None
        if not number.isdigit():
            raise LabourFileError(f"第{line}行：劳动力人数应是整数，现在是“{number}”")
        key = (township, village_key(village))
        if key in counts:
            raise LabourFileError(f"第{line}行：{township}{village}和第{where[key]}行重复了")
        counts[key] = (village, int(number))
        where[key] = line
    return Labour(counts, str(path))


_cache: dict[Path, tuple[float, Labour]] = {}
_complained: set[tuple[Path, float]] = set()


def labour_for(settings: Settings, townships: TownshipDirectory) -> Labour:
    """The labour file of ``settings``, re-read when it changes; empty (and a log line) when it
    is missing or has a mistake — survey progress is then left out, nothing else."""
    path = Path(settings.labour_csv)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        if (path, -1.0) not in _complained:
            _complained.add((path, -1.0))
            log.warning("labour file %s not found: survey progress (摸排进度) is left out", path)
        return Labour()
    cached = _cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        labour = read_labour(path, townships)
    except (LabourFileError, OSError, UnicodeDecodeError, csv.Error) as exc:
        if (path, mtime) not in _complained:
            _complained.add((path, mtime))
            log.error("劳动力人数表 %s 有误，摸排进度暂不计算：%s", path, exc)
        return Labour()
    _cache[path] = (mtime, labour)
    return labour


# ----- the figures -------------------------------------------------------------------------------
@dataclass
class Village:
    township: str
    village: str
    registered: int = 0
    checked_in: int = 0
    labour: int | None = None  # 劳动力 head count, when the labour file has it

    @property
    def checkin_rate(self) -> float | None:
        return self.checked_in / self.registered if self.registered else None

    @property
    def survey_rate(self) -> float | None:
        return self.registered / self.labour if self.labour else None

    @property
    def not_checked_in(self) -> int:
        return self.registered - self.checked_in


@dataclass
class Lagging:
    """The villages below the thresholds on ``day``, in the district's township order."""

    day: date
    checkin_rate: float
    survey_rate: float
    checkin: list[Village] = field(default_factory=list)
    survey: list[Village] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.checkin or self.survey)

    def townships(self) -> list[str]:
        seen: dict[str, None] = {}
        for v in (*self.checkin, *self.survey):
            seen.setdefault(v.township)
        return list(seen)


async def villages(session, day: date, *, settings: Settings, townships: TownshipDirectory,
                   labour: Labour | None = None) -> list[Village]:
    """Every village with registered workers or a labour count, with its figures on ``day``
    (registered and checked in, as :func:`models.tally.compute_tally` counts them, for the whole district
    at once: :func:`models.tally.village_counts`).  Names that differ only by 村/社区 (歪脚 and
    歪脚村, typed by different workers) are one village, named as most of its workers wrote
    it."""
    labour = labour if labour is not None else labour_for(settings, townships)
    order = {t.name: i for i, t in enumerate(townships.all)}
    found: dict[tuple[str, str], Village] = {}
    most: dict[tuple[str, str], int] = {}
    counts = await village_counts(session, day)
    for (township, village), (registered, checked_in) in sorted(
            counts.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        key = (township, village_key(village))
        v = found.setdefault(key, Village(township, village))
        if registered > most.get(key, -1):
            v.village, most[key] = village, registered
        v.registered += registered
        v.checked_in += checked_in
    for key, (name, count) in labour.counts.items():
        found.setdefault(key, Village(key[0], name)).labour = count
    return sorted(found.values(),
                  key=lambda v: (order.get(v.township, len(order)), v.township, v.village))


async def find_lagging(session, day: date, *, settings: Settings,
                       townships: TownshipDirectory) -> Lagging:
    found = Lagging(day, settings.lag_checkin_rate, settings.lag_survey_rate)
    for v in await villages(session, day, settings=settings, townships=townships):
        if v.checkin_rate is not None and v.checkin_rate < settings.lag_checkin_rate:
            found.checkin.append(v)
        if v.survey_rate is not None and v.survey_rate < settings.lag_survey_rate:
            found.survey.append(v)
    return found


# ----- text --------------------------------------------------------------------------------------
def pct(value: float) -> str:
    return f"{round(100 * value)}%"


def wrap_items(items: list[str], first: str, rest: str, width: int = WIDTH, sep: str = "、") -> list[str]:
    """``first`` + items joined by ``sep``, in lines of at most ``width`` characters (an item
    longer than a line keeps a line of its own); continuation lines start with ``rest``."""
    lines: list[str] = []
    line, empty = first, True
    for item in items:
        if not empty and len(line) + len(sep) + len(item) > width:
            lines.append(line)
            line, empty = rest, True
        line += item if empty else sep + item
        empty = False
    lines.append(line)
    return lines


def _listing(villages_: list[Village], rate) -> list[str]:
    lines: list[str] = []
    shown = villages_[:MAX_LISTED]
    by_township: dict[str, list[str]] = {}
    for v in shown:
        by_township.setdefault(v.township, []).append(f"{v.village}{pct(rate(v))}")
    for township, items in by_township.items():
        lines += wrap_items(items, f"　{township}：", "　　")
    if len(villages_) > len(shown):
        lines.append(f"　另有{len(villages_) - len(shown)}个村")
    return lines


def report_lines(lag: Lagging) -> list[str]:
    """The daily report's block: neutral, short lines; empty when no village is listed."""
    lines: list[str] = []
    if lag.checkin:
        lines.append(f"打卡率低于{pct(lag.checkin_rate)}的村（请关注）：")
        lines += _listing(lag.checkin, lambda v: v.checkin_rate)
    if lag.survey:
        lines.append(f"摸排进度低于{pct(lag.survey_rate)}的村（请关注）：")
        lines += _listing(lag.survey, lambda v: v.survey_rate)
    return lines


async def report_notes(app: App, day: date) -> list[str]:
    """The block for ``day``'s report; never fails the report (an error leaves it out)."""
    try:
        async with app.db.session() as s:
            lag = await find_lagging(s, day, settings=app.settings,
                                     townships=app.services.townships)
        return report_lines(lag)
    except Exception:
        log.exception("finding the villages to watch failed; the report goes without them")
        return []


def md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _checkin_line(v: Village) -> str:
    return f"今日打卡 {v.checked_in}/{v.registered} 人（{pct(v.checkin_rate or 0)}）"


def _survey_line(v: Village) -> str:
    return f"摸排登记 {v.registered} 人，劳动力约 {v.labour} 人（进度 {pct(v.survey_rate or 0)}）"


def _closing(settings: Settings) -> str:
    return f"{settings.report_time:%H:%M} 发日报，现在补上还来得及。辛苦了！"


def village_message(cadre: Cadre, lag: Lagging, at: datetime, settings: Settings) -> str | None:
    """The reminder for a village cadre, or None when their village is not listed."""
    key = (cadre.township, village_key(cadre.village or ""))
    low_checkin = next((v for v in lag.checkin if (v.township, village_key(v.village)) == key), None)
    low_survey = next((v for v in lag.survey if (v.township, village_key(v.village)) == key), None)
    if low_checkin is None and low_survey is None:
        return None
    lines = [f"{cadre.name}，您好！今天（{md(lag.day)}）截至{at:%H:%M}，{cadre.village}的情况："]
    if low_checkin is not None:
        v = low_checkin
        lines.append(f"· {_checkin_line(v)}，还有 {v.not_checked_in} 人没打卡。"
                     "发“/名单 未打卡”可以看是谁，方便时提醒他们一下。")
    if low_survey is not None:
        lines.append(f"· {_survey_line(low_survey)}。入户时可以用“/登记”替没有手机的人登记。")
    lines.append(_closing(settings))
    return "\n".join(lines)


def township_message(cadre: Cadre, lag: Lagging, at: datetime, settings: Settings) -> str | None:
    """The reminder for a township cadre: their listed villages, or None."""
    low_checkin = [v for v in lag.checkin if v.township == cadre.township]
    low_survey = [v for v in lag.survey if v.township == cadre.township]
    if not low_checkin and not low_survey:
        return None
    entries: dict[str, list[str]] = {}  # village key → what is low there
    names: dict[str, str] = {}
    for v in low_checkin:
        names.setdefault(village_key(v.village), v.village)
        entries.setdefault(village_key(v.village), []).append(
            f"打卡 {v.checked_in}/{v.registered} 人（{pct(v.checkin_rate or 0)}）")
    for v in low_survey:
        names.setdefault(village_key(v.village), v.village)
        entries.setdefault(village_key(v.village), []).append(
            f"摸排 {v.registered}/{v.labour} 人（{pct(v.survey_rate or 0)}）")
    lines = [f"{cadre.name}，您好！今天（{md(lag.day)}）截至{at:%H:%M}，{cadre.township}有 "
             f"{len(entries)} 个村请关注："]
    lines += [f"· {names[key]}：{'，'.join(parts)}" for key, parts in
              list(entries.items())[:MAX_IN_MESSAGE]]
    if len(entries) > MAX_IN_MESSAGE:
        lines.append(f"· 另有 {len(entries) - MAX_IN_MESSAGE} 个村，发“/统计”看各村")
    if low_checkin:
        lines.append(f"没打卡的人：/名单 未打卡 {low_checkin[0].village}")
    if low_survey:
        lines.append("还没登记的，村干部入户时可以用 /登记 代为登记。")
    lines.append(_closing(settings))
    return "\n".join(lines)


# ----- the reminder job --------------------------------------------------------------------------
def remind_time(settings: Settings) -> time:
    at = datetime.combine(date(2024, 1, 2), settings.report_time)
    return (at - timedelta(minutes=settings.lag_remind_minutes)).time()


def report_day(settings: Settings, when: datetime) -> date:
    """The day of the first report at or after ``when`` (local time)."""
    due = datetime.combine(when.date(), settings.report_time, tzinfo=when.tzinfo)
    return when.date() if due >= when else when.date() + timedelta(days=1)


async def remind(app: App, when: datetime) -> int:
    """Send today's reminders (each cadre once a day); returns how many were queued."""
    from scheduler.report import claim

    settings = app.settings
    day = report_day(settings, when)
    now = app.clock.utcnow()
    sent = 0
    async with app.db.session() as s:
        lag = await find_lagging(s, day, settings=settings, townships=app.services.townships)
        if not lag:
            return 0
        cadres = (await s.execute(
            select(Cadre).where(Cadre.active, Cadre.role.in_(("village", "township")),
                                Cadre.township.in_(lag.townships()))
            .order_by(Cadre.id))).scalars().all()
        ctx = Context(app.services, s)
        for cadre in cadres:
            make = village_message if cadre.role == "village" else township_message
            text = make(cadre, lag, when, settings)
            if text and await claim(s, JOB, f"{day.isoformat()}:{cadre.id}", now):
                ctx.tell(cadre.identity, text)
                sent += 1
    if sent:
        log.info("villages to watch: %d reminder(s) queued for %s", sent, day)
        app.services.notify_outbound()
    return sent


async def catch_up(app: App) -> None:
    """At start: a bot that was down at the reminder time sends it, if the report is still to
    come today."""
    settings = app.settings
    now = app.clock.now().astimezone(settings.tz)
    due = datetime.combine(now.date(), settings.report_time, tzinfo=settings.tz)
    if due - timedelta(minutes=settings.lag_remind_minutes) <= now < due:
        log.info("villages to watch: the bot started after the reminder time, sending it now")
        await remind(app, now)


def jobs(app: App) -> list[Job]:
    settings = app.settings
    if settings.lag_remind_minutes <= 0:
        return []
    hooks = getattr(app, "on_start", None)
    if hooks is not None:
        hooks.append(catch_up)
    return [Job(JOB, at=remind_time(settings), func=remind)]
