"""Skills training (技能培训, plan §三(三)): staff post a course, the workers whose skills or wanted
job fit its trade are told, workers sign up within the seats, staff see and export the list and
record who completed it.

| command / words | who | where |
| --- | --- | --- |
| /发布培训 [一行写完] | district, bureau, township, village | private (a dialog) |
| /培训 [编号｜全部｜我的] | the same | anywhere (no personal data) |
| /培训名单 N, /培训导出 N | the same | private (the file goes to the asker) |
| /培训结业 N 人员（或“全部”） | whoever manages N | private |
| /修改培训 N (listed as /培训修改) | whoever manages N | private (a dialog) |
| /关闭培训 N | whoever manages N | anywhere |
| 找培训, 培训报名 N, 我的培训, 取消培训 N | workers | private |

**Whom a course is for**: the poster's area — a township cadre's course is for their township, a
village cadre's for their village, the task force's and the bureau's for the whole district.
Only they are told of it, and only they may sign up.

**Who manages a course** (edit or close it, record completions) and **who sees which trainee** are as
for vacancies (``handlers.staff.manages_post``, ``handlers.staff.person_line``): the full name
and masked phone inside one's scope, a masked name and village to the course's manager, only a
count otherwise.  The export holds full ID numbers and phones, so it carries only the trainees
inside the asker's scope and goes to them privately, like ``/导出``.

**Telling**: a new course is told privately to the workers it fits (``models.training``:
priority first — 建档立卡, 易地搬迁, households with nobody employed — then the fit), 5 a seat (at
least 10, at most 200), through the paced outbound queue, then posted once in each
``JOB_GROUPS`` group.  Nobody hears of a course twice (``trainingpush``); a course a worker was
shown by 找培训 counts as told.  As for vacancies, workers with a job and those who said 暂不就业
are not told; 找培训 shows them the courses when they ask.

**Editing** (``/修改培训 N``) opens the posting dialog at its summary with the course's answers,
as ``/修改岗位`` does for a vacancy; a course that has ended is not edited.  The seats may not go
below the sign-ups (asked again at the question, and checked again under the course's lock on
确认).  The workers signed up are told privately of a new time or place; an open course whose
trade or seats changed is told to the newly fitting workers, up to its share.

**Completion** (``/培训结业``) marks the sign-up 已结业 and adds the trade to the worker's
技能特长 (“电焊（培训结业）”), so that vacancy matching and the roster export see the new skill;
``/查`` and ``我的信息`` list the worker's courses.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import func, select

from dialogs.engine import CONFIRM, ParseEnv
from dialogs.matching import title_terms
from dialogs.parsing.textnorm import normalize
from dialogs.training_post import NAME, TAKEN, course_days, read_line
from dialogs.workbench_forms import cadre_of_state
from handlers.commands import command
from handlers.context import Context
from handlers.keywords import keyword
from handlers.permissions import covers, scope_text
from handlers.staff import (
    NUMBER,
    contacts,
    manages_post,
    numbered_arg,
    person_line,
    pick_people,
)
from handlers.vacancies import FIND_LIMIT, POSTERS, geo_of, list_posts, managed, push_then_post
from handlers.views import mask_name
from models import training as tq
from models import vacancies as vq
from models.audit import audit_ctx
from models.roster import clean_old_exports, export_dir, export_name, export_trainees
from models.tables import Cadre, Worker
from models.training import Training, TrainingPush, TrainingSignup
from models.workers import worker_of

ALL_WORDS = ("全部", "所有人", "全体", "都结业了", "全部结业")
_EVERY_PERSON = re.compile(r"[、,，;；\s]+")


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


# ----- how a course reads --------------------------------------------------------------------------
def training_card(t: Training) -> str:
    lines = [f"【培训{t.id}】{t.trade}技能培训",
             f"地点：{t.place}",
             f"时间：{course_days(t.starts_on, t.ends_on)}",
             f"名额：{t.seats}人",
             f"补贴：{t.subsidy}"]
    if t.township is not None:
        lines.append(f"面向：{tq.audience_text(t)}的务工人员")
    if t.contact:
        lines.append(f"报名咨询：{t.contact}")
    return "\n".join(lines)


def training_line(t: Training, taken: int, today: date) -> str:
    """“3. 电焊｜花溪区职校｜3月1日至3月10日（10天）｜已报12/30人｜补贴：免费”."""
    bits = [f"{t.id}. {t.trade}", t.place, course_days(t.starts_on, t.ends_on)]
    closed = tq.closed_reason(t, today)
    bits.append(f"已报{taken}/{t.seats}人" + ("（已满）" if taken >= t.seats else ""))
    if closed:
        bits.append(closed)
    bits.append(f"补贴：{t.subsidy}")
    if t.township is not None:
        bits.append(f"面向{tq.audience_text(t)}")
    return "｜".join(bits)


async def _training_arg(ctx: Context, args: str, usage: str, lock: bool = False
                        ) -> tuple[Training | None, str]:
    """The course numbered at the start of ``args`` (locked for a change) and the rest."""
    return await numbered_arg(
        ctx, args, "培训", usage,
        lambda n: tq.locked_training(ctx.session, n) if lock else ctx.session.get(Training, n),
        "正在招生的培训")


async def _managed_training(ctx: Context, cadre: Cadre, args: str, usage: str, action: str,
                            verb: str) -> tuple[Training | None, str]:
    """The course numbered at the start of ``args`` (locked for a change) and the rest, when
    ``cadre`` manages it (``handlers.vacancies.managed``)."""
    return await managed(ctx, cadre, await _training_arg(ctx, args, usage, lock=True), "培训",
                         action, verb)


# ----- posting ---------------------------------------------------------------------------------------
@command("发布培训", "发培训", "posttraining", summary="发布技能培训，告诉技能或意愿对得上的务工人员",
         usage="/发布培训（一问一答），或一行写完：/发布培训 电焊 花溪区职校 3月1日到3月10日 30人 "
               "补贴1500元 电话…",
         roles=POSTERS, private_only=True)
async def post_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    engine = ctx.services.engine
    data = {"cadre_id": cadre.id}
    for_whom = "" if cadre.role in ("district", "bureau") else f"（面向{scope_text(cadre)}的务工人员）"
    if not args.strip():
        await engine.start(ctx, ctx.identity, NAME, data=data,
                           intro=f"发布技能培训{for_whom}：一题一题回答，最后核对无误再发布。"
                                 "随时可以回复“取消”。")
        return
    reading = read_line(args, ParseEnv(today=ctx.today, answers={}, ctx=ctx))
    if not reading.answers.get("trade"):
        ctx.reply("没看懂这一行。请按这样写：/发布培训 电焊 花溪区职业技术学校 3月1日到3月10日 30人 "
                  "补贴1500元 电话0851-83851234\n也可以只发 /发布培训，一题一题填。")
        return
    await engine.start_from_line(ctx, NAME, reading.answers, data, reading.problems)


async def publish(ctx: Context, answers: dict[str, Any], state) -> str:
    """The dialog's finish: save the course and tell the workers it fits."""
    session = ctx.session
    cadre = await cadre_of_state(ctx, state)
    training_id = state.data.get("training_id")
    if cadre is None:
        return ("您的工作人员身份已停用，培训没有发布。" if training_id is None
                else f"您的工作人员身份已停用，培训{training_id}的修改没有保存。")
    if training_id is not None:
        return await _save_edit(ctx, cadre, training_id, answers)
    now = ctx.services.clock.utcnow()
    local = cadre.role in ("township", "village")
    training = Training(trade="", place="", starts_on=ctx.today, ends_on=ctx.today, seats=0,
                        subsidy="", township=cadre.township if local else None,
                        village=cadre.village if cadre.role == "village" else None,
                        posted_by=cadre.id, created_at=now, updated_at=now)
    _set_answers(training, answers)
    session.add(training)
    await session.flush()
    audit_ctx(ctx, "training.post", training.id, training.trade)  # type: ignore[arg-type]
    await vq.refresh_worker_terms(session, geo_of(ctx))
    ranked = await tq.candidates(session, training, limit=vq.push_count(training.seats))
    groups = ctx.services.settings.job_groups
    head = (f"发布成功！培训编号 {training.id}（务工人员回复“培训报名 {training.id}”报名）。\n"
            f"{training_card(training)}")
    if not ranked:
        _post_to_groups(ctx, training)
        why = ("暂时没有技能或想做的工作对得上的务工人员" if title_terms(training.trade)
               else f"没能从“{training.trade}”认出是哪个工种，所以没有私信推送")
        where = f"，已发到{len(groups)}个招聘群" if groups else ""
        return (f"{head}\n\n{why}{where}。务工人员回复“找培训”也能看到这个培训。"
                f"有人报名会通知您；发 /培训名单 {training.id} 查看报名。")
    sent = await push_then_post(ctx, head, ranked, "正在私信告诉{n}位技能或想做的工作对得上的务工人员",
                                "按对得上的程度", push=lambda: _push(ctx, training, ranked),
                                post=lambda: _post_to_groups(ctx, training))
    return (f"培训{training.id}的通知已全部排队发出（{sent}人）。有人报名会通知您；"
            f"发 /培训名单 {training.id} 查看报名，/关闭培训 {training.id} 停止报名。")


