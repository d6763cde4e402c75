"""Return dates ("2月15日", "明天", "下周一", "正月初八") relative to today."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import cn_number, normalize

EXAMPLES = "例如：2月15日、明天、下周一"
_ASK = f"请告诉我具体哪一天，{EXAMPLES}"
_VAGUE = f"请说一个具体的日子，{EXAMPLES}（还没定的话，先说个大概的日子也行）"
_LUNAR_ONLY_ZHENGYUE = f"农历日期我只认得正月里的，请换成公历（阳历）日期，{EXAMPLES}"

# A month/day this many days in the past is taken to mean next year.
PAST_GRACE_DAYS = 30
MAX_DAYS_AHEAD = 366

# 正月初一 (Spring Festival) by Gregorian year. Days of 正月 are counted from it, which is exact for
# 初一…廿九; other lunar months would need month lengths and are not supported.
SPRING_FESTIVAL = {
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}

_DIGIT = r"[0-9零〇一二两三四五六七八九十廿]"
_N = _DIGIT + "{1,4}"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WEEKDAYS.update({str(i): i - 1 for i in range(1, 8)})
_NAMED_DAYS = (
    ("大后天", 3),
    ("今天", 0),
    ("今日", 0),
    ("今儿", 0),
    ("明天", 1),
    ("明日", 1),
    ("明儿", 1),
    ("后天", 2),
    ("后日", 2),
    # Past days: understood, so that a question needing a future day can say it has passed
    # (and one about the past, such as a resumption date, takes them as they are).
    ("大前天", -3),
    ("前天", -2),
    ("前日", -2),
    ("昨天", -1),
    ("昨日", -1),
    ("昨儿", -1),
)

_FULL = re.compile(r"(\d{4})[年./\-](" + _N + r")[月./\-](" + _N + r")(?![0-9])")
_COMPACT = re.compile(r"(?<![0-9])(20\d{2})(\d{2})(\d{2})(?![0-9])")
_MONTH_DAY = re.compile(r"(?<![0-9])(" + _N + r")月份?(" + _N + r")(?!" + _DIGIT + r"|[天周])")
_SLASHED = re.compile(r"(?<![0-9.])(\d{1,2})[./\-](\d{1,2})(?![0-9])")
_DAYS_LATER = re.compile(r"(过)?(" + _N + r"|几)[天日](?:以后|之后|后|过后)")
_AFTER_DAYS = re.compile(r"过(" + _N + r"|几)天")
_WEEKS_LATER = re.compile(r"(" + _N + r"|几)个?(?:周|星期|礼拜)(?:以后|之后|后)")
_WEEKDAY = re.compile(r"(下下|下个|下|这个|这|本)?(?:周|星期|礼拜|週|禮拜)([一二三四五六日天七1-7])")
_DAY_ONLY = re.compile(r"(?<![月0-9])(" + _N + r")[号號日]")
_ZHENGYUE = re.compile(r"正月(初?)(" + _N + r")")
_CHU = re.compile(r"(?<![月0-9])初(" + _N + r")")
_OTHER_LUNAR = re.compile(r"农历|阴历|老历|腊月|冬月|闰|(?:[0-9]|" + _N + r")月初[0-9一二三四五六七八九十]")
_VAGUE_WORDS = re.compile(
    r"几天|两天|些天|段时间|一阵|明后天|月底|月初|月中|中旬|上旬|下旬|年初|年底|年后|节后|过完年"
    r"|元宵|不确定|不知道|不清楚|没定|不一定|看情况|等通知|随时|尽快|半个月|个月|周末|月份"
    r"|(?:下下|下个|下|这个|这|本)(?:周|星期|礼拜)(?![一二三四五六日天七1-7])"
    r"|[0-9一二三四五六七八九十]月(?!" + _DIGIT + ")"
)


def _days_in_past(d: date, today: date) -> int:
    return (today - d).days


def _month_day(month: int | None, day: int | None, today: date) -> date:
    """This year's month/day, or next year's if that is long past."""
    if month is None or day is None or not 1 <= month <= 12:
        raise ParseError(f"没有{month}月，{_ASK}" if month else _ASK)
    try:
        this_year = date(today.year, month, day)
    except ValueError:
        this_year = None
    if this_year is not None and _days_in_past(this_year, today) <= PAST_GRACE_DAYS:
        return this_year
    try:
        return date(today.year + 1, month, day)
    except ValueError:
        raise ParseError(f"{month}月没有{day}日，请再看一下，{EXAMPLES}") from None


def _full_date(year: int, month: int | None, day: int | None, today: date) -> date:
    if abs(year - today.year) > 1:
        raise ParseError(f"年份{year}好像不对，请再核对一下，{EXAMPLES}")
    if month is None or day is None:
        raise ParseError(_ASK)
    try:
        return date(year, month, day)
    except ValueError:
        raise ParseError(f"{year}年{month}月没有{day}日，请再看一下，{EXAMPLES}") from None


def _days_later(count: str, today: date, per: int = 1, after: bool = False) -> date:
    # "过两天" is an idiom for "in a few days"; "两天后" means exactly two days.
    if count == "几" or (after and count == "两"):
        raise ParseError(_VAGUE)
    n = cn_number(count)
    if n is None or n * per > MAX_DAYS_AHEAD:
        raise ParseError(_ASK)
    return today + timedelta(days=n * per)


def _weekday(prefix: str | None, name: str, today: date) -> date:
    wd = _WEEKDAYS[name]
    if prefix in ("下", "下个", "下下"):
        weeks = 2 if prefix == "下下" else 1
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(days=7 * weeks + wd)
    ahead = (wd - today.weekday()) % 7
    if prefix in ("这", "这个", "本") and wd < today.weekday():
        raise ParseError(
            f"这周{name}已经过了，您是说下周{name}吗？请回复“下周{name}”或具体日期，例如 2月15日"
        )
    return today + timedelta(days=ahead)


def _day_only(day: int | None, today: date) -> date:
    """ "15号": this month, or next month once the 15th has passed."""
    if day is None or not 1 <= day <= 31:
        raise ParseError(f"没有这一天，{_ASK}")
    year, month = today.year, today.month
    if day < today.day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    try:
        return date(year, month, day)
    except ValueError:
        raise ParseError(f"{month}月没有{day}号，请说具体几月几号，{EXAMPLES}") from None


def _zhengyue(day: int | None, today: date) -> date:
    """A day of the first lunar month, the next one not long past."""
    if day is None or not 1 <= day <= 29:
        raise ParseError(_LUNAR_ONLY_ZHENGYUE)
    for year in (today.year, today.year + 1):
        new_year = SPRING_FESTIVAL.get(year)
        if new_year is None:
            break
        result = new_year + timedelta(days=day - 1)
        if _days_in_past(result, today) <= PAST_GRACE_DAYS:
            return result
    raise ParseError(_LUNAR_ONLY_ZHENGYUE)


def _chu(day: int | None, today: date) -> date:
    """Bare "初八" around Spring Festival means 正月初八; at other times it is unclear."""
    if day is None or not 1 <= day <= 10:
        raise ParseError(_LUNAR_ONLY_ZHENGYUE)
    for year in (today.year, today.year + 1):
        new_year = SPRING_FESTIVAL.get(year)
        if new_year is not None and -60 <= (today - new_year).days <= 15:
            return new_year + timedelta(days=day - 1)
    raise ParseError(_LUNAR_ONLY_ZHENGYUE)


def _try_patterns(t: str, today: date) -> date | None:
    rules: list[tuple[re.Pattern[str], Callable[[re.Match[str]], date]]] = [
        (_FULL, lambda m: _full_date(int(m[1]), cn_number(m[2]), cn_number(m[3]), today)),
        (_COMPACT, lambda m: _full_date(int(m[1]), int(m[2]), int(m[3]), today)),
        (_ZHENGYUE, lambda m: _zhengyue(cn_number(m[2]), today)),
        (_MONTH_DAY, lambda m: _month_day(cn_number(m[1]), cn_number(m[2]), today)),
        (_SLASHED, lambda m: _month_day(int(m[1]), int(m[2]), today)),
        (_WEEKS_LATER, lambda m: _days_later(m[1], today, per=7)),
        (_DAYS_LATER, lambda m: _days_later(m[2], today, after=bool(m[1]))),
        (_AFTER_DAYS, lambda m: _days_later(m[1], today, after=True)),
        (_WEEKDAY, lambda m: _weekday(m[1], m[2], today)),
        (_DAY_ONLY, lambda m: _day_only(cn_number(m[1]), today)),
        (_CHU, lambda m: _chu(cn_number(m[1]), today)),
    ]
    for pattern, build in rules:
        match = pattern.search(t)
        if match:
            return build(match)
    return None


def parse_date(text: str, today: date) -> date:
    """Understand a return date the way people say it in chat.

    Month/day without a year is this year's, unless it is more than ``PAST_GRACE_DAYS`` in the
    past, then next year's. Weekdays: "周五"/"这周五" is the coming Friday (today counts),
    "下周一" is Monday of next calendar week. Lunar dates are understood only within 正月.
    """
    t = normalize(text).replace(" ", "")
    if not t:
        raise ParseError(_ASK)
    if len(t) > 60:
        raise ParseError(f"内容太长了，只发日期就行，{EXAMPLES}")
    if _OTHER_LUNAR.search(t) and not _ZHENGYUE.search(t):
        raise ParseError(_LUNAR_ONLY_ZHENGYUE)
    t = t.replace("元月", "1月")  # 元月 is mostly used for January
    if "元宵" in t and not re.search(r"后|过|前", t):
        return _zhengyue(15, today)
    if "明后天" not in t:
        result = _try_patterns(t, today)
        if result is not None:
            return result
        for word, days in _NAMED_DAYS:
            if word in t:
                return today + timedelta(days=days)
    if _VAGUE_WORDS.search(t):
        raise ParseError(_VAGUE)
    raise ParseError(_ASK)


# ----- a day in the past (when something happened) ---------------------------------------------
PAST_EXAMPLES = "例如：前天、上周三、3月2日"
PAST_ASK = f"请告诉我是哪一天，{PAST_EXAMPLES}"
_NOT_YET = f"这一天还没到。请说已经过去的那一天，{PAST_EXAMPLES}"
_FUTURE_WORDS = re.compile(r"明天|明日|明儿|后天|后日|下周|下个|下星期|下礼拜|以后|之后|过几天|过两天")
_DAYS_AGO = re.compile(r"(" + _N + r"|几)个?(天|日|周|星期|礼拜)(?:以前|之前|前)")
_LAST_MONTH_DAY = re.compile(r"上个?月份?(" + _N + r")[号號日]?")
_PAST_WEEKDAY = re.compile(r"(上上个?|上个?|这个?|本)?(?:周|星期|礼拜|週|禮拜)([一二三四五六日天七1-7])")


def _past_weekday(prefix: str | None, name: str, today: date) -> date:
    """上周三 / 上上周三 / 这周三 / 周三 (the latest one on or before today)."""
    wd = _WEEKDAYS[name]
    monday = today - timedelta(days=today.weekday())
    if prefix and prefix.startswith("上上"):
        return monday - timedelta(days=14) + timedelta(days=wd)
    if prefix and prefix.startswith("上"):
        return monday - timedelta(days=7) + timedelta(days=wd)
    this_week = monday + timedelta(days=wd)
    if this_week <= today:
        return this_week
    if prefix:  # 这周五, said on a Wednesday
        raise ParseError(f"这周{name}还没到。您是说上周{name}吗？请回复“上周{name}”或具体日期，"
                         f"{PAST_EXAMPLES}")
    return this_week - timedelta(days=7)


def _past_month_day(month: int | None, day: int | None, today: date) -> date:
    """This year's month/day if it has come, else last year's."""
    if month is None or day is None or not 1 <= month <= 12:
        raise ParseError(f"没有{month}月，{PAST_ASK}" if month else PAST_ASK)
    for year in (today.year, today.year - 1):
        try:
            result = date(year, month, day)
        except ValueError:
            continue
        if result <= today:
            return result
    raise ParseError(f"{month}月没有{day}日，请再看一下，{PAST_EXAMPLES}")


def _past_day_only(day: int | None, today: date) -> date:
    """ "15号": this month's if it has come, else last month's."""
    if day is None or not 1 <= day <= 31:
        raise ParseError(f"没有这一天，{PAST_ASK}")
    year, month = today.year, today.month
    if day > today.day:
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    try:
        return date(year, month, day)
    except ValueError:
        raise ParseError(f"{month}月没有{day}号，请说具体几月几号，{PAST_EXAMPLES}") from None


def _past_zhengyue(day: int | None, today: date) -> date:
    """A day of 正月 (the first lunar month), the latest one not after today."""
    if day is None or not 1 <= day <= 29:
        raise ParseError(f"农历日期我只认得正月里的，请换成公历（阳历）日期，{PAST_EXAMPLES}")
    for year in (today.year, today.year - 1):
        new_year = SPRING_FESTIVAL.get(year)
        if new_year is not None and new_year + timedelta(days=day - 1) <= today:
            return new_year + timedelta(days=day - 1)
    raise ParseError(f"农历日期我只认得正月里的，请换成公历（阳历）日期，{PAST_EXAMPLES}")


def parse_past_date(text: str, today: date) -> date:
    """Understand the day something happened ("前天", "上周三", "3月2日", "5天前", "初五").

    The counterpart of :func:`parse_date` for the past, with the same patterns: a month/day
    without a year is the latest one on or before today (this year's, or last year's); a
    weekday is the latest such day ("上周三" is Wednesday of last calendar week); "15号" is
    this month's, or last month's if the 15th has not come yet.  A day still ahead is refused.
    """
    t = normalize(text).replace(" ", "")
    if not t:
        raise ParseError(PAST_ASK)
    if len(t) > 60:
        raise ParseError(f"内容太长了，只发日期就行，{PAST_EXAMPLES}")
    if _OTHER_LUNAR.search(t) and not _ZHENGYUE.search(t):
        raise ParseError(f"农历日期我只认得正月里的，请换成公历（阳历）日期，{PAST_EXAMPLES}")
    t = t.replace("元月", "1月")
    result: date | None = None
    full = _FULL.search(t) or _COMPACT.search(t)
    if full:
        result = _full_date(int(full[1]), cn_number(full[2]), cn_number(full[3]), today)
    elif match := _ZHENGYUE.search(t):
        result = _past_zhengyue(cn_number(match[2]), today)
    elif "元宵" in t:
        result = _past_zhengyue(15, today)
    elif match := _MONTH_DAY.search(t):
        result = _past_month_day(cn_number(match[1]), cn_number(match[2]), today)
    elif match := _SLASHED.search(t):
        result = _past_month_day(int(match[1]), int(match[2]), today)
    elif match := _DAYS_AGO.search(t):
        if match[1] == "几":
            raise ParseError(f"请说具体是哪一天，{PAST_EXAMPLES}")
        n = cn_number(match[1])
        per = 1 if match[2] in ("天", "日") else 7
        if n is None or n * per > MAX_DAYS_AHEAD:
            raise ParseError(PAST_ASK)
        result = today - timedelta(days=n * per)
    elif match := _PAST_WEEKDAY.search(t):
        if _FUTURE_WORDS.search(t):
            raise ParseError(_NOT_YET)
        result = _past_weekday(match[1], match[2], today)
    elif match := _LAST_MONTH_DAY.search(t):
        month = today.month - 1 or 12
        result = _past_month_day(month, cn_number(match[1]), today)
    elif match := _DAY_ONLY.search(t):
        result = _past_day_only(cn_number(match[1]), today)
    elif match := _CHU.search(t):
        result = _past_zhengyue(cn_number(match[1]), today)
    elif _FUTURE_WORDS.search(t):
        raise ParseError(_NOT_YET)
    else:
        for word, days in _NAMED_DAYS:
            if word in t:
                if days > 0:
                    raise ParseError(_NOT_YET)
                result = today + timedelta(days=days)
                break
    if result is None:
        raise ParseError(PAST_ASK)
    if result > today:
        raise ParseError(_NOT_YET)
    return result
