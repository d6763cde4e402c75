"""Vacancies (对接岗位): staff post, edit, close and list them, see applicants and record hires;
workers find their best matches and apply.

| command / words | who | where |
| --- | --- | --- |
| /发布岗位 [一行写完] | district, bureau, township, village | private (a dialog) |
| /岗位 [编号｜全部｜我的] | the same | anywhere (no personal data) |
| /修改岗位 N (listed as /岗位修改), /关闭岗位 N | whoever manages N (below) | private / anywhere |
| /报名名单 N | any staff | private |
| /录用 N 编号、姓名或手机尾号 | whoever manages N | private |
| 找工作, 报名 N, 我的报名, 取消报名 N | workers | private |

**Who manages a vacancy**: its poster; the district task force and the employment bureau (all
vacancies); a township cadre for vacancies posted by anyone of their township.  A village cadre
manages only their own: closing someone else's is refused.

**Who sees which applicant** (DESIGN.md: personal data only to someone whose scope covers the
worker, masked): every staff member sees the applicants inside their own scope (full name,
phone masked, category); a vacancy's manager also sees the others as a masked name and their
village — enough to call the employer and record a hire, nothing more; anyone else gets only
the number of the others.

**Push**: a new vacancy is told privately to its best matches (``models.vacancies``: priority
first — 建档立卡, 易地搬迁, households with nobody employed — then by score), through the paced
outbound queue in that order, then posted once in each ``JOB_GROUPS`` group.  Each worker hears
of a vacancy once (``vacancypush``); a vacancy a worker was shown by 找工作 counts as told.
Already employed workers and those who said 暂不就业 are not pushed anything; 找工作 shows them
matches when they ask.  公益性岗位 reach only the eligible (``dialogs.matching``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select

from dialogs.engine import CONFIRM, ParseEnv
from dialogs.matching import HAS_JOB, Geo, geo_for
from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import normalize
from dialogs.registration import show_salary
from dialogs.vacancy_post import FILLED, NAME, answers_from_enterprise, read_line, text_of
from handlers.commands import command
from handlers.context import Context
from handlers.keywords import keyword, reader
from handlers.permissions import covers, scope_text
from handlers.staff import (
    NUMBER,
    WHOLE_DISTRICT,
    manages_post,
    not_yours,
    numbered_arg,
    person_line,
    pick_people,
)
from handlers.views import mask_name
from models import vacancies as vq
from models.audit import audit_ctx
from models.tables import (
    Application,
    Cadre,
    DialogState,
    Enterprise,
    Vacancy,
    VacancyPush,
    Worker,
)
from models.workers import contact_of, worker_of

POSTERS = frozenset({"district", "bureau", "township", "village"})
LIST_LIMIT = 20
FIND_LIMIT = 5
STATUS_TEXT = {"applied": "已报名", "hired": "已录用", "withdrawn": "已取消", "rejected": "未录用"}


def geo_of(ctx: Context) -> Geo:
    return geo_for(ctx.services.settings.district_name,
                   [t.name for t in ctx.services.townships.all])


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


# ----- how a vacancy reads ---------------------------------------------------------------------
def place_text(v: Vacancy) -> str:
    where = v.township if v.area == "县内" else v.city
    return f"{v.area}·{where}" if where else v.area


def pay_text(v: Vacancy) -> str:
    if v.pay_min is None and v.pay_max is None:
        return "月薪面议"
    return "月薪" + show_salary([v.pay_min, v.pay_max])


def vacancy_line(v: Vacancy, applied: int | None = None) -> str:
    """“12. 花溪某电子厂｜普工｜县内·青岩镇｜月薪4000–5000元｜还缺18人｜截止3月1日”."""
    bits = [f"{v.id}. {v.employer}", v.title, place_text(v), pay_text(v)]
    left = v.headcount - v.filled
    if v.status != "open":
        bits.append("已停止招聘" if left > 0 else "已招满")
    elif v.filled:
        bits.append(f"招{v.headcount}人已录{v.filled}人")
    else:
        bits.append(f"招{v.headcount}人")
    if applied is not None:
        bits.append(f"报名{applied}人")
    if v.deadline:
        bits.append(f"截止{_day(v.deadline)}")
    if v.public_welfare:
        bits.append("公益性岗位")
    return "｜".join(bits)


def vacancy_card(v: Vacancy) -> str:
    lines = [f"【岗位{v.id}】{v.employer} 招 {v.title}{'（公益性岗位）' if v.public_welfare else ''}",
             f"地点：{place_text(v)}",
             f"人数：{v.headcount}人" + (f"（已录用{v.filled}人）" if v.filled else ""),
             f"待遇：{pay_text(v)}"]
    if v.requirements:
        lines.append(f"要求：{v.requirements}")
    if v.deadline:
        lines.append(f"报名截止：{_day(v.deadline)}")
    if v.contact:
        lines.append(f"联系：{v.contact}")
    return "\n".join(lines)


# ----- who manages what ------------------------------------------------------------------------
async def manages(ctx: Context, cadre: Cadre, vacancy: Vacancy) -> bool:
    return await manages_post(ctx, cadre, vacancy.posted_by)


async def _vacancy_arg(ctx: Context, args: str, usage: str, lock: bool = True
                       ) -> tuple[Vacancy | None, str]:
    """The vacancy numbered at the start of ``args`` (locked for a change) and the rest."""
    return await numbered_arg(
        ctx, args, "岗位", usage,
        lambda n: vq.locked_vacancy(ctx.session, n) if lock else ctx.session.get(Vacancy, n),
        "在招的岗位")


async def _managed_vacancy(ctx: Context, cadre: Cadre, args: str, usage: str, action: str,
                           verb: str, closed: str | None = None) -> tuple[Vacancy | None, str]:
    """The vacancy numbered at the start of ``args`` (locked for a change) and the rest, when
    ``cadre`` manages it (:func:`managed`)."""
    return await managed(ctx, cadre, await _vacancy_arg(ctx, args, usage), "岗位", action, verb,
                         closed)


async def managed(ctx: Context, cadre: Cadre, found: tuple[Any, str], noun: str, action: str,
                  verb: str, closed: str | None = None) -> tuple[Any, str]:
    """``found``, a post (a vacancy, a training course: with ``posted_by``) numbered in a
    command and the rest of the command, when ``cadre`` manages the post; otherwise None, the
    asker told why (a refusal is audited as ``action``; ``verb`` is what they may not do).  With
    ``closed`` (a text with ``{id}``), a post no longer open is refused too."""
    post, rest = found
    if post is None:
        return None, rest
    if not await manages_post(ctx, cadre, post.posted_by):
        audit_ctx(ctx, "denied", f"{type(post).__name__.lower()} {post.id}", action)
        ctx.reply(not_yours(noun, post.id, verb))
        return None, rest
    if closed is not None and post.status != "open":
        ctx.reply(closed.format(id=post.id))
        return None, rest
    return post, rest


# ----- posting ---------------------------------------------------------------------------------
@command("发布岗位", "post", "发岗位", summary="发布岗位，推送给匹配的务工人员",
         usage="/发布岗位（一问一答），或一行写完：/发布岗位 单位 岗位 县内 20人 4000-5000 "
               "联系电话… 截止3月1日",
         roles=POSTERS, private_only=True)
async def post_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    engine = ctx.services.engine
    data = {"cadre_id": cadre.id}
    from_enterprise = FROM_ENTERPRISE.fullmatch(normalize(args).strip())
    if from_enterprise:
        await _post_from_enterprise(ctx, cadre, int(from_enterprise[1]), from_enterprise[2])
        return
    if not args.strip():
        await engine.start(ctx, ctx.identity, NAME, data=data,
                           intro="发布岗位：一题一题回答，最后核对无误再发布。随时可以回复“取消”。")
        return
    env = ParseEnv(today=ctx.today, answers={}, ctx=ctx)
    reading = read_line(args, env)
    answers = reading.answers
    if not answers.get("employer") and not answers.get("title"):
        ctx.reply("没看懂这一行。请按这样写：/发布岗位 花溪某电子厂 普工 县内 20人 4000-5000 "
                  "联系电话13800001111 截止3月1日\n也可以只发 /发布岗位，一题一题填。")
        return
    answers.setdefault("public_welfare", False)
    await engine.start_from_line(ctx, NAME, answers, data, reading.problems)


FROM_ENTERPRISE = re.compile(r"企业\s*(?:编号)?\s*(\d{1,9})\s*号?\s*(.*)", re.S)


async def _post_from_enterprise(ctx: Context, cadre: Cadre, number: int, job: str) -> None:
    """/发布岗位 企业N [工种]: a vacancy from the shortage an enterprise reported (/企业), with
    what the report says filled in; only what it does not say is asked, then the summary."""
    enterprise = await ctx.session.get(Enterprise, number)
    if enterprise is None or (cadre.role not in WHOLE_DISTRICT
                              and enterprise.township != cadre.township):
        ctx.reply(f"在您的范围（{scope_text(cadre)}）内没有企业编号{number}。企业编号在 /企业 填报后的"
                  "回复里，也可以发 /企业 列表 看。")
        return
    if not enterprise.shortage:
        ctx.reply(f"企业编号{number}（{enterprise.name}）填报的是不缺工，没有可以发布的岗位。"
                  "要发布别的岗位请发 /发布岗位。")
        return
    job = job.strip()
    if job:
        try:
            job = text_of(30, "岗位名称")(job, ParseEnv(today=ctx.today, answers={}, ctx=ctx))
        except ParseError as err:
            ctx.reply(err.hint + f"例如：/发布岗位 企业{number} 普工")
            return
    engine = ctx.services.engine
    dialog = engine.dialogs[NAME]
    answers = answers_from_enterprise(enterprise, job or None)
    state = await _fresh_state(ctx, {"cadre_id": cadre.id, "enterprise_id": enterprise.id},
                               answers, dialog.first_missing(answers))
    filled = [s.label for s in dialog.applicable(answers)
              if answers.get(s.key) is not None and s.key != "public_welfare"]
    missing = [s.label for s in dialog.applicable(answers) if s.key not in answers]
    wanted = f"：{enterprise.jobs_wanted}" if enterprise.jobs_wanted else ""
    lines = [f"按企业编号{number}（{enterprise.name}）的缺工情况发布岗位：{'、'.join(filled)}已经填好"
             f"（缺工{enterprise.shortage}人{wanted}）。"]
    if "title" not in answers:
        lines.append("一个岗位发一次：这次先发一个工种，发完可以再发 /发布岗位 企业编号 工种 发下一个。")
    lines.append(f"还要填：{'、'.join(missing)}，我来一项一项问；最后核对时每一项都可以改。")
    ctx.reply("\n".join(lines))
    await engine.resume(ctx, state)


async def _fresh_state(ctx: Context, data: dict[str, Any], answers: dict[str, Any],
                       step: str) -> DialogState:
    """The sender's dialog state set to ``answers`` at ``step``; an answer then goes on to the
    first question still unanswered (``editing``), not to the next one in the list."""
    return await ctx.services.engine.open(ctx, ctx.identity, NAME, answers, data, step)


async def publish(ctx: Context, answers: dict[str, Any], state: DialogState) -> str:
    """The dialog's finish: save the vacancy (new or edited) and push it."""
    session = ctx.session
    cadre = await session.get(Cadre, state.data.get("cadre_id"))
    if cadre is None or not cadre.active or cadre.identity != state.identity:
        return "您的工作人员身份已停用，岗位没有发布。"
    now = ctx.services.clock.utcnow()
    vacancy_id = state.data.get("vacancy_id")
    if vacancy_id is not None:
        vacancy = await vq.locked_vacancy(session, vacancy_id)
        if vacancy is None or not await manages(ctx, cadre, vacancy):
            return f"岗位{vacancy_id}已不归您管理，修改没有保存。"
        if vacancy.status != "open":
            return f"岗位{vacancy.id}已经关闭，修改没有保存。"
        if answers["headcount"] < vacancy.filled:
            return f"岗位{vacancy.id}已录用{vacancy.filled}人，人数不能改得更少，修改没有保存。"
    else:
        vacancy = Vacancy(employer="", title="", area="", posted_by=cadre.id, created_at=now,
                          updated_at=now)
    pay = answers.get("pay") or [None, None]
    deadline = answers.get("deadline")
    vacancy.employer, vacancy.title, vacancy.area = (answers["employer"], answers["title"],
                                                     answers["area"])
    vacancy.township = answers.get("township") if answers["area"] == "县内" else None
    vacancy.city = answers.get("city") if answers["area"] != "县内" else None
    vacancy.headcount = answers["headcount"]
    vacancy.pay_min, vacancy.pay_max = pay
    vacancy.requirements, vacancy.contact = answers.get("requirements"), answers["contact"]
    vacancy.deadline = date.fromisoformat(deadline) if deadline else None
    vacancy.public_welfare = bool(answers.get("public_welfare"))
    vacancy.updated_at = now
    if vacancy.headcount <= vacancy.filled:
        vacancy.status = "closed"
    session.add(vacancy)
    await session.flush()
    geo = geo_of(ctx)
    await vq.save_vacancy_terms(session, vacancy, geo)
    await vq.refresh_worker_terms(session, geo)
    if vacancy_id is not None:
        audit_ctx(ctx, "vacancy.edit", vacancy.id, f"{vacancy.employer}{vacancy.title}")
        told = (await session.execute(select(func.count()).select_from(VacancyPush)
                                      .where(VacancyPush.vacancy_id == vacancy.id))).scalar_one()
        ranked = []
        if vacancy.status == "open":
            limit = max(0, vq.push_size(vacancy) - told)
            ranked = await vq.candidates_for(session, vacancy, today=ctx.today, limit=limit)
        sent = await _push(ctx, vacancy, ranked, first_rank=told + 1)
        more = f"又推送给{sent}位新匹配的务工人员。" if sent else ""
        return f"岗位{vacancy.id}已修改。{more}\n{vacancy_line(vacancy)}"
    audit_ctx(ctx, "vacancy.post", vacancy.id, f"{vacancy.employer}{vacancy.title}")
    ranked = await vq.candidates_for(session, vacancy, today=ctx.today,
                                     limit=vq.push_size(vacancy))
    groups = ctx.services.settings.job_groups
    head = (f"发布成功！岗位编号 {vacancy.id}（务工人员回复“报名 {vacancy.id}”报名）。\n"
            f"{vacancy_card(vacancy)}")
    if not ranked:
        _post_to_groups(ctx, vacancy)
        where = f"，已发到{len(groups)}个招聘群" if groups else ""
        return (f"{head}\n\n暂时没有匹配到合适的务工人员{where}。有人报名会通知您；"
                f"发 /报名名单 {vacancy.id} 查看报名。")
    sent = await push_then_post(ctx, head, ranked, "正在私信推送给{n}位最匹配的务工人员", "按匹配程度",
                                push=lambda: _push(ctx, vacancy, ranked),
                                post=lambda: _post_to_groups(ctx, vacancy))
    return (f"岗位{vacancy.id}的推送已全部排队发出（{sent}人）。有人报名会通知您；"
            f"发 /报名名单 {vacancy.id} 查看报名，/关闭岗位 {vacancy.id} 停止招聘。")


