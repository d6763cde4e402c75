"""The cadres' workbench: every staff command, with who may use it and where.

| command | roles | where |
| --- | --- | --- |
| /名单 类别 [村] [页] | district, bureau*, township, village | private |
| /查 姓名/手机尾号/编号 | district, bureau*, township, village | private |
| /登记, /修改 编号 | district, township, village | private |
| /广播 内容 | district, township, village | anywhere (only a count is shown) |
| /导出 [范围] | district, bureau*, township, village | private (the file goes to the asker) |
| /企业 | district, bureau, township | dialog in private |
| /包车 | district, bureau, township | dialog and passenger lists in private |

(*) the employment bureau sees employment data, not health data.  Scope is always the
cadre's own (``models.scope.worker_scope``); an area named in a command must lie inside it.
Every command that reads or changes personal data writes an audit row.
"""

from __future__ import annotations

import math
import re
import uuid

from sqlalchemy import and_, select

from dialogs.engine import CONFIRM
from dialogs.parsing.textnorm import normalize
from dialogs.workbench_forms import BY_CADRE, SCOPE, answers_from_worker
from handlers import buses, lists
from handlers.commands import command
from handlers.context import Context
from handlers.permissions import covers, scope_text
from handlers.staff import (
    ORGANISERS,
    READERS,
    SURVEY,
    AreaError,
    area_label,
    contacts,
    record_text,
    resolve_area,
    scoped,
    sees_health,
    start_dialog,
    worker_line,
)
from models.audit import audit_ctx
from models.roster import clean_old_exports, export_dir, export_name, export_workbook
from models.scope import worker_scope
from models.tables import Cadre, DialogState, Enterprise, SendBatch, Worker

MAX_BROADCAST = 500


@command("名单", "list", summary="查看范围内的名单（未返岗、待就业、未打卡、异常、零就业户等）",
         usage="/名单 类别 [村] [页码]", roles=READERS, private_only=True)
async def list_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    await lists.list_command(ctx, args, cadre)


# ----- /查 ---------------------------------------------------------------------------------------
def _search_condition(query: str):
    digits = re.sub(r"[\s\-]", "", query)
    numbered = re.fullmatch(r"(?:编号|#|no\.?)\s*(\d{1,9})号?", query, re.I)
    if numbered:
        return Worker.id == int(numbered[1]), f"编号{numbered[1]}"
    if re.fullmatch(r"\d{4}", digits):
        return Worker.phone.like(f"%{digits}"), f"手机尾号{digits}"
    if re.fullmatch(r"1\d{10}", digits):
        return Worker.phone == digits, "这个手机号"
    if re.fullmatch(r"\d{17}[\dXx]", digits):
        return Worker.id_number == digits.upper(), "这个身份证号"
    if digits.isdigit() and len(digits) <= 9:
        return Worker.id == int(digits), f"编号{digits}"
    return None, query


async def search_workers(ctx: Context, cadre: Cadre, query: str) -> tuple[list[Worker], str]:
    """Workers in the cadre's scope that ``query`` names (编号12, a phone's last 4 digits, a
    phone or ID number, a name or part of one), at most 11, and how the query reads in a reply."""
    cond, what = _search_condition(query)
    scope = worker_scope(cadre)
    if cond is not None:
        return list((await ctx.session.execute(
            select(Worker).where(and_(scope, cond)).order_by(Worker.id).limit(11))).scalars()), what
    conditions = [Worker.name == query]
    if len(query) >= 2:
        conditions.append(Worker.name.contains(query, autoescape=True))
    found: list[Worker] = []
    for name_cond in conditions:
        found = list((await ctx.session.execute(
            select(Worker).where(and_(scope, name_cond)).order_by(Worker.id).limit(11))).scalars())
        if found:
            break
    return found, f"“{query}”"


@command("查", "find", "查询", summary="查看一个人的登记详情", usage="/查 姓名、手机尾号或编号",
         roles=READERS, private_only=True)
