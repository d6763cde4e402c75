"""Posting a vacancy (/发布岗位), read top to bottom; the same dialog edits one (/修改岗位 N).

Staff answer one question per message, or write everything in one line
(``/发布岗位 花溪某电子厂 普工 县内 20人 4000-5000 联系电话13800001111 截止3月1日``): the line is
read by :func:`read_line` with the same parsers, and whatever is missing is then asked.  Either
way the summary comes last, and nothing is posted before 确认 — a push cannot be taken back.
Finishing saves the vacancy and pushes it (``handlers.vacancies.publish``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dialogs.engine import Answers, Dialog, ParseEnv, Step, record_cancel_text
from dialogs.parsing.choices import Option, match_choice, parse_yes_no
from dialogs.parsing.dates import parse_date
from dialogs.parsing.errors import ParseError
from dialogs.parsing.names import parse_free_text
from dialogs.parsing.textnorm import cn_number, has_words, normalize
from dialogs.registration import AREA, parse_salary_range, parse_township, show_date, show_salary

NAME = "vacancy_post"
MAX_HEADCOUNT = 5000
FILLED = "_filled"  # in the answers when editing: the headcount may not go below it


# ----- parsers -----------------------------------------------------------------------------------
def text_of(limit: int, what: str):
    def parse(text: str, env: ParseEnv) -> str:
        value = parse_free_text(text, limit)
        if len(value) < 2:
            raise ParseError(f"太短了，请写完整的{what}。")
        return value

    return parse


# “No requirements”: stored as nothing, not as the text (男女不限 is a requirement, kept).
NO_REQUIREMENTS = ("无", "没有", "没", "不限", "无要求", "没有要求", "没要求", "不限制", "都不限", "都可以",
                   "无特殊要求", "没有特殊要求", "没什么要求", "没啥要求", "没得要求", "无限制", "没有限制")


def parse_requirements(text: str, env: ParseEnv) -> str | None:
    if normalize(text).strip("。.，,！!~ ") in NO_REQUIREMENTS:
        return None
    return text_of(200, "要求")(text, env)


_COUNT = re.compile(r"^(?:招聘?|共|一共|需要?|缺|要)?\s*(.+?)\s*(?:个人|人|名|个|位)?(?:左右)?$")


def parse_headcount(text: str, env: ParseEnv) -> int:
    t = normalize(text).replace(" ", "").replace(",", "").rstrip("。.")
    match = _COUNT.match(t)
    number = cn_number(match[1]) if match else None
    if number is None:
        raise ParseError("请回复招聘人数，例如：20 或 20人")
    if number < 1:
        raise ParseError("招聘人数至少是1人。")
    filled = env.answers.get(FILLED) or 0
    if number < filled:
        raise ParseError(f"这个岗位已经录用了{filled}人，人数不能少于{filled}。")
    if number > MAX_HEADCOUNT:
        raise ParseError(f"一次最多招{MAX_HEADCOUNT}人，请核对人数。")
    return number


_PHONE_LIKE = re.compile(r"\d[\d\- ]{5,}\d")


def parse_contact(text: str, env: ParseEnv) -> str:
    value = parse_free_text(text, 60)
    if not _PHONE_LIKE.search(normalize(value)):
        raise ParseError("请写上联系电话，例如：张经理 13800001111，或 0851-83851234")
    return value


def parse_deadline(text: str, env: ParseEnv) -> str:
    when = parse_date(text, env.today)
    if when < env.today:
        raise ParseError(f"{when.month}月{when.day}日已经过去了，请回复报名截止的日子，例如“3月1日”。")
    return when.isoformat()


YES_NO = (Option("是", "是", ("公益性岗位", "公益岗", "公益")), Option("否", "不是", ("不是", "普通岗位")))


def parse_welfare(text: str, env: ParseEnv) -> bool:
    try:
        return parse_yes_no(text)
    except ParseError:
        return match_choice(text, YES_NO).value == "是"


def parse_area(text: str, env: ParseEnv) -> str:
    return match_choice(text, AREA).value


def township_of(text: str, env: ParseEnv) -> str:
    return parse_township(text, env)


def city_of(text: str, env: ParseEnv) -> str:
    value = parse_free_text(text, 30)
    if not has_words(value) or value.isdigit():
        raise ParseError("请写城市名，例如：贵阳、广东东莞")
    return value


def local(a: Answers) -> bool:
    return a.get("area") == "县内"


# ----- the dialog ----------------------------------------------------------------------------------
STEPS: tuple[Step, ...] = (
    Step("employer", "用工单位", "用工单位叫什么？（例如：花溪某某电子厂）", text_of(60, "单位名称")),
    Step("title", "岗位", "招什么岗位（工种）？（例如：普工、焊工、保洁、叉车司机）",
         text_of(30, "岗位名称"), help="写工种就行，一个岗位发一次；不同工种请分开发布。"),
    Step("area", "工作地点", "在哪里工作？", parse_area, options=AREA),
    Step("township", "乡镇/街道", "在区里哪个乡镇或街道？（例如：青岩镇）", township_of,
         optional=True, when=local),
    Step("city", "城市", "在哪个城市？（例如：贵阳、广东东莞）", city_of,
         when=lambda a: a.get("area") in ("省内县外", "省外")),
    Step("headcount", "招聘人数", "招几个人？", parse_headcount, show=lambda n: f"{n}人"),
    Step("pay", "月薪", "月薪多少？（例如：4000、3000到5000、面议）", parse_salary_range,
         show=show_salary, optional=True),
    Step("requirements", "岗位要求",
         "有什么要求？（例如：男女不限，18到50岁，有焊工证优先；没有要求回复“无”）",
         parse_requirements, optional=True, help="没有要求请回复“无”或“跳过”。"),
    Step("contact", "联系方式", "报名联系人和电话？（例如：张经理 13800001111）", parse_contact),
    Step("deadline", "报名截止", "报名截止到哪天？（例如：3月1日；不限请回复“跳过”）",
         parse_deadline, show=show_date, optional=True),
    Step("public_welfare", "公益性岗位", "是不是公益性岗位？（公益性岗位只推送给建档立卡、易地搬迁、"
         "零就业家庭等就业困难人员）", parse_welfare, options=YES_NO,
         show=lambda v: "是" if v else "否"),
)


async def finish(ctx, answers: Answers, state) -> str:
    from handlers.vacancies import publish

    return await publish(ctx, answers, state)


cancel_text = record_cancel_text("岗位", "vacancy_id", post="/发布岗位", edit="/修改岗位")


VACANCY_POST = Dialog(
    name=NAME, title="发布岗位", steps=STEPS, finish=finish,
    summary_intro="请核对岗位信息（回复“确认”才生效；新发布的会推送给匹配的务工人员并发到招聘群，"
                  "修改的只推送给新匹配上的人）：",
    cancel_text=cancel_text,
)
DIALOGS = [VACANCY_POST]


# ----- from an enterprise's shortage (/发布岗位 企业N [工种]) ----------------------------------------
_JOB_SEP = re.compile(r"[、,，;；/｜|]+|以及|和|及")
_JOB_ITEM = re.compile(r"^(?P<title>.+?)(?:(?:缺|招|要)?(?:(?P<n>[0-9]+)"
                       r"|(?P<cn>[零一二两三四五六七八九十百千]+)(?=个人|人|名|个|位))"
                       r"(?:个人|人|名|个|位)?(?:左右)?|若干人?|若干名?)?$")


def enterprise_jobs(jobs_wanted: str | None) -> list[tuple[str, int | None]]:
    """The jobs an enterprise said it lacks (``普工20人、电焊工10人``) as (job, number or None)."""
    found: list[tuple[str, int | None]] = []
    for part in _JOB_SEP.split(normalize(jobs_wanted or "")):
        match = _JOB_ITEM.match(part.replace(" ", "").strip("。.:："))
        if match and 2 <= len(match["title"]) <= 30:
            number = match["n"] or match["cn"]
            found.append((match["title"], cn_number(number) if number else None))
    return found


def answers_from_enterprise(enterprise, job: str | None = None) -> Answers:
    """A vacancy's answers from an enterprise's report: the employer, the place (its township,
    so 县内), the job when one is named (or the only one it lacks) and the headcount (that job's
    shortage, or the whole shortage for its only job); not 公益性, no requirements.  What is left
    — pay, contact, deadline, and the job and headcount when it lacks several — is asked."""
    answers: Answers = {"employer": enterprise.name[:60], "area": "县内", "public_welfare": False,
                        "requirements": None}
    if enterprise.township:
        answers["township"] = enterprise.township
    jobs = enterprise_jobs(enterprise.jobs_wanted)
    count: int | None = None
    if job:
        answers["title"] = job
        count = next((n for title, n in jobs if title == job), None)
        if count is None and len(jobs) <= 1:
            count = enterprise.shortage
    elif len(jobs) == 1:
        answers["title"] = jobs[0][0]
        count = jobs[0][1] or enterprise.shortage
    elif not jobs:
        count = enterprise.shortage
    if count is not None and 1 <= count <= MAX_HEADCOUNT:
        answers["headcount"] = count
    return answers


# ----- one line ------------------------------------------------------------------------------------
@dataclass
class LineReading:
    answers: Answers = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # hints for parts that were not understood


_SPLIT = re.compile(r"[\s,，;；|｜·]+")
_DEADLINE = re.compile(r"^(?:报名)?(?:截止|截至|截止日期|截止时间)[:：]?(.*)$")
_CONTACT = re.compile(r"^(?:联系人|联系电话|联系方式|联系|电话|手机|咨询电话)[:：]?(.*)$")
_REQUIRE = re.compile(r"^(?:岗位要求|要求|条件)[:：](.*)$|^要求(.+)$")
_PAY = re.compile(r"^(?:月薪|工资|薪资|待遇|薪水)[:：]?(.+)$")
_HEADCOUNT = re.compile(r"^(?:招聘?|共|需)?\s*([0-9零一二两三四五六七八九十百千]+)\s*(?:人|名|个人)$")
_PHONE_TOKEN = re.compile(r"^(?:\+?86)?(?:1\d{10}|0\d{2,3}-?\d{7,8}|\d{3,4}-\d{4}-\d{4})$")
_PAY_RANGE = re.compile(r"^\d{3,6}(?:元)?\s*[-~—–到至]\s*\d{3,6}(?:元)?(?:/月|每月)?$")
_WELFARE = ("公益性岗位", "公益岗", "公益性", "公益岗位")
_AREA_WORDS = {"县内": "县内", "区内": "县内", "本地": "县内", "省内县外": "省内县外", "省内": "省内县外",
               "县外省内": "省内县外", "省外": "省外", "外省": "省外"}


def line_tokens(text: str) -> list[str]:
    """A one-line command's words (split at spaces, commas, semicolons and bars)."""
    return [t for t in _SPLIT.split(normalize(text)) if t]


