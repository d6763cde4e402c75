"""What the cadres' commands share: reading an area named in a command and checking it against
the cadre's scope, reaching workers, and how a worker reads in a list or a record."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import and_, select

from dialogs.parsing.errors import ParseError
from dialogs.parsing.idcard import mask_id
from dialogs.parsing.phone import mask_phone
from dialogs.parsing.places import parse_village
from dialogs.parsing.textnorm import normalize
from handlers.context import Context
from handlers.permissions import covers, scope_text
from handlers.views import mask_name
from models.audit import audit_ctx
from models.scope import area_scope, worker_scope
from models.tables import Cadre, Checkin, Household, Identity, Worker
from models.training import courses_text

# Roles, by what they answer for (DESIGN.md: who uses it).
SURVEY = frozenset({"district", "township", "village"})  # 摸排: lists, registration, broadcast
READERS = frozenset({"district", "bureau", "township", "village"})  # may read worker data
ORGANISERS = frozenset({"district", "bureau", "township"})  # enterprises, chartered buses


def sees_health(cadre: Cadre) -> bool:
    """The employment bureau sees employment data, not health data."""
    return cadre.role != "bureau"


class AreaError(Exception):
    """An area in a command that cannot be used; the message is for the cadre."""


_VILLAGE_END = ("村", "社区", "居委会", "村委会")
_TOWNSHIP_THEN_VILLAGE = re.compile(r"^(.+?(?:街道|镇|乡))(.+)$")


def area_label(township: str | None, village: str | None) -> str:
    if township is None:
        return "全区"
    return f"{township}{village or ''}"


async def resolve_area(ctx: Context, cadre: Cadre, text: str) -> tuple[str | None, str | None]:
    """The (township, village) an area in a command means, within ``cadre``'s scope; without
    text, the cadre's whole scope.  Raises AreaError with what to write instead."""
    t = normalize(text).replace("／", "/").strip(" /")
    if not t:
        return cadre.township, cadre.village
    parts = [p for p in re.split(r"[/\s]+", t) if p]
    if len(parts) > 2:
        raise AreaError("范围请写成 乡镇 或 乡镇/村，例如：青岩镇/歪脚村")
    directory = ctx.services.townships
    township: str | None = None
    village: str | None = None
    try:
        if len(parts) == 2:
            township = directory.match(parts[0]).name
            village = parse_village(parts[1])
        else:
            word = parts[0]
            split = _TOWNSHIP_THEN_VILLAGE.match(word)
            if split and not word.endswith(("镇", "乡", "街道")):
                try:
                    township = directory.match(split[1]).name
                    village = parse_village(split[2])
                except ParseError:
                    township = None
            if township is None:
                if word.endswith(_VILLAGE_END):
                    village = parse_village(word)
                else:
                    try:
                        township = directory.match(word).name
                    except ParseError:
                        village = parse_village(word)
    except ParseError as exc:
        raise AreaError(f"没看懂范围“{t}”：{exc.hint}") from None
    if village is not None and township is None:
        township = cadre.township or await _township_of_village(ctx, village)
    if not covers(cadre, township or "", village or "") or (
        cadre.role == "village" and village is None
    ) or (cadre.role == "township" and township is None):
        audit_ctx(ctx, "denied", area_label(township, village), "范围外")
        raise AreaError(f"“{area_label(township, village)}”不在您的范围（{scope_text(cadre)}）内。")
    return township, village


async def _township_of_village(ctx: Context, village: str) -> str:
    found = list((await ctx.session.execute(
        select(Worker.township).where(Worker.village == village).distinct())).scalars())
    if len(found) == 1:
        return found[0]
    if not found:
        raise AreaError(f"还没有“{village}”的登记人员。如果村名没错，请写成“乡镇/村”，例如：青岩镇/{village}")
    listed = "、".join(sorted(found))
    raise AreaError(f"{listed}都有“{village}”，请写成“乡镇/村”，例如：{sorted(found)[0]}/{village}")


def scoped(cadre: Cadre, township: str | None, village: str | None) -> Any:
    """Workers in the cadre's scope and in the area named."""
    return and_(worker_scope(cadre), area_scope(township, village))


async def contacts(session, worker_ids: list[int]) -> dict[int, str]:
    """Each worker's chat identity (the one used last); workers without one are left out."""
    found: dict[int, str] = {}
    for i in range(0, len(worker_ids), 500):
        rows = await session.execute(
            select(Identity.worker_id, Identity.identity)
            .where(Identity.worker_id.in_(worker_ids[i : i + 500]))
            .order_by(Identity.last_seen, Identity.identity)
        )
        for worker_id, identity in rows:
            found[worker_id] = identity  # the latest wins
    return found


