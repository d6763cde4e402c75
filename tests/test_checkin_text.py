"""The daily check-in reader (dialogs.checkin_text) against real-style replies.

``tests/data/checkin_replies.tsv`` holds replies as workers type them, with the reading a person
would make: temperature, symptoms (、-separated, ``-`` for none), location (``-`` for none),
abnormal (1/0) and error (1 when the reply must be refused with a hint). Each row is a test;
rows we knowingly read wrong are listed in :data:`KNOWN_MISREADS` and marked xfail(strict) so that
fixing one shows up. :func:`test_accuracy_over_the_table` prints the accuracy and the misread rows.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.checkin_text import (
    KEY_SYMPTOMS,
    LOCATIONS,
    SYMPTOMS,
    CheckinReading,
    load_dictionary,
    parse_checkin,
)
from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import has_han

TABLE = Path(__file__).parent / "data" / "checkin_replies.tsv"

# Replies we knowingly read wrong, and why. Keep this short.
KNOWN_MISREADS = {
    # Someone else's symptom is taken as the worker's own: better an alert too many than a fever lost.
    "老婆发烧了 我正常 36.5": "a family member's fever",
    "小孩发烧了 我没事": "a family member's fever",
}


class Row(NamedTuple):
    text: str
    temperature: str
    symptoms: str
    location: str
    abnormal: str
    error: str


def _rows() -> list[Row]:
    with TABLE.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        assert header == list(Row._fields)
        return [Row(*line) for line in reader if line]


ROWS = _rows()


def expected(row: Row) -> tuple[str, ...]:
    temperature = "-" if row.temperature == "-" else f"{float(row.temperature):.1f}"
    return (temperature, row.symptoms, row.location, row.abnormal, row.error)


def reading_of(text: str) -> tuple[str, ...]:
    """What the parser makes of ``text``, in the table's columns."""
    try:
        r = parse_checkin(text)
    except ParseError:
        return ("-", "-", "-", "0", "1")
    return (
        "-" if r.temperature is None else f"{r.temperature:.1f}",
        "、".join(r.symptoms) or "-",
        r.location or "-",
        str(int(r.abnormal)),
        "0",
    )


# --- the table ---------------------------------------------------------------------------------

def test_table_is_big_and_well_formed() -> None:
    assert len(ROWS) >= 220
    assert sum(r.error == "1" for r in ROWS) >= 20
    assert len({r.text for r in ROWS}) == len(ROWS), "duplicate replies in the table"
    for r in ROWS:
        assert r.symptoms == "-" or all(s in SYMPTOMS for s in r.symptoms.split("、")), r
        assert r.location == "-" or r.location in LOCATIONS, r
        assert r.abnormal in "01" and r.error in "01", r
        if r.error == "1":
            assert (r.temperature, r.symptoms, r.location, r.abnormal) == ("-", "-", "-", "0"), r
        else:  # abnormal follows from the other columns
            hot = r.temperature != "-" and float(r.temperature) >= 37.3
            key = any(s in KEY_SYMPTOMS for s in r.symptoms.split("、"))
            assert r.abnormal == str(int(hot or key)), r
    assert set(KNOWN_MISREADS) <= {r.text for r in ROWS}


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(r, id=r.text[:30], marks=pytest.mark.xfail(reason=KNOWN_MISREADS[r.text], strict=True))
        if r.text in KNOWN_MISREADS
        else pytest.param(r, id=r.text[:30])
        for r in ROWS
    ],
)
def test_reply(row: Row) -> None:
    assert reading_of(row.text) == expected(row)


def test_accuracy_over_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    misread = [(r, reading_of(r.text)) for r in ROWS if reading_of(r.text) != expected(r)]
    accuracy = 1 - len(misread) / len(ROWS)
    with capsys.disabled():
        print(f"\ncheck-in replies read right: {len(ROWS) - len(misread)}/{len(ROWS)} = {accuracy:.1%}")
        for r, got in misread:
            known = " (known)" if r.text in KNOWN_MISREADS else ""
            print(f"  misread{known}: {r.text!r}: expected {expected(r)}, got {got}")
    assert accuracy >= 0.95


# --- the reading in detail ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "place", "location"),
    [
        ("在东莞上班了 36.5", "东莞", "已到岗"),
        ("已到岗 深圳 36.6 正常", "深圳", "已到岗"),
        ("36.5，已在广东东莞厚街上班", "广东东莞厚街", "已到岗"),
        ("人在深圳 36.5", "深圳", "已到岗"),  # a place outside 贵州 alone means at work
        ("在去东莞的车上 36.4", "东莞", "途中"),
        ("从遵义出发了 去宁波 36.5", "宁波", "途中"),  # the destination, not where they left
        ("在老家遵义 36.5", "遵义", "在家"),
        ("到长安了 36.5", "长安", "已到岗"),  # not in the list: jieba's place tag
        ("36.5 正常 在家", None, "在家"),
        ("36.5 明天坐包车去东莞", "东莞", "在家"),
        ("36.5 在家", None, "在家"),
    ],
)
def test_place_and_location(text: str, place: str | None, location: str) -> None:
    r = parse_checkin(text)
    assert (r.place, r.location) == (place, location)