async def push_then_post(ctx: Context, head: str, ranked: list[Any], telling: str, order: str,
                         *, push: Callable[[], Awaitable[int]],
                         post: Callable[[], None]) -> int:
    """A new post (岗位, 培训) with people to tell: the poster hears whom it goes to and in what
    order (``telling`` with ``{n}``; ``order`` when nobody has priority), then the ranked
    workers are told privately and the job groups get it.  Returns how many were told."""
    groups = ctx.services.settings.job_groups
    priority = sum(1 for c in ranked if c.priority > 0)
    lead = f"其中建档立卡、易地搬迁、零就业家庭的{priority}人排在前面" if priority else order
    group_note = f"，然后发到{len(groups)}个招聘群" if groups else ""
    ctx.tell(ctx.identity, f"{head}\n\n{telling.format(n=len(ranked))}（{lead}）{group_note}。")
    sent = await push()
    post()
    return sent


async def _push(ctx: Context, vacancy: Vacancy, ranked: list[vq.Candidate],
                first_rank: int = 1) -> int:
    """Tell each ranked worker privately, in order, once; returns how many were told."""
    if not ranked:
        return 0
    ids = [c.worker_id for c in ranked]
    fresh = await vq.record_pushes(ctx.session, vacancy.id, ids, ctx.services.clock.utcnow(),
                                   first_rank)
    names = dict((await ctx.session.execute(
        select(Worker.id, Worker.name).where(Worker.id.in_(ids)))).all())
    sent = 0
    for candidate in ranked:
        if candidate.worker_id not in fresh:
            continue
        identity = await contact_of(ctx.session, candidate.worker_id)
        if identity is None:
            continue
        ctx.tell(identity, f"【岗位推荐】{names.get(candidate.worker_id, '')}，您好！有个岗位可能适合您：\n"
                           f"{vacancy_card(vacancy)}\n想报名请回复“报名 {vacancy.id}”；"
                           "不合适不用回复。回复“找工作”看更多岗位。", bulk=True)
        sent += 1
    return sent