def _set_answers(training: Training, answers: dict[str, Any]) -> None:
    training.trade, training.place = answers["trade"], answers["place"]
    training.starts_on, training.ends_on = (date.fromisoformat(d) for d in answers["dates"])
    training.seats, training.subsidy = answers["seats"], answers["subsidy"]
    training.contact = answers.get("contact")


async def _save_edit(ctx: Context, cadre: Cadre, training_id: int, answers: dict[str, Any]) -> str:
    """The dialog's finish for /修改培训: save the course, tell its trainees of a new time or
    place, and tell the newly fitting workers of an open course."""
    session = ctx.session
    training = await tq.locked_training(session, training_id)
    if training is None or not await manages_post(ctx, cadre, training.posted_by):
        return f"培训{training_id}已不归您管理，修改没有保存。"
    if training.ends_on < ctx.today:
        return f"培训{training.id}已经在{_day(training.ends_on)}结束了，修改没有保存。"
    taken = await tq.taken(session, training.id)  # type: ignore[arg-type]
    if answers["seats"] < taken:
        return (f"培训{training.id}现在已经有{taken}人报名，名额不能少于{taken}人，这次修改没有保存。"
                f"请重新发 /修改培训 {training.id}，名额写{taken}人以上。")
    when, place = course_days(training.starts_on, training.ends_on), training.place
    _set_answers(training, answers)
    training.updated_at = ctx.services.clock.utcnow()
    session.add(training)
    await session.flush()
    audit_ctx(ctx, "training.edit", training.id, training.trade)  # type: ignore[arg-type]
    changes = []
    if course_days(training.starts_on, training.ends_on) != when:
        changes.append(f"时间改为：{course_days(training.starts_on, training.ends_on)}（原来是{when}）")
    if training.place != place:
        changes.append(f"地点改为：{training.place}（原来是{place}）")
    lines = [f"培训{training.id}已修改。"]
    if changes:
        told = await _tell_trainees(ctx, training, changes)
        lines.append(f"已私信告诉{told}位报了名的务工人员新的{'和'.join(c[:2] for c in changes)}。"
                     if told else "还没有报了名、能私信通知到的务工人员。")
    if tq.closed_reason(training, ctx.today) is None:
        await vq.refresh_worker_terms(session, geo_of(ctx))
        already = (await session.execute(select(func.count()).select_from(TrainingPush).where(
            TrainingPush.training_id == training.id))).scalar_one()
        ranked = await tq.candidates(session, training,
                                     limit=max(0, vq.push_count(training.seats) - already))
        sent = await _push(ctx, training, ranked) if ranked else 0
        if sent:
            lines.append(f"又私信告诉了{sent}位新对得上的务工人员。")
    lines.append(training_line(training, taken, ctx.today))
    return "\n".join(lines)


