"""Posting a skills-training course (/发布培训), read top to bottom.

Staff answer one question per message, or write everything in one line
(``/发布培训 电焊 花溪区职业技术学校 3月1日到3月10日 30人 补贴1500元 电话0851-83851234``): the
line is read by :func:`read_line` with the questions' own parsers, and whatever is missing is
then asked (``DialogEngine.start_from_line``, as for /发布岗位).  Either way the summary comes
last, and nothing is posted before 确认 — the course is then told to the workers it fits.
Finishing saves the course and tells them (``handlers.training.publish``).  /修改培训 N opens the
same dialog at the summary with the course's answers (``TAKEN`` keeps the seats above the
sign-ups), as /修改岗位 does for a vacancy.
"""

from __future__ import annotations

import re
from datetime import date

from dialogs.engine import Answers, Dialog, ParseEnv, Step, record_cancel_text
from dialogs.parsing.dates import parse_date
from dialogs.parsing.errors import ParseError
from dialogs.parsing.names import NOT_AN_ANSWER, parse_free_text
from dialogs.parsing.textnorm import cn_number, normalize
from dialogs.vacancy_post import LineReading, contact_at, line_tokens, parse_contact
from dialogs.workbench_forms import count_between, show_count

NAME = "training_post"
MAX_SEATS = 500
MAX_DAYS = 366
TAKEN = "_taken"  # in the answers when editing (/修改培训): the seats may not go below the sign-ups


# ----- parsers -----------------------------------------------------------------------------------
_COURSE_WORDS = re.compile(r"(?:技能)?(?:培训班|培训|班)$")


def parse_trade(text: str, env: ParseEnv) -> str:
    """The trade taught: 电焊, 叉车, 家政 (a trailing 培训/培训班 is dropped: 电焊培训 → 电焊)."""
    hint = "请写培训的工种或技能，例如：电焊、叉车、家政、厨师。"
    value = parse_free_text(text, 30, hint=hint)
    bare = _COURSE_WORDS.sub("", value.strip("。.！! ")) or value
    if bare.lower() in NOT_AN_ANSWER or bare.isdigit() or len(bare) < 2:
        raise ParseError(hint)
    return bare


def parse_place(text: str, env: ParseEnv) -> str:
    hint = "请写在哪里培训，例如：花溪区职业技术学校、青岩镇就业服务中心。"
    value = parse_free_text(text, 60, hint=hint)
    if len(value) < 2 or value.isdigit():
        raise ParseError(hint)
    return value


_DATES_ASK = "请回复培训的日子，例如：3月1日到3月10日；只有一天就回复那一天，例如：3月1日"
_PREFIX = re.compile(r"^(?:培训时间|开班时间|时间|日期|开班|开课)[:：]?")
_DAYS = re.compile(r"^(.+?)(?:开班|开课|开始|起)?,?(?:共|培训|为期|学)?"
                   r"([0-9零一二两三四五六七八九十]{1,3})天$")
_RANGE = re.compile(r"^(.+?)(?:到|至|~|—|–)(.+)$")
_HYPHEN = re.compile(r"^(.+?[日号]|\d{1,2}[./]\d{1,2})-(.+)$")  # 3月1日-3月10日, 3/1-3/10
_DAY_ONLY = re.compile(r"^([0-9零一二两三四五六七八九十]{1,3})[日号]?(?:结束|结业|止|为止)?$")
_END_WORDS = re.compile(r"(?:结束|结业|为止|止)$")


def _end_day(text: str, start: date, today: date) -> date:
    """The last day, said in full (3月10日) or as a day of the start's month (10日, 10)."""
    day_only = _DAY_ONLY.match(text)
    if day_only:
        day = cn_number(day_only[1])
        if day is None or not 1 <= day <= 31:
            raise ParseError(_DATES_ASK)
        year, month = start.year, start.month
        if day < start.day:  # 3月25日到5日: the 5th of April
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        try:
            return date(year, month, day)
        except ValueError:
            raise ParseError(f"{month}月没有{day}日，{_DATES_ASK}") from None
    return parse_date(_END_WORDS.sub("", text), today)