@pytest.mark.parametrize(
    ("text", "all_normal", "denied"),
    [
        ("36.5 正常", True, ()),
        ("都好", True, ()),
        ("36.5 无", True, ()),
        ("36.5 👌", True, ()),
        ("体温正常，有点咳嗽", False, ()),  # "normal" next to a symptom is not all normal
        ("37.5 正常", False, ()),  # nor with a fever
        ("体温36度8，没有发烧，不咳嗽", False, ("发热", "咳嗽")),
        ("发热：无 咳嗽：无", False, ("发热", "咳嗽")),
        ("体温37.6 没有发烧", False, ()),  # the thermometer wins
        ("体温37.3以下", False, ("发热",)),  # a threshold is not a reading
        ("烧退了 36.8", False, ("发热",)),
    ],
)
def test_all_normal_and_denied(text: str, all_normal: bool, denied: tuple[str, ...]) -> None:
    r = parse_checkin(text)
    assert (r.all_normal, r.denied) == (all_normal, denied)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("36.5 正常 在家", "体温 36.5℃，无症状，在家"),
        ("37.8 发烧 咳嗽 在车上", "体温 37.8℃，发热、咳嗽，途中"),
        ("37.8 咳嗽 在车上", "体温 37.8℃，发热、咳嗽，途中"),
        ("37 在东莞上班", "体温 37.0℃，已到岗（东莞）"),
        ("不发烧也不咳嗽", "不发热、不咳嗽"),
        ("脑壳痛 在屋头", "其他不适，在家"),
        ("36.5", "体温 36.5℃"),
    ],
)
def test_describe(text: str, description: str) -> None:
    assert parse_checkin(text).describe() == description


def test_abnormal() -> None:
    assert CheckinReading(37.3, ("发热",), None, None, False).abnormal
    assert CheckinReading(None, ("乏力",), None, None, False).abnormal
    assert not CheckinReading(36.5, ("咽痛", "腹泻", "其他"), "在家", None, False).abnormal
    assert not CheckinReading(37.2, (), None, None, True).abnormal


@pytest.mark.parametrize("text", ["你好", "?", "有没有工作", "收到", "", "   ", "😊"])
def test_nothing_about_health_asks_again_with_an_example(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_checkin(text)
    assert "36.5 正常 在家" in info.value.hint


def test_a_location_alone_is_acknowledged_and_asks_for_health() -> None:
    with pytest.raises(ParseError) as info:
        parse_checkin("在屋头")
    assert "在家" in info.value.hint and "体温" in info.value.hint and "36.5" in info.value.hint


@pytest.mark.parametrize(("text", "shown"), [("体温45度", "45"), ("45.5", "45.5"), ("体温100", "100")])
def test_an_impossible_temperature_asks_to_measure_again(text: str, shown: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_checkin(text)
    assert info.value.hint.startswith(f"体温 {shown} 度不太对，请再量一下")


def test_dictionary_loads_once() -> None:
    first = load_dictionary()
    assert first > 0
    assert load_dictionary() == first


# --- any text at all ---------------------------------------------------------------------------

FRAGMENTS = [
    *("36.5", "36", "365", "45", "度", "℃", "三十七度二", "点", "五", "十", "1", "0", "华氏", "以下"),
    *("体温", "：", "，", "。", " ", "?", "、", "\n", "a", "了", "吗", "算"),
    *("发烧", "咳嗽", "咳得凶", "喉咙有点痛", "😷", "🤒", "👌", "家里人", "烧饭"),
    *("不", "没有", "无", "都没有", "有没有", "有点", "不是很", "等症状", "好了", "但是"),
    *("正常", "都好", "在家", "在路上", "上班了", "到", "东莞", "从", "去", "明天", "坐"),
]


def check_contract(text: str) -> None:
    try:
        r = parse_checkin(text)
    except ParseError as e:
        assert e.hint and has_han(e.hint)
        return
    description = r.describe()
    assert description and has_han(description)
    assert r.symptoms == tuple(s for s in SYMPTOMS if s in r.symptoms)
    assert not set(r.denied) & set(r.symptoms)
    assert r.location is None or r.location in LOCATIONS
    assert r.temperature is None or 34.0 <= r.temperature <= 42.5
    assert r.temperature is not None or r.symptoms or r.denied or r.all_normal
    if r.temperature is not None and r.temperature >= 37.3:
        assert "发热" in r.symptoms


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=200))
def test_any_text_reads_or_raises_parse_error(text: str) -> None:
    check_contract(text)


@settings(deadline=None, max_examples=500)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
def test_any_mix_of_checkin_words_reads_or_raises_parse_error(text: str) -> None:
    check_contract(text)