async def _tell_trainees(ctx: Context, training: Training, changes: list[str]) -> int:
    """Tell the workers signed up (not yet completed) of a new time or place; returns how many
    could be told."""
    rows = await tq.trainees(ctx.session, training.id, (tq.SIGNED,))  # type: ignore[arg-type]
    reach = await contacts(ctx.session, [w.id for _, w in rows])  # type: ignore[misc]
    if training.starts_on >= ctx.today:
        after = f"去不了请回复“取消培训 {training.id}”，名额会让给其他人。"
    else:
        after = f"去不了请联系：{training.contact or '村里的工作人员'}。"
    told = 0
    for _, worker in rows:
        identity = reach.get(worker.id)  # type: ignore[arg-type]
        if identity is None:
            continue
        ctx.tell(identity, f"【培训变更】{worker.name}，您好！您报名的培训{training.id}（{training.trade}）"
                           "有变化：\n" + "\n".join(changes) + f"\n请按新的安排参加。{after}", bulk=True)
        told += 1
    return told


async def _push(ctx: Context, training: Training, ranked: list[tq.Candidate]) -> int:
    """Tell each ranked worker privately, in order, once; returns how many were told."""
    ids = [c.worker_id for c in ranked]
    fresh = await tq.record_pushes(ctx.session, training.id, ids, ctx.services.clock.utcnow())  # type: ignore[arg-type]
    reach = await contacts(ctx.session, ids)
    names = dict((await ctx.session.execute(
        select(Worker.id, Worker.name).where(Worker.id.in_(ids)))).all())
    sent = 0
    for candidate in ranked:
        identity = reach.get(candidate.worker_id)
        if candidate.worker_id not in fresh or identity is None:
            continue
        ctx.tell(identity, f"【技能培训】{names.get(candidate.worker_id, '')}，您好！有个培训可能适合您：\n"
                           f"{training_card(training)}\n想参加请回复“培训报名 {training.id}”，名额有限，"
                           "报满为止；不想参加不用回复。回复“找培训”看更多培训。", bulk=True)
        sent += 1
    return sent