def _post_to_groups(ctx: Context, vacancy: Vacancy) -> None:
    for group in ctx.services.settings.job_groups:
        ctx.send(group, f"【新岗位】{vacancy_card(vacancy)}\n想报名的请私聊我回复“报名 {vacancy.id}”"
                        "（先登记的请私聊发“登记”）。", bulk=True)


# ----- listing, editing, closing ----------------------------------------------------------------
@command("岗位", "jobs", "岗位列表", summary="查看在招岗位（“全部”含已关闭的，“我的”只看自己发布的）",
         usage="/岗位 [编号｜全部｜我的]", roles=POSTERS)
async def list_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    word = normalize(args).strip()
    if re.fullmatch(NUMBER, word):
        vacancy = await ctx.session.get(Vacancy, int(re.fullmatch(NUMBER, word)[1]))  # type: ignore[index]
        if vacancy is None:
            ctx.reply(f"没有编号为{word}的岗位。")
            return
        count = (await vq.application_counts(ctx.session, [vacancy.id])).get(vacancy.id, 0)
        poster = await ctx.session.get(Cadre, vacancy.posted_by) if vacancy.posted_by else None
        status = {"open": "招聘中", "closed": "已关闭"}.get(vacancy.status, vacancy.status)
        ctx.reply(f"{vacancy_card(vacancy)}\n状态：{status}，报名{count}人"
                  + (f"\n发布：{poster.name}（{scope_text(poster)}）" if poster else ""))
        return
    await list_posts(ctx, cadre, word, Vacancy, noun="岗位", open_words=("", "在招"),
                     open_title="在招岗位", open_condition=vq.open_condition(ctx.today),
                     counts=lambda ids: vq.application_counts(ctx.session, ids),
                     line=vacancy_line, people="/报名名单")


