"""Tests for dialogs.parsing.names: person names, free text and expected pay."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dialogs.parsing.errors import ParseError
from dialogs.parsing.names import parse_free_text, parse_person_name, parse_salary
from dialogs.parsing.textnorm import has_han


def hint_of(call, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError) as info:
        call(*args)
    hint = info.value.hint
    assert hint and has_han(hint)
    return hint


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三", "张三"),
        ("李小龙", "李小龙"),
        ("欧阳娜娜", "欧阳娜娜"),
        (" 张三 ", "张三"),
        ("张 三", "张三"),
        ("张三。", "张三"),
        ("张三!", "张三"),
        ("我叫张三", "张三"),
        ("我是张三", "张三"),
        ("我的名字是张三", "张三"),
        ("名字：张三", "张三"),
        ("姓名：张三", "张三"),
        ("姓名:张三", "张三"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("阿依古丽.买买提", "阿依古丽·买买提"),
        ("阿依古丽．买买提", "阿依古丽·买买提"),
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),
        ("阿布都热西提·阿布都克力木", "阿布都热西提·阿布都克力木"),
        ("张\u200b三", "张三"),
        ("𠈌三", "𠈌三"),  # a rare character outside the basic block
        ("Zhang San", "Zhang San"),
        ("Ｊｏｈｎ Ｓｍｉｔｈ", "John Smith"),
        ("Li  Wei", "Li Wei"),
    ],
)
def test_parse_person_name(text: str, expected: str) -> None:
    assert parse_person_name(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "姓名"),
        ("张", "两个字"),
        ("a", "太短"),
        ("张三123", "数字"),
        ("１２３", "数字"),
        ("<b>张三</b>", "格式"),
        ("[CQ:at,qq=all]", "格式"),
        ("@张三", "@"),
        ("'; DROP TABLE workers;--", "符号"),
        ("张三'--", "符号"),
        ("张;三", "符号"),
        ("张三=1", "符号"),
        ("😀", "表情"),
        ("张三😀", "表情"),
        ("张三San", "汉字"),
        ("张三abc", "汉字"),
        ("张#三", "汉字"),
        ("张三三三三三三三三三三", "太长"),
        ("A" * 31, "太长"),
        ("张" * 5000, "太长"),
        ("不知道", "真实姓名"),
        ("保密", "真实姓名"),
        ("···", "姓名"),
    ],
)
def test_parse_person_name_rejects(text: str, needle: str) -> None:
    hint = hint_of(parse_person_name, text)
    assert needle in hint, hint


@settings(deadline=None)
@given(st.one_of(st.text(max_size=40), st.text(alphabet="张三李四·•. abAB1😀<>[]'", max_size=12)))
def test_person_name_gives_name_or_parse_error(text: str) -> None:
    try:
        name = parse_person_name(text)
    except ParseError as error:
        assert error.hint and has_han(error.hint)
    else:
        assert 2 <= len(name) <= 30
        assert not any(ch.isdigit() for ch in name)
        assert "<" not in name and "[" not in name and "'" not in name


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=10))
def test_every_plain_han_name_is_accepted(name: str) -> None:
    # "我叫…", "姓名…" are lead-ins that are dropped ("我是王五" is 王五), so a generated name
    # that begins with one is not a plain name.
    assume(not re.match(r"(我的名字|我的姓名|名字|姓名|我叫|我是|叫)", name))
    try:
        assert parse_person_name(name) == name
    except ParseError as error:  # only for the few refused words
        assert name in ("不知道", "不告诉你", "没有", "保密", "匿名", "不想说", "跳过") or error.hint


# --- free text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电焊", "电焊"),
        ("  会开挖掘机，有证  ", "会开挖掘机，有证"),
        ("在广东东莞电子厂干了3年\n后来去了浙江", "在广东东莞电子厂干了3年 后来去了浙江"),
        ("[CQ:at,qq=all] 泥工", "[CQ:at,qq=all] 泥工"),
        ("<b>木工</b>", "<b>木工</b>"),
        ("[1] 瓦工 [2] 钢筋工", "[1] 瓦工 [2] 钢筋工"),
        ("'; DROP TABLE skills;--", "'; DROP TABLE skills;--"),
        ("厨师😀", "厨师😀"),
        ("a\x00b\x1bc", "abc"),
        ("ｗｅｌｄｅｒ", "welder"),
    ],
)
def test_parse_free_text(text: str, expected: str) -> None:
    assert parse_free_text(text) == expected


@pytest.mark.parametrize(
    ("text", "max_len", "needle"),
    [
        ("", 200, "文字"),
        ("   ", 200, "文字"),
        ("\u200b", 200, "文字"),
        ("😀😀😀", 200, "表情"),
        ("!!!", 200, "表情"),
        ("字" * 201, 200, "200"),
        ("字" * 5000, 200, "5000"),
        ("字" * 21, 20, "20个字以内"),
    ],
)
def test_parse_free_text_rejects(text: str, max_len: int, needle: str) -> None:
    hint = hint_of(parse_free_text, text, max_len)
    assert needle in hint, hint


def test_free_text_limit_is_inclusive() -> None:
    assert parse_free_text("字" * 20, 20) == "字" * 20


@settings(deadline=None)
@given(st.text(max_size=300), st.integers(1, 250))
def test_free_text_gives_text_or_parse_error(text: str, max_len: int) -> None:
    try:
        result = parse_free_text(text, max_len)
    except ParseError as error:
        assert error.hint and has_han(error.hint)
    else:
        assert 0 < len(result) <= max_len
        assert result == result.strip()
        assert not any(ord(ch) < 32 for ch in result)


# --- salary -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4000", (4000, 4000)),
        ("４０００", (4000, 4000)),
        ("4,000", (4000, 4000)),
        ("4000元", (4000, 4000)),
        ("4000块", (4000, 4000)),
        ("4000块钱", (4000, 4000)),
        ("每月4000", (4000, 4000)),
        ("一个月4000", (4000, 4000)),
        ("月薪4000", (4000, 4000)),
        ("¥4500/月", (4500, 4500)),
        ("4千", (4000, 4000)),
        ("四千", (4000, 4000)),
        ("4k", (4000, 4000)),
        ("4K", (4000, 4000)),
        ("4千5", (4500, 4500)),
        ("四千五", (4500, 4500)),
        ("四千五百", (4500, 4500)),
        ("一万", (10000, 10000)),
        ("1万", (10000, 10000)),
        ("1w", (10000, 10000)),
        ("1.5万", (15000, 15000)),
        ("1万5", (15000, 15000)),
        ("两千八", (2800, 2800)),
        ("3000-5000", (3000, 5000)),
        ("3000~5000", (3000, 5000)),
        ("3000～5000", (3000, 5000)),
        ("3000到5000", (3000, 5000)),
        ("3000至5000", (3000, 5000)),
        ("3000到5000之间", (3000, 5000)),
        ("5000-3000", (3000, 5000)),
        ("3-5千", (3000, 5000)),
        ("3到5k", (3000, 5000)),
        ("3k-5k", (3000, 5000)),
        ("三到五千", (3000, 5000)),
        ("五千到八千", (5000, 8000)),
        ("1.2-1.5万", (12000, 15000)),
        ("5千左右", (5000, 5000)),
        ("五千左右吧", (5000, 5000)),
        ("大概5000", (5000, 5000)),
        ("希望有5000", (5000, 5000)),
        ("6000以上", (6000, None)),
        ("6000起", (6000, None)),
        ("6000+", (6000, None)),
        ("至少6000", (6000, None)),
        ("不低于6千", (6000, None)),
        ("4000多", (4000, None)),
        ("5000以下", (None, 5000)),
        ("不超过5000", (None, 5000)),
        ("最多五千", (None, 5000)),
        ("面议", (None, None)),
        ("都可以", (None, None)),
        ("都行", (None, None)),
        ("不限", (None, None)),
        ("随便", (None, None)),
        ("无所谓", (None, None)),
        ("看着给", (None, None)),
        ("没要求", (None, None)),
    ],
)
def test_parse_salary(text: str, expected: tuple[int | None, int | None]) -> None:
    assert parse_salary(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "月薪"),
        ("4", "太少"),
        ("50", "太少"),
        ("100万", "太多"),
        ("一天200", "每个月"),
        ("日薪200", "每个月"),
        ("200一天", "每个月"),
        ("时薪20", "每个月"),
        ("年薪10万", "每个月"),
        ("计件", "每个月"),
        ("很多钱", "没看懂"),
        ("abc", "没看懂"),
        ("😀", "没看懂"),
        ("3000-4000-5000", "没看懂"),
        ("3000-", "没看懂"),
        ("<b>4000</b>", "没看懂"),
        ("'; DROP TABLE pay;--", "没看懂"),
        ("4" * 5000, "太长"),
    ],
)
def test_parse_salary_rejects(text: str, needle: str) -> None:
    hint = hint_of(parse_salary, text)
    assert needle in hint, hint
    assert "例如" in hint


@settings(deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet="0123456789.kw千万百一二三四五六七八九十两到-~以上下左右元块面议多", max_size=12),
    )
)
def test_salary_gives_range_or_parse_error(text: str) -> None:
    try:
        low, high = parse_salary(text)
    except ParseError as error:
        assert error.hint and has_han(error.hint)
    else:
        for value in (low, high):
            assert value is None or 500 <= value <= 100_000
        if low is not None and high is not None:
            assert low <= high


@given(st.integers(500, 100_000))
def test_salary_number_round_trips(n: int) -> None:
    assert parse_salary(str(n)) == (n, n)
    assert parse_salary(f"{n}以上") == (n, None)
