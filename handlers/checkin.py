"""The daily health check-in (日排查) in chat: the worker's reply, the alerts, the cadres' view.

A registered worker checks in by replying in private chat however they like (``36.5 正常 在家``,
``三十七度二 有点咳嗽``); :func:`dialogs.checkin_text.parse_checkin` reads it.  The reply is taken
as a check-in when

* the worker was prompted, reminded or followed up today and has not checked in yet — then any
  reply is read, and one that cannot be read is answered with an example (never a guess);
* or the text clearly is one: a temperature, a symptom (said or denied), or the words 打卡/体温.
  A worker who has checked in already corrects it this way; a bare “好的”“没事” after the
  guidance is *not* taken as a correction (it would clear an alert without meaning to).

One reading per worker per day (the district's date): a later reply corrects it, the earlier row
is kept as history, and the reply says it was updated.  ``打卡 …`` (the word first) is understood
even in the middle of a dialog — the dialog is left as it was — which is what the morning prompt
tells a worker who is half way through one (see scheduler/checkin_jobs.py).

Abnormal (≥ 37.3 ℃, or 发热/咳嗽/气促/乏力), at once and in the same transaction:

* the worker: what to do — stay home, wear a mask, go to a designated hospital
  (``DESIGNATED_HOSPITALS``) for a nucleic-acid test;
* every cadre whose scope covers the worker (village, township, district; not the employment
  bureau, which sees no health data): a private alert with name, village, masked phone,
  temperature, symptoms and location;
* each task-force group: one line with the village, the masked name and the symptoms only.

A correction sends the cadres an update (or, when it is no longer abnormal, a note that it was
corrected); the group hears only what matters: the first abnormal reading of the day, and a
correction to normal (不再异常) — not every re-sent abnormal reading.  A correction that does not
say where the worker is keeps the place said before (and the reply says so).

Cadres: ``/打卡 [村]`` — today's check-in rate in their scope (per village or township), who is
abnormal and who has not checked in (masked, first 10 of each; ``/名单 异常`` and
``/名单 未打卡`` page through all).  In a group only the counts are shown.  It is a staff
command like the others (district, township and village cadres; the employment bureau sees no
health data), so ``/帮助`` lists it only for them and a worker who types it is told it is for
staff — workers check in by simply replying, or with ``打卡 …``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from dialogs.checkin_text import CheckinReading, parse_checkin
from dialogs.parsing.errors import ParseError
from dialogs.parsing.phone import mask_phone
from handlers.commands import command
from handlers.context import Context
from handlers.keywords import keyword, reader
from handlers.permissions import cadre_of
from handlers.staff import SURVEY, AreaError, area_label, resolve_area, scoped, sees_health
from handlers.views import mask_name
from models.audit import audit_ctx
from models.checkins import (
    FROM_DECLARATION,
    abnormal_readings,
    asked_today,
    checkin_counts,
    checkin_counts_by,
    current_checkin,
    from_declaration,
    missing_workers,
    recent_checkins,
    record_checkin,
)
from models.tables import Cadre, Checkin, DialogState, Worker
from models.workers import cadres_covering, worker_of

if TYPE_CHECKING:
    from bot.config import Settings

EXAMPLE = "36.5 正常 在家"
HOW = f"请回复今天的体温和身体情况，例如：{EXAMPLE}"
LIST_LIMIT = 10
HISTORY_DAYS = 7
# Said to the bot for other reasons; the menu answers them, not the check-in.
_NOT_CHECKIN = ("帮助", "菜单", "你好", "您好", "在吗", "hi", "hello", "?", "？")
_CHECKIN_WORDS = ("打卡", "体温", "温度", "测温")
_CORRECTION_WORDS = ("更正", "改成", "改为", "说错", "写错", "打错")
_HISTORY_WORDS = ("记录", "历史", "情况")


def day_text(day) -> str:
    return f"{day.month}月{day.day}日"


def row_reading(c: Checkin) -> CheckinReading:
    """A stored reading as a :class:`CheckinReading` (for its description)."""
    return CheckinReading(temperature=c.temperature, symptoms=tuple(c.symptoms or ()),
                          location=c.location, place=c.place, all_normal=not c.symptoms)


def symptoms_text(symptoms) -> str:
    names = ["其他不适" if s == "其他" else s for s in symptoms or ()]
    return "、".join(names) or "体温偏高"


def hospitals_text(settings: Settings) -> str:
    return "\n".join(f"· {h}" for h in settings.designated_hospitals)


def guidance(ctx: Context, reading: CheckinReading) -> str:
    """What an abnormal worker is told to do (the plan: 定点医院核酸检测 before travelling)."""
    lines = [
        f"⚠ 您今天报告了{symptoms_text(reading.symptoms)}"
        + (f"（体温 {reading.temperature:.1f}℃）" if reading.temperature is not None else "")
        + "，需要注意。请您：",
        "1. 暂不外出、暂缓返岗，在家休息，少和家人近距离接触；",
        "2. 出门一定戴好口罩，尽量不坐公交等公共交通；",
        "3. 尽快到定点医院做核酸检测：",
        hospitals_text(ctx.services.settings),
    ]
    if reading.location == "途中":
        lines.append("您在路上的话，全程戴口罩，到达后马上就近到医院发热门诊就诊。")
    lines.append("村干部会和您联系。身体有变化请随时回复我。")
    return "\n".join(lines)


# ----- taking a check-in ----------------------------------------------------------------------
async def _dialog(ctx: Context) -> DialogState | None:
    state = await ctx.services.engine.load(ctx, ctx.identity)
    return state if state is not None and not state.paused else None


def _dialog_note(ctx: Context, state: DialogState | None) -> str:
    if state is None:
        return ""
    title = ctx.services.engine.dialogs[state.dialog].title
    return f"\n\n您的{title}还没填完，填了的内容都保留着，回复“继续”接着填。"


async def take_checkin(
    ctx: Context, worker: Worker, text: str, reading: CheckinReading,
    state: DialogState | None = None,
) -> Checkin:
    """Record today's reading, answer the worker and tell whoever must know."""
    day = ctx.today
    earlier = await current_checkin(ctx.session, worker.id, day)  # type: ignore[arg-type]
    kept = ""
    if (earlier is not None and reading.location is None and reading.place is None
            and (earlier.location or earlier.place)):
        # A correction that does not say where the worker is keeps where they said before.
        reading = replace(reading, location=earlier.location, place=earlier.place)
        kept = f"（这次没说在哪里，位置沿用之前的：{_where(earlier)}）"
    row, previous = await record_checkin(ctx.session, worker.id, day,  # type: ignore[arg-type]
                                         ctx.services.clock.utcnow(), reading, text)
    if previous is None:
        head = f"打卡成功！{day_text(day)}：{reading.describe()}。"
    else:
        head = (f"打卡成功，已更新今天（{day_text(day)}）的打卡：{reading.describe()}。{kept}\n"
                f"（之前是：{row_reading(previous).describe()}）")
    parts = [head, "说得不对可以直接再回复一次，以最后一次为准。"]
    if reading.abnormal:
        parts.append("\n" + guidance(ctx, reading))
    elif previous is not None and previous.abnormal:
        parts.append("已告诉村干部您更正了今天的情况。")
    ctx.reply("\n".join(parts) + _dialog_note(ctx, state))
    await _fan_out(ctx, worker, row, previous)
    return row


