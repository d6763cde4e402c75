"""Complaints about employers (投诉, §三(五): employers may not force health checks on the excuse
of the epidemic; misconduct is reported to the human resources bureau).

**The worker** (private chat; registered or not):

* “投诉” (or ``/投诉``, which for anyone but staff means the same) — guided through the
  employer, what happened, when, and whether the bureau may phone (``dialogs/complaint.py``);
  on 确认 the complaint gets a number (投诉3) and the worker is told it.  In the middle of
  another form with answers in it, the worker is asked first (that form is kept; “先投诉” sets
  it aside and starts the complaint).
* “我的投诉” — their complaints, with the replies and how each ended.
* “补充投诉 3 内容” — an addition to an open complaint of theirs; the handlers are told.

**The handlers** — every active bureau cadre (role ``bureau``) and the district task force
(``district``) — receive each new complaint and addition in *private* chat: the worker's name
and masked phone only when registered, never anything in a group.  Their commands (private
chat only; other roles are refused; every read and reply is audited):

* ``/投诉`` open complaints; ``/投诉 全部`` the latest, closed ones too; ``/投诉 3`` one in full
  (with the number to call when the worker agreed to be phoned);
* ``/回复投诉 3 内容`` — the worker receives the reply through the bot (as typed, tidied; the
  staff member's name is not shown to the worker);
* ``/结案 3 [结果]`` — closes it; the worker is told, with the result.

**Anonymous to the employer, always**: nothing here writes to a vacancy or enterprise record or
sends anything to an employer; the complaint stays in its own tables (``models/complaints.py``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time

from dialogs.complaint import COMPLAINT
from dialogs.parsing.errors import ParseError
from dialogs.parsing.names import parse_free_text
from dialogs.parsing.phone import mask_phone
from dialogs.parsing.textnorm import clean_text
from handlers.commands import command
from handlers.context import Context
from handlers.keywords import keyword, reader
from models.audit import audit_ctx
from models.complaints import (
    ADDITION,
    CLOSED,
    HANDLER_ROLES,
    MAX_PER_DAY,
    OPEN,
    REPLY,
    Complaint,
    ComplaintNote,
    complaint_handlers,
    complaint_list,
    complaints_of,
    count_open,
    filed_since,
    notes_of,
    reach,
)
from models.tables import Cadre, DialogState, Worker
from models.workers import worker_of

log = logging.getLogger(__name__)

MAX_TEXT = 500  # a reply, a result or an addition
LIST_LIMIT = 30
QUESTIONS = 4
SECRET = "请对投诉人的信息保密，不要告诉用人单位。"
INTRO = ("您可以在这里投诉用人单位的违规行为，例如：以疫情防控为名强制体检、要求自费检测，"
         "拖欠工资、不让返岗等。区人社局/就业局收到后会处理，并在这里回复您。"
         f"您的姓名、电话不会告诉用人单位。一共{QUESTIONS}个问题（同意接电话的再留个号码），"
         "随时可以回复“取消”。")
IN_GROUP = ("投诉请私聊我发“投诉”，投诉人的信息保密，不会告诉用人单位。"
            "请不要在群里说投诉的内容。")
START_WORDS = (r"(?:我要|我想|我想要|我需要|我来)?(?:投诉|举报|反映问题)"
               r"(?:用人单位|单位|企业|公司|工厂|厂里|厂家|老板|一下)?")
MY_WORDS = r"我的投诉|投诉(?:记录|进度|结果|情况)|查看?投诉|查询投诉|投诉查询"
ADD_WORDS = r"(?s)补充投诉(?:\s*(?:编号|第)?\s*(?:投诉)?\s*([0-9]{1,9})\s*号?)?(.*)"
_ADD_RAW = re.compile(r"(?s)^\s*补充投诉\s*(?:编号|第)?\s*(?:投诉)?\s*[0-9]{1,9}\s*号?(.*)$")
_NUMBER = re.compile(r"^(?:编号|第|no\.?|#)?\s*(?:投诉)?\s*([0-9]{1,9})\s*号?(?=\s|$|[^0-9])(.*)$",
                     re.S | re.I)
_COMMAND_HEAD = re.compile(r"^\s*[/／]\s*[^\s0-9]+")


def _local(ctx: Context, value: datetime) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(ctx.services.settings.tz)


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _when(ctx: Context, value: datetime) -> str:
    local = _local(ctx, value)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _status(ctx: Context, c: Complaint) -> str:
    if c.status == CLOSED and c.closed_at is not None:
        return f"已结案（{_day(_local(ctx, c.closed_at).date())}）"
    return "已结案" if c.status == CLOSED else "处理中"


def _excerpt(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[:n] + "……"


def _tidy(text: str, what: str) -> str:
    """Staff or worker text passed on through the bot: as typed, tidied (invisible and control
    characters dropped, whitespace collapsed), with words in it and not too long.  Markup stays
    literal: transports send it as plain text."""
    try:
        return parse_free_text(text, MAX_TEXT, answer=False)
    except ParseError as err:
        raise ParseError(err.hint.replace("（如果没有，可以回复 跳过）", "")
                         .replace("请用文字回答一下", f"请写上{what}")) from None


def _raw_rest(ctx: Context) -> str:
    """The message as typed (Chinese punctuation kept), without the command word."""
    raw = clean_text(ctx.inbound.text if ctx.inbound else "")
    return _COMMAND_HEAD.sub("", raw, count=1).strip()


def _add_note(ctx: Context, complaint: Complaint, kind: str, rest: str, what: str, example: str,
              cadre_id: int | None = None) -> str | None:
    """Add ``rest`` (tidied) to ``complaint`` as a note of ``kind`` (a reply or an addition) and
    return its text; None, the asker told ``what`` is missing or wrong (``example``), if not."""
    if not rest:
        ctx.reply(f"请在编号后面写上{what}，例如：{example}")
        return None
    try:
        text = _tidy(rest, what)
    except ParseError as err:
        ctx.reply(err.hint)
        return None
    now = ctx.services.clock.utcnow()
    ctx.session.add(ComplaintNote(complaint_id=complaint.id, kind=kind, text=text,  # type: ignore[arg-type]
                                  cadre_id=cadre_id, at=now))
    complaint.updated_at = now
    ctx.session.add(complaint)
    return text


def _number_and_rest(text: str) -> tuple[int | None, str]:
    match = _NUMBER.match(text.strip())
    if not match:
        return None, text.strip()
    return int(match[1]), match[2].strip(" ：:，,")


# ===== the worker's side ============================================================================
@keyword(START_WORDS, help="· 回复“投诉”：投诉用人单位的违规行为（如以疫情为由强制体检），投诉人信息保密",
         anywhere=True)
async def complain(ctx: Context, match: re.Match[str]) -> None:
    await _start(ctx, set_aside=False)


@keyword(r"先投诉|直接投诉|还是投诉", anywhere=True)
async def complain_first(ctx: Context, match: re.Match[str]) -> None:
    await _start(ctx, set_aside=True)


async def _start(ctx: Context, set_aside: bool) -> None:
    engine = ctx.services.engine
    state: DialogState | None = await engine.load(ctx, ctx.identity)
    if state is not None and state.dialog == COMPLAINT:
        await engine.resume(ctx, state)
        return
    if state is not None and state.answers and not set_aside:
        title = engine.dialogs[state.dialog].title
        ctx.reply(f"您还有没填完的{title}，已填的内容都保留着。\n"
                  f"要先把{title}填完，请回复“继续”，填完再回复“投诉”；\n"
                  f"要放下它、直接投诉，请回复“先投诉”（没填完的{title}就不保留了，"
                  "已经登记好的信息不受影响）。")
        return
    start_of_day = datetime.combine(ctx.today, time(0), tzinfo=ctx.services.settings.tz)
    if await filed_since(ctx.session, ctx.identity, start_of_day) >= MAX_PER_DAY:
        ctx.reply(f"您今天已经投诉了{MAX_PER_DAY}次，工作人员会逐一处理。还有情况要说，"
                  "请回复“补充投诉 编号 内容”补充到已有的投诉里，或者明天再投诉。")
        return
    worker = await worker_of(ctx, ctx.identity)
    # A registered worker's phone is offered at the phone question (“不变” keeps it).
    answers = {"phone": worker.phone} if worker is not None and worker.phone else None
    await engine.start(ctx, ctx.identity, COMPLAINT, intro=INTRO, answers=answers)


async def filed(ctx: Context, answers: dict, state: DialogState) -> str:
    """The complaint is confirmed: store it, give the worker its number, tell the handlers."""
    now = ctx.services.clock.utcnow()
    worker = await worker_of(ctx, state.identity)
    when = answers.get("when") or {}
    call_ok = bool(answers.get("call"))
    complaint = Complaint(
        identity=state.identity, worker_id=worker.id if worker is not None else None,
        employer=answers["employer"], what=answers["what"],
        when_label=str(when.get("label") or "记不清"),
        happened_from=date.fromisoformat(when["from"]) if when.get("from") else None,
        happened_to=date.fromisoformat(when["to"]) if when.get("to") else None,
        call_ok=call_ok, phone=answers.get("phone") if call_ok else None,
        status=OPEN, created_at=now, updated_at=now)
    ctx.session.add(complaint)
    await ctx.session.flush()
    handlers = await complaint_handlers(ctx.session)
    text = _new_complaint_text(complaint, worker)
    for cadre in handlers:
        ctx.tell(cadre.identity, text)
    if not handlers:
        log.warning("complaint %s filed, but no bureau or district staff to receive it",
                    complaint.id)
    n = complaint.id
    call = "工作人员可能会打电话向您了解情况。" if call_ok else "工作人员会在这里回复您。"
    return (f"投诉已提交，编号“投诉{n}”。区人社局/就业局会尽快核实处理，{call}"
            "您的姓名、电话不会告诉用人单位。\n"
            f"还有情况要补充，请回复“补充投诉 {n} 内容”；回复“我的投诉”查看处理进度。")


def _complainer(worker: Worker | None) -> str:
    if worker is None:
        return "未登记（请通过机器人回复）"
    return f"{worker.name}（{mask_phone(worker.phone or '')}）" if worker.phone else worker.name


def _new_complaint_text(c: Complaint, worker: Worker | None) -> str:
    call = (f"可以，号码请发“/投诉 {c.id}”查看" if c.call_ok
            else "不希望接电话，请通过机器人回复")
    return "\n".join([
        f"【新投诉】投诉{c.id}",
        f"用人单位：{c.employer}",
        f"发生时间：{c.when_label}",
        f"经过：{c.what}",
        f"投诉人：{_complainer(worker)}",
        f"电话联系：{call}",
        SECRET,
        f"回复投诉人：/回复投诉 {c.id} 内容；处理完：/结案 {c.id} 处理结果",
    ])


@keyword(MY_WORDS, help="· 回复“我的投诉”：查看投诉的处理进度和回复")
async def my_complaints(ctx: Context, match: re.Match[str]) -> None:
    worker = await worker_of(ctx, ctx.identity)
    found = await complaints_of(ctx.session, ctx.identity, worker.id if worker else None)
    if not found:
        ctx.reply("您还没有投诉过。要投诉用人单位，请回复“投诉”。")
        return
    notes = await notes_of(ctx.session, [c.id for c in found])  # type: ignore[misc]
    lines = [f"您的投诉（{len(found)}件）："]
    for c in found[-10:]:
        lines.append(f"\n投诉{c.id}：{c.employer}（{_day(_local(ctx, c.created_at).date())}提交）"
                     f"，{_status(ctx, c)}")
        for note in notes[c.id]:  # type: ignore[index]
            who = "工作人员回复" if note.kind == REPLY else "您补充"
            lines.append(f"　{_day(_local(ctx, note.at).date())} {who}：{note.text}")
        if c.status == CLOSED and c.result:
            lines.append(f"　处理结果：{c.result}")
        if c.status == OPEN and not notes[c.id]:  # type: ignore[index]
            lines.append("　工作人员正在核实，有结果会在这里告诉您。")
    if len(found) > 10:
        lines.insert(1, "（只列出最近10件）")
    if any(c.status == OPEN for c in found):
        lines.append("\n要补充情况，请回复“补充投诉 编号 内容”，例如“补充投诉 "
                     f"{next(c.id for c in reversed(found) if c.status == OPEN)} 还有……”。")
    ctx.reply("\n".join(lines))


@keyword(ADD_WORDS)
async def add_to_complaint(ctx: Context, match: re.Match[str]) -> None:
    if match[1] is None:
        ctx.reply("请写上投诉编号和要补充的内容，例如：补充投诉 3 还有两个月的加班费也没给。"
                  "回复“我的投诉”可以看到编号。")
        return
    number = int(match[1])
    worker = await worker_of(ctx, ctx.identity)
    mine = {c.id: c for c in await complaints_of(ctx.session, ctx.identity,
                                                 worker.id if worker else None)}
    complaint = mine.get(number)
    if complaint is None:
        ctx.reply(f"没有找到您的投诉{number}。回复“我的投诉”看看您的投诉编号。")
        return
    if complaint.status != OPEN:
        ctx.reply(f"投诉{number}已经结案了，不能再补充。还有问题的话，请回复“投诉”重新投诉。")
        return
    raw = _ADD_RAW.match(clean_text(ctx.inbound.text if ctx.inbound else ""))
    rest = (raw[1] if raw else match[2]).strip(" ：:，,")
    text = _add_note(ctx, complaint, ADDITION, rest, "要补充的内容",
                     f"补充投诉 {number} 还有两个月的加班费也没给。")
    if text is None:
        return
    message = "\n".join([
        f"【投诉{number} 补充】用人单位：{complaint.employer}",
        f"投诉人补充：{text}",
        SECRET,
        f"回复投诉人：/回复投诉 {number} 内容",
    ])
    for cadre in await complaint_handlers(ctx.session):
        ctx.tell(cadre.identity, message)
    ctx.reply(f"已经补充到投诉{number}里，工作人员会一起处理。")


@reader(90)  # after the check-in reader: a registered worker's reply may be a check-in
async def complainer_reader(ctx: Context, text: str) -> bool:
    """Someone who has not registered but has an open complaint writes something the bot does
    not understand (a thank-you to a reply, say): point to the complaint's words instead of
    starting a registration they did not ask for."""
    if await worker_of(ctx, ctx.identity) is not None:
        return False
    found = await complaints_of(ctx.session, ctx.identity, None, open_only=True)
    if not found:
        return False
    n = found[-1].id
    ctx.reply(f"您的投诉{n}正在处理，有结果会在这里告诉您。\n"
              f"要补充情况，请回复“补充投诉 {n} 内容”；查看进度请回复“我的投诉”；"
              "要登记找工作，请回复“登记”。")
    return True


# ===== the handlers' commands =======================================================================
async def _complaint(ctx: Context, number: int | None, usage: str) -> Complaint | None:
    if number is None:
        ctx.reply(f"请写上投诉编号（数字），例如：{usage}")
        return None
    found = await ctx.session.get(Complaint, number)
    if found is None:
        ctx.reply(f"没有投诉{number}。发“/投诉”看未结案的投诉。")
    return found


async def complain_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    """``/投诉`` typed by someone who is not staff: the complaint form, as the word 投诉 starts
    it (in a group, the same pointer to a private chat as the word gets there)."""
    if ctx.inbound is not None and not ctx.inbound.is_private:
        ctx.reply(IN_GROUP)
        return
    await _start(ctx, set_aside=False)


@command("投诉", "complaints", summary="查看用人单位投诉（未结案的；“全部”含已结案的）",
         usage="/投诉 [编号｜全部]", roles=HANDLER_ROLES, private_only=True,
         non_staff=complain_command)
async def complaints_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    arg = args.strip()
    if arg in ("", "全部", "所有", "all"):
        await _list(ctx, open_only=not arg)
        return
    number, rest = _number_and_rest(arg)
    if number is None or rest:
        ctx.reply("看一件投诉请写编号，例如：/投诉 3；不写编号列出未结案的投诉，“/投诉 全部”含已结案的。")
        return
    complaint = await _complaint(ctx, number, "/投诉 3")
    if complaint is None:
        return
    ctx.reply(await _detail(ctx, complaint))
    audit_ctx(ctx, "complaint.view", complaint.id or "", f"投诉{complaint.id}")


async def _list(ctx: Context, open_only: bool) -> None:
    rows = await complaint_list(ctx.session, open_only, LIST_LIMIT)
    total = await count_open(ctx.session) if open_only else len(rows)
    if not rows:
        ctx.reply("现在没有未结案的投诉。“/投诉 全部”看已结案的。" if open_only else "还没有收到投诉。")
        return
    notes = await notes_of(ctx.session, [c.id for c in rows])  # type: ignore[misc]
    head = f"未结案的投诉 {total} 件：" if open_only else f"最近的投诉（{len(rows)}件）："
    lines = [head]
    for c in rows:
        replies = sum(1 for n in notes[c.id] if n.kind == REPLY)  # type: ignore[index]
        added = sum(1 for n in notes[c.id] if n.kind == ADDITION)  # type: ignore[index]
        state = _status(ctx, c) if c.status == CLOSED else (
            f"已回复{replies}次" if replies else "未回复")
        extra = f"，补充{added}次" if added else ""
        lines.append(f"投诉{c.id} · {_day(_local(ctx, c.created_at).date())}收到 · {c.employer}"
                     f" · {state}{extra}\n　{_excerpt(c.what)}")
    if open_only and total > len(rows):
        lines.append(f"（只列出最早的{len(rows)}件）")
    lines.append("看详情：/投诉 编号")
    ctx.reply("\n".join(lines))
    audit_ctx(ctx, "complaint.list", "", f"{'未结案' if open_only else '全部'} {len(rows)}件")


async def _detail(ctx: Context, c: Complaint) -> str:
    worker = await ctx.session.get(Worker, c.worker_id) if c.worker_id is not None else None
    lines = [f"投诉{c.id}（{_status(ctx, c)}）", f"收到：{_when(ctx, c.created_at)}",
             f"用人单位：{c.employer}", f"发生时间：{c.when_label}", f"经过：{c.what}"]
    if worker is not None:
        lines.append(f"投诉人：{worker.name}，{worker.township}{worker.village}"
                     f"{worker.group_name or ''}")
    else:
        lines.append("投诉人：未登记")
    if c.call_ok and c.phone:
        lines.append(f"电话联系：可以，{c.phone}")
    elif worker is not None and worker.phone:
        lines.append(f"电话联系：不希望接电话（登记的手机 {mask_phone(worker.phone)}），请通过机器人回复")
    else:
        lines.append("电话联系：不希望接电话，请通过机器人回复")
    notes = (await notes_of(ctx.session, [c.id]))[c.id]  # type: ignore[list-item,index]
    if notes:
        names = await _cadre_names(ctx, {n.cadre_id for n in notes if n.cadre_id})
        lines.append("\n补充和回复：")
        for note in notes:
            who = (f"{names.get(note.cadre_id or 0, '工作人员')}回复" if note.kind == REPLY
                   else "投诉人补充")
            lines.append(f"{_when(ctx, note.at)} {who}：{note.text}")
    if c.status == CLOSED:
        closer = (await _cadre_names(ctx, {c.closed_by} if c.closed_by else set())).get(
            c.closed_by or 0, "工作人员")
        lines.append(f"\n结案：{_when(ctx, c.closed_at) if c.closed_at else ''} {closer}"
                     f"：{c.result or '（未写结果）'}")
    else:
        lines.append(f"\n回复投诉人：/回复投诉 {c.id} 内容；处理完：/结案 {c.id} 处理结果")
    lines.append(SECRET)
    return "\n".join(lines)


async def _cadre_names(ctx: Context, ids: set[int]) -> dict[int, str]:
    names = {}
    for cadre_id in ids:
        cadre = await ctx.session.get(Cadre, cadre_id)
        if cadre is not None:
            names[cadre_id] = cadre.name
    return names


async def _open_complaint(ctx: Context, args: str, usage: str, closed: Callable[[Complaint], str]
                         ) -> tuple[Complaint, int, str] | None:
    """For /回复投诉 and /结案: the open complaint numbered at the start of ``args``, its number,
    and the rest of the message as typed; None, the asker told why, when there is no such
    complaint or it is closed (``closed`` gives the words)."""
    number, _ = _number_and_rest(args)
    complaint = await _complaint(ctx, number, usage)
    if complaint is None or number is None:
        return None
    if complaint.status != OPEN:
        ctx.reply(closed(complaint))
        return None
    _, rest = _number_and_rest(_raw_rest(ctx))
    return complaint, number, rest


@command("回复投诉", "replycomplaint", summary="回复投诉人（通过机器人发给本人）",
         usage="/回复投诉 编号 内容", roles=HANDLER_ROLES, private_only=True)
async def reply_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    found = await _open_complaint(ctx, args, "/回复投诉 3 已联系企业核实，请耐心等待",
                                  lambda c: f"投诉{c.id}已经结案，不能再回复。")
    if found is None:
        return
    complaint, number, rest = found
    text = _add_note(ctx, complaint, REPLY, rest, "回复的内容",
                     f"/回复投诉 {number} 已联系企业核实，请耐心等待", cadre_id=cadre.id)
    if text is None:
        return
    ctx.tell(await reach(ctx.session, complaint),
             f"【投诉{number} 回复】您投诉的“{complaint.employer}”，工作人员回复：\n{text}\n"
             f"还有情况要补充，请回复“补充投诉 {number} 内容”。")
    ctx.reply(f"已把回复发给投诉{number}的投诉人。")
    audit_ctx(ctx, "complaint.reply", complaint.id or "", f"回复投诉{number}，{len(text)}字")


@command("结案", "closecomplaint", summary="投诉处理完，结案（告诉投诉人结果）",
         usage="/结案 编号 [处理结果]", roles=HANDLER_ROLES, private_only=True)
async def close_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    found = await _open_complaint(ctx, args, "/结案 3 已责令企业停止强制体检",
                                  lambda c: f"投诉{c.id}{_status(ctx, c)}，不用再结案。")
    if found is None:
        return
    complaint, number, rest = found
    result = None
    if rest:
        try:
            result = _tidy(rest, "处理结果")
        except ParseError as err:
            ctx.reply(err.hint)
            return
    now = ctx.services.clock.utcnow()
    complaint.status, complaint.result = CLOSED, result
    complaint.closed_at, complaint.closed_by, complaint.updated_at = now, cadre.id, now
    ctx.session.add(complaint)
    outcome = f"处理结果：{result}\n" if result else ""
    ctx.tell(await reach(ctx.session, complaint),
             f"【投诉{number} 已结案】您投诉的“{complaint.employer}”已经处理完毕。\n{outcome}"
             "谢谢您的反映！如果还有问题，可以再回复“投诉”。")
    ctx.reply(f"投诉{number}已结案，已告诉投诉人。")
    audit_ctx(ctx, "complaint.close", complaint.id or "", f"结案投诉{number}")

