"""点对点 chartered buses: a cadre publishes one (the /包车 dialog), the workers who said they
will return to that place around that date are invited, they reply “报名包车 <编号>”, and the
cadre sees the passengers with their health.

The seat limit holds however many sign up at the same moment: the bus row is locked
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the message's transaction already holds the
database's write lock) and the seat is taken by one conditional update,
``UPDATE bus SET taken = taken + 1 WHERE id = :id AND taken < seats``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import and_, delete, select, update

from dialogs.parsing.phone import mask_phone
from handlers.context import Context
from handlers.keywords import keyword
from handlers.staff import checkin_text, contacts, sees_health, start_dialog, todays_checkins
from handlers.views import mask_name
from models.audit import audit_ctx
from models.tables import Bus, BusSeat, Cadre, Worker
from models.workers import worker_of

AROUND_DAYS = 3  # a worker returning within this many days of the bus is invited
_PLACE_NOISE = re.compile(r"省|市|自治区|特别行政区|壮族|回族|维吾尔")


def _place(text: str) -> str:
    return _PLACE_NOISE.sub("", text or "").replace(" ", "")


def same_place(destination: str, city: str | None) -> bool:
    """广东东莞 ~ 东莞市 ~ 广东省东莞市长安镇: one names the other."""
    a, b = _place(destination), _place(city or "")
    if len(a) < 2 or len(b) < 2:
        return False
    return a in b or b in a


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def bus_text(bus: Bus) -> str:
    escort = f"，带队：{bus.escort}" if bus.escort else ""
    return (f"包车{bus.id}号：{_day(bus.day)}开往{bus.destination}，{bus.meeting_point}集合，"
            f"共{bus.seats}座{escort}")


def can_manage(cadre: Cadre, bus: Bus) -> bool:
    if cadre.role in ("district", "bureau"):
        return True
    return cadre.role == "township" and (bus.township == cadre.township or bus.organiser == cadre.id)


async def publish_bus(ctx: Context, cadre: Cadre, answers: dict) -> str:
    """Save the bus and invite the workers going that way around that day."""
    now = ctx.services.clock.utcnow()
    bus = Bus(destination=answers["destination"], day=date.fromisoformat(answers["day"]),
              seats=answers["seats"], meeting_point=answers["meeting_point"],
              escort=answers.get("escort"), organiser=cadre.id, created_at=now,
              township=cadre.township if cadre.role == "township" else None)
    ctx.session.add(bus)
    await ctx.session.flush()
    cond = [Worker.status == "待返岗", Worker.return_date.is_not(None),
            Worker.return_date.between(bus.day - timedelta(days=AROUND_DAYS),
                                       bus.day + timedelta(days=AROUND_DAYS))]
    if bus.township:
        cond.append(Worker.township == bus.township)
    candidates = [w for w in (await ctx.session.execute(select(Worker).where(and_(*cond))))
                  .scalars() if same_place(bus.destination, w.work_city)]
    reach = await contacts(ctx.session, [w.id for w in candidates])  # type: ignore[misc]
    for w in candidates:
        identity = reach.get(w.id)  # type: ignore[arg-type]
        if identity:
            ctx.tell(identity, f"{w.name}，您好！政府组织了点对点包车送务工人员返岗：\n"
                               f"{bus_text(bus)}。\n要坐这趟车请回复“报名包车 {bus.id}”，"
                               "座位有限，先到先得。", bulk=True)
    audit_ctx(ctx, "bus.create", bus.id, f"邀请{len(reach)}人")
    lines = [f"已发布{bus_text(bus)}。"]
    if candidates:
        lines.append(f"已通知 {len(reach)} 位打算{_day(bus.day)}前后返回{bus.destination}的务工人员，"
                     f"他们回复“报名包车 {bus.id}”即可报名，满{bus.seats}座为止。")
        if len(candidates) > len(reach):
            lines.append(f"另有 {len(candidates) - len(reach)} 人没有绑定微信/QQ，请电话通知"
                         f"（/名单 未返岗 可查）。")
    else:
        lines.append("暂时没有登记了这几天返回那里的务工人员；务工人员也可以直接回复"
                     f"“报名包车 {bus.id}”报名。")
    lines.append(f"发 /包车 {bus.id} 查看报名名单。")
    return "\n".join(lines)


async def passengers_text(ctx: Context, bus: Bus, health: bool = True) -> str:
    """The passenger list; ``health``: with health status and today's check-in (not for the
    employment bureau, which sees employment data only)."""
    rows = list((await ctx.session.execute(
        select(Worker, BusSeat.at).join(BusSeat, BusSeat.worker_id == Worker.id)
        .where(BusSeat.bus_id == bus.id).order_by(BusSeat.at, Worker.id))).all())
    today = await todays_checkins(ctx.session, ctx.today, [w.id for w, _ in rows])  # type: ignore[misc]
    lines = [f"{bus_text(bus)}。已报名 {bus.taken}/{bus.seats} 人"
             + ("（已满）" if bus.taken >= bus.seats else "") + "："]
    for i, (w, _) in enumerate(rows, 1):
        phone = mask_phone(w.phone) if w.phone else "无手机"
        line = f"{i}. {mask_name(w.name)}（编号{w.id}）{w.township}{w.village} {phone}"
        if health:
            line += (f" {w.health or '健康未填'}；"
                     f"今日：{checkin_text(today.get(w.id))}")  # type: ignore[arg-type]
        lines.append(line)
    if not rows:
        lines.append("还没有人报名。")
    audit_ctx(ctx, "bus.passengers", bus.id, f"{len(rows)}人")
    return "\n".join(lines)


async def list_buses(ctx: Context, cadre: Cadre) -> str:
    buses = [b for b in (await ctx.session.execute(
        select(Bus).where(Bus.day >= ctx.today).order_by(Bus.day, Bus.id))).scalars()
        if can_manage(cadre, b)]
    if not buses:
        return "没有待发的包车。发 /包车 组织一趟。"
    lines = ["待发的包车："]
    lines += [f"· {bus_text(b)}，已报名{b.taken}/{b.seats}" for b in buses]
    lines.append("发 /包车 编号 查看报名名单。")
    return "\n".join(lines)


async def bus_command(ctx: Context, args: str, cadre: Cadre) -> None:
    word = args.strip()
    if word in ("列表", "全部", "list"):
        ctx.reply(await list_buses(ctx, cadre))
        return
    number = re.fullmatch(r"(?:编号)?\s*(\d{1,9})(?:号)?", word)
    if number:
        if ctx.inbound is not None and not ctx.inbound.is_private:
            ctx.reply("报名名单涉及个人信息，请私聊我发 /包车 编号。")
            return
        bus = await ctx.session.get(Bus, int(number[1]))
        if bus is None or not can_manage(cadre, bus):
            ctx.reply(f"没有您能查看的包车{number[1]}号。发 /包车 列表 看看有哪些。")
            return
        ctx.reply(await passengers_text(ctx, bus, health=sees_health(cadre)))
        return
    if word:
        ctx.reply("用法：/包车 组织一趟包车；/包车 列表；/包车 编号 查看报名名单。")
        return
    from dialogs.workbench_forms import SCOPE

    if ctx.inbound is not None and not ctx.inbound.is_private:
        ctx.reply("包车信息请私聊我填写，我已经私聊您了。")
    await start_dialog(ctx, "bus_charter", {"cadre_id": cadre.id},
                       "组织点对点包车：填完后，打算这几天去那里的务工人员会收到报名通知。",
                       {SCOPE: {"township": cadre.township}})


# ----- the worker's side --------------------------------------------------------------------------
async def _locked_bus(ctx: Context, bus_id: int) -> Bus | None:
    """The bus row, locked until this message's transaction ends (PostgreSQL; SQLite ignores
    FOR UPDATE, its transaction already holds the write lock)."""
    return (await ctx.session.execute(
        select(Bus).where(Bus.id == bus_id).with_for_update()
        .execution_options(populate_existing=True))).scalar()


@keyword(r"(?:报名包车|包车报名|我要坐包车|坐包车)\s*(?:编号)?\s*(\d{1,9})\s*号?",
         help="· 收到包车通知后回复“报名包车 编号”：报名坐点对点包车")
async def sign_up(ctx: Context, match: re.Match[str]) -> None:
    worker = await worker_of(ctx, ctx.identity)
    if worker is None:
        ctx.reply("报名包车要先登记。回复“登记”开始，登记好再回复“报名包车 编号”。")
        return
    bus = await _locked_bus(ctx, int(match[1]))
    if bus is None or bus.status != "open":
        ctx.reply(f"没有找到包车{match[1]}号，或者已经停止报名。")
        return
    if bus.day < ctx.today:
        ctx.reply(f"包车{bus.id}号已经在{_day(bus.day)}发车了。")
        return
    if bus.township and worker.township != bus.township:
        ctx.reply(f"包车{bus.id}号是{bus.township}组织的，只接{bus.township}的务工人员。"
                  "请联系您所在乡镇问问有没有包车。")
        return
    seat = await ctx.session.get(BusSeat, (bus.id, worker.id))
    if seat is not None:
        ctx.reply(f"您已经报名了{bus_text(bus)}。不坐了请回复“取消包车 {bus.id}”。")
        return
    taken = await ctx.session.execute(
        update(Bus).where(Bus.id == bus.id, Bus.taken < Bus.seats, Bus.status == "open")
        .values(taken=Bus.taken + 1).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        ctx.reply(f"抱歉，包车{bus.id}号的{bus.seats}个座位已经报满了。可以回复“找工作”看看本地岗位，"
                  "或联系村里问问其他包车。")
        return
    ctx.session.add(BusSeat(bus_id=bus.id, worker_id=worker.id, at=ctx.services.clock.utcnow()))
    await ctx.session.flush()
    await ctx.session.refresh(bus)
    text = (f"报名成功！{bus_text(bus)}。您是第{bus.taken}位。\n"
            f"请按时到{bus.meeting_point}集合，带好身份证，出发前每天打卡。不坐了请回复“取消包车 {bus.id}”。")
    today = (await todays_checkins(ctx.session, ctx.today, [worker.id])).get(worker.id)  # type: ignore[list-item]
    if today is not None and today.abnormal:
        text += "\n您今天打卡有异常，出发前请先到定点医院检查，并告诉带队人。"
    ctx.reply(text)


@keyword(r"(?:取消包车|不坐包车|退出包车|包车取消)\s*(?:编号)?\s*(\d{1,9})\s*号?")
async def cancel_seat(ctx: Context, match: re.Match[str]) -> None:
    worker = await worker_of(ctx, ctx.identity)
    bus = await _locked_bus(ctx, int(match[1])) if worker is not None else None
    if worker is None or bus is None:
        ctx.reply(f"您没有报名包车{match[1]}号。")
        return
    gone = await ctx.session.execute(
        delete(BusSeat).where(BusSeat.bus_id == bus.id, BusSeat.worker_id == worker.id))
    if gone.rowcount != 1:
        ctx.reply(f"您没有报名包车{bus.id}号。")
        return
    await ctx.session.execute(
        update(Bus).where(Bus.id == bus.id, Bus.taken > 0).values(taken=Bus.taken - 1)
        .execution_options(synchronize_session=False))
    ctx.reply(f"已取消包车{bus.id}号的报名，座位会让给其他人。")