def _utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; every stored datetime is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _where(c: Checkin) -> str:
    if c.location and c.place:
        return f"{c.location}（{c.place}）"
    return c.location or c.place or ""


def _place(worker: Worker) -> str:
    return f"{worker.township}{worker.village}"


async def checkin_from_declaration(ctx: Context, worker: Worker, reading: CheckinReading,
                                   text: str) -> bool:
    """Record a completed departure declaration as today's reading, unless the worker has
    checked in today themselves (their reading is left alone); returns whether it was recorded.
    A reading taken from an earlier declaration today is replaced, as a correction is.

    Abnormal: the declaration has already told the worker what to do and alerted the cadres
    covering them (``handlers/departure.py``), so only the task-force group hears of it here,
    once, as of any abnormal check-in (and of a correction to normal)."""
    day = ctx.today
    current = await current_checkin(ctx.session, worker.id, day)  # type: ignore[arg-type]
    if current is not None and not from_declaration(current):
        return False
    row, previous = await record_checkin(ctx.session, worker.id, day,  # type: ignore[arg-type]
                                         ctx.services.clock.utcnow(), reading,
                                         FROM_DECLARATION + text)
    await _fan_out(ctx, worker, row, previous, cadres_told=True)
    return True


async def _fan_out(ctx: Context, worker: Worker, row: Checkin, previous: Checkin | None,
                   cadres_told: bool = False) -> None:
    """Tell the cadres and the task-force group of an abnormal reading or a correction to
    normal; ``cadres_told``: the cadres have heard of it already (from a declaration)."""
    was = previous is not None and previous.abnormal
    if not row.abnormal and not was:
        return
    reading = row_reading(row)
    phone = mask_phone(worker.phone) if worker.phone else "无手机"
    who = f"{_place(worker)}{worker.group_name or ''} {worker.name}（编号{worker.id}，{phone}）"
    groups = ctx.services.settings.taskforce_groups
    masked = f"{_place(worker)} {mask_name(worker.name)}"
    cadres = [c for c in await cadres_covering(ctx.session, worker) if c.identity != ctx.identity]
    if row.abnormal:
        same = was and previous is not None and (
            previous.temperature, sorted(previous.symptoms or []), previous.location, previous.place
        ) == (row.temperature, sorted(row.symptoms or []), row.location, row.place)
        if not same and not cadres_told:
            title = "【健康异常·更新】" if was else "【健康异常】"
            text = (f"{title}{who}今天打卡：{reading.describe()}。\n"
                    "请尽快联系本人，安排到定点医院做核酸检测，暂缓返岗。")
            for cadre in cadres:
                ctx.tell(cadre.identity, text)
        # The group hears of the person once a day when they become abnormal (and again only
        # after a correction to normal); a re-sent or changed abnormal reading goes to the
        # cadres above, not to the group again.
        if not was:
            line = f"【健康异常】{masked}：{symptoms_text(row.symptoms)}。" + (
                "已通知村、镇干部跟进。" if cadres else "请所在村、镇跟进。")
            for group in groups:
                ctx.send(group, line)
        return
    text = f"【打卡更正】{who}把今天的打卡更正为：{reading.describe()}，不再是异常。"
    for cadre in [] if cadres_told else cadres:
        ctx.tell(cadre.identity, text)
    for group in groups:
        ctx.send(group, f"【更正】{masked} 今天的打卡已更正，无异常。")