def _post_to_groups(ctx: Context, training: Training) -> None:
    for group in ctx.services.settings.job_groups:
        ctx.send(group, f"【技能培训】{training_card(training)}\n想参加的请私聊我回复“培训报名 "
                        f"{training.id}”（先登记的请私聊发“登记”）。", bulk=True)


# ----- listing and closing -----------------------------------------------------------------------------
@command("培训", "培训列表", "trainings", summary="查看技能培训（“全部”含已结束的，“我的”只看自己发布的）",
         usage="/培训 [编号｜全部｜我的]", roles=POSTERS)
async def list_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    word = normalize(args).strip()
    if number := re.fullmatch(NUMBER, word):
        training = await ctx.session.get(Training, int(number[1]))
        if training is None:
            ctx.reply(f"没有编号为{number[1]}的培训。")
            return
        counts = await tq.taken_counts(ctx.session, [training.id])  # type: ignore[list-item]
        done = len(await tq.trainees(ctx.session, training.id, (tq.COMPLETED,)))  # type: ignore[arg-type]
        poster = await ctx.session.get(Cadre, training.posted_by) if training.posted_by else None
        status = tq.closed_reason(training, ctx.today) or "正在招生"
        ctx.reply(f"{training_card(training)}\n状态：{status}，已报名{counts.get(training.id, 0)}人"
                  + (f"，已结业{done}人" if done else "")
                  + (f"\n发布：{poster.name}（{scope_text(poster)}）" if poster else ""))
        return
    await list_posts(ctx, cadre, word, Training, noun="培训", open_words=("", "在招", "招生"),
                     open_title="正在招生的培训", open_condition=tq.open_condition(ctx.today),
                     counts=lambda ids: tq.taken_counts(ctx.session, ids),
                     line=lambda t, n: training_line(t, n, ctx.today), people="/培训名单")


@command("关闭培训", "closetraining", "停止培训报名", summary="关闭培训报名", usage="/关闭培训 编号",
         roles=POSTERS)
async def close_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    training, _ = await _managed_training(ctx, cadre, args, "/关闭培训 编号，例如 /关闭培训 3",
                                          "关闭培训", "关闭")
    if training is None:
        return
    if training.status != "open":
        ctx.reply(f"培训{training.id}已经停止报名了。")
        return
    training.status, training.updated_at = "closed", ctx.services.clock.utcnow()
    ctx.session.add(training)
    audit_ctx(ctx, "training.close", training.id, training.trade)  # type: ignore[arg-type]
    taken = await tq.taken(ctx.session, training.id)  # type: ignore[arg-type]
    kept = f"已报名的{taken}人名额保留，结业照常用 /培训结业 {training.id} 登记。" if taken else ""
    ctx.reply(f"培训{training.id}（{training.trade}）已停止报名，务工人员不能再报名。{kept}")


# Listed as /培训修改 so that /帮助 does not read as if /修改 (correcting a worker's record) were
# open to the bureau; /修改培训 works the same (as /岗位修改 and /修改岗位).
@command("培训修改", "修改培训", "edittraining", summary="修改培训的时间、地点、名额等，报了名的人会收到"
         "通知（也可以写“修改培训 编号”）", usage="/培训修改 编号", roles=POSTERS, private_only=True)