async def list_posts(ctx: Context, cadre: Cadre, word: str, model: Any, *, noun: str,
                     open_words: tuple[str, ...], open_title: str, open_condition: Any,
                     counts: Callable[[list[int]], Awaitable[dict[int, int]]],
                     line: Callable[[Any, int], str], people: str) -> None:
    """/岗位 and /培训 without a number: the open posts (``open_words``: “在招”…), the latest
    (全部) or the asker's own (我的), newest first, each ``line(post, count)`` with the number
    ``counts`` gives it; ``people`` is the command listing a post's applicants."""
    query = select(model)
    if word in open_words:
        query = query.where(open_condition)
        title = open_title
    elif word in ("全部", "所有"):
        title = f"最近的{noun}"
    elif word in ("我的", "我发布的"):
        query = query.where(model.posted_by == cadre.id)
        title = f"您发布的{noun}"
    else:
        ctx.reply(f"用法：/{noun}（{open_title.removesuffix(noun).removesuffix('的')}的），/{noun} 全部，"
                  f"/{noun} 我的，/{noun} 编号")
        return
    found = list((await ctx.session.execute(
        query.order_by(model.id.desc()).limit(LIST_LIMIT + 1))).scalars())
    if not found:
        ctx.reply(f"没有{title}。发 /发布{noun} 发布一个。")
        return
    numbers = await counts([p.id for p in found])
    only = f"，只列前{LIST_LIMIT}个" if len(found) > LIST_LIMIT else ""
    lines = [f"{title}（最新的在前{only}）："]
    lines += [line(p, numbers.get(p.id, 0)) for p in found[:LIST_LIMIT]]
    lines.append(f"发 /{noun} 编号 看详情，{people} 编号 看报名。")
    ctx.reply("\n".join(lines))