def contact_at(tokens: list[str], i: int) -> tuple[list[str], int] | None:
    """The contact that begins at ``tokens[i]`` — 联系电话13800001111, 电话 0851-83851234,
    联系人张经理 13800001111, or a phone number alone — and the index after it; None if none."""
    bare = tokens[i].strip("。.、")
    if _CONTACT.match(bare):
        if not _PHONE_LIKE.search(bare) and i + 1 < len(tokens) and _PHONE_LIKE.search(tokens[i + 1]):
            return [bare, tokens[i + 1]], i + 2  # 联系人张经理 13800001111
        return [bare], i + 1
    if _PHONE_TOKEN.match(bare):
        return [bare], i + 1
    return None


def read_line(text: str, env: ParseEnv) -> LineReading:
    """Read a whole vacancy from one line; the first two words nothing else claims are the
    employer and the job, the rest goes to the requirements."""
    reading = LineReading()
    found = reading.answers
    plain: list[str] = []
    contact: list[str] = []
    tokens = line_tokens(text)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        bare = token.strip("。.、")
        if bare in _WELFARE:
            found["public_welfare"] = True
            continue
        if bare in ("非公益性岗位", "非公益岗", "普通岗位"):
            found["public_welfare"] = False
            continue
        if bare in _AREA_WORDS:
            found["area"] = _AREA_WORDS[bare]
            continue
        if m := _DEADLINE.match(bare):
            what = m[1] or (tokens[i] if i < len(tokens) else "")
            if not m[1]:
                i += 1
            try:
                found["deadline"] = parse_deadline(what, env)
            except ParseError as err:
                reading.problems.append(f"截止日期：{err.hint}")
            continue
        if _PAY_RANGE.match(bare) and "pay" not in found:
            try:
                found["pay"] = parse_salary_range(bare, env)
                continue
            except ParseError:
                pass
        if at := contact_at(tokens, i - 1):
            parts, i = at
            contact += parts
            continue
        if m := _REQUIRE.match(bare):
            found["requirements"] = m[1] or m[2]
            continue
        if m := _HEADCOUNT.match(bare):
            number = cn_number(m[1])
            if number:
                found["headcount"] = number
                continue
        if m := _PAY.match(bare):
            try:
                found["pay"] = parse_salary_range(m[1], env)
            except ParseError as err:
                reading.problems.append(f"月薪：{err.hint}")
            continue
        if any(ch.isdigit() for ch in bare) and "pay" not in found:
            try:
                found["pay"] = parse_salary_range(bare, env)
                continue
            except ParseError:
                pass
        if bare in ("面议", "工资面议", "薪资面议"):
            found["pay"] = [None, None]
            continue
        plain.append(token)
    if contact:
        found["contact"] = " ".join(contact)
    # A word that is only a place: a township of the district (青岩镇), or a city (广东东莞).
    rest: list[str] = []
    for token in plain:
        place = _place_word(token, env)
        if place is None:
            rest.append(token)
            continue
        area, township, city = place
        found.setdefault("area", area)
        if township:
            found.setdefault("township", township)
        if city:
            found.setdefault("city", city)
    if rest:
        found["employer"] = rest[0]
    if len(rest) > 1:
        found["title"] = rest[1]
    if len(rest) > 2:
        extra = " ".join(rest[2:])
        found["requirements"] = f"{found['requirements']} {extra}" if "requirements" in found else extra
    for key, parse in (("employer", text_of(60, "单位名称")), ("title", text_of(30, "岗位名称")),
                       ("requirements", parse_requirements), ("contact", parse_contact)):
        if key in found:
            try:
                found[key] = parse(found[key], env)
            except ParseError as err:
                reading.problems.append(err.hint)
                del found[key]
    if found.get("area") == "县内":
        found.pop("city", None)
    elif "area" in found:
        found.pop("township", None)
    return reading


def _place_word(token: str, env: ParseEnv) -> tuple[str, str | None, str | None] | None:
    """(area, township, city) when the word is only a place: 青岩镇, 青岩, 贵阳, 广东东莞."""
    from dialogs.matching import geo_for, lexicon, read_place

    directory = env.ctx.services.townships
    settings = env.ctx.services.settings
    geo = geo_for(settings.district_name, [t.name for t in directory.all])
    place = read_place(token, geo)
    if place.township and token in _township_words(place.township):
        return "县内", place.township, None
    rest = token
    for name in sorted(lexicon().city_province, key=len, reverse=True):
        rest = rest.replace(name, "")
    if rest.strip("省市") or rest == token:
        return None
    return ("省外" if "省外" in place.areas else "省内县外"), None, token


def _township_words(name: str) -> set[str]:
    from dialogs.matching import township_keys

    keys = set(township_keys(name))
    return keys | {k + s for k in keys for s in ("镇", "乡", "街道")}