def parse_course_dates(text: str, env: ParseEnv) -> list[str]:
    """[first day, last day] (ISO) of a course: “3月1日到3月10日”, “3月1日-10日”, “3/1-3/10”,
    “3月1日开班，培训10天”, “下周一开始 共5天”, or one day, “3月1日”."""
    t = _PREFIX.sub("", normalize(text).replace(" ", "").replace("，", ","))
    if not t:
        raise ParseError(_DATES_ASK)
    if len(t) > 40:
        raise ParseError(f"内容太长了，只发日子就行。{_DATES_ASK}")
    today = env.today
    if days := _DAYS.match(t):
        count = cn_number(days[2])
        if not count:
            raise ParseError(_DATES_ASK)
        start = parse_date(days[1], today)
        end = date.fromordinal(start.toordinal() + count - 1)
    elif parts := (_RANGE.match(t) or _HYPHEN.match(t)):
        start = parse_date(parts[1], today)
        end = _end_day(parts[2], start, today)
    else:
        start = end = parse_date(_END_WORDS.sub("", t), today)
    if start < today:
        raise ParseError(f"{start.month}月{start.day}日已经过去了，请回复开班的日子，"
                         "例如：3月1日到3月10日")
    if end < start:
        raise ParseError(f"结束的日子（{end.month}月{end.day}日）比开班的日子还早，请再核对一下，"
                         "例如：3月1日到3月10日")
    if (end - start).days >= MAX_DAYS:
        raise ParseError("培训时间超过一年了，请再核对一下，例如：3月1日到3月10日")
    return [start.isoformat(), end.isoformat()]


def course_days(starts_on: date, ends_on: date) -> str:
    """“3月1日至3月10日（10天）”, or “3月1日（1天）”."""
    first = f"{starts_on.month}月{starts_on.day}日"
    if ends_on == starts_on:
        return f"{first}（1天）"
    return f"{first}至{ends_on.month}月{ends_on.day}日（{(ends_on - starts_on).days + 1}天）"


def show_dates(value: list[str]) -> str:
    start, end = (date.fromisoformat(v) for v in value)
    return f"{start.year}年{course_days(start, end)}"


_seat_count = count_between(1, MAX_SEATS)


def parse_seats(text: str, env: ParseEnv) -> int:
    seats = _seat_count(text, env)
    taken = env.answers.get(TAKEN) or 0
    if seats < taken:
        raise ParseError(f"这个培训已经有{taken}人报名，名额不能少于{taken}人。"
                         f"请回复 {taken} 到 {MAX_SEATS} 之间的数字。")
    return seats


NO_SUBSIDY = ("无", "没有", "没", "没得", "否", "暂无", "无补贴", "没有补贴", "不补贴", "没补贴")
_VAGUE_SUBSIDY = ("有", "有的", "有补贴", "有补助")


def parse_subsidy(text: str, env: ParseEnv) -> str:
    """What the trainees get (免费培训，结业补贴1500元), or 无."""
    bare = normalize(text).strip("。.,，！!~ ")
    if bare in NO_SUBSIDY:
        return "无"
    hint = "请写有什么补贴，例如：免费培训，结业补贴1500元；没有补贴请回复“无”。"
    value = parse_free_text(text, 100, hint=hint)
    if bare in _VAGUE_SUBSIDY:
        raise ParseError(hint)
    return value


# ----- the dialog ----------------------------------------------------------------------------------
STEPS: tuple[Step, ...] = (
    Step("trade", "培训工种", "培训什么工种（技能）？（例如：电焊、叉车、家政、厨师）", parse_trade,
         help="写一个工种就行；我会按这个工种找技能或想做的工作对得上的务工人员，私信告诉他们。"),
    Step("place", "培训地点", "在哪里培训？（例如：花溪区职业技术学校）", parse_place),
    Step("dates", "培训时间", "哪天开班，培训到哪天？（例如：3月1日到3月10日；只有一天就回复那一天）",
         parse_course_dates, show=show_dates),
    Step("seats", "名额", "有多少个名额？", parse_seats, show=show_count),
    Step("subsidy", "补贴", "参加培训有什么补贴？（例如：免费培训，结业补贴1500元；没有请回复“无”）",
         parse_subsidy),
    Step("contact", "报名咨询", "报名咨询的联系人和电话？（例如：王老师 0851-83851234）", parse_contact,
         optional=True),
)