@command("关闭岗位", "closejob", "停止招聘", summary="关闭岗位，停止招聘", usage="/关闭岗位 编号",
         roles=POSTERS)
async def close_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    vacancy, _ = await _managed_vacancy(ctx, cadre, args, "/关闭岗位 编号，例如 /关闭岗位 12",
                                        "关闭岗位", "关闭", closed="岗位{id}已经关闭了。")
    if vacancy is None:
        return
    vacancy.status = "closed"
    vacancy.updated_at = ctx.services.clock.utcnow()
    ctx.session.add(vacancy)
    told = await _tell_waiting(ctx, vacancy, "已停止招聘")
    audit_ctx(ctx, "vacancy.close", vacancy.id, f"{vacancy.employer}{vacancy.title}")
    note = f"已通知{told}位还在等结果的报名人员。" if told else ""
    ctx.reply(f"岗位{vacancy.id}（{vacancy.employer} {vacancy.title}）已关闭，务工人员不能再报名。{note}")


async def _tell_waiting(ctx: Context, vacancy: Vacancy, what: str) -> int:
    """Tell applicants still waiting (not hired) that the vacancy is closed."""
    told = 0
    for _, worker in await vq.applicants(ctx.session, vacancy.id, ("applied",)):
        identity = await contact_of(ctx.session, worker.id)  # type: ignore[arg-type]
        if identity:
            ctx.tell(identity, f"您报名的岗位{vacancy.id}（{vacancy.employer} {vacancy.title}）{what}，"
                               "谢谢您的关注。回复“找工作”看看其他岗位。", bulk=True)
            told += 1
    return told


# Listed as /岗位修改 so that /帮助 does not read as if /修改 (correcting a worker's record) were
# open to the bureau; /修改岗位 works the same.
@command("岗位修改", "修改岗位", "editjob", summary="修改岗位（也可以写“修改岗位 编号”）",
         usage="/岗位修改 编号", roles=POSTERS, private_only=True)
async def edit_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    vacancy, _ = await _managed_vacancy(
        ctx, cadre, args, "/修改岗位 编号，例如 /修改岗位 12", "修改岗位", "修改",
        closed="岗位{id}已经关闭，不能修改。要再招人请发 /发布岗位 重新发布。")
    if vacancy is None:
        return
    answers: dict[str, Any] = {
        "employer": vacancy.employer, "title": vacancy.title, "area": vacancy.area,
        "headcount": vacancy.headcount, "pay": [vacancy.pay_min, vacancy.pay_max]
        if vacancy.pay_min is not None or vacancy.pay_max is not None else None,
        "requirements": vacancy.requirements, "contact": vacancy.contact,
        "deadline": vacancy.deadline.isoformat() if vacancy.deadline else None,
        "public_welfare": vacancy.public_welfare, FILLED: vacancy.filled,
    }
    if vacancy.area == "县内":
        answers["township"] = vacancy.township
    else:
        answers["city"] = vacancy.city
    await _fresh_state(ctx, {"cadre_id": cadre.id, "vacancy_id": vacancy.id}, answers, CONFIRM)
    dialog = ctx.services.engine.dialogs[NAME]
    ctx.reply(f"修改岗位{vacancy.id}。\n" + ctx.services.engine.summary(dialog, answers))


# ----- applicants and hires ---------------------------------------------------------------------
@command("报名名单", "applicants", summary="查看岗位的报名人员（范围内的才显示详情）",
         usage="/报名名单 编号", roles=POSTERS, private_only=True)