async def todays_checkins(session, day, worker_ids: list[int]) -> dict[int, Checkin]:
    found: dict[int, Checkin] = {}
    for i in range(0, len(worker_ids), 500):
        rows = (await session.execute(select(Checkin).where(
            Checkin.day == day, Checkin.worker_id.in_(worker_ids[i : i + 500]),
            Checkin.superseded.is_(False)).order_by(Checkin.at))).scalars()
        for c in rows:
            found[c.worker_id] = c
    return found


def checkin_text(c: Checkin | None) -> str:
    if c is None:
        return "未打卡"
    parts = [f"{c.temperature:g}℃" if c.temperature is not None else ""]
    symptoms = [s for s in c.symptoms or [] if s != "无"]
    parts.append("、".join(symptoms) if symptoms else "无症状")
    if c.location:
        parts.append(c.location)
    text = " ".join(p for p in parts if p)
    return f"⚠异常：{text}" if c.abnormal else text


# ----- posts (vacancies, training courses) and the people who answer them -----------------------
WHOLE_DISTRICT = frozenset({"district", "bureau"})


async def manages_post(ctx: Context, cadre: Cadre, posted_by: int | None) -> bool:
    """Whether ``cadre`` manages something posted by cadre ``posted_by`` (a vacancy, a training
    course): its poster; the district task force and the employment bureau (everything); a
    township cadre for what anyone of their township posted.  A village cadre: only their own."""
    if cadre.role in WHOLE_DISTRICT or posted_by == cadre.id:
        return True
    if cadre.role == "township" and posted_by is not None:
        poster = await ctx.session.get(Cadre, posted_by)
        return poster is not None and poster.township == cadre.township
    return False


def categories_short(w: Worker) -> str:
    return "、".join(n for flag, n in ((w.poverty, "建档立卡"), (w.relocated, "易地搬迁")) if flag)


def person_line(cadre: Cadre, managing: bool, n: int, w: Worker, status: str, when: str) -> str | None:
    """Person ``n`` of the applicants or trainees of a post, as much as ``cadre`` may see (DESIGN.md:
    personal data only to someone whose scope covers the worker, masked): inside the scope,
    the full name, village, masked phone and category; for the post's manager, a masked name and
    the village — enough to call and record a hire or a completion; otherwise None (to be
    counted, not shown)."""
    if covers(cadre, w.township, w.village):
        phone = mask_phone(w.phone) if w.phone else "无手机"
        extra = categories_short(w)
        return (f"{n}. 编号{w.id} {w.name} {w.township}{w.village} {phone}"
                f"{' ' + extra if extra else ''} {status}（{when}）")
    if managing:
        return (f"{n}. 编号{w.id} {mask_name(w.name)} {w.township}{w.village} {status}"
                "（不在您的范围，详情请找所在村镇）")
    return None


def pick_people(query: str, rows: list[tuple[Any, Worker]]) -> tuple[list[tuple[Any, Worker]], str]:
    """The rows whose worker ``query`` names — 编号12 (or 12), a phone's last 4 digits, or a full
    name — and how the query reads in a reply."""
    q = normalize(query).replace(" ", "")
    numbered = re.fullmatch(r"(?:编号|#|no\.?)(\d{1,9})号?", q, re.I)
    if numbered:
        wid = int(numbered[1])
        return [r for r in rows if r[1].id == wid], f"编号{wid}"
    if re.fullmatch(r"\d{4}", q):
        return [r for r in rows if (r[1].phone or "").endswith(q)], f"手机尾号{q}"
    if q.isdigit():
        wid = int(q)
        return [r for r in rows if r[1].id == wid], f"编号{wid}"
    return [r for r in rows if r[1].name == q], f"“{q}”"


def worker_line(w: Worker, extra: str = "") -> str:
    """“12. 王*明 歪脚村3组 138****5678 …” — masked, for lists."""
    phone = mask_phone(w.phone) if w.phone else "无手机"
    line = f"{w.id}. {mask_name(w.name)} {w.village}{w.group_name or ''} {phone}"
    return f"{line} {extra}".rstrip()


def _date(d) -> str:
    return f"{d.month}月{d.day}日"


def employment_text(w: Worker) -> str:
    bits = [w.status]
    if w.status in ("待返岗", "已返岗", "本地已就业"):
        place = " ".join(x for x in (w.work_area, w.work_city) if x)
        bits += [x for x in (place, w.employer) if x]
        if w.return_date:
            bits.append(f"{_date(w.return_date)}返岗")
        if w.return_mode:
            bits.append(w.return_mode)
    else:
        if w.intent:
            bits.append(w.intent)
        if w.wanted_job:
            bits.append(f"想找{w.wanted_job}")
        if w.wanted_place:
            bits.append(f"在{w.wanted_place}")
        from models.roster import salary_text

        salary = salary_text(w.salary_min, w.salary_max)
        if salary:
            bits.append(f"月薪{salary}")
    return "，".join(bits)


