"""Dialogs of the cadres' workbench, declared as data: registering a worker on their behalf
(the registration's own questions, worded for the cadre), reporting an enterprise's resumption
(/企业) and organising a chartered bus (/包车).

A cadre's scope travels in the answers under ``_scope`` (not a question, so it is never asked or
shown): the township and village questions refuse places outside it at once, and each finish
checks the scope again against the database.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select

from dialogs.engine import Answers, Dialog, ParseEnv, Step
from dialogs.parsing.dates import parse_date
from dialogs.parsing.errors import ParseError
from dialogs.parsing.idcard import mask_id
from dialogs.parsing.names import parse_free_text
from dialogs.parsing.textnorm import cn_number, normalize
from dialogs.registration import (
    REGISTRATION,
    SELF,
    parse_township,
    show_date,
    village_of,
)
from models.tables import Cadre, DialogState, Enterprise, Household, Worker

SCOPE = "_scope"
BY_CADRE = "registration_by_cadre"


# ----- shared parsers ------------------------------------------------------------------------
def _scope(env: ParseEnv) -> dict[str, Any]:
    return env.answers.get(SCOPE) or {}


def township_in_scope(text: str, env: ParseEnv) -> str:
    name = parse_township(text, env)
    mine = _scope(env).get("township")
    if mine and name != mine:
        raise ParseError(f"您负责的是{mine}，这里只能填{mine}。请回复“{mine}”，或回复“取消”。")
    return name


def village_in_scope(text: str, env: ParseEnv) -> str:
    name = village_of(text, env)
    mine = _scope(env).get("village")
    if mine and name != mine:
        raise ParseError(f"您负责的是{mine}，这里只能填{mine}。请回复“{mine}”，或回复“取消”。")
    return name


_COUNT_WORDS = re.compile(r"^(?:共|一共|大概|大约|约|有)|(?:人|名|个|位|左右|上下|多人)$")


def count_between(low: int, high: int):
    def parse(text: str, env: ParseEnv) -> int:
        t = normalize(text).replace(" ", "").replace(",", "")
        for _ in range(3):
            t = _COUNT_WORDS.sub("", t)
        if t in ("无", "没有", "不缺", "零"):
            t = "0"
        n = cn_number(t)
        if n is None:
            raise ParseError(f"请回复一个数字，例如：{max(low, 1) * 20}")
        if not low <= n <= high:
            raise ParseError(f"请回复 {low} 到 {high} 之间的数字。")
        return n

    return parse


def text_up_to(limit: int):
    def parse(text: str, env: ParseEnv) -> str:
        return parse_free_text(text, limit)

    return parse


def future_date(text: str, env: ParseEnv) -> str:
    when = parse_date(text, env.today)
    if when < env.today:
        raise ParseError(f"{when.month}月{when.day}日已经过去了，请回复出发的日子，例如“2月15日”。")
    return when.isoformat()


def any_date(text: str, env: ParseEnv) -> str:
    return parse_date(text, env.today).isoformat()


def consent_given(value: Any) -> str | None:
    if value:
        return None
    return "好的，没有征得本人同意不能登记。征得同意后再发 /登记。"


async def cadre_of_state(ctx, state: DialogState) -> Cadre | None:
    """The cadre who started this dialog, if still active and still the same person."""
    cadre = await ctx.session.get(Cadre, state.data.get("cadre_id"))
    if cadre is None or not cadre.active or cadre.identity != state.identity:
        return None
    return cadre


# ----- registering a worker on their behalf (/登记, /修改) -----------------------------------------
def _for_cadre(step: Step) -> Step:
    """The registration's question, asked of a cadre about the person being registered."""
    if step.key == "consent":
        return replace(
            step, label="已征得本人同意",
            prompt=("代为登记：请按被登记人的情况逐题回答（问题里的“被登记人”就是这位务工人员）。\n"
                    "登记前请向本人说明：信息只用于本区务工人员就业服务和疫情防控，"
                    "只有负责所在村镇的工作人员能看到。\n已征得本人同意吗？"),
            parse=REGISTRATION.step("consent").parse, stop=consent_given)
    prompt = step.prompt
    if isinstance(prompt, str):
        prompt = prompt.replace("您", "被登记人")
        if step.key == "phone":
            prompt += "（本人没有手机的，填家里人的手机号）"
    changes: dict[str, Any] = {"prompt": prompt, "help": step.help.replace("您", "被登记人")}
    if step.key == "township":
        changes["parse"] = township_in_scope
    elif step.key == "village":
        changes["parse"] = village_in_scope
    return replace(step, **changes)


