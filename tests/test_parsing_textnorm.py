"""Tests for dialogs.parsing.textnorm: normalisation and Chinese numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.parsing.textnorm import (
    cn_number,
    has_emoji,
    has_han,
    looks_like_garbage,
    looks_like_markup,
    looks_like_sql,
    normalize,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("１３８ １２３４ ５６７８", "138 1234 5678"),
        ("  张三  ", "张三"),
        ("张\u3000三", "张 三"),
        ("青岩\n\n镇", "青岩 镇"),
        ("\t同意\r\n", "同意"),
        ("同\u200b意", "同意"),
        ("\ufeff138", "138"),
        ("a\u200db\u2060c\u00add", "abcd"),
        ("ＡＢＣ ａｂｃ", "ABC abc"),
        ("电话：138", "电话:138"),
        ("１，２，３", "1,2,3"),
        ("（备注）", "(备注)"),
        ("5千～6千", "5千~6千"),
        ("￥4000", "¥4000"),
        ("①", "1"),
        ("第一个。", "第一个。"),  # 。 has no half-width form and stays
        ("a\x00b\x07c", "abc"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@given(st.text(max_size=200))
def test_normalize_is_idempotent_and_clean(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert "\u200b" not in once and "\n" not in once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("３", 3),
        ("03", 3),
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("两", 2),
        ("二十一", 21),
        ("廿", 20),
        ("廿一", 21),
        ("幺", 1),
        ("零", 0),
        ("〇", 0),
        ("叁", 3),
        ("一百零五", 105),
        ("两百", 200),
        ("四千", 4000),
        ("三千五", 3500),
        ("一万二", 12000),
        ("4千", 4000),
        ("1万2", 12000),
        (" 19 ", 19),
    ],
)
def test_cn_number(text: str, expected: int) -> None:
    assert cn_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "第三",
        "3个",
        "3.5",
        "一点五",
        "负三",
        "abc",
        "三三三三三三三三三三三三三三三三三三三三三",
        "百",
        "万",
        "十十",
        "😀",
        "3k",
        "-3",
        "二十四五",
    ],
)
def test_cn_number_rejects(text: str) -> None:
    assert cn_number(text) is None


@given(st.text(max_size=30))
def test_cn_number_never_raises(text: str) -> None:
    result = cn_number(text)
    assert result is None or (isinstance(result, int) and result >= 0)


@given(st.integers(min_value=0, max_value=99_999))
def test_cn_number_reads_arabic_numbers(n: int) -> None:
    assert cn_number(str(n)) == n


@pytest.mark.parametrize(
    ("text", "garbage"),
    [
        ("", True),
        ("   ", True),
        ("😀😀", True),
        ("!!!", True),
        ("<b>张三</b>", True),
        ("[CQ:at,qq=all]", True),
        ("'; DROP TABLE workers;--", True),
        ("' OR 1=1", True),
        ("张三", False),
        ("青岩镇", False),
        ("138 1234 5678", False),
        ("会开挖掘机", False),
    ],
)
def test_looks_like_garbage(text: str, garbage: bool) -> None:
    assert looks_like_garbage(text) is garbage


def test_small_helpers() -> None:
    assert has_han("abc张") and not has_han("abc")
    assert has_emoji("好👍") and not has_emoji("好")
    assert looks_like_markup("<script>alert(1)</script>")
    assert looks_like_markup("&lt;b&gt;")
    assert not looks_like_markup("1<2 and 3>2")
    assert looks_like_sql("x'; delete from users")
    assert not looks_like_sql("我会电焊")


def test_clean_text_keeps_chinese_punctuation_but_not_full_width_digits():
    from dialogs.parsing.textnorm import clean_text

    typed = "  在东莞（长安镇）做过，３年\u200b普工：焊接  "
    assert clean_text(typed) == "在东莞（长安镇）做过，3年普工：焊接"
    assert clean_text("ＣＱ码\n\n第二行") == "CQ码 第二行"