async def edit_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    training, _ = await _managed_training(ctx, cadre, args, "/修改培训 编号，例如 /修改培训 3",
                                          "修改培训", "修改")
    if training is None:
        return
    if training.ends_on < ctx.today:
        ctx.reply(f"培训{training.id}已经在{_day(training.ends_on)}结束了，不能修改。"
                  "要再办一期请发 /发布培训。")
        return
    answers: dict[str, Any] = {
        "trade": training.trade, "place": training.place,
        "dates": [training.starts_on.isoformat(), training.ends_on.isoformat()],
        "seats": training.seats, "subsidy": training.subsidy, "contact": training.contact,
        TAKEN: await tq.taken(ctx.session, training.id),  # type: ignore[arg-type]
    }
    engine = ctx.services.engine
    await engine.open(ctx, ctx.identity, NAME, answers,
                      {"cadre_id": cadre.id, "training_id": training.id}, CONFIRM)
    ctx.reply(f"修改培训{training.id}。\n" + engine.summary(engine.dialogs[NAME], answers))


# ----- trainees: the list, the export, completion ----------------------------------------------------
@command("培训名单", "trainees", summary="查看培训的报名人员（范围内的才显示详情）", usage="/培训名单 编号",
         roles=POSTERS, private_only=True)
async def trainees_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    training, _ = await _training_arg(ctx, args, "/培训名单 编号，例如 /培训名单 3")
    if training is None:
        return
    rows = await tq.trainees(ctx.session, training.id)  # type: ignore[arg-type]
    managing = await manages_post(ctx, cadre, training.posted_by)
    done = sum(1 for s, _ in rows if s.status == tq.COMPLETED)
    lines = [f"培训{training.id}（{training.trade}，{_day(training.starts_on)}开班）"
             f"报名{len(rows)}/{training.seats}人" + (f"，已结业{done}人" if done else "") + "："]
    hidden = 0
    for n, (signup, w) in enumerate(rows, 1):
        when = _day(signup.created_at.astimezone(ctx.services.settings.tz))
        line = person_line(cadre, managing, n, w, tq.STATUS_TEXT[signup.status], f"{when}报名")
        if line is None:
            hidden += 1
        else:
            lines.append(line)
    if hidden:
        lines.append(f"另有{hidden}人不在您的范围（{scope_text(cadre)}）内。")
    if not rows:
        lines.append("还没有人报名。")
    else:
        lines.append(f"导出 Excel 名单请发 /培训导出 {training.id}。")
        if managing:
            lines.append(f"登记结业请发 /培训结业 {training.id} 编号（或姓名、手机尾号4位，"
                         f"几个人用顿号隔开），全部结业发 /培训结业 {training.id} 全部")
    audit_ctx(ctx, "training.trainees", training.id, f"{len(rows) - hidden}人")  # type: ignore[arg-type]
    ctx.reply("\n".join(lines))


@command("培训导出", "导出培训", "exporttraining", summary="导出培训报名名单的 Excel 表（私聊发文件）",
         usage="/培训导出 编号", roles=POSTERS, private_only=True)
async def export_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    training, _ = await _training_arg(ctx, args, "/培训导出 编号，例如 /培训导出 3")
    if training is None:
        return
    rows = await tq.trainees(ctx.session, training.id)  # type: ignore[arg-type]
    mine = [(s, w) for s, w in rows if covers(cadre, w.township, w.village)]
    if not rows:
        ctx.reply(f"培训{training.id}（{training.trade}）还没有人报名，没有可导出的。")
        return
    if not mine:
        ctx.reply(f"培训{training.id}报名的{len(rows)}人都不在您的范围（{scope_text(cadre)}）内，不能导出。"
                  "请找他们所在乡镇、村或区里的工作人员。")
        return
    settings = ctx.services.settings
    folder = export_dir(settings)
    clean_old_exports(folder, ctx.services.clock.utcnow())
    path = folder / export_name(f"{training.id}号{training.trade}", ctx.today, "培训名单")
    course = [("培训编号", str(training.id)), ("培训工种", training.trade), ("培训地点", training.place),
              ("培训时间", course_days(training.starts_on, training.ends_on)),
              ("名额", f"{training.seats}人"), ("已报名", f"{len(rows)}人"), ("补贴", training.subsidy),
              ("报名咨询", training.contact or ""), ("面向", tq.audience_text(training)),
              ("本表范围", f"{scope_text(cadre)}（{len(mine)}人）")]
    await export_trainees(course, mine, path, tz=settings.tz, status_text=tq.STATUS_TEXT)
    audit_ctx(ctx, "training.export", training.id, f"{len(mine)}人 {path.name}")  # type: ignore[arg-type]
    others = len(rows) - len(mine)
    note = f"（另有{others}人不在您的范围（{scope_text(cadre)}）内，没有导出）" if others else ""
    ctx.reply(f"培训{training.id}（{training.trade}）报名名单已导出：{len(mine)}人{note}。\n"
              "文件里有完整的身份证号和手机号，只供本人工作使用，请妥善保管，不要转发到群里。",
              file=str(path))