async def record_text(ctx: Context, w: Worker, cadre: Cadre) -> str:
    """One worker's record for a cadre: full name, ID and phone masked."""
    household = await ctx.session.get(Household, w.household_id) if w.household_id else None
    head = household.head_name if household else w.name
    age = ""
    if w.birth_date:
        today = ctx.today
        years = today.year - w.birth_date.year - ((today.month, today.day)
                                                   < (w.birth_date.month, w.birth_date.day))
        age = f"，{years}岁"
    categories = [n for flag, n in ((w.poverty, "建档立卡贫困劳动力"), (w.relocated, "易地扶贫搬迁劳动力"))
                  if flag]
    lines = [
        f"编号{w.id} {w.name}（{w.gender or '性别未知'}{age}）",
        f"身份证：{mask_id(w.id_number) if w.id_number else '（未填）'}",
        f"手机：{mask_phone(w.phone) if w.phone else '（无）'}",
        f"住址：{w.township}{w.village}{w.group_name or ''}",
        "户主：本人" if head == w.name else f"户主：{head}（{w.relation or '关系未填'}）",
        f"人员类别：{'、'.join(categories) or '其他'}",
    ]
    if sees_health(cadre):
        symptoms = "、".join(w.symptoms or []) or "无"
        lines.append(f"健康：{w.health or '未填'}；登记时症状：{symptoms}")
        today = (await todays_checkins(ctx.session, ctx.today, [w.id]))  # type: ignore[list-item]
        lines.append(f"今日打卡：{checkin_text(today.get(w.id))}")  # type: ignore[arg-type]
    if w.difficulty:
        lines.append(f"家庭困难：{w.difficulty}")
    if w.skills:
        lines.append(f"技能：{w.skills}")
    if w.experience:
        lines.append(f"务工经历：{w.experience}")
    lines.append(f"就业：{employment_text(w)}")
    courses = await courses_text(ctx.session, w.id, ctx.services.settings.tz)  # type: ignore[arg-type]
    if courses:
        lines.append(f"培训：{courses}")
    reach = await contacts(ctx.session, [w.id])  # type: ignore[list-item]
    lines.append("微信/QQ：已绑定" if reach else "微信/QQ：未绑定（收不到机器人消息）")
    by = "本人登记"
    if w.entered_by:
        entered = await ctx.session.get(Cadre, w.entered_by)
        by = f"{entered.name}代为登记" if entered else "工作人员代为登记"
    when = w.registered_at.astimezone(ctx.services.settings.tz)
    lines.append(f"登记：{when:%Y-%m-%d} {by}")
    return "\n".join(lines)


async def start_dialog(ctx: Context, name: str, data: dict[str, Any], intro: str,
                       seed: dict[str, Any]) -> None:
    """Start dialog ``name`` for the sender with some answers already in place (the cadre's
    scope; a village cadre's own township and village, kept by replying “不变”)."""
    engine = ctx.services.engine
    await engine.start(ctx, ctx.identity, name, data=data, intro=intro)
    state = await engine.load(ctx, ctx.identity)
    assert state is not None
    state.answers = {**state.answers, **seed}
    engine.save(ctx, state)


# A record's number as staff type it: "12", "编号12", "第12个", "12号".
NUMBER = r"(?:编号|第)?\s*(\d{1,9})\s*[号个]?"


async def numbered_arg(ctx: Context, args: str, noun: str, usage: str,
                       load: Callable[[int], Awaitable[Any]], listing: str) -> tuple[Any, str]:
    """The record (a 岗位, a 培训…) numbered at the start of ``args``, found by ``load(number)``,
    and the rest of ``args``; replies with the usage or "没有编号为…" (pointing to ``listing``)
    when there is none."""
    match = re.match(r"^\s*(?:" + noun + r")?" + NUMBER + r"\s*(.*)$", normalize(args), re.S)
    if not match:
        ctx.reply(f"用法：{usage}（编号可以发 /{noun} 看到）")
        return None, ""
    found = await load(int(match[1]))
    if found is None:
        ctx.reply(f"没有编号为{match[1]}的{noun}。发 /{noun} 看看{listing}。")
        return None, ""
    return found, match[2].strip()


def not_yours(noun: str, number: int | None, what: str) -> str:
    return (f"{noun}{number}不是您发布的，不能{what}。只有发布人、发布人所在乡镇和区里的工作人员"
            "可以。")
