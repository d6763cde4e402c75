"""Safe departure (安全出行, §三(五)) in chat: the health declaration before leaving and what
follows from it, and the masks staff hand out.

* **健康申报** — the day before a departure the bot sends the prevention handbook and begins the
  declaration (scheduler/departure.py); “健康申报” begins it again (to correct it, or when the
  worker was in the middle of another form).  Normal → have a safe trip.  Abnormal (37.3 ℃ or
  more, 发热/咳嗽/气促/乏力 in the last 14 days, or contact with a confirmed or suspected case) →
  the worker is told kindly not to travel yet and where to be tested (``DESIGNATED_HOSPITALS``);
  every cadre covering the worker gets a private alert with the details; the organiser of the
  worker's bus, if another person, is told that the passenger will not travel — masked name, no
  health details.  Declaring again replaces the declaration; a correction to normal is passed
  on to the same people.  Nothing of the declaration goes to a group.
* **It is also the day's check-in** (``handlers.checkin.checkin_from_declaration``) when the
  worker has not checked in that day: the reminder skips them, 打卡记录 and the tally count it.
  Abnormal by temperature or symptoms, it is an abnormal check-in: the worker and the cadres
  have heard of it from the declaration, so the check-in adds only what they have not — the
  task-force group's one masked line, once.  A check-in the worker sent is left alone.
* **/发口罩 人员 数量** — staff (private chat, within their scope) record masks handed to a
  worker, found as ``/查`` finds them; counted per township in the tally (发放口罩), audited.
"""

from __future__ import annotations

import re
from datetime import date

from dialogs.checkin_text import SYMPTOMS, CheckinReading
from dialogs.departure_declaration import (
    is_abnormal,
    reasons,
    show_symptoms,
    show_temperature,
)
from dialogs.parsing.phone import mask_phone
from dialogs.parsing.textnorm import cn_number, normalize
from handlers.buses import AROUND_DAYS
from handlers.checkin import checkin_from_declaration, day_text, hospitals_text
from handlers.commands import command
from handlers.context import Context
from handlers.keywords import keyword
from handlers.permissions import scope_text
from handlers.staff import READERS, worker_line
from handlers.views import mask_name
from handlers.workbench import search_workers
from models.audit import audit_ctx
from models.departure import (
    DECLARATION,
    MAX_MASKS,
    Departure,
    bus_on,
    next_departure,
    record_masks,
    save_declaration,
)
from models.tables import Bus, Cadre, DialogState, Worker
from models.workers import cadres_covering, worker_of

DECLARE_AHEAD = 3  # “健康申报” is taken for a departure up to this many days ahead
QUESTIONS = 4


def when_text(day: date, today: date) -> str:
    """今天（2月15日） / 明天（2月15日） / 2月15日."""
    names = {0: "今天", 1: "明天", 2: "后天"}
    name = names.get((day - today).days)
    return f"{name}（{day_text(day)}）" if name else day_text(day)


async def start_declaration(ctx: Context, identity: str, worker: Worker, departure: Departure,
                            intro: str) -> None:
    """Begin the declaration for ``identity`` (replacing any dialog state it has)."""
    mode = "包车点对点" if departure.bus is not None else worker.return_mode
    data = {"worker_id": worker.id, "day": departure.day.isoformat(),
            "bus_id": departure.bus.id if departure.bus is not None else None}
    await ctx.services.engine.start(ctx, identity, DECLARATION, data=data, intro=intro,
                                    answers={"travel_mode": mode} if mode else None)


def declaration_intro(departure: Departure, today: date) -> str:
    return (f"出发前请做个健康申报：您{when_text(departure.day, today)}出发，一共{QUESTIONS}个问题，"
            "照实回答就行。")


# ----- the worker's side ---------------------------------------------------------------------------
@keyword(r"(?:出发前?|返岗)?(?:健康申报|申报健康)|出发申报",
         help="· 出发前一天会收到防护须知和健康申报；回复“健康申报”可以重新申报", anywhere=True)
async def declare_keyword(ctx: Context, match: re.Match[str]) -> None:
    engine = ctx.services.engine
    state: DialogState | None = await engine.load(ctx, ctx.identity)
    if state is not None and not state.paused and state.dialog != DECLARATION:
        title = engine.dialogs[state.dialog].title
        ctx.reply(f"您的{title}还没填完。请先填完，或者回复“取消”先停下，再回复“健康申报”。")
        return
    worker = await worker_of(ctx, ctx.identity)
    if worker is None:
        ctx.reply("健康申报是给登记了返岗时间的务工人员出发前用的。您还没有登记，回复“登记”开始。")
        return
    today = ctx.today
    departure = await next_departure(ctx.session, worker, today, DECLARE_AHEAD, AROUND_DAYS)
    if departure is None:
        known = (f"您登记的返岗时间是{day_text(worker.return_date)}。"
                 if worker.return_date and worker.status == "待返岗" else "")
        ctx.reply(f"没有查到您这几天要出发。{known}出发前一天我会发防护须知，请您那时再申报。"
                  "返岗时间变了，请回复“登记”更新，或者告诉村干部。")
        return
    intro = declaration_intro(departure, today)
    if state is not None and state.dialog != DECLARATION:  # paused: the worker stopped it
        title = engine.dialogs[state.dialog].title
        intro += f"（没填完的{title}先放下了，已经登记好的信息不受影响。）"
    await start_declaration(ctx, ctx.identity, worker, departure, intro)