def _people(text: str) -> list[str]:
    """“编号12、王小明 5678” → [编号12, 王小明, 5678] (“编号 12” stays one)."""
    joined = re.sub(r"(编号|#)\s+(?=\d)", r"\1", normalize(text))
    return [p for p in _EVERY_PERSON.split(joined) if p]


@command("培训结业", "结业", "graduate", summary="登记培训结业（记入本人的技能特长）",
         usage="/培训结业 培训编号 人员编号、姓名或手机尾号（或“全部”）", roles=POSTERS, private_only=True)
async def complete_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    usage = ("/培训结业 培训编号 人员编号、姓名或手机尾号（几个人用顿号隔开，或写“全部”），"
             "例如 /培训结业 3 编号7")
    training, who = await _managed_training(ctx, cadre, args, usage, "培训结业", "登记结业")
    if training is None:
        return
    if not who:
        ctx.reply(f"谁结业了？用法：{usage}。发 /培训名单 {training.id} 看报名的人。")
        return
    if training.starts_on > ctx.today:
        ctx.reply(f"培训{training.id}还没开班（{_day(training.starts_on)}开班），开班以后才能登记结业。")
        return
    rows = await tq.trainees(ctx.session, training.id)  # type: ignore[arg-type]
    if normalize(who).replace(" ", "") in ALL_WORDS:
        chosen = [(s, w) for s, w in rows if s.status == tq.SIGNED]
        if not chosen:
            ctx.reply(f"培训{training.id}没有等待登记结业的人。发 /培训名单 {training.id} 看看。")
            return
    else:
        chosen = []
        for query in _people(who):
            found, what = pick_people(query, rows)
            if not found:
                ctx.reply(f"培训{training.id}的报名人员里没有{what}，这次没有登记。"
                          f"发 /培训名单 {training.id} 看报名的人和编号。")
                return
            if len(found) > 1:
                listed = "、".join(f"编号{w.id}（{w.township}{w.village}）" for _, w in found)
                ctx.reply(f"报名人员里有{len(found)}位{what}：{listed}。请用编号，这次没有登记。"
                          f"例如 /培训结业 {training.id} 编号{found[0][1].id}")
                return
            if found[0] not in chosen:
                chosen.append(found[0])
    now = ctx.services.clock.utcnow()

    def name(w: Worker) -> str:
        return w.name if covers(cadre, w.township, w.village) else mask_name(w.name)

    done: list[Worker] = []
    before: list[Worker] = []
    for signup, worker in chosen:
        if signup.status == tq.COMPLETED:
            before.append(worker)
            continue
        tq.complete(signup, worker, training, now)
        ctx.session.add_all([signup, worker])
        done.append(worker)
    reach = await contacts(ctx.session, [w.id for w in done])  # type: ignore[misc]
    for identity in reach.values():
        ctx.tell(identity, f"恭喜！您已完成{training.trade}培训（{training.place}），结业已记入您的登记"
                           f"（技能特长：{training.trade}）。回复“找工作”看看用得上这门技能的岗位。",
                 bulk=True)
    audit_ctx(ctx, "training.complete", training.id, f"{len(done)}人")  # type: ignore[arg-type]
    total = sum(1 for s, _ in rows if s.status == tq.COMPLETED)
    parts = []
    if done:
        names = "、".join(name(w) for w in done[:10])
        shown = names + (f"等{len(done)}人" if len(done) > 10 else f"（{len(done)}人）")
        parts.append(f"已登记结业：{shown}，已记入各人的技能特长。")
    if before:
        parts.append(f"{'、'.join(name(w) for w in before[:10])}之前已经登记过结业。")
    parts.append(f"培训{training.id}已结业{total}/{len(rows)}人。")
    ctx.reply("\n".join(parts))