async def applicants_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    vacancy, _ = await _vacancy_arg(ctx, args, "/报名名单 编号，例如 /报名名单 12", lock=False)
    if vacancy is None:
        return
    rows = await vq.applicants(ctx.session, vacancy.id)
    managing = await manages(ctx, cadre, vacancy)
    lines = [f"岗位{vacancy.id}（{vacancy.employer} {vacancy.title}）报名{len(rows)}人，"
             f"已录用{vacancy.filled}/{vacancy.headcount}人："]
    hidden = 0
    for n, (application, w) in enumerate(rows, 1):
        status = STATUS_TEXT.get(application.status, application.status)
        when = _day(application.created_at.astimezone(ctx.services.settings.tz))
        line = person_line(cadre, managing, n, w, status, f"{when}报名")
        if line is None:
            hidden += 1
        else:
            lines.append(line)
    if hidden:
        lines.append(f"另有{hidden}人不在您的范围（{scope_text(cadre)}）内。")
    if not rows:
        lines.append("还没有人报名。")
    elif managing:
        lines.append(f"录用请发 /录用 {vacancy.id} 编号（或姓名、手机尾号4位），"
                     f"例如 /录用 {vacancy.id} 编号{rows[0][1].id}")
    audit_ctx(ctx, "vacancy.applicants", vacancy.id, f"{len(rows) - hidden}人")
    ctx.reply("\n".join(lines))


@command("录用", "hire", summary="登记岗位录用的人（更新其就业状态）",
         usage="/录用 岗位编号 人员编号、姓名或手机尾号", roles=POSTERS, private_only=True)
async def hire_command(ctx: Context, args: str, cadre: Cadre | None) -> None:
    assert cadre is not None
    usage = "/录用 岗位编号 人员编号、姓名或手机尾号，例如 /录用 12 编号7"
    vacancy, who = await _managed_vacancy(ctx, cadre, args, usage, "录用", "登记录用")
    if vacancy is None:
        return
    if not who:
        ctx.reply(f"录用谁？用法：{usage}。发 /报名名单 {vacancy.id} 看报名的人。")
        return
    rows = await vq.applicants(ctx.session, vacancy.id, ("applied", "hired", "withdrawn"))
    found, what = pick_people(who, rows)
    if not found:
        ctx.reply(f"岗位{vacancy.id}的报名人员里没有{what}。发 /报名名单 {vacancy.id} 看报名的人和编号。")
        return
    if len(found) > 1:
        listed = "、".join(f"编号{w.id}（{w.township}{w.village}）" for _, w in found)
        ctx.reply(f"报名人员里有{len(found)}位{what}：{listed}。请用编号，例如 /录用 {vacancy.id} "
                  f"编号{found[0][1].id}")
        return
    application, worker = found[0]
    name = worker.name if covers(cadre, worker.township, worker.village) else mask_name(worker.name)
    if application.status == "hired":
        ctx.reply(f"{name}（编号{worker.id}）已经登记录用过了。")
        return
    if application.status == "withdrawn":
        ctx.reply(f"{name}（编号{worker.id}）已经取消了报名，不能登记录用。请本人重新报名。")
        return
    if vacancy.filled >= vacancy.headcount:
        ctx.reply(f"岗位{vacancy.id}招{vacancy.headcount}人，已经录满了。要多招请先 /修改岗位 {vacancy.id} "
                  "增加人数。")
        return
    now = ctx.services.clock.utcnow()
    application.status, application.updated_at = "hired", now
    worker.status = "本地已就业" if vacancy.area == "县内" else "已返岗"
    worker.employer, worker.work_area = vacancy.employer, vacancy.area
    worker.work_city = vacancy.city if vacancy.area != "县内" else None
    worker.updated_at = now
    vacancy.filled += 1
    vacancy.updated_at = now
    full = vacancy.filled >= vacancy.headcount
    if full:
        vacancy.status = "closed"
    ctx.session.add_all([application, worker, vacancy])
    await ctx.session.flush()
    employed, members = await vq.household_employment(ctx.session, worker)
    audit_ctx(ctx, "vacancy.hire", worker.id, f"岗位{vacancy.id}")  # type: ignore[arg-type]
    identity = await contact_of(ctx.session, worker.id)  # type: ignore[arg-type]
    if identity:
        ctx.tell(identity, f"恭喜！您已被{vacancy.employer}录用（{vacancy.title}，{place_text(vacancy)}）。"
                           f"请按联系人的安排上岗：{vacancy.contact or '请等工作人员通知'}。")
    text = (f"已登记录用：{name}（编号{worker.id}），就业状态改为{worker.status}，单位{vacancy.employer}。"
            f"\n岗位{vacancy.id}已录用{vacancy.filled}/{vacancy.headcount}人。"
            f"该户现有{employed}人就业（登记{members}人）。")
    if full:
        told = await _tell_waiting(ctx, vacancy, "已经招满")
        text += "\n岗位已招满，自动关闭" + (f"，已通知其余{told}位报名人员。" if told else "。")
    ctx.reply(text)


# ----- the worker's side -------------------------------------------------------------------------
async def _registered(ctx: Context, what: str) -> Worker | None:
    worker = await worker_of(ctx, ctx.identity)
    if worker is None:
        ctx.reply(f"{what}要先登记，登记后才能为您匹配岗位。回复“登记”开始。")
    return worker


