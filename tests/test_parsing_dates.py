"""Tests for dialogs.parsing.dates: return dates relative to today."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.parsing.dates import SPRING_FESTIVAL, parse_date
from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import has_han

# Saturday, 腊月廿四 of 2023's lunar year; Spring Festival is 2024-02-10.
TODAY = date(2024, 2, 3)


def d(month: int, day: int, year: int = 2024) -> date:
    return date(year, month, day)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # month and day
        ("2月15日", d(2, 15)),
        ("2月15号", d(2, 15)),
        ("2月15", d(2, 15)),
        ("二月十五", d(2, 15)),
        ("二月十五日", d(2, 15)),
        ("二月十五号", d(2, 15)),
        ("02月15日", d(2, 15)),
        ("２月１５日", d(2, 15)),
        ("2 月 15 日", d(2, 15)),
        ("2月份15号", d(2, 15)),
        ("十二月一日", d(12, 1)),
        ("2.15", d(2, 15)),
        ("2/15", d(2, 15)),
        ("2-15", d(2, 15)),
        ("2．15", d(2, 15)),
        ("3.1", d(3, 1)),
        ("我打算2月15号左右回去", d(2, 15)),
        ("大概2月15日吧", d(2, 15)),
        ("2月15日上午出发", d(2, 15)),
        ("元月十五", d(1, 15)),
        # with a year
        ("2024-02-15", d(2, 15)),
        ("2024-2-15", d(2, 15)),
        ("2024年2月15日", d(2, 15)),
        ("2024年2月15号", d(2, 15)),
        ("2024.2.15", d(2, 15)),
        ("2024/02/15", d(2, 15)),
        ("2024年二月十五日", d(2, 15)),
        ("20240215", d(2, 15)),
        ("2025年1月5日", d(1, 5, 2025)),
        # a past month/day: within 30 days stays this year, older means next year
        ("1月10日", d(1, 10)),
        ("1月5号", d(1, 5)),
        ("1月1日", d(1, 1, 2025)),
        ("12月31日", d(12, 31)),
        # day of month only
        ("15号", d(2, 15)),
        ("十五号", d(2, 15)),
        ("15日", d(2, 15)),
        ("3号", d(2, 3)),
        ("1号", d(3, 1)),
        ("2号", d(3, 2)),
        ("29号", d(2, 29)),
        # named days
        ("今天", TODAY),
        ("今天就走", TODAY),
        ("明天", d(2, 4)),
        ("明天早上", d(2, 4)),
        ("明日", d(2, 4)),
        ("后天", d(2, 5)),
        ("大后天", d(2, 6)),
        # days and weeks later
        ("3天后", d(2, 6)),
        ("三天后", d(2, 6)),
        ("三天以后", d(2, 6)),
        ("3天之后", d(2, 6)),
        ("两天后", d(2, 5)),
        ("十天后", d(2, 13)),
        ("过三天", d(2, 6)),
        ("一周后", d(2, 10)),
        ("两个星期后", d(2, 17)),
        # weekdays: today is Saturday
        ("周五", d(2, 9)),
        ("星期五", d(2, 9)),
        ("礼拜五", d(2, 9)),
        ("周六", TODAY),
        ("这周六", TODAY),
        ("周日", d(2, 4)),
        ("星期天", d(2, 4)),
        ("礼拜天", d(2, 4)),
        ("这周日", d(2, 4)),
        ("下周一", d(2, 5)),
        ("下星期一", d(2, 5)),
        ("下礼拜一", d(2, 5)),
        ("下个星期一", d(2, 5)),
        ("下周五", d(2, 9)),
        ("下周日", d(2, 11)),
        ("下下周三", d(2, 14)),
        ("周1", d(2, 5)),
        # 正月 (Spring Festival 2024-02-10)
        ("正月初八", d(2, 17)),
        ("正月十五", d(2, 24)),
        ("正月十六", d(2, 25)),
        ("正月二十", d(2, 29)),
        ("正月廿一", d(3, 1)),
        ("农历正月初八", d(2, 17)),
        ("初八", d(2, 17)),
        ("大年初八", d(2, 17)),
        ("初十", d(2, 19)),
        ("元宵节", d(2, 24)),
        ("元宵", d(2, 24)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("15号", date(2024, 2, 20), date(2024, 3, 15)),
        ("15号", date(2024, 12, 20), date(2025, 1, 15)),
        ("1月5日", date(2024, 12, 20), date(2025, 1, 5)),
        ("2月29日", date(2023, 3, 10), date(2024, 2, 29)),
        ("周一", date(2024, 2, 5), date(2024, 2, 5)),  # today is Monday
        ("下周一", date(2024, 2, 4), date(2024, 2, 5)),  # Sunday: next week starts tomorrow
        ("下周一", date(2024, 2, 5), date(2024, 2, 12)),
        ("这周五", date(2024, 2, 5), date(2024, 2, 9)),
        ("明天", date(2024, 12, 31), date(2025, 1, 1)),
        ("初八", date(2024, 12, 20), date(2025, 2, 5)),  # Spring Festival 2025-01-29
        ("正月十五", date(2024, 12, 20), date(2025, 2, 12)),
        ("正月十五", date(2025, 1, 10), date(2025, 2, 12)),
        ("初六", date(2026, 2, 1), date(2026, 2, 22)),  # Spring Festival 2026-02-17
        ("正月初八", date(2024, 6, 1), date(2025, 2, 5)),
    ],
)
def test_parse_date_other_days(text: str, today: date, expected: date) -> None:
    assert parse_date(text, today) == expected


def hint_of(text: str, today: date = TODAY) -> str:
    with pytest.raises(ParseError) as info:
        parse_date(text, today)
    hint = info.value.hint
    assert hint and has_han(hint)
    return hint


@pytest.mark.parametrize(
    "text",
    [
        "过几天",
        "过两天",
        "几天后",
        "过段时间",
        "过些天",
        "年后",
        "过完年",
        "节后",
        "元宵节后",
        "月底",
        "2月底",
        "2月初",
        "下个月",
        "下周",
        "下周吧",
        "这周",
        "周末",
        "明后天",
        "还不确定",
        "不知道",
        "等通知",
        "2月份",
        "二月",
        "2月中旬",
        "半个月后",
        "几周后",
    ],
)
def test_vague_answers_ask_for_a_day(text: str) -> None:
    hint = hint_of(text)
    assert "具体" in hint and "2月15日" in hint


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("2月30日", ("2月没有30日",)),
        ("2月31号", ("2月没有31日",)),
        ("13月5日", ("没有13月",)),
        ("0月5日", ("2月15日",)),
        ("31号", ("2月没有31号",)),
        ("32号", ("2月15日",)),
        ("2030年1月1日", ("年份",)),
        ("2019-02-15", ("年份",)),
        ("这周一", ("已经过了", "下周一")),
        ("这周五", ("已经过了", "下周五")),
        ("腊月二十八", ("公历", "2月15日")),
        ("农历二月初二", ("公历",)),
        ("正月三十", ("公历",)),
        ("500天后", ("2月15日",)),
        ("", ("2月15日", "明天", "下周一")),
        ("15", ("2月15日",)),
        ("随便", ("2月15日",)),
        ("😀", ("2月15日",)),
        ("<b>明天</b>x" * 10, ("太长",)),
        ("'; DROP TABLE dates;--", ("2月15日",)),
        ("[CQ:at,qq=all]", ("2月15日",)),
        ("明" * 5000, ("太长",)),
    ],
)
def test_errors_have_specific_hints(text: str, needles: tuple[str, ...]) -> None:
    hint = hint_of(text)
    for needle in needles:
        assert needle in hint, hint


def test_bare_chu_away_from_spring_festival_asks_for_solar_date() -> None:
    assert "公历" in hint_of("初八", date(2024, 6, 1))


def test_lunar_outside_table_asks_for_solar_date() -> None:
    last = max(SPRING_FESTIVAL)
    assert "公历" in hint_of("正月十五", date(last, 6, 1))


# --- properties -------------------------------------------------------------------------------

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2034, 12, 31))
WEEKDAY_NAMES = ["一", "二", "三", "四", "五", "六", "日"]


@given(days, st.integers(0, 6), st.sampled_from(["周", "星期", "礼拜"]))
def test_bare_weekday_is_the_coming_one(today: date, wd: int, word: str) -> None:
    result = parse_date(word + WEEKDAY_NAMES[wd], today)
    assert result.weekday() == wd
    assert 0 <= (result - today).days <= 6


@given(days, st.integers(0, 6), st.sampled_from(["下周", "下星期", "下礼拜", "下个星期"]))
def test_next_week_weekday_is_in_next_calendar_week(today: date, wd: int, word: str) -> None:
    result = parse_date(word + WEEKDAY_NAMES[wd], today)
    assert result.weekday() == wd
    this_monday = today - timedelta(days=today.weekday())
    assert this_monday + timedelta(days=7) <= result < this_monday + timedelta(days=14)


@given(days, st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 12, 31)))
def test_month_day_is_near_future_or_recent_past(today: date, md: date) -> None:
    try:
        result = parse_date(f"{md.month}月{md.day}日", today)
    except ParseError:  # 2月29日 when neither this nor next year has it
        assert (md.month, md.day) == (2, 29)
        return
    assert (result.month, result.day) == (md.month, md.day)
    assert -30 <= (result - today).days <= 366


@given(days, st.integers(0, 366))
def test_days_later(today: date, n: int) -> None:
    assert parse_date(f"{n}天后", today) == today + timedelta(days=n)


@given(st.sampled_from(sorted(SPRING_FESTIVAL)), st.integers(1, 29))
def test_zhengyue_counts_from_spring_festival(year: int, day: int) -> None:
    new_year = SPRING_FESTIVAL[year]
    today = new_year - timedelta(days=20)
    digits = "一二三四五六七八九"
    if day <= 10:
        spoken = "初" + (digits[day - 1] if day < 10 else "十")
    else:
        spoken = ("十" if day < 20 else "二十") + (digits[day % 10 - 1] if day % 10 else "")
    assert parse_date("正月" + spoken, today) == new_year + timedelta(days=day - 1)


DATE_CHARS = "0123456789一二三四五六七八九十两廿月日号天周星期下这过后今明大正初农历.-/年 "


@settings(deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.text(alphabet=DATE_CHARS, max_size=20),
    ),
    days,
)
def test_arbitrary_text_gives_date_or_parse_error(text: str, today: date) -> None:
    try:
        result = parse_date(text, today)
    except ParseError as error:
        assert error.hint and has_han(error.hint)
    else:
        assert abs((result - today).days) <= 400
