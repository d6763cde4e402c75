"""/名单: paged, masked lists of the workers (or households) in a cadre's scope.

``/名单 未打卡 [村] [页]``; “下一页” (or ``/名单 下一页``) shows the next page of the last list,
remembered through the audit log every list is written to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select

from handlers.context import Context
from handlers.keywords import reader
from handlers.permissions import cadre_of
from handlers.staff import (
    AreaError,
    area_label,
    checkin_text,
    contacts,
    resolve_area,
    scoped,
    sees_health,
    todays_checkins,
    worker_line,
)
from handlers.views import mask_name
from models.audit import audit_ctx, last_action
from models.roster import EMPLOYED
from models.tables import Application, Cadre, Checkin, Household, Vacancy, Worker

PAGE_SIZE = 20
NEXT_WORDS = ("下一页", "下页", "下一頁", "后一页", "再来一页", "继续看")


@dataclass(frozen=True)
class Category:
    name: str
    aliases: tuple[str, ...]
    what: str  # a line in the usage
    health: bool = False  # shows health data: not for the employment bureau


CATEGORIES = (
    Category("未返岗", ("待返岗", "没返岗", "未返"), "已有岗位、还没返岗的"),
    Category("待就业", ("未就业", "无岗位", "暂无岗位", "失业", "没工作"), "暂无岗位、想找工作的"),
    Category("未打卡", ("没打卡", "未排查", "今日未打卡"), "今天还没打卡的", health=True),
    Category("异常", ("体温异常", "健康异常", "打卡异常", "发热"), "今天打卡体温或症状异常的", health=True),
    Category("零就业户", ("零就业", "零就业家庭", "零就业户家庭"), "家里没有一个人就业的户"),
    Category("贫困劳动力", ("建档立卡", "贫困", "贫困户", "建档立卡贫困劳动力"), "建档立卡贫困劳动力"),
    Category("易地搬迁", ("搬迁", "易地扶贫搬迁", "易地扶贫搬迁劳动力", "搬迁户"), "易地扶贫搬迁劳动力"),
    Category("公益岗", ("公益性岗位", "公益岗位"), "已安排到公益性岗位的"),
)
_BY_WORD = {w: c for c in CATEGORIES for w in (c.name, *c.aliases)}


def usage(cadre: Cadre) -> str:
    lines = ["用法：/名单 类别 [村] [页码]，例如：/名单 待就业 歪脚村、/名单 未返岗 2。类别："]
    lines += [f"· {c.name}：{c.what}" for c in CATEGORIES if sees_health(cadre) or not c.health]
    return "\n".join(lines)


def _today_checkin(day, abnormal: bool | None = None) -> Any:
    cond = [Checkin.worker_id == Worker.id, Checkin.day == day, Checkin.superseded.is_(False)]
    if abnormal:
        cond.append(Checkin.abnormal.is_(True))
    return exists().where(and_(*cond))


def worker_condition(category: str, day) -> Any:
    if category == "未返岗":
        return Worker.status == "待返岗"
    if category == "待就业":
        return and_(Worker.status == "暂无岗位",
                    or_(Worker.intent.is_(None), Worker.intent != "暂不就业"))
    if category == "未打卡":
        return ~_today_checkin(day)
    if category == "异常":
        return _today_checkin(day, abnormal=True)
    if category == "贫困劳动力":
        return Worker.poverty.is_(True)
    if category == "易地搬迁":
        return Worker.relocated.is_(True)
    if category == "公益岗":
        return exists().where(and_(Application.worker_id == Worker.id, Application.status == "hired",
                                   Application.vacancy_id == Vacancy.id,
                                   Vacancy.public_welfare.is_(True)))
    raise ValueError(category)


def _order(category: str) -> tuple:
    if category == "未返岗":
        return (Worker.return_date, Worker.township, Worker.village, Worker.id)
    return (Worker.township, Worker.village, Worker.id)


async def _extras(ctx: Context, category: str, workers: list[Worker]) -> dict[int, str]:
    ids = [w.id for w in workers]  # type: ignore[misc]
    if category in ("未打卡",):
        reach = await contacts(ctx.session, ids)
        return {w.id: ("" if w.id in reach else "（未绑定微信/QQ，需电话联系）") for w in workers}  # type: ignore[misc]
    if category == "异常":
        today = await todays_checkins(ctx.session, ctx.today, ids)
        return {i: checkin_text(today.get(i)) for i in ids}
    if category == "公益岗":
        rows = await ctx.session.execute(
            select(Application.worker_id, Vacancy.employer, Vacancy.title)
            .join(Vacancy, Vacancy.id == Application.vacancy_id)
            .where(Application.worker_id.in_(ids), Application.status == "hired",
                   Vacancy.public_welfare.is_(True)))
        return {wid: f"{employer}{title}" for wid, employer, title in rows}
    out: dict[int, str] = {}
    for w in workers:
        if category == "未返岗":
            when = f"{w.return_date.month}月{w.return_date.day}日" if w.return_date else "日期未定"
            out[w.id] = f"{when} 去{w.work_city or w.work_area or '?'}"  # type: ignore[index]
        elif category == "待就业":
            out[w.id] = "，".join(x for x in (w.intent, w.wanted_job) if x)  # type: ignore[index]
        else:
            out[w.id] = w.status  # type: ignore[index]
    return out


async def _households_page(ctx: Context, where: Any, page: int) -> tuple[int, list[str]]:
    employed = exists().where(and_(Worker.household_id == Household.id, Worker.status.in_(EMPLOYED)))
    in_scope = exists().where(and_(Worker.household_id == Household.id, where))
    cond = and_(in_scope, ~employed)
    total = (await ctx.session.execute(select(func.count()).select_from(Household).where(cond))).scalar_one()
    households = list((await ctx.session.execute(
        select(Household).where(cond).order_by(Household.township, Household.village, Household.id)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))).scalars())
    members: dict[int, list[Worker]] = {}
    if households:
        rows = (await ctx.session.execute(select(Worker).where(
            Worker.household_id.in_([h.id for h in households])).order_by(Worker.id))).scalars()
        for w in rows:
            members.setdefault(w.household_id, []).append(w)  # type: ignore[arg-type]
    lines = []
    for h in households:
        people = "、".join(f"{mask_name(w.name)}(编号{w.id} {w.status})" for w in members.get(h.id, []))  # type: ignore[arg-type]
        lines.append(f"户主{mask_name(h.head_name)} {h.village}：{people}")
    return total, lines


async def show_list(ctx: Context, cadre: Cadre, category: Category, township: str | None,
                    village: str | None, page: int) -> None:
    where = scoped(cadre, township, village)
    if category.name == "零就业户":
        total, lines = await _households_page(ctx, where, page)
        unit = "户"
    else:
        cond = and_(where, worker_condition(category.name, ctx.today))
        total = (await ctx.session.execute(
            select(func.count()).select_from(Worker).where(cond))).scalar_one()
        workers = list((await ctx.session.execute(
            select(Worker).where(cond).order_by(*_order(category.name))
            .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))).scalars())
        extras = await _extras(ctx, category.name, workers)
        lines = [worker_line(w, extras.get(w.id, "")) for w in workers]  # type: ignore[arg-type]
        unit = "人"
    area = area_label(township, village)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    audit_ctx(ctx, "list", area, f"类别={category.name};乡镇={township or ''};村={village or ''};页={page}")
    day = f"{ctx.today.month}月{ctx.today.day}日"
    if total == 0:
        ctx.reply(f"【{category.name}】{area}（{day}）：没有。")
        return
    if page > pages:
        ctx.reply(f"【{category.name}】{area}一共只有 {pages} 页（{total}{unit}）。")
        return
    head = f"【{category.name}】{area}（{day}）：共 {total} {unit}"
    if pages > 1:
        head += f"，第 {page}/{pages} 页"
    foot = []
    if page < pages:
        foot.append(f"回复“下一页”或 /名单 {category.name} {page + 1} 看下一页")
    if category.name != "零就业户":
        foot.append("/查 编号 看某人详情")
    else:
        foot.append("/查 编号 看成员详情")
    ctx.reply("\n".join([head, *lines, "", "；".join(foot) + "。"]))


def parse_args(args: str) -> tuple[Category | None, str, int | None, bool]:
    """(category, area text, page, next page?) from “异常 歪脚村 2”."""
    words = args.split()
    category = None
    page: int | None = None
    next_page = False
    rest: list[str] = []
    for i, word in enumerate(words):
        bare = word.strip("，,。 ")
        if i == 0 and bare in _BY_WORD:
            category = _BY_WORD[bare]
        elif bare in NEXT_WORDS:
            next_page = True
        elif bare.isdigit() and len(bare) <= 4 and i == len(words) - 1:
            page = int(bare)
        elif bare.startswith("第") and bare.endswith("页") and bare[1:-1].isdigit():
            page = int(bare[1:-1])
        else:
            rest.append(bare)
    return category, " ".join(rest), page, next_page


async def list_command(ctx: Context, args: str, cadre: Cadre) -> None:
    category, area_text, page, next_page = parse_args(args)
    if next_page and category is None:
        if not await next_page_of_last(ctx, cadre):
            ctx.reply("还没有看过名单。" + usage(cadre))
        return
    if category is None:
        ctx.reply(usage(cadre))
        return
    if category.health and not sees_health(cadre):
        ctx.reply(f"“{category.name}”名单涉及健康信息，不在区人社局/就业局的权限内。")
        return
    try:
        township, village = await resolve_area(ctx, cadre, area_text)
    except AreaError as exc:
        ctx.reply(str(exc))
        return
    await show_list(ctx, cadre, category, township, village, max(1, page or 1))


def _detail(detail: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in detail.split(";") if "=" in part)


async def next_page_of_last(ctx: Context, cadre: Cadre) -> bool:
    last = await last_action(ctx.session, ctx.identity, "list")
    if last is None:
        return False
    d = _detail(last.detail)
    category = _BY_WORD.get(d.get("类别", ""))
    if category is None or (category.health and not sees_health(cadre)):
        return False
    township, village = d.get("乡镇") or None, d.get("村") or None
    from handlers.permissions import covers

    if not covers(cadre, township or "", village or ""):
        return False  # the cadre's scope changed since
    await show_list(ctx, cadre, category, township, village, int(d.get("页", "1")) + 1)
    return True


@reader(10)
async def next_page_reader(ctx: Context, text: str) -> bool:
    """“下一页” from a cadre who has looked at a list; anyone else's “下一页” is left alone."""
    if text.strip("。.!！ ") not in NEXT_WORDS:
        return False
    cadre = await cadre_of(ctx)
    if cadre is None:
        return False
    return await next_page_of_last(ctx, cadre)