def _no_match_text(worker: Worker, told: bool) -> str:
    """Why the list below is not a match: what the worker asked for found nothing (they will be
    told when something comes, ``told``), or they gave nothing to match on."""
    from dialogs.matching import _ANY_JOB  # 不限, 都可以: nothing in particular

    wanted = (worker.wanted_job or "").strip()
    skills = (worker.skills or "").strip()
    if wanted and not _ANY_JOB.search(wanted):
        what = f"您想做的“{wanted}”"
    elif skills:
        what = f"您的技能（{skills}）"
    else:
        return ("暂时没有和您的技能、意愿对得上的岗位。\n（登记时写上技能和想做的工种，推荐会更准。"
                "回复“登记”可以修改。）\n")
    later = "，有合适的新岗位会第一时间告诉您。" if told else "。"
    return f"暂时没有和{what}对得上的在招岗位{later}\n"


@keyword(r"(?:我要|我想)?(?:找工作|找岗位|找活|找事做)|(?:有什么|有没有|有啥)(?:工作|岗位|活)(?:吗|没有)?"
         r"|岗位推荐|推荐岗位|招聘信息|看岗位|看看岗位",
         help="· 回复“找工作”：看适合您的岗位，回复“报名 编号”报名")
async def find_jobs(ctx: Context, match: re.Match[str]) -> None:
    worker = await _registered(ctx, "找工作")
    if worker is None:
        return
    session = ctx.session
    await vq.refresh_worker_terms(session, geo_of(ctx), [worker.id])  # type: ignore[list-item]
    may_welfare = bool(await vq.eligible(session, worker, ctx.today))
    found = await vq.matches_for_worker(session, worker, today=ctx.today, limit=FIND_LIMIT,
                                        may_public_welfare=may_welfare)
    lead = ""
    if worker.status in HAS_JOB:
        lead = f"您登记的就业状态是“{worker.status}”，所以平时不给您推送岗位。想换工作的话，"
    elif worker.intent == "暂不就业":
        lead = "您登记的是暂不就业，所以平时不给您推送岗位。想找工作了的话，"
    vacancies = [v for v, _ in found]
    if vacancies:
        head = f"{lead}下面是最适合您的岗位："
    else:
        vacancies = await vq.local_openings(session, worker, today=ctx.today, limit=FIND_LIMIT,
                                            may_public_welfare=may_welfare)
        if not vacancies:
            ctx.reply("现在没有在招的岗位。有合适的新岗位会第一时间告诉您。")
            return
        head = f"{lead}{_no_match_text(worker, told=not lead)}下面是正在招人的岗位（本地的在前）："
    for v in vacancies:  # shown is told: no push of these later
        await vq.record_pushes(session, v.id, [worker.id], ctx.services.clock.utcnow(), 0)  # type: ignore[list-item]
    lines = [head, *(vacancy_line(v) for v in vacancies)]
    lines.append(f"想报名请回复“报名 编号”，例如“报名 {vacancies[0].id}”；回复“我的报名”查看已报名的。")
    ctx.reply("\n".join(lines))


@keyword(r"(?:我要|我想)?报名(?:岗位)?\s*" + NUMBER)
async def apply(ctx: Context, match: re.Match[str]) -> None:
    worker = await _registered(ctx, "报名岗位")
    if worker is None:
        return
    vacancy = await vq.locked_vacancy(ctx.session, int(match[1]))
    if vacancy is None:
        ctx.reply(f"没有编号为{match[1]}的岗位，请核对编号。回复“找工作”看看适合您的岗位。")
        return
    application = (await ctx.session.execute(select(Application).where(
        Application.vacancy_id == vacancy.id, Application.worker_id == worker.id))).scalar()
    if application is not None and application.status == "hired":
        ctx.reply(f"您已经被岗位{vacancy.id}（{vacancy.employer}）录用了。")
        return
    closed = vq.closed_reason(vacancy, ctx.today)
    if closed:
        ctx.reply(f"抱歉，岗位{vacancy.id}（{vacancy.employer} {vacancy.title}）{closed}，不能报名了。"
                  "回复“找工作”看看其他岗位。")
        return
    if application is not None and application.status == "applied":
        ctx.reply(f"您已经报名过岗位{vacancy.id}（{vacancy.employer} {vacancy.title}）了，不用重复报名。"
                  f"工作人员会和您联系，也可以直接联系：{vacancy.contact or '（无）'}")
        return
    if vacancy.public_welfare and not await vq.eligible(ctx.session, worker, ctx.today):
        ctx.reply(f"岗位{vacancy.id}是公益性岗位，只招建档立卡、易地扶贫搬迁、零就业家庭、家庭困难、"
                  "残疾或大龄（女40、男50岁以上）等就业困难人员。按您登记的情况不能报名；"
                  "如果登记有误，请回复“登记”修改，或联系村里。回复“找工作”看看其他岗位。")
        return
    now = ctx.services.clock.utcnow()
    if application is None:
        application = Application(vacancy_id=vacancy.id, worker_id=worker.id, created_at=now,
                                  updated_at=now)  # type: ignore[arg-type]
    application.status, application.updated_at, application.created_at = "applied", now, now
    ctx.session.add(application)
    await ctx.session.flush()
    count = (await vq.application_counts(ctx.session, [vacancy.id])).get(vacancy.id, 0)
    ctx.reply(f"报名成功！岗位{vacancy.id}：{vacancy.employer} {vacancy.title}（{place_text(vacancy)}）。\n"
              f"工作人员会尽快和您联系；也可以直接联系：{vacancy.contact or '（无）'}。\n"
              f"回复“我的报名”查看，不去了请回复“取消报名 {vacancy.id}”。")
    poster = await ctx.session.get(Cadre, vacancy.posted_by) if vacancy.posted_by else None
    if poster is not None and poster.active:
        ctx.tell(poster.identity, f"【报名】岗位{vacancy.id}（{vacancy.employer} {vacancy.title}）有新报名："
                                  f"{mask_name(worker.name)}（{worker.township}{worker.village}），"
                                  f"共{count}人。发 /报名名单 {vacancy.id} 查看。")