def _declared_text(answers: dict) -> str:
    return (f"今天体温{show_temperature(answers.get('temperature'))}；"
            f"最近14天不舒服：{show_symptoms(answers.get('symptoms') or [])}；"
            f"接触确诊或疑似病人：{'有' if answers.get('contact') else '没有'}")


async def declared(ctx: Context, answers: dict, state: DialogState) -> str:
    """The declaration is confirmed: store it, answer the worker, tell whoever must know."""
    worker = await ctx.session.get(Worker, state.data.get("worker_id") or 0)
    linked = await worker_of(ctx, state.identity)
    if worker is None or linked is None or linked.id != worker.id:
        return "没有找到您的登记，这次申报没有保存。请回复“登记”先登记。"
    day = date.fromisoformat(state.data["day"])
    bus = await bus_on(ctx.session, worker.id, day)  # type: ignore[arg-type]
    abnormal = is_abnormal(answers)
    temperature = answers.get("temperature")
    _, before = await save_declaration(ctx.session, worker.id, day, {  # type: ignore[arg-type]
        "bus_id": bus.id if bus is not None else None,
        "temperature": temperature if isinstance(temperature, (int, float)) else None,
        "symptoms": list(answers.get("symptoms") or []),
        "contact": bool(answers.get("contact")),
        "travel_mode": answers.get("travel_mode"),
        "abnormal": abnormal,
    }, ctx.services.clock.utcnow())
    if abnormal:
        await _alert(ctx, worker, day, bus, answers, update=bool(before))
    elif before:  # was abnormal, corrected
        await _corrected(ctx, worker, day, bus)
    counted = await checkin_from_declaration(ctx, worker, _as_checkin(answers),
                                             _declared_text(answers))
    also = f"\n这次申报也算作您今天（{day_text(ctx.today)}）的健康打卡。" if counted else ""
    if abnormal:
        return _stay_home(ctx, answers, bus) + also
    escort = "或带队人" if bus is not None else ""
    return (f"申报好了，谢谢！您身体情况正常，可以按计划{when_text(day, ctx.today)}出发。\n"
            f"路上全程戴好口罩、勤洗手、和别人保持距离，保管好车票；路上不舒服马上告诉乘务员{escort}。"
            f"到了以后每天照常打卡，说一声“已到岗”。一路平安！{also}")


def _as_checkin(answers: dict) -> CheckinReading:
    """The declaration as the day's check-in: today's temperature (none when not measured) and
    the symptoms of the last 14 days — a cough that is better now still counts, as it does for
    the declaration.  Contact with a case is no check-in item (the cadres have the declaration)."""
    temperature = answers.get("temperature")
    order = {name: i for i, name in enumerate(SYMPTOMS)}
    symptoms = sorted(answers.get("symptoms") or [], key=lambda s: order.get(s, len(order)))
    return CheckinReading(temperature=temperature if isinstance(temperature, (int, float)) else None,
                          symptoms=tuple(symptoms), all_normal=not symptoms)


def _stay_home(ctx: Context, answers: dict, bus: Bus | None) -> str:
    lines = [
        f"谢谢您如实申报。您{'，'.join(reasons(answers))}，为了您和家人、工友的健康，"
        "请先不要出发，暂缓返岗：",
        "1. 在家休息，少和家人近距离接触，出门一定戴好口罩；",
        "2. 尽快到定点医院检查（做核酸检测）：",
        hospitals_text(ctx.services.settings),
        "3. 检查没问题、身体好了，再回复“健康申报”重新申报，就可以出发。",
    ]
    if bus is not None:
        lines.append(f"您报名的包车{bus.id}号这次先不要坐，我已经告诉组织包车的工作人员。")
    lines.append("村干部会和您联系。工作的事不用急，需要的话可以请村干部帮您和单位说明情况。")
    return "\n".join(lines)


def _who(worker: Worker) -> str:
    phone = mask_phone(worker.phone) if worker.phone else "无手机"
    return (f"{worker.township}{worker.village}{worker.group_name or ''} {worker.name}"
            f"（编号{worker.id}，{phone}）")


def _trip(day: date, bus: Bus | None) -> str:
    by_bus = f"坐包车{bus.id}号（开往{bus.destination}）" if bus is not None else ""
    return f"{day_text(day)}{by_bus}出发返岗"


