"""Tests for dialogs.parsing.places: 乡镇/街道, 村/社区 and 组."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.parsing.errors import ParseError
from dialogs.parsing.places import Township, TownshipDirectory, parse_group, parse_village
from dialogs.parsing.textnorm import has_han

CSV = Path(__file__).resolve().parents[1] / "bot" / "data" / "huaxi_townships.csv"


@pytest.fixture(scope="module")
def directory() -> TownshipDirectory:
    return TownshipDirectory.from_csv(CSV)


def test_from_csv_reads_all_in_order(directory: TownshipDirectory) -> None:
    towns = directory.all
    assert len(towns) == 19
    assert towns[0] == Township("520111004", "贵筑街道")
    assert towns[9].name == "青岩镇"
    assert towns[-1].name == "马铃布依族苗族乡"
    towns.clear()  # a copy: the directory is not changed
    assert len(directory.all) == 19


def test_from_csv_handles_bom_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("\ufeffcode,name,county_code\n1,甲镇,9\n\n2, 乙乡 ,9\n", encoding="utf-8")
    d = TownshipDirectory.from_csv(str(path))
    assert [t.name for t in d.all] == ["甲镇", "乙乡"]
    assert d.match("乙") == Township("2", "乙乡")


def test_get(directory: TownshipDirectory) -> None:
    assert directory.get("青岩镇") == Township("520111101", "青岩镇")
    assert directory.get(" 青岩镇 ") == Township("520111101", "青岩镇")
    assert directory.get("520111101") == Township("520111101", "青岩镇")
    assert directory.get("青岩") is None
    assert directory.get("") is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("青岩镇", "青岩镇"),
        ("青岩", "青岩镇"),
        ("青岩镇。", "青岩镇"),
        (" 青岩 ", "青岩镇"),
        ("孟关", "孟关苗族布依族乡"),
        ("孟关乡", "孟关苗族布依族乡"),
        ("孟关苗族布依族乡", "孟关苗族布依族乡"),
        ("黄河路", "黄河路街道"),
        ("黄河路街道", "黄河路街道"),
        ("黄河", "黄河路街道"),
        ("高坡乡", "高坡苗族乡"),
        ("高坡", "高坡苗族乡"),
        ("黔陶", "黔陶布依族苗族乡"),
        ("马铃乡", "马铃布依族苗族乡"),
        ("湖潮", "湖潮苗族布依族乡"),
        ("久安", "久安乡"),
        ("久安乡", "久安乡"),
        ("小孟", "小孟街道"),
        ("小孟街道办", "小孟街道"),
        ("清溪", "清溪街道"),
        ("溪北", "溪北街道"),
        ("党武", "党武街道"),
        ("石板", "石板镇"),
        # numbered choice
        ("1", "贵筑街道"),
        ("3", "清溪街道"),
        ("３", "清溪街道"),
        ("三", "清溪街道"),
        ("第三个", "清溪街道"),
        ("3.", "清溪街道"),
        ("选3", "清溪街道"),
        ("10", "青岩镇"),
        ("十", "青岩镇"),
        ("19", "马铃布依族苗族乡"),
        # inside a longer answer
        ("我在青岩镇", "青岩镇"),
        ("我是青岩的", "青岩镇"),
        ("青岩人", "青岩镇"),
        ("我在青岩镇歪脚村", "青岩镇"),
        ("花溪区青岩镇", "青岩镇"),
        ("贵州省贵阳市花溪区孟关乡", "孟关苗族布依族乡"),
        ("花溪区清溪街道", "清溪街道"),
        # small typos
        ("青严镇", "青岩镇"),
        ("孟光乡", "孟关苗族布依族乡"),
        ("麦平镇", "麦坪镇"),
        ("燕楼乡", "燕楼镇"),
        ("黄河路街", "黄河路街道"),
    ],
)
def test_match(directory: TownshipDirectory, text: str, name: str) -> None:
    assert directory.match(text).name == name


def hint_of(directory: TownshipDirectory, text: str) -> str:
    with pytest.raises(ParseError) as info:
        directory.match(text)
    hint = info.value.hint
    assert hint and has_han(hint)
    return hint


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("苗族", ("14 孟关苗族布依族乡", "17 高坡苗族乡"), ("青岩镇",)),
        ("布依族", ("14 孟关苗族布依族乡", "18 黔陶布依族苗族乡"), ("高坡苗族乡",)),
        ("街道", ("1 贵筑街道", "9 党武街道"), ("青岩镇",)),
    ],
)
def test_ambiguous_lists_candidates(
    directory: TownshipDirectory, text: str, present: tuple[str, ...], absent: tuple[str, ...]
) -> None:
    hint = hint_of(directory, text)
    assert "哪一个" in hint
    for needle in present:
        assert needle in hint
    for needle in absent:
        assert needle not in hint


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("20", "1到19"),
        ("0", "1到19"),
        ("花溪", "具体"),
        ("花溪区", "具体"),
        ("北京", "没有找到"),
        ("xyz", "没有找到"),
        ("", "没看懂"),
        ("😀", "没看懂"),
        ("<b>青</b>", "没有找到"),
        ("'; DROP TABLE towns;--", "没有找到"),
        ("[CQ:at,qq=all]", "没有找到"),
        ("镇" * 5000, "没看懂"),
    ],
)
def test_no_match_lists_everything(directory: TownshipDirectory, text: str, needle: str) -> None:
    hint = hint_of(directory, text)
    assert needle in hint
    assert "1 贵筑街道" in hint and "19 马铃布依族苗族乡" in hint


TOWN_CHARS = "青岩孟关乡镇街道苗族布依0123一二三第个花溪区"


@settings(deadline=None)
@given(st.one_of(st.text(max_size=40), st.text(alphabet=TOWN_CHARS, max_size=10)))
def test_match_gives_township_or_parse_error(text: str) -> None:
    d = TownshipDirectory.from_csv(CSV)
    try:
        result = d.match(text)
    except ParseError as error:
        assert error.hint and has_han(error.hint)
    else:
        assert result in d.all


@given(st.integers(1, 19))
def test_every_number_and_name_round_trips(n: int) -> None:
    d = TownshipDirectory.from_csv(CSV)
    town = d.all[n - 1]
    assert d.match(str(n)) == town
    assert d.match(town.name) == town


# --- 村/社区 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("歪脚村", "歪脚村"),
        ("龙井社区", "龙井社区"),
        ("一村", "一村"),
        ("新寨2村", "新寨2村"),
        (" 歪脚村。", "歪脚村"),
        ("歪脚 村", "歪脚村"),
        ("歪脚", "歪脚"),
        ("花溪区青岩镇歪脚村", "花溪区青岩镇歪脚村"),
        ("ＸＸ村".replace("ＸＸ", "龙山"), "龙山村"),
    ],
)
def test_parse_village(text: str, expected: str) -> None:
    assert parse_village(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "例如"),
        ("村", "太短"),
        ("123", "数字"),
        ("３", "数字"),
        ("<b>歪脚村</b>", "符号"),
        ("[CQ:at,qq=all]", "符号"),
        ("'; DROP TABLE villages;--", "符号"),
        ("😀村", "表情"),
        ("🏠🏠", "表情"),
        ("歪脚村" * 7, "20"),
        ("村" * 5000, "20"),
        ("Waijiao", "汉字"),
        ("歪脚村!!!???", None),
        ("不知道", "村干部"),
    ],
)
def test_parse_village_rejects(text: str, needle: str | None) -> None:
    if needle is None:  # trailing punctuation is only trimmed
        assert parse_village(text) == "歪脚村"
        return
    with pytest.raises(ParseError) as info:
        parse_village(text)
    assert has_han(info.value.hint) and needle in info.value.hint


# --- 组 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", "3组"),
        ("３", "3组"),
        ("三", "3组"),
        ("3组", "3组"),
        ("第三组", "3组"),
        ("三组", "3组"),
        ("第3组", "3组"),
        ("3队", "3组"),
        ("三村民组", "3组"),
        ("3 组", "3组"),
        ("十二", "12组"),
        ("十二组", "12组"),
        ("12组。", "12组"),
        ("大寨组", "大寨组"),
        ("大寨", "大寨组"),
        ("上坝村民组", "上坝组"),
    ],
)
def test_parse_group(text: str, expected: str) -> None:
    assert parse_group(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "第三组"),
        ("0", "1到99"),
        ("100", "1到99"),
        ("组", "第三组"),
        ("不知道", "跳过"),
        ("😀", "组号"),
        ("<b>3</b>", "组号"),
        ("abc", "组号"),
        ("组" * 5000, "组号"),
    ],
)
def test_parse_group_rejects(text: str, needle: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_group(text)
    assert has_han(info.value.hint) and needle in info.value.hint


@settings(deadline=None)
@given(st.one_of(st.text(max_size=40), st.text(alphabet="第组队村社区一二三四十0123 <>😀", max_size=10)))
def test_village_and_group_give_value_or_parse_error(text: str) -> None:
    for parser in (parse_village, parse_group):
        try:
            result = parser(text)
        except ParseError as error:
            assert error.hint and has_han(error.hint)
        else:
            assert result and len(result) <= 20
