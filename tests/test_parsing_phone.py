"""Tests for dialogs.parsing.phone: mainland mobile numbers."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.parsing.errors import ParseError
from dialogs.parsing.phone import mask_phone, parse_phone
from dialogs.parsing.textnorm import has_han

P = "13812345678"


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "138.1234.5678",
        "138 - 1234 - 5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "(+86) 138 1234 5678",
        "0086 138 1234 5678",
        "008613812345678",
        "86-13812345678",
        "86 138 1234 5678",
        "8613812345678",
        "１３８１２３４５６７８",
        "１３８　１２３４　５６７８",
        "一三八一二三四五六七八",
        "幺三八幺二三四五六七八",
        "一三八 一二三四 五六七八",
        "电话：138 1234 5678",
        "我的手机号是13812345678",
        "手机13812345678，微信同号",
        "13812345678 谢谢",
        "138，1234，5678",
        "\u200b13812345678",
    ],
)
def test_parse_accepts(text: str) -> None:
    assert parse_phone(text) == P


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19912345678", "19912345678"),
        ("15000000000", "15000000000"),
        ("17712345678", "17712345678"),
        ("幺八五幺二三四五六七八", "18512345678"),
        ("一五零 零零零零 零零零零", "15000000000"),
    ],
)
def test_parse_other_numbers(text: str, expected: str) -> None:
    assert parse_phone(text) == expected


def hint_of(text: str) -> str:
    with pytest.raises(ParseError) as info:
        parse_phone(text)
    hint = info.value.hint
    assert hint and has_han(hint)
    return hint


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("1381234567", ("10位", "11位")),
        ("138 1234 567", ("10位", "11位")),
        ("1381234", ("7位", "11位")),
        ("138123456789", ("12位", "11位")),
        ("1381234567890", ("13位", "11位")),
        ("0851-85551234", ("座机",)),
        ("0851 8555 1234", ("座机",)),
        ("85551234", ("座机",)),
        ("8555123", ("座机",)),
        ("400-123-4567", ("座机",)),
        ("12812345678", ("13到19",)),
        ("10012345678", ("13到19",)),
        ("13812345678 13912345678", ("不止一个",)),
        ("", ("11位",)),
        ("没有手机", ("11位",)),
        ("😀", ("11位",)),
        ("<b>138</b>", ("3位",)),
        ("'; DROP TABLE phones;--", ("11位",)),
        ("[CQ:at,qq=all]", ("11位",)),
        ("1" * 5000, ("太长",)),
    ],
)
def test_errors_have_specific_hints(text: str, needles: tuple[str, ...]) -> None:
    hint = hint_of(text)
    for needle in needles:
        assert needle in hint, hint
    assert "例如" in hint


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("19900001111", "199****1111"), ("123", "***")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(mobiles, st.sampled_from(["", " ", "-", ".", " - "]), st.sampled_from(["", "+86 ", "0086", "86-"]))
def test_formatted_mobiles_parse_back(number: str, sep: str, prefix: str) -> None:
    text = prefix + sep.join([number[:3], number[3:7], number[7:]])
    assert parse_phone(text) == number


@given(mobiles)
def test_mask_keeps_ends(number: str) -> None:
    masked = mask_phone(number)
    assert masked[:3] == number[:3] and masked[-4:] == number[-4:] and masked[3:7] == "****"


@settings(deadline=None)
@given(st.one_of(st.text(max_size=60), st.text(alphabet="0123456789+-. 一二三幺两零手机号", max_size=30)))
def test_arbitrary_text_gives_mobile_or_parse_error(text: str) -> None:
    try:
        result = parse_phone(text)
    except ParseError as error:
        assert error.hint and has_han(error.hint)
    else:
        assert re.fullmatch(r"1[3-9]\d{9}", result)