async def find_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    query = normalize(args).strip()
    if not query:
        ctx.reply("用法：/查 姓名，/查 手机尾号（4位），或 /查 编号12")
        return
    found, what = await search_workers(ctx, cadre, query)
    if not found:
        audit_ctx(ctx, "worker.search", "", f"{query}：无结果")
        ctx.reply(f"在您的范围（{scope_text(cadre)}）内没有找到{what}。")
        return
    if len(found) == 1:
        worker = found[0]
        audit_ctx(ctx, "worker.view", worker.id, query)  # type: ignore[arg-type]
        ctx.reply(await record_text(ctx, worker, cadre))
        return
    audit_ctx(ctx, "worker.search", "", f"{query}：{len(found)}人")
    more = "（只列出前10位，请写得更具体些）" if len(found) > 10 else ""
    lines = [f"找到{what}多位{more}："]
    lines += [worker_line(w, w.status) for w in found[:10]]
    lines.append("发 /查 编号 看详情，例如 /查 编号" + str(found[0].id))
    ctx.reply("\n".join(lines))


# ----- /登记 and /修改 -----------------------------------------------------------------------------
def _scope_seed(cadre: Cadre) -> dict:
    seed: dict = {SCOPE: {"township": cadre.township, "village": cadre.village}}
    if cadre.township:
        seed["township"] = cadre.township
    if cadre.village:
        seed["village"] = cadre.village
    return seed


@command("登记", "register", summary="代为登记（入户摸排、没有手机的人员）", usage="/登记",
         roles=SURVEY, private_only=True)
async def register_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    intro = "开始代为登记，登记的人会记为由您录入。"
    if cadre.township:
        intro += f"问到乡镇{'和村' if cadre.village else ''}时回复“不变”即可（{scope_text(cadre)}）。"
    await start_dialog(ctx, BY_CADRE, {"cadre_id": cadre.id}, intro, _scope_seed(cadre))


@command("修改", "edit", summary="更正一个人的登记", usage="/修改 编号", roles=SURVEY, private_only=True)
async def edit_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    number = re.fullmatch(r"(?:编号)?\s*(\d{1,9})\s*号?", normalize(args))
    if not number:
        ctx.reply("用法：/修改 编号，例如 /修改 12（编号可以用 /查 姓名 或 /名单 看到）")
        return
    worker = await ctx.session.get(Worker, int(number[1]))
    if worker is None or not covers(cadre, worker.township, worker.village):
        ctx.reply(f"在您的范围（{scope_text(cadre)}）内没有编号{number[1]}。")
        return
    if not worker.id_number:
        ctx.reply(f"编号{worker.id}没有身份证号，请发 /登记 为他重新登记。")
        return
    engine = ctx.services.engine
    dialog = engine.dialogs[BY_CADRE]
    answers = await answers_from_worker(ctx.session, worker)
    answers[SCOPE] = _scope_seed(cadre)[SCOPE]
    now = ctx.services.clock.utcnow()
    state = await engine.load(ctx, ctx.identity)
    if state is None:
        state = DialogState(identity=ctx.identity, dialog=BY_CADRE, step=CONFIRM, started_at=now,
                            updated_at=now)
    state.dialog, state.step, state.answers, state.history = BY_CADRE, CONFIRM, answers, []
    state.editing, state.paused = False, False
    state.data = {"cadre_id": cadre.id, "worker_id": worker.id}
    state.started_at = now
    engine.save(ctx, state)
    audit_ctx(ctx, "worker.view", worker.id, "修改")  # type: ignore[arg-type]
    ctx.reply(f"修改编号{worker.id}（{worker.name}）的登记。\n" + engine.summary(dialog, answers))


# ----- /广播 ---------------------------------------------------------------------------------------
@command("广播", "broadcast", "通知", summary="给范围内的务工人员发通知", usage="/广播 内容",
         roles=SURVEY)