def registration_fields(answers: Answers) -> tuple[dict[str, Any], str]:
    """The worker's fields and head of household from the registration's answers."""
    from models.workers import _fields, head_is_self

    fields = _fields(answers)
    head = answers["name"] if head_is_self(answers) else answers["head_name"]
    return fields, head


FIELD_LABELS = {
    "name": "姓名", "id_number": "身份证号", "gender": "性别", "birth_date": "出生日期",
    "phone": "手机号", "township": "乡镇/街道",
    "village": "村/社区", "group_name": "组", "relation": "与户主关系", "household_id": "户主",
    "poverty": "人员类别", "relocated": "人员类别", "health": "健康状况", "symptoms": "近期症状",
    "difficulty": "家庭困难", "skills": "技能特长", "experience": "务工经历", "status": "就业状态",
    "work_area": "务工地点", "work_city": "务工城市", "employer": "就业单位",
    "return_date": "返岗时间", "return_mode": "返岗方式", "intent": "就业意愿",
    "wanted_job": "期望工种", "wanted_place": "期望地点", "salary_min": "期望月薪",
    "salary_max": "期望月薪",
}


async def finish_by_cadre(ctx, answers: Answers, state: DialogState) -> str:
    from handlers.permissions import covers, scope_text
    from handlers.views import mask_name
    from models.audit import audit_ctx
    from models.roster import upsert_worker

    cadre = await cadre_of_state(ctx, state)
    if cadre is None:
        return "您的工作人员身份已经失效，这次登记没有保存。"
    fields, head = registration_fields(answers)
    if not covers(cadre, fields["township"], fields["village"]):
        return (f"{fields['township']}{fields['village']}不在您的范围（{scope_text(cadre)}）内，"
                "这次登记没有保存。")
    now = ctx.services.clock.utcnow()
    session = ctx.session
    same_id = (await session.execute(
        select(Worker).where(Worker.id_number == fields["id_number"]))).scalar()
    worker_id = state.data.get("worker_id")
    if worker_id:  # /修改 <编号>
        worker = await session.get(Worker, worker_id)
        if worker is None or not covers(cadre, worker.township, worker.village):
            return f"编号{worker_id}的登记已不在您的范围内，没有修改。"
        if same_id is not None and same_id.id != worker.id:
            return (f"身份证号{mask_id(fields['id_number'])}已经登记为编号{same_id.id}"
                    f"（{mask_name(same_id.name)}），没有修改。请核对后重新 /修改 {worker.id}。")
        before = {k: getattr(worker, k) for k in (*fields, "household_id")}
        worker, outcome = await upsert_worker(session, fields, head, now, worker=worker)
        changed = sorted({FIELD_LABELS.get(k, k) for k, v in before.items()
                          if getattr(worker, k) != v})
        audit_ctx(ctx, "worker.edit", worker.id, "、".join(changed) or "无改动")
        if outcome == "unchanged":
            return f"编号{worker.id}（{worker.name}）的登记没有改动。"
        return f"已修改编号{worker.id}（{worker.name}）：{'、'.join(changed)}。"
    if same_id is not None and not covers(cadre, same_id.township, same_id.village):
        return (f"这个身份证号已经在{same_id.township}{same_id.village}登记过（编号{same_id.id}），"
                f"不在您的范围内，这次没有保存。请联系{same_id.township}的工作人员。")
    worker, outcome = await upsert_worker(session, fields, head, now, worker=same_id,
                                          entered_by=cadre.id, consent=True)
    audit_ctx(ctx, "worker.register" if outcome == "created" else "worker.edit", worker.id,
              "代为登记")
    if outcome == "created":
        return (f"已代为登记：{worker.name}（编号{worker.id}），{worker.township}{worker.village}。\n"
                f"需要更正请发 /修改 {worker.id}；继续登记下一位请发 /登记。")
    return (f"{worker.name}之前已经登记过（编号{worker.id}），已按这次填写的内容更新。\n"
            f"需要更正请发 /修改 {worker.id}。")