async def finish(ctx, answers: Answers, state) -> str:
    from handlers.training import publish

    return await publish(ctx, answers, state)


cancel_text = record_cancel_text("培训", "training_id", post="/发布培训", edit="/修改培训")


TRAINING_POST = Dialog(
    name=NAME, title="发布培训", steps=STEPS, finish=finish,
    summary_intro="请核对培训信息（回复“确认”才生效；新发布的会私信告诉技能、想做的工作对得上的务工人员，"
                  "并发到招聘群）：",
    cancel_text=cancel_text,
)
DIALOGS = [TRAINING_POST]


# ----- one line ------------------------------------------------------------------------------------
# Every character of a word that says when: digits, 月日号, 周一, 明天, 到, 开班, 共10天…
_WHEN_WORD = re.compile(r"[0-9零〇一二两三四五六七八九十廿年月日号天周星期礼拜下个这本明后今到至起开班课始"
                        r"共培训为期学时间结束业止:：~\-—–./,]+")
_WHEN_HINT = re.compile(r"\d|[月号天周]|明天|后天")
_DAYS_TAIL = re.compile(r"^(?:共|培训|为期|学)?[0-9零一二两三四五六七八九十]{1,3}天$")
_JOIN = re.compile(r"\s*(到|至|~|—|–)\s*|(?<=[日号])\s*(-)\s*")
_SEATS = re.compile(r"^(?:名额|招生?|共|限|限额)[:：]?([0-9零一二两三四五六七八九十百]+)(?:人|名|个)?$"
                    r"|^([0-9零一二两三四五六七八九十百]+)(?:个名额|名额|人|名)$")
_SUBSIDY_WORDS = ("补贴", "补助", "免费", "包吃", "包住", "管吃", "管住")
_LABELLED = {"培训工种": "trade", "工种": "trade", "培训内容": "trade", "内容": "trade", "项目": "trade",
             "培训地点": "place", "地点": "place", "培训时间": "dates", "时间": "dates",
             "补贴": "subsidy", "名额": "seats"}
_LABEL = re.compile(r"^(" + "|".join(sorted(_LABELLED, key=len, reverse=True)) + r")[:：](.*)$")


def read_line(text: str, env: ParseEnv) -> LineReading:
    """Read a whole course from one line: the time, the seats (30人, 名额30), the subsidy
    (anything with 补贴/免费…), a contact, words labelled 地点:…; of the words nothing else
    claims, the first is the trade and the rest the place."""
    reading = LineReading()
    raw: dict[str, str] = {}
    plain: list[str] = []
    contact: list[str] = []
    subsidy: list[str] = []
    tokens = line_tokens(_JOIN.sub(lambda m: m[1] or m[2], normalize(text)))
    i = 0
    while i < len(tokens):
        bare = tokens[i].strip("。.、")
        if label := _LABEL.match(bare):
            value = label[2]
            if not value and i + 1 < len(tokens):
                value, i = tokens[i + 1], i + 1
            raw[_LABELLED[label[1]]] = value
            i += 1
            continue
        if found := contact_at(tokens, i):
            parts, i = found
            contact += parts
            continue
        i += 1
        if seats := _SEATS.match(bare):
            raw["seats"] = seats[1] or seats[2]
        elif any(w in bare for w in _SUBSIDY_WORDS) or bare in NO_SUBSIDY:
            subsidy.append(bare)
        elif "dates" not in raw and _WHEN_WORD.fullmatch(bare) and _WHEN_HINT.search(bare):
            if i < len(tokens) and _DAYS_TAIL.match(tokens[i]):  # 3月1日开班，培训10天
                bare, i = f"{bare},{tokens[i]}", i + 1
            raw["dates"] = bare
        else:
            plain.append(bare)
    if plain:
        raw.setdefault("trade", plain[0])
    if len(plain) > 1:
        raw.setdefault("place", " ".join(plain[1:]))
    if subsidy:
        raw.setdefault("subsidy", "，".join(subsidy))
    if contact:
        raw["contact"] = " ".join(contact)
    for step in STEPS:
        if step.key in raw:
            try:
                reading.answers[step.key] = step.understand(raw[step.key], env)
            except ParseError as err:
                reading.problems.append(f"{step.label}：{err.hint}")
    return reading