# ----- the worker's side ---------------------------------------------------------------------------------
async def _registered(ctx: Context, what: str) -> Worker | None:
    worker = await worker_of(ctx, ctx.identity)
    if worker is None:
        ctx.reply(f"{what}要先登记。回复“登记”开始，登记好再来。")
    return worker


@keyword(r"(?:我要|我想)?(?:培训报名|报名培训|参加培训)\s*" + NUMBER)
async def sign_up(ctx: Context, match: re.Match[str]) -> None:
    worker = await _registered(ctx, "报名培训")
    if worker is None:
        return
    session = ctx.session
    training = await tq.locked_training(session, int(match[1]))
    if training is None:
        ctx.reply(f"没有编号为{match[1]}的培训，请核对编号。回复“找培训”看看正在招生的培训。")
        return
    signup = await tq.signup_of(session, training.id, worker.id)  # type: ignore[arg-type]
    if signup is not None and signup.status == tq.COMPLETED:
        ctx.reply(f"您已经参加过培训{training.id}（{training.trade}）并结业了。")
        return
    if signup is not None and signup.status == tq.SIGNED:
        ctx.reply(f"您已经报名了培训{training.id}（{training.trade}，{_day(training.starts_on)}开班，"
                  f"地点：{training.place}），不用重复报名。不去了请回复“取消培训 {training.id}”。")
        return
    if not tq.for_worker(training, worker):
        where = tq.audience_text(training)
        ctx.reply(f"培训{training.id}是{where}组织的，只招{where}的务工人员。回复“找培训”看看您能报名的培训。")
        return
    closed = tq.closed_reason(training, ctx.today)
    now = ctx.services.clock.utcnow()
    seat = None if closed else await tq.take_seat(session, training, worker.id, now, signup)  # type: ignore[arg-type]
    if seat is None:
        why = closed or f"{training.seats}个名额已经报满了"
        ctx.reply(f"抱歉，培训{training.id}（{training.trade}）{why}，不能报名了。回复“找培训”看看其他培训。")
        return
    count = await tq.taken(session, training.id)  # type: ignore[arg-type]
    contact = f"\n报名咨询：{training.contact}" if training.contact else ""
    when = course_days(training.starts_on, training.ends_on)
    ctx.reply(f"报名成功！培训{training.id}：{training.trade}，{when}，地点：{training.place}。"
              f"您是第{count}位（名额{training.seats}人）。\n补贴：{training.subsidy}{contact}\n"
              f"请按时参加，带好身份证。回复“我的培训”查看，不去了请回复“取消培训 {training.id}”。")
    poster = await session.get(Cadre, training.posted_by) if training.posted_by else None
    if poster is not None and poster.active:
        ctx.tell(poster.identity, f"【培训报名】培训{training.id}（{training.trade}）有新报名："
                                  f"{mask_name(worker.name)}（{worker.township}{worker.village}），"
                                  f"已报{count}/{training.seats}人。发 /培训名单 {training.id} 查看。")


@keyword(r"(?:我要|我想)?(?:培训报名|报名培训)",
         help="· 回复“找培训”：看正在招生的技能培训，回复“培训报名 编号”报名")
async def sign_up_without_number(ctx: Context, match: re.Match[str]) -> None:
    ctx.reply("请在“培训报名”后面写上培训编号，例如“培训报名 3”。编号在培训通知里，回复“找培训”可以看到。")


@keyword(r"(?:我要|我想)?(?:找培训|参加培训|看培训|学技术|学技能|学手艺)|(?:有什么|有没有|有啥)(?:技能)?培训(?:吗|没有)?"
         r"|技能培训|培训信息|培训")