def _says_checkin(text: str) -> bool:
    return any(w in text for w in _CHECKIN_WORDS)


def _clearly(reading: CheckinReading, text: str) -> bool:
    """A check-in even unasked: a temperature, a symptom said or denied, or the word for it."""
    return bool(reading.temperature is not None or reading.symptoms or reading.denied
                or _says_checkin(text) or any(w in text for w in _CORRECTION_WORDS))


@reader(50)
async def checkin_reader(ctx: Context, text: str) -> bool:
    """A registered worker's free reply in private chat, when it is a check-in."""
    msg = ctx.inbound
    if msg is None or not msg.is_private:
        return False
    bare = text.strip().strip("。.!！~ ")
    if bare.lower() in _NOT_CHECKIN:
        return False
    worker = await worker_of(ctx, ctx.identity)
    if worker is None:
        return False
    current = await current_checkin(ctx.session, worker.id, ctx.today)  # type: ignore[arg-type]
    waiting = current is None and await asked_today(ctx.session, worker.id, ctx.today)  # type: ignore[arg-type]
    if not bare:
        if waiting and msg.has_media:
            ctx.reply(f"我只能看懂文字哦。{HOW}")
            return True
        return False
    try:
        reading = parse_checkin(text)
    except ParseError as err:
        if waiting or _says_checkin(text):
            ctx.reply(err.hint)
            return True
        return False
    if not (waiting or _clearly(reading, text)):
        if current is not None and reading.all_normal:  # "正常" again after checking in
            ctx.reply(f"您今天已经打过卡了：{row_reading(current).describe()}。\n"
                      f"要更正请回复体温和身体情况，例如“{EXAMPLE}”。")
            return True
        return False
    await take_checkin(ctx, worker, text, reading)
    return True


async def history(ctx: Context, worker: Worker) -> None:
    today = ctx.today
    since = today - timedelta(days=HISTORY_DAYS - 1)
    found = await recent_checkins(ctx.session, worker.id, since)  # type: ignore[arg-type]
    # Days before the worker registered are not “未打卡”: they were not asked to check in.
    registered = _utc(worker.registered_at).astimezone(ctx.services.settings.tz).date()
    registered = min([registered, *found])  # a reading from before (a re-registration) still shows
    days = max(1, min(HISTORY_DAYS, (today - registered).days + 1))
    lines = [f"最近 {HISTORY_DAYS} 天的打卡：" if days == HISTORY_DAYS
             else f"登记以来（{day_text(max(registered, since))}起）的打卡："]
    for i in range(days):
        day = today - timedelta(days=i)
        c = found.get(day)
        what = "未打卡" if c is None else row_reading(c).describe() + ("（异常）" if c.abnormal else "")
        lines.append(f"{day_text(day)}：{what}")
    if today not in found:
        lines.append(f"\n今天还没打卡，{HOW}")
    ctx.reply("\n".join(lines))


@keyword(r"(?:我的|查看?)?打卡(?:记录|历史)", help=(
    f"· 每天回复体温和身体情况就是打卡（例如“{EXAMPLE}”）；回复“打卡记录”看最近 {HISTORY_DAYS} 天"))
async def history_keyword(ctx: Context, match: re.Match[str]) -> None:
    worker = await worker_of(ctx, ctx.identity)
    if worker is None:
        ctx.reply("您还没有登记，登记后每天可以在这里打卡。回复“登记”开始。")
        return
    await history(ctx, worker)