def cancel_by_cadre(state: DialogState) -> str:
    """取消 in /登记 (a new registration) or in /修改 N (an edit: nothing is saved yet)."""
    worker_id = (state.data or {}).get("worker_id")
    if worker_id:
        return (f"好的，编号{worker_id}的修改先停在这里，登记还没有任何改动。\n"
                f"想接着改请回复“继续”（改过的内容都保留着），想从头改请重新发 /修改 {worker_id}；"
                "不改了就不用管它。")
    return "好的，代为登记先停在这里，已填的内容都保留着。回复“继续”接着填，发 /登记 重新开始。"


REGISTRATION_BY_CADRE = Dialog(
    name=BY_CADRE,
    title="代为登记",
    steps=tuple(_for_cadre(s) for s in REGISTRATION.steps),
    finish=finish_by_cadre,
    summary_intro="请核对登记信息：",
    cancel_text=cancel_by_cadre,
)


async def answers_from_worker(session, w: Worker) -> Answers:
    """A registered worker as the registration's answers (for /修改)."""
    household = await session.get(Household, w.household_id) if w.household_id else None
    head = household.head_name if household else w.name
    categories = [n for flag, n in ((w.poverty, "建档立卡贫困劳动力"), (w.relocated, "易地扶贫搬迁劳动力"))
                  if flag] or ["其他"]
    salary = None
    if w.salary_min is not None or w.salary_max is not None:
        salary = [w.salary_min, w.salary_max]
    values: dict[str, Any] = {
        "consent": True,
        "name": w.name,
        "id_number": w.id_number,
        "phone": w.phone,
        "township": w.township,
        "village": w.village,
        "group": w.group_name,
        "head_name": SELF if head == w.name or w.relation == SELF else head,
        "relation": None if head == w.name else w.relation,
        "category": categories,
        "health": w.health,
        "symptoms": list(w.symptoms or []) or ["无"],
        "difficulty": w.difficulty or "无",
        "skills": w.skills,
        "experience": w.experience,
        "status": w.status,
        "work_area": w.work_area,
        "work_city": w.work_city,
        "employer": w.employer,
        "return_date": w.return_date.isoformat() if w.return_date else None,
        "return_mode": w.return_mode,
        "intent": w.intent,
        "wanted_job": w.wanted_job,
        "wanted_place": w.wanted_place,
        "wanted_salary": salary,
    }
    # Questions that apply keep their value, even an empty one (skipped); the others are left
    # out, so a change of 就业状态 asks the new branch's questions.
    applicable = {s.key for s in REGISTRATION.applicable(values)}
    return {k: v for k, v in values.items() if k in applicable}


# ----- an enterprise's resumption (/企业) ---------------------------------------------------------
def returned_count(text: str, env: ParseEnv) -> int:
    n = count_between(0, 100_000)(text, env)
    registered = env.answers.get("staff_registered")
    if registered is not None and n > registered:
        raise ParseError(f"已返岗的人数不能多于在册职工（{registered}人），请再核对一下。")
    return n


def show_count(value: int) -> str:
    return f"{value}人"


def post_offer(enterprise: Enterprise) -> str:
    """How to turn the shortage into vacancies (/发布岗位 企业N [工种], pre-filled)."""
    from dialogs.vacancy_post import enterprise_jobs

    jobs = enterprise_jobs(enterprise.jobs_wanted)
    if len(jobs) > 1:
        commands = "\n".join(f"/发布岗位 企业{enterprise.id} {job}" for job, _ in jobs)
        filled = "单位、地点、工种和人数" if all(n for _, n in jobs) else "单位、地点和工种"
        return ("要把缺的岗位发布出去、推送给合适的务工人员，每个工种发一次：\n"
                f"{commands}\n{filled}已按这次填报填好，只需补月薪、联系人和报名截止日期。")
    filled = "单位、地点、工种和人数" if jobs else "单位、地点和人数"
    return (f"要把缺工发布成招聘岗位、推送给合适的务工人员，请发 /发布岗位 企业{enterprise.id}"
            f"（{filled}已按这次填报填好，只需补月薪、联系人和报名截止日期）。")