async def _people(ctx: Context, worker: Worker, bus: Bus | None) -> tuple[list[Cadre], Cadre | None]:
    """The cadres covering the worker, and the bus's organiser when not one of them."""
    cadres = [c for c in await cadres_covering(ctx.session, worker) if c.identity != ctx.identity]
    organiser = await ctx.session.get(Cadre, bus.organiser) if bus and bus.organiser else None
    if organiser is not None and (not organiser.active or organiser.identity == ctx.identity
                                  or organiser.id in {c.id for c in cadres}):
        organiser = None
    return cadres, organiser


async def _alert(ctx: Context, worker: Worker, day: date, bus: Bus | None, answers: dict,
                 update: bool) -> None:
    cadres, organiser = await _people(ctx, worker, bus)
    title = "【出发前健康申报异常·更新】" if update else "【出发前健康申报异常】"
    text = (f"{title}{_who(worker)}计划{_trip(day, bus)}。\n申报：{_declared_text(answers)}。\n"
            "已请本人暂缓出行、到定点医院检查，请尽快联系本人。")
    for cadre in cadres:
        ctx.tell(cadre.identity, text)
    if organiser is not None and bus is not None:
        ctx.tell(organiser.identity,
                 f"【包车乘客暂缓出行】包车{bus.id}号（{day_text(bus.day)}开往{bus.destination}）的乘客 "
                 f"{mask_name(worker.name)}（编号{worker.id}，{worker.township}{worker.village}）"
                 "出发前健康申报有异常，已请本人暂缓出行、先到定点医院检查。座位是否保留，请和所在村联系。")


async def _corrected(ctx: Context, worker: Worker, day: date, bus: Bus | None) -> None:
    cadres, organiser = await _people(ctx, worker, bus)
    for cadre in cadres:
        ctx.tell(cadre.identity, f"【出发前健康申报更正】{_who(worker)}重新申报，已无异常，"
                                 f"可以按计划{_trip(day, bus)}。")
    if organiser is not None and bus is not None:
        ctx.tell(organiser.identity, f"【包车乘客可以出行】包车{bus.id}号的乘客 {mask_name(worker.name)}"
                                     f"（编号{worker.id}）重新申报无异常，可以按计划乘车。")


# ----- /发口罩 -------------------------------------------------------------------------------------
MASK_USAGE = ("用法：/发口罩 人员 数量。人员写编号、姓名或手机尾号（4位），例如：/发口罩 编号12 10，"
              "/发口罩 王小明 5")
_UNIT = re.compile(r"(?:个|只|片|枚)$")
_GLUED = re.compile(r"(?P<who>[^\d\s]+?)(?P<n>\d+|[一二两三四五六七八九十百]+)(?:个|只|片|枚)")


def _count(word: str) -> int | None:
    return cn_number(_UNIT.sub("", word))


def mask_args(text: str) -> tuple[str, int | None]:
    """``编号12 10`` → ("编号12", 10); ``王小明10个`` → ("王小明", 10); ``王小明`` → ("王小明", None)."""
    t = normalize(text)
    parts = t.split(" ")
    if len(parts) >= 2 and _count(parts[-1]) is not None:
        return " ".join(parts[:-1]), _count(parts[-1])
    glued = _GLUED.fullmatch(t)
    if glued and glued["who"] not in ("编号", "#"):
        return glued["who"], cn_number(glued["n"])
    return t, None


@command("发口罩", "masks", summary="记录发给务工人员的口罩（计入日报）", usage="/发口罩 人员 数量",
         roles=READERS, private_only=True)
async def masks_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    if not args.strip():
        ctx.reply(MASK_USAGE)
        return
    who, count = mask_args(args)
    if count is None:
        ctx.reply(f"请写上发了多少个口罩，例如：/发口罩 {who[:20]} 10")
        return
    if not 1 <= count <= MAX_MASKS:
        ctx.reply(f"口罩数量请写 1 到 {MAX_MASKS} 之间的数字，例如：/发口罩 {who[:20]} 10")
        return
    found, what = await search_workers(ctx, cadre, who)
    if not found:
        audit_ctx(ctx, "worker.search", "", f"/发口罩 {who}：无结果")
        ctx.reply(f"在您的范围（{scope_text(cadre)}）内没有找到{what}，没有记录。{MASK_USAGE}")
        return
    if len(found) > 1:
        audit_ctx(ctx, "worker.search", "", f"/发口罩 {who}：{len(found)}人")
        lines = [f"找到{what}多位，请用编号再发一次，例如：/发口罩 编号{found[0].id} {count}"]
        lines += [worker_line(w) for w in found[:10]]
        ctx.reply("\n".join(lines))
        return
    worker = found[0]
    total = await record_masks(ctx.session, worker, count, cadre.id, ctx.services.clock.utcnow())
    audit_ctx(ctx, "mask.handout", worker.id, f"{count}个")  # type: ignore[arg-type]
    ctx.reply(f"已记录：编号{worker.id} {worker.name}（{worker.village}）领口罩 {count} 个，"
              f"一共领了 {total} 个。发放数计入日报和 /统计。")