@keyword(r"(?s)(?:我要|我来)?打卡(?P<sep>[\s:：,，。]*)(?P<rest>.*)", anywhere=True)
async def checkin_keyword(ctx: Context, match: re.Match[str]) -> None:
    """``打卡 36.5 正常``: the word first, understood in the middle of a dialog as well."""
    rest = match["rest"].strip()
    state = await _dialog(ctx)
    worker = await worker_of(ctx, ctx.identity)
    msg = ctx.inbound
    assert msg is not None
    if state is not None and rest and (worker is None or await cadre_of(ctx) is not None):
        # Not a worker's check-in: an answer in a dialog that happens to start with 打卡.
        await ctx.services.engine.handle(ctx, state, msg.text or "", msg.has_media)
        return
    if worker is None:
        if await cadre_of(ctx) is not None:
            ctx.reply("打卡是务工人员每天报体温用的。看今天的打卡情况请发 /打卡")
        else:
            ctx.reply("您还没有登记，登记完成后每天可以在这里打卡。"
                      + ("请先接着回答上面的问题（回复“继续”再看一遍）。" if state else "回复“登记”开始。"))
        return
    if rest in _HISTORY_WORDS:
        await history(ctx, worker)
        return
    if not rest:
        note = f"\n（您的{ctx.services.engine.dialogs[state.dialog].title}还没填完，在打卡内容前加“打卡”，" \
               f"例如：打卡 {EXAMPLE}）" if state else ""
        ctx.reply(f"好的，{HOW}{note}")
        return
    try:
        reading = parse_checkin(rest)
    except ParseError as err:
        if state is not None and not match["sep"]:
            # “打卡机维修”: a word that starts with 打卡, meant for the dialog.
            await ctx.services.engine.handle(ctx, state, msg.text or "", msg.has_media)
        else:
            ctx.reply(err.hint if not state else f"{err.hint}（前面加“打卡”）")
        return
    await take_checkin(ctx, worker, msg.text or rest, reading, state)


# ----- the cadres' view -----------------------------------------------------------------------
@command("打卡", "checkin", summary="今天范围内的打卡率、异常和未打卡的人", usage="/打卡 [村]",
         roles=SURVEY)
async def checkin_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    msg = ctx.inbound
    assert msg is not None and cadre is not None and sees_health(cadre)
    try:
        township, village = await resolve_area(ctx, cadre, args)
    except AreaError as err:
        ctx.reply(str(err))
        return
    where = scoped(cadre, township, village)
    day = ctx.today
    counts = await checkin_counts(ctx.session, day, where)
    area = area_label(township, village)
    head = (f"【今日打卡】{area}（{day_text(day)} {ctx.now:%H:%M}）\n"
            f"应打卡 {counts.registered} 人，已打卡 {counts.checked_in} 人（{counts.rate_text()}），"
            f"异常 {counts.abnormal} 人，未打卡 {counts.missing} 人。")
    if not msg.is_private:
        ctx.reply(head + "\n名单涉及个人信息，请私聊我发 /打卡 查看。")
        return
    lines = [head]
    unreachable = counts.registered - counts.reachable
    if unreachable:
        lines.append(f"其中 {unreachable} 人没有绑定微信/QQ，收不到打卡提醒，需要电话询问。")
    if village is None:
        column = Worker.village if township is not None else Worker.township
        parts = await checkin_counts_by(ctx.session, day, where, column)
        if len(parts) > 1:
            lines.append("")
            lines += [f"{name}：{c.checked_in}/{c.registered}（{c.rate_text()}）"
                      + (f"，异常 {c.abnormal}" if c.abnormal else "") for name, c in parts]
    if counts.abnormal:
        lines += ["", "⚠ 异常："]
        for w, c in await abnormal_readings(ctx.session, day, where, LIST_LIMIT):
            lines.append(f"· {_line(w, township is None)} {row_reading(c).describe()}")
        if counts.abnormal > LIST_LIMIT:
            lines.append(f"……共 {counts.abnormal} 人，/名单 异常 看全部")
    if counts.missing:
        lines += ["", "未打卡："]
        missing = await missing_workers(ctx.session, day, where, LIST_LIMIT)
        lines += [f"· {_line(w, township is None)}" for w in missing]
        if counts.missing > LIST_LIMIT:
            lines.append(f"……共 {counts.missing} 人，/名单 未打卡 看全部")
    if counts.abnormal or counts.missing:
        lines.append("\n/查 编号 看某人详情。")
        audit_ctx(ctx, "checkin.list", area, f"乡镇={township or ''};村={village or ''}")
    ctx.reply("\n".join(lines))


def _line(w: Worker, township: bool) -> str:
    phone = mask_phone(w.phone) if w.phone else "无手机"
    place = f"{w.township if township else ''}{w.village}{w.group_name or ''}"
    return f"编号{w.id} {mask_name(w.name)} {place} {phone}"