async def finish_enterprise(ctx, answers: Answers, state: DialogState) -> str:
    from handlers.permissions import scope_text
    from models.audit import audit_ctx

    cadre = await cadre_of_state(ctx, state)
    if cadre is None:
        return "您的工作人员身份已经失效，这次没有保存。"
    township = answers["township"]
    if cadre.role == "township" and township != cadre.township:
        return f"{township}不在您的范围（{scope_text(cadre)}）内，这次没有保存。"
    now = ctx.services.clock.utcnow()
    found = (await ctx.session.execute(select(Enterprise).where(
        Enterprise.name == answers["name"], Enterprise.township == township))).scalar()
    enterprise = found or Enterprise(name=answers["name"], township=township, reported_at=now)
    resumed = answers.get("resumed_on")
    enterprise.resumed_on = date.fromisoformat(resumed) if resumed else None
    enterprise.staff_registered = answers["staff_registered"]
    enterprise.staff_returned = answers["staff_returned"]
    enterprise.shortage = answers["shortage"]
    enterprise.jobs_wanted = answers.get("jobs_wanted") if answers["shortage"] else None
    enterprise.reported_by, enterprise.reported_at = cadre.id, now
    ctx.session.add(enterprise)
    await ctx.session.flush()
    audit_ctx(ctx, "enterprise.report", enterprise.id, enterprise.name)
    verb = "已更新" if found else "已记录"
    rate = (f"，返岗率{enterprise.staff_returned * 100 // enterprise.staff_registered}%"
            if enterprise.staff_registered else "")
    lines = [f"{verb}企业复工情况（企业编号{enterprise.id}）：{enterprise.name}，{township}，"
             f"在册{enterprise.staff_registered}人，已返岗{enterprise.staff_returned}人{rate}。"]
    if enterprise.shortage:
        wanted = enterprise.jobs_wanted or "工种未填"
        lines.append(f"缺工{enterprise.shortage}人（{wanted}），已计入日报的企业缺工数。")
        lines.append(post_offer(enterprise))
    else:
        lines.append("暂不缺工。")
    return "\n".join(lines)


ENTERPRISE = Dialog(
    name="enterprise_report",
    title="企业复工填报",
    summary_intro="请核对企业复工情况：",
    finish=finish_enterprise,
    steps=(
        Step("name", "企业名称", "请输入企业名称（例如：贵阳某某食品有限公司）：", text_up_to(60)),
        Step("township", "所在乡镇/街道", "企业在哪个乡镇或街道？", township_in_scope),
        Step("resumed_on", "复工日期", "哪天复工（或计划哪天复工）？例如：2月10日。还没定的回复“跳过”。",
             any_date, optional=True, show=show_date),
        Step("staff_registered", "在册职工", "在册职工一共多少人？", count_between(0, 100_000),
             show=show_count),
        Step("staff_returned", "已返岗职工", "已经返岗的职工多少人？", returned_count, show=show_count),
        Step("shortage", "缺工人数", "还缺多少人？不缺工请回复 0。", count_between(0, 100_000),
             show=show_count),
        Step("jobs_wanted", "缺工工种", "缺哪些工种？（例如：普工20人、电焊工5人）", text_up_to(100),
             optional=True, when=lambda a: bool(a.get("shortage"))),
    ),
)


# ----- a chartered bus (/包车) ---------------------------------------------------------------------
async def finish_bus(ctx, answers: Answers, state: DialogState) -> str:
    from handlers.buses import publish_bus

    cadre = await cadre_of_state(ctx, state)
    if cadre is None:
        return "您的工作人员身份已经失效，这趟包车没有发布。"
    return await publish_bus(ctx, cadre, answers)


BUS = Dialog(
    name="bus_charter",
    title="组织包车",
    summary_intro="请核对包车信息（确认后会通知打算这几天去那里的务工人员）：",
    finish=finish_bus,
    steps=(
        Step("destination", "目的地", "包车开往哪里？（城市，例如：广东东莞、浙江宁波）", text_up_to(30)),
        Step("day", "出发日期", "哪天出发？（例如：2月15日、下周一）", future_date, show=show_date),
        Step("seats", "座位数", "可以坐多少人（座位数）？", count_between(1, 200), show=show_count),
        Step("meeting_point", "集合地点和时间", "在哪里、几点集合？（例如：青岩镇政府门口 早上7点）",
             text_up_to(60)),
        Step("escort", "带队人", "带队人和联系电话？（例如：张三 13800001111；没有请回复“跳过”）",
             text_up_to(40), optional=True),
    ),
)

DIALOGS = [REGISTRATION_BY_CADRE, ENTERPRISE, BUS]
