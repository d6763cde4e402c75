"""The complaint dialog (投诉), declared as data: which employer, what happened, when, and whether
the bureau may phone (and on which number); then a summary to confirm.

Anyone may complain, registered or not (``handlers/complaints.py`` starts it on “投诉”).  What
happened is kept as typed, Chinese punctuation and all.  When it happened is read by
:func:`dialogs.parsing.dates.parse_past_date` (“前天”“上周三”“3月2日”), or as a stretch of time
(“上周”“上个月”“前几天”“年前”), or “记不清”.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from dialogs.engine import Dialog, ParseEnv, Step
from dialogs.parsing.choices import parse_yes_no
from dialogs.parsing.dates import PAST_ASK, PAST_EXAMPLES, SPRING_FESTIVAL, parse_past_date
from dialogs.parsing.errors import ParseError
from dialogs.parsing.names import NOT_AN_ANSWER, parse_free_text
from dialogs.parsing.phone import mask_phone, parse_phone
from dialogs.parsing.textnorm import cn_number, normalize

COMPLAINT = "complaint"  # the dialog's name
MIN_WHAT = 6  # letters, digits or Chinese characters in “what happened”
MAX_WHAT = 500
MAX_EMPLOYER = 60
WEEKDAYS = "一二三四五六日"

# Besides a bare 确认/好的 (refused by parse_free_text for every dialog), words that are not an
# employer or what happened: typed one step too early, or the complaint words themselves.
NOT_A_COMPLAINT = NOT_AN_ANSWER | {"不知道", "不清楚", "没有", "无", "不", "投诉", "举报",
                                   "我的投诉", "补充投诉", "先投诉"}
EMPLOYER_HINT = ("请写用人单位的名称。不知道全称的，写简称、老板姓什么、在哪里、做什么的都可以，"
                 "例如：东莞某某电子厂、青岩镇王老板的砖厂")
WHAT_HINT = ("请说得具体一些：单位做了什么、对您有什么影响。例如：“说是防疫要求，要我们自己"
             "花钱去体检，不体检就不让上班”")


def _substance(text: str) -> int:
    """How many letters, digits and Chinese characters ``text`` has."""
    return sum(1 for ch in text if ch.isalnum())


def parse_employer(text: str, env: ParseEnv) -> str:
    answer = parse_free_text(text, MAX_EMPLOYER, hint=EMPLOYER_HINT)
    if answer.strip("。.！!？? ").lower() in NOT_A_COMPLAINT or _substance(answer) < 2:
        raise ParseError(EMPLOYER_HINT)
    return answer


def parse_what(text: str, env: ParseEnv) -> str:
    answer = parse_free_text(text, MAX_WHAT, hint=WHAT_HINT)
    if answer.strip("。.！!？? ").lower() in NOT_A_COMPLAINT or _substance(answer) < MIN_WHAT:
        raise ParseError(WHAT_HINT)
    return answer


# ----- when ----------------------------------------------------------------------------------------
_UNKNOWN = re.compile(r"记不清|记不得|不记得|忘了|忘记了|想不起|不清楚|不知道|说不清|说不准|不太记得")
_NUM = r"[0-9零〇一二两三四五六七八九十]"
_NO_WEEKDAY = r"(?![一二三四五六日天七1-7])"
_SPANS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"上上个?(?:周|星期|礼拜)" + _NO_WEEKDAY), "上上周"),
    (re.compile(r"上个?(?:周|星期|礼拜)" + _NO_WEEKDAY), "上周"),
    (re.compile(r"(?:这个?|本)(?:周|星期|礼拜)" + _NO_WEEKDAY), "这周"),
    (re.compile(r"上个?月份?(?!" + _NUM + ")"), "上个月"),
    (re.compile(r"(?:这个?|本)月份?(?!" + _NUM + ")"), "这个月"),
    (re.compile(r"前几天|这几天|前两天|这两天|近几天|头几天|几天前|几天以前|几天之前"), "前几天"),
    (re.compile(r"最近|近来|近期|这段时间|前段时间|前一段时间|这阵子|前阵子"), "最近"),
    (re.compile(r"过年前|年前|春节前|节前"), "年前"),
    (re.compile(r"过完年|过了年|年后|春节后|节后"), "年后"),
)
_MONTH_ONLY = re.compile(r"(?<![0-9])(" + _NUM + r"{1,3})月份?(?!" + _NUM + r"|[号號日])")


def day_label(day: date, today: date) -> str:
    year = f"{day.year}年" if day.year != today.year else ""
    return f"{year}{day.month}月{day.day}日"


def _weekday(day: date) -> str:
    return f"周{WEEKDAYS[day.weekday()]}"


def _latest_festival(today: date) -> date:
    for year in (today.year, today.year - 1):
        festival = SPRING_FESTIVAL.get(year)
        if festival is not None and festival <= today:
            return festival
    return SPRING_FESTIVAL.get(today.year, today)


def _span(t: str, today: date) -> tuple[str, date, date] | None:
    monday = today - timedelta(days=today.weekday())
    for pattern, said in _SPANS:
        if not pattern.search(t):
            continue
        if said == "上上周":
            return said, monday - timedelta(days=14), monday - timedelta(days=8)
        if said == "上周":
            return said, monday - timedelta(days=7), monday - timedelta(days=1)
        if said == "这周":
            return said, monday, today
        if said == "上个月":
            last = today.replace(day=1) - timedelta(days=1)
            return said, last.replace(day=1), last
        if said == "这个月":
            return said, today.replace(day=1), today
        if said == "前几天":
            return said, today - timedelta(days=7), today
        if said == "最近":
            return said, today - timedelta(days=30), today
        festival = SPRING_FESTIVAL.get(today.year, today)
        if said == "年前":
            end = min(festival - timedelta(days=1), today)
            return said, festival - timedelta(days=30), end
        return said, _latest_festival(today), today  # 年后
    match = _MONTH_ONLY.search(t)
    if match:
        month = cn_number(match[1])
        if month is None or not 1 <= month <= 12:
            raise ParseError(f"没有{match[1]}月。请说是什么时候，{PAST_EXAMPLES}")
        year = today.year if month <= today.month and "去年" not in t else today.year - 1
        first = date(year, month, 1)
        nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return f"{month}月", first, min(nxt - timedelta(days=1), today)
    if "去年" in t:
        return "去年", date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return None


WHEN_ASK = f"请说一下大概是什么时候，{PAST_EXAMPLES}，或者“上周”“上个月”；记不清了就回复“记不清”"


def parse_when(text: str, env: ParseEnv) -> dict[str, Any]:
    """``{"label", "from", "to"}`` (ISO dates; None for 记不清; from == to for one day)."""
    today = env.today
    t = normalize(text).replace(" ", "")
    if not t:
        raise ParseError(WHEN_ASK)
    if _UNKNOWN.search(t):
        return {"label": "记不清", "from": None, "to": None}
    if len(t) > 60:
        raise ParseError(f"内容太长了，只说时间就行。{WHEN_ASK}")
    try:
        day = parse_past_date(t, today)
    except ParseError as err:
        span = _span(t, today)
        if span is None:
            if err.hint == PAST_ASK:  # nothing like a date was found
                raise ParseError(WHEN_ASK) from None
            raise
        said, first, last = span
        between = (day_label(first, today) if first == last
                   else f"{day_label(first, today)}至{day_label(last, today)}")
        return {"label": f"{said}（{between}）", "from": first.isoformat(),
                "to": last.isoformat()}
    if "去年" in t and day.year == today.year:
        try:
            day = day.replace(year=today.year - 1)
        except ValueError:  # 2月29日
            raise ParseError(f"去年没有这一天，请再看一下，{PAST_EXAMPLES}") from None
    return {"label": f"{day_label(day, today)}（{_weekday(day)}）", "from": day.isoformat(),
            "to": day.isoformat()}


def show_when(value: dict[str, Any]) -> str:
    return str(value.get("label") or "记不清")


# ----- may the bureau call ----------------------------------------------------------------------
def parse_call(text: str, env: ParseEnv) -> bool:
    t = normalize(text).replace(" ", "")
    if re.search(r"不要|不用|别打|不想|不方便|不接|不能|不可以|不行|不必|没必要|不需要|不了", t):
        return False
    if re.search(r"可以|能打|打吧|方便|欢迎", t):
        return True
    try:
        return parse_yes_no(t)
    except ParseError:
        raise ParseError("请回复“可以”（可以打电话给您）或“不要”（只在这里回复您）。") from None


def show_call(value: bool) -> str:
    return "可以" if value else "不要，只在这里回复我"


def parse_mobile(text: str, env: ParseEnv) -> str:
    return parse_phone(text)


async def finish(ctx: Any, answers: dict[str, Any], state: Any) -> str:
    from handlers.complaints import filed

    return await filed(ctx, answers, state)


COMPLAINT_DIALOG = Dialog(
    name=COMPLAINT,
    title="投诉",
    summary_intro="请核对您的投诉（您的姓名、电话不会告诉用人单位）：",
    cancel_text="好的，投诉先停在这里，写了的内容保留着，还没有交给任何人。想接着写请回复“继续”。",
    finish=finish,
    steps=(
        Step("employer", "用人单位", "您要投诉哪个用人单位？请写单位（公司、工厂）的名称，"
             "不知道全称的，写简称或老板的称呼也行。", parse_employer,
             help="写单位名称，例如：东莞某某电子厂；不知道名称的，写在哪里、做什么的、老板姓什么。"),
        Step("what", "发生了什么", "发生了什么事？请把经过说一说（例如：以防疫为名，要求自费体检才能上班）。",
             parse_what,
             help="说清楚单位做了什么、对您有什么影响，写一段话就行（500字以内）。"),
        Step("when", "什么时候",
             "这件事是什么时候发生的？（例如：前天、上周、3月2日；记不清了就回复“记不清”）",
             parse_when, show=show_when),
        Step("call", "可以打电话联系您吗", "工作人员了解情况时，可以打电话给您吗？"
             "（回复“可以”或“不要”；不打电话的话，工作人员会在这里回复您）",
             parse_call, optional=True, show=show_call),
        Step("phone", "联系电话", "请留一个能打通的手机号：", parse_mobile, show=mask_phone,
             when=lambda a: bool(a.get("call"))),
    ),
)
DIALOGS = [COMPLAINT_DIALOG]