async def find_courses(ctx: Context, match: re.Match[str]) -> None:
    worker = await _registered(ctx, "找培训")
    if worker is None:
        return
    session = ctx.session
    signed = select(TrainingSignup.training_id).where(TrainingSignup.worker_id == worker.id,
                                                      TrainingSignup.status.in_(tq.HOLDING))
    courses = [t for t in (await session.execute(
        select(Training).where(tq.open_condition(ctx.today), Training.id.not_in(signed))
        .order_by(Training.starts_on, Training.id).limit(200))).scalars()
        if tq.for_worker(t, worker)]
    counts = await tq.taken_counts(session, [t.id for t in courses])  # type: ignore[misc]
    courses = [t for t in courses if counts.get(t.id, 0) < t.seats]  # type: ignore[arg-type]
    if not courses:
        ctx.reply("现在没有您能报名的培训。有适合您的培训会第一时间告诉您。")
        return
    terms = vq.terms_of_row(worker, geo_of(ctx))
    fits = {t.id: tq.fit_for(terms, t) for t in courses}
    courses.sort(key=lambda t: (-fits[t.id], t.starts_on, t.id))
    shown = courses[:FIND_LIMIT]
    await _mark_shown(ctx, worker, shown)
    if fits[shown[0].id] > 0:
        head = "下面是正在招生的培训，和您的技能、想做的工作对得上的在前："
    else:
        head = ("正在招生的培训（登记时写上技能和想做的工种，我会把对得上的培训先告诉您）：")
    lines = [head, *(training_line(t, counts.get(t.id, 0), ctx.today) for t in shown)]  # type: ignore[arg-type]
    lines.append(f"想参加请回复“培训报名 编号”，例如“培训报名 {shown[0].id}”；回复“我的培训”查看已报名的。")
    ctx.reply("\n".join(lines))


async def _mark_shown(ctx: Context, worker: Worker, shown: list[Training]) -> None:
    """A course shown is a course told: it is not pushed to the worker later."""
    now = ctx.services.clock.utcnow()
    for t in shown:
        await tq.record_pushes(ctx.session, t.id, [worker.id], now)  # type: ignore[arg-type, list-item]


@keyword(r"我的培训|培训记录|我报的培训|我报名的培训|查看培训")
async def my_courses(ctx: Context, match: re.Match[str]) -> None:
    worker = await _registered(ctx, "查看培训")
    if worker is None:
        return
    rows = await tq.courses_of(ctx.session, worker.id)  # type: ignore[arg-type]
    if not rows:
        ctx.reply("您还没有报名培训。回复“找培训”看看正在招生的培训。")
        return
    lines = ["您报名的培训："]
    tz = ctx.services.settings.tz
    for signup, t in rows:
        if signup.status == tq.COMPLETED and signup.completed_at is not None:
            status = f"已结业（{_day(signup.completed_at.astimezone(tz).date())}）"
        elif t.starts_on > ctx.today:
            status = "已报名"
        else:
            status = "已开班"
        lines.append(f"{t.id}. {t.trade}，{course_days(t.starts_on, t.ends_on)}，{t.place} — {status}")
    if any(s.status == tq.SIGNED and t.starts_on >= ctx.today for s, t in rows):
        lines.append("不去了请回复“取消培训 编号”。")
    ctx.reply("\n".join(lines))


@keyword(r"(?:取消|退出|不参加|不去)(?:培训报名|报名培训|培训)\s*" + NUMBER)
async def withdraw(ctx: Context, match: re.Match[str]) -> None:
    worker = await _registered(ctx, "取消培训")
    if worker is None:
        return
    number = int(match[1])
    signup = await tq.signup_of(ctx.session, number, worker.id)  # type: ignore[arg-type]
    if signup is None or signup.status == tq.WITHDRAWN:
        ctx.reply(f"您没有报名培训{number}。回复“我的培训”看看报了哪些。")
        return
    training = await ctx.session.get(Training, number)
    assert training is not None
    if signup.status == tq.COMPLETED:
        ctx.reply(f"您已经完成培训{number}（{training.trade}）并结业了，不用取消。")
        return
    if training.starts_on < ctx.today:
        ctx.reply(f"培训{number}已经在{_day(training.starts_on)}开班了，不能在这里取消。如果不去了，请联系："
                  f"{training.contact or '村里的工作人员'}。")
        return
    signup.status, signup.updated_at = tq.WITHDRAWN, ctx.services.clock.utcnow()
    ctx.session.add(signup)
    ctx.reply(f"已取消培训{number}（{training.trade}）的报名，名额会让给其他人。"
              f"想再报名随时回复“培训报名 {number}”。")


@keyword(r"(?:取消|退出|不参加|不去)(?:培训报名|报名培训|培训)")
async def withdraw_without_number(ctx: Context, match: re.Match[str]) -> None:
    ctx.reply("请写上要取消的培训编号，例如“取消培训 3”。回复“我的培训”看看报了哪些。")