async def broadcast_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    content = args.strip()
    if not content:
        ctx.reply("用法：/广播 通知内容，例如：/广播 明天上午9点村委会有招聘会，欢迎参加。")
        return
    if len(content) > MAX_BROADCAST:
        ctx.reply(f"通知太长了（{len(content)}个字），请控制在{MAX_BROADCAST}字以内。")
        return
    ids = list((await ctx.session.execute(
        select(Worker.id).where(worker_scope(cadre)))).scalars())
    reach = await contacts(ctx.session, ids)
    label = area_label(cadre.township, cadre.village)
    text = f"【{label}通知】{content}\n——{cadre.name}"
    people = sorted(set(reach.values()))
    batch = None
    if people:
        short = content if len(content) <= 12 else content[:12] + "…"
        batch = SendBatch(key=f"broadcast:{uuid.uuid4().hex}", owner=ctx.identity,
                          label=f"通知“{short}”", total=len(people),
                          created_at=ctx.services.clock.utcnow())
        ctx.session.add(batch)
    for identity in people:
        ctx.tell(identity, text, bulk=True, batch=batch.key if batch else None)
    audit_ctx(ctx, "broadcast", label, f"{len(people)}人：{content[:60]}")
    reply = f"已排队发给 {len(people)} 人"
    rate = max(1, ctx.services.settings.send_rate_per_min)
    if len(people) > rate:
        reply += f"，消息逐条发出，约 {math.ceil(len(people) / rate)} 分钟发完"
    reply += "。全部发完后会告诉您发出和没发出去的人数。" if people else "。"
    missing = len(ids) - len(reach)
    if missing:
        reply += f"另有 {missing} 人没有绑定微信/QQ，收不到，请电话或上门通知。"
    ctx.reply(reply)


# ----- /导出 ---------------------------------------------------------------------------------------
@command("导出", "export", summary="导出范围内人员的 Excel 表（私聊发文件）", usage="/导出 [范围]",
         roles=READERS, private_only=True)
async def export_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    try:
        township, village = await resolve_area(ctx, cadre, args)
    except AreaError as exc:
        ctx.reply(str(exc))
        return
    settings = ctx.services.settings
    folder = export_dir(settings)
    clean_old_exports(folder, ctx.services.clock.utcnow())
    label = area_label(township, village)
    path = folder / export_name(label, ctx.today)
    health = sees_health(cadre)
    result = await export_workbook(ctx.session, scoped(cadre, township, village), path,
                                   today=ctx.today, tz=settings.tz, health=health)
    if result.workers == 0:
        path.unlink(missing_ok=True)
        ctx.reply(f"{label}还没有登记的人员，没有可导出的。")
        return
    audit_ctx(ctx, "export", label, f"{result.workers}人 {path.name}")
    sheets = f"务工人员 {result.workers} 人、家庭户 {result.households} 户"
    if health:
        sheets += f"、今日打卡 {result.checked_in} 人"
    ctx.reply(f"{label}名册已导出：{sheets}。\n文件里有完整的身份证号和手机号，只供本人工作使用，"
              "请妥善保管，不要转发到群里。", file=str(path))


# ----- /企业 ---------------------------------------------------------------------------------------
@command("企业", "enterprise", summary="填报企业复工复产情况（缺工人数计入日报）",
         usage="/企业（填报）或 /企业 列表", roles=ORGANISERS)
async def enterprise_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    word = args.strip()
    if word in ("列表", "全部", "list"):
        query = select(Enterprise).order_by(Enterprise.reported_at.desc()).limit(30)
        if cadre.role == "township":
            query = query.where(Enterprise.township == cadre.township)
        rows = list((await ctx.session.execute(query)).scalars())
        if not rows:
            ctx.reply("还没有填报的企业。发 /企业 填报一家。")
            return
        lines = [f"已填报的企业（{scope_text(cadre)}，最近30家）："]
        lines += [f"{e.id}. {e.name}（{e.township or ''}）在册{e.staff_registered} 已返岗{e.staff_returned}"
                  f" 缺工{e.shortage}" for e in rows]
        ctx.reply("\n".join(lines))
        return
    if word:
        ctx.reply("用法：/企业 填报一家企业的复工情况（同名企业再报一次就是更新）；/企业 列表")
        return
    if ctx.inbound is not None and not ctx.inbound.is_private:
        ctx.reply("企业复工情况请私聊我填写，我已经私聊您了。")
    seed: dict = {SCOPE: {"township": cadre.township}}
    if cadre.township:
        seed["township"] = cadre.township
    await start_dialog(ctx, "enterprise_report", {"cadre_id": cadre.id},
                       "填报企业复工复产情况（同名企业再报一次就是更新）。", seed)


# ----- /包车 ---------------------------------------------------------------------------------------
@command("包车", "bus", summary="组织点对点包车、查看报名名单", usage="/包车、/包车 列表、/包车 编号",
         roles=ORGANISERS)
async def bus_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    await buses.bus_command(ctx, args, cadre)