APPLY_HINT = "请在报名后面写岗位编号，例如“报名 12”；回复“找工作”看岗位和编号。"
_APPLY_UNCLEAR = re.compile(r"(?:我要|我想)?报名(?!包车)")


@keyword(r"(?:我要|我想)?报名(?:岗位)?")
async def apply_without_number(ctx: Context, match: re.Match[str]) -> None:
    ctx.reply(APPLY_HINT)


@reader(40)  # before the check-in reader: “报名 abc” is no check-in
async def apply_unclear(ctx: Context, text: str) -> bool:
    """“报名 abc”, “报名普工”: no keyword took it (a number would have been), so the number is
    missing or not a number — say how, instead of the menu."""
    if not _APPLY_UNCLEAR.match(normalize(text).strip()):
        return False
    ctx.reply(APPLY_HINT)
    return True


@keyword(r"我的报名|报名记录|查看报名|我报的岗位|我报名的岗位")
async def my_applications(ctx: Context, match: re.Match[str]) -> None:
    worker = await _registered(ctx, "查看报名")
    if worker is None:
        return
    rows = (await ctx.session.execute(
        select(Application, Vacancy).join(Vacancy, Vacancy.id == Application.vacancy_id)
        .where(Application.worker_id == worker.id).order_by(Application.id.desc()).limit(20))).all()
    if not rows:
        ctx.reply("您还没有报名岗位。回复“找工作”看看适合您的岗位。")
        return
    lines = ["您报名的岗位："]
    for application, v in rows:
        status = STATUS_TEXT.get(application.status, application.status)
        if application.status == "applied" and vq.closed_reason(v, ctx.today):
            status += f"，岗位{vq.closed_reason(v, ctx.today)}"
        lines.append(f"{v.id}. {v.employer} {v.title}（{place_text(v)}）— {status}")
    if any(a.status == "applied" for a, _ in rows):
        lines.append("不去了请回复“取消报名 编号”。")
    ctx.reply("\n".join(lines))


@keyword(r"(?:取消报名|不报了|退出报名|撤销报名|报名取消)(?:岗位)?\s*" + NUMBER)
async def withdraw(ctx: Context, match: re.Match[str]) -> None:
    worker = await _registered(ctx, "取消报名")
    if worker is None:
        return
    number = int(match[1])
    application = (await ctx.session.execute(select(Application).where(
        Application.vacancy_id == number, Application.worker_id == worker.id))).scalar()
    if application is None or application.status == "withdrawn":
        ctx.reply(f"您没有报名岗位{number}。回复“我的报名”看看报了哪些。")
        return
    vacancy = await ctx.session.get(Vacancy, number)
    if application.status == "hired":
        ctx.reply(f"您已经被岗位{number}录用了，不能在这里取消。如果不去了，请联系："
                  f"{vacancy.contact if vacancy and vacancy.contact else '村里的工作人员'}。")
        return
    application.status = "withdrawn"
    application.updated_at = ctx.services.clock.utcnow()
    ctx.session.add(application)
    closed = vq.closed_reason(vacancy, ctx.today) if vacancy is not None else "已经停止招聘"
    if closed:
        ctx.reply(f"已取消岗位{number}的报名。这个岗位{closed}，不能再报名了；"
                  "回复“找工作”看看其他岗位。")
        return
    ctx.reply(f"已取消岗位{number}的报名。想再报名随时回复“报名 {number}”。")


@keyword(r"(?:取消报名|不报了|退出报名|撤销报名)")
async def withdraw_without_number(ctx: Context, match: re.Match[str]) -> None:
    ctx.reply("请写上要取消的岗位编号，例如“取消报名 12”。回复“我的报名”看看报了哪些。")
