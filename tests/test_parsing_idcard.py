"""Tests for dialogs.parsing.idcard: GB 11643-1999 ID numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dialogs.parsing.errors import ParseError
from dialogs.parsing.idcard import PROVINCE_CODES, IdCard, check_char, mask_id, parse_id_number
from dialogs.parsing.textnorm import has_han

TODAY = date(2024, 2, 3)


def make_id(first17: str) -> str:
    """Complete 17 digits with the ISO 7064 MOD 11-2 check character (computed independently)."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    remainder = sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11
    return first17 + "10X98765432"[remainder]


MALE = make_id("52011119900101123")  # 17th digit 3: male
FEMALE = make_id("52011119851231002")  # 17th digit 2: female
# A number whose check character is X, found by trying sequence numbers.
WITH_X = next(n for n in (make_id(f"52011119900101{i:03d}") for i in range(1000)) if n[-1] == "X")


def hint_of(text: str, today: date = TODAY) -> str:
    with pytest.raises(ParseError) as info:
        parse_id_number(text, today)
    hint = info.value.hint
    assert hint and has_han(hint)
    return hint


def test_helper_agrees_with_module_and_known_number() -> None:
    # The worked example in GB 11643-1999: 11010519491231002X.
    assert make_id("11010519491231002") == "11010519491231002X"
    assert check_char("11010519491231002") == "X"
    assert all(check_char(n[:17]) == n[17] for n in (MALE, FEMALE, WITH_X))


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (MALE, MALE),
        (f"我的身份证是{MALE}", MALE),
        (f"身份证号：{MALE}", MALE),
        (f"身份证号码 {MALE} 谢谢", MALE),
        (f"{MALE[:6]} {MALE[6:14]} {MALE[14:]}", MALE),
        (f"{MALE[:6]}-{MALE[6:14]}-{MALE[14:]}", MALE),
        (" ".join([MALE[i : i + 4] for i in range(0, 18, 4)]), MALE),
        (MALE.translate(str.maketrans("0123456789", "０１２３４５６７８９")), MALE),
        (WITH_X, WITH_X),
        (WITH_X.lower(), WITH_X),
        (WITH_X[:-1] + "ｘ", WITH_X),
        (WITH_X[:-1] + " x", WITH_X),
        (f"{MALE}\n", MALE),
        (f"\u200b{MALE}", MALE),
        (f"身份证{MALE}，电话13812345678", MALE),
    ],
)
def test_parse_valid(text: str, number: str) -> None:
    card = parse_id_number(text, TODAY)
    assert card.number == number


def test_gender_birth_and_age() -> None:
    male = parse_id_number(MALE, TODAY)
    assert male == IdCard(MALE, "男", date(1990, 1, 1))
    assert male.age(TODAY) == 34
    female = parse_id_number(FEMALE, TODAY)
    assert female.gender == "女"
    assert female.birth == date(1985, 12, 31)
    assert female.age(date(2024, 12, 30)) == 38
    assert female.age(date(2024, 12, 31)) == 39


def test_card_is_frozen() -> None:
    card = parse_id_number(MALE, TODAY)
    with pytest.raises(AttributeError):
        card.number = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (MALE[:17], ("17位", "18位")),
        (MALE[:16], ("16位", "18位")),
        (MALE + "1", ("19位", "18位")),
        ("520111", ("6位", "18位")),
        ("520111900101123", ("15位", "18位")),  # old 15-digit ID
        (MALE[:17] + ("1" if MALE[17] != "1" else "2"), ("校验", "X")),
        (make_id("52011119900230123"), ("出生日期", "19900230")),
        (make_id("52011119901301123"), ("出生日期",)),
        (make_id("52011119900100123"), ("出生日期",)),
        (make_id("52011120300101123"), ("还没到",)),
        (make_id("52011118900101123"), ("120岁",)),
        (make_id("99011119900101123"), ("省份", "99")),
        (make_id("00011119900101123"), ("省份",)),
        ("52011119900101X236", ("X", "最后一位")),
        ("", ("18位",)),
        ("不知道", ("18位",)),
        ("😀😀😀", ("18位",)),
        ("<b>身份证</b>", ("18位",)),
        ("'; DROP TABLE workers;--", ("18位",)),
        ("[CQ:at,qq=all]", ("18位",)),
        (f"{MALE} {FEMALE}", ("一串",)),
        ("5" * 5000, ("太长",)),
    ],
)
def test_errors_have_specific_hints(text: str, needles: tuple[str, ...]) -> None:
    hint = hint_of(text)
    for needle in needles:
        assert needle in hint, hint


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("52011119900101123X", "5201**********123X"),
        ("52011119900101123x", "5201**********123X"),
        ("520111199001011236", "5201**********1236"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_id(number: str, masked: str) -> None:
    assert mask_id(number) == masked


# --- properties -------------------------------------------------------------------------------

PROVINCES = sorted(PROVINCE_CODES)


@st.composite
def valid_ids(draw: st.DrawFn) -> tuple[str, date]:
    province = draw(st.sampled_from(PROVINCES))
    area = draw(st.integers(0, 9999))
    birth = draw(st.dates(min_value=date(1905, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(0, 999))
    first17 = f"{province:02d}{area:04d}{birth:%Y%m%d}{sequence:03d}"
    return make_id(first17), birth


@given(valid_ids())
def test_every_valid_id_parses(case: tuple[str, date]) -> None:
    number, birth = case
    card = parse_id_number(number, TODAY)
    assert card.number == number
    assert card.birth == birth
    assert card.gender == ("男" if int(number[16]) % 2 else "女")
    assert 0 <= card.age(TODAY) <= 120


@given(valid_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_changing_any_one_character_is_rejected(
    case: tuple[str, date], position: int, replacement: str
) -> None:
    number, _ = case
    assume(replacement != number[position])
    changed = number[:position] + replacement + number[position + 1 :]
    hint_of(changed)


@given(valid_ids(), st.integers(0, 15))
def test_swapping_neighbours_is_rejected(case: tuple[str, date], position: int) -> None:
    number, _ = case
    a, b = number[position], number[position + 1]
    assume(a != b)
    swapped = number[:position] + b + a + number[position + 2 :]
    hint_of(swapped)


@settings(deadline=None)
@given(st.one_of(st.text(max_size=60), st.text(alphabet="0123456789xX -一身份证号", max_size=40)))
def test_arbitrary_text_gives_card_or_parse_error(text: str) -> None:
    try:
        card = parse_id_number(text, TODAY)
    except ParseError as error:
        assert error.hint and has_han(error.hint)
    else:
        assert len(card.number) == 18 and check_char(card.number[:17]) == card.number[17]
