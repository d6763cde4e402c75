"""Tests for dialogs.parsing.choices: numbered options and yes/no."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.parsing.choices import Option, match_choice, match_choices, parse_yes_no
from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import has_han

TRAVEL = (
    Option("自行返岗", "自行返岗（坐班车、拼车等）", ("自行", "自己走", "自己回去", "坐班车", "拼车")),
    Option("自驾", "自己开车", ("自驾", "开车", "自己开车")),
    Option("包车点对点", "政府包车点对点", ("包车", "点对点", "包车点对点", "政府包车")),
    Option("火车", "火车/高铁", ("火车", "高铁", "动车")),
    Option("飞机", "飞机", ("飞机", "坐飞机")),
    Option("其他", "其他", ("其它",)),
)
INTENT = (
    Option("就近就业", "就近就业（在家附近找工作）", ("就近", "在家附近", "本地", "附近")),
    Option("外出务工", "外出务工", ("外出", "出去打工", "去外地", "打工")),
    Option("暂不就业", "暂不就业", ("不找", "暂时不找", "不想找", "不工作", "在家")),
)
CATEGORY = (
    Option("建档立卡", "建档立卡贫困劳动力", ("建档立卡", "贫困户", "贫困")),
    Option("易地搬迁", "易地扶贫搬迁劳动力", ("易地扶贫搬迁", "易地搬迁", "搬迁", "移民搬迁")),
    Option("其他", "都不是", ("其他", "其它", "都不是", "不是", "普通", "无", "没有")),
)
SYMPTOMS = (
    Option("无", "没有不舒服", ("没有", "无", "都没有", "正常", "无症状", "没")),
    Option("发热", "发热", ("发烧", "低烧", "高烧", "体温高")),
    Option("咳嗽", "咳嗽", ("咳", "干咳")),
    Option("气促", "气促（喘不上气、胸闷）", ("喘", "喘不上气", "胸闷", "呼吸困难", "气短")),
    Option("乏力", "乏力（没力气）", ("没力气", "浑身无力", "无力", "累")),
)
PLACE = (
    Option("县内", "花溪区内（县内）", ("县内", "区内", "花溪", "本区", "花溪区")),
    Option("省内县外", "贵州省内、花溪区外", ("省内县外", "省内", "贵州", "贵阳", "贵州省内")),
    Option("省外", "贵州省外", ("省外", "外省", "出省")),
)
TWELVE = tuple(Option(str(i), f"选项{i}") for i in range(1, 13))


@pytest.mark.parametrize(
    ("text", "options", "value"),
    [
        ("1", TRAVEL, "自行返岗"),
        ("１", TRAVEL, "自行返岗"),
        ("一", TRAVEL, "自行返岗"),
        ("第一个", TRAVEL, "自行返岗"),
        ("第1个", TRAVEL, "自行返岗"),
        ("1.", TRAVEL, "自行返岗"),
        ("1。", TRAVEL, "自行返岗"),
        ("1、", TRAVEL, "自行返岗"),
        ("选1", TRAVEL, "自行返岗"),
        ("我选3", TRAVEL, "包车点对点"),
        ("三", TRAVEL, "包车点对点"),
        ("第三个", TRAVEL, "包车点对点"),
        ("6", TRAVEL, "其他"),
        ("六", TRAVEL, "其他"),
        ("两", TRAVEL, "自驾"),
        ("①", TRAVEL, "自行返岗"),
        ("自己开车", TRAVEL, "自驾"),
        ("开车", TRAVEL, "自驾"),
        ("自己开车回去", TRAVEL, "自驾"),
        ("坐高铁", TRAVEL, "火车"),
        ("高铁", TRAVEL, "火车"),
        ("火车/高铁", TRAVEL, "火车"),
        ("坐飞机", TRAVEL, "飞机"),
        ("政府包车", TRAVEL, "包车点对点"),
        ("包车点对点", TRAVEL, "包车点对点"),
        ("想坐包车", TRAVEL, "包车点对点"),
        ("其它", TRAVEL, "其他"),
        ("外出务工", INTENT, "外出务工"),
        ("打工", INTENT, "外出务工"),
        ("出去打工", INTENT, "外出务工"),
        ("外出", INTENT, "外出务工"),
        ("在家附近", INTENT, "就近就业"),
        ("我想在家附近找", INTENT, "就近就业"),  # 在家附近 beats 在家
        ("就近", INTENT, "就近就业"),
        ("就近就业", INTENT, "就近就业"),
        ("不想找了", INTENT, "暂不就业"),
        ("暂不", INTENT, "暂不就业"),  # part of the label
        ("在家", INTENT, "暂不就业"),
        ("建档", CATEGORY, "建档立卡"),
        ("贫困户", CATEGORY, "建档立卡"),
        ("都不是", CATEGORY, "其他"),
        ("省外", PLACE, "省外"),
        ("在外省", PLACE, "省外"),
        ("贵州省内、花溪区外", PLACE, "省内县外"),
        ("区内", PLACE, "县内"),
        ("12", TWELVE, "12"),
        ("十二", TWELVE, "12"),
        ("选项12", TWELVE, "12"),
    ],
)
def test_match_choice(text: str, options: tuple[Option, ...], value: str) -> None:
    assert match_choice(text, options).value == value


def hint_of(call, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError) as info:
        call(*args)
    hint = info.value.hint
    assert hint and has_han(hint)
    return hint


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("7", "序号只有1到6"),
        ("0", "序号只有1到6"),
        ("第十个", "序号只有1到6"),
        ("", "请回复序号"),
        ("随便", "没看懂"),
        ("走路", "没看懂"),
        ("😀", "没看懂"),
        ("<b>1</b>", "没看懂"),
        ("'; DROP TABLE t;--", "没看懂"),
        ("[CQ:at,qq=all]", "没看懂"),
        ("1 2", "没看懂"),
        ("车" * 5000, "太长"),
    ],
)
def test_match_choice_errors_list_the_options(text: str, needle: str) -> None:
    hint = hint_of(match_choice, text, TRAVEL)
    assert needle in hint, hint
    assert "1. 自行返岗（坐班车、拼车等）" in hint and "6. 其他" in hint


def test_ambiguous_choice_lists_only_candidates() -> None:
    hint = hint_of(match_choice, "劳动力", CATEGORY)
    assert "哪一个" in hint
    assert "建档立卡贫困劳动力" in hint and "易地扶贫搬迁劳动力" in hint and "都不是" not in hint


def test_no_options_is_a_parse_error() -> None:
    assert hint_of(match_choice, "1", ())
    assert hint_of(match_choices, "1", ())


@pytest.mark.parametrize(
    ("text", "options", "values"),
    [
        ("1 2", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("1、2", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("1，2", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("1,2", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("1和2", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("12", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("21", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("2 1 2", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("一和二", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("第一个和第二个", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("１ ２", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("建档立卡和易地搬迁", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("贫困户和易地扶贫搬迁", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("建档立卡、搬迁", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("建档立卡易地搬迁", CATEGORY, ["建档立卡", "易地搬迁"]),
        ("易地搬迁", CATEGORY, ["易地搬迁"]),
        ("2", CATEGORY, ["易地搬迁"]),
        ("3", CATEGORY, ["其他"]),
        ("都不是", CATEGORY, ["其他"]),
        ("不是", CATEGORY, ["其他"]),
        ("没有", SYMPTOMS, ["无"]),
        ("都没有", SYMPTOMS, ["无"]),
        ("发烧和咳嗽", SYMPTOMS, ["发热", "咳嗽"]),
        ("咳嗽，没有发烧", SYMPTOMS, ["咳嗽"]),
        ("有点咳嗽还有点累", SYMPTOMS, ["咳嗽", "乏力"]),
        ("咳嗽 胸闷", SYMPTOMS, ["咳嗽", "气促"]),
        ("浑身无力", SYMPTOMS, ["乏力"]),
        ("2 3", SYMPTOMS, ["发热", "咳嗽"]),
        ("3 2", SYMPTOMS, ["发热", "咳嗽"]),
        ("贵州省内、花溪区外", PLACE, ["省内县外"]),
        ("火车/高铁", TRAVEL, ["火车"]),
        ("1 12", TWELVE, ["1", "12"]),
        ("12", TWELVE, ["12"]),  # ten or more options: "12" is option 12
    ],
)
def test_match_choices(text: str, options: tuple[Option, ...], values: list[str]) -> None:
    assert [o.value for o in match_choices(text, options)] == values


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("4", "序号只有1到3"),
        ("1 4", "序号只有1到3"),
        ("14", "序号只有1到3"),
        ("不是建档立卡", "没看懂"),
        ("", "可以多选"),
        ("😀😀", "可以多选"),
        ("<b>1</b>", "没看懂"),
        ("x" * 5000, "太长"),
    ],
)
def test_match_choices_errors(text: str, needle: str) -> None:
    hint = hint_of(match_choices, text, CATEGORY)
    assert needle in hint, hint
    assert "1. 建档立卡贫困劳动力" in hint


@pytest.mark.parametrize(
    "text",
    [
        "是",
        "是的",
        "对",
        "对的",
        "对对对",
        "好",
        "好的",
        "好滴",
        "好吧",
        "有",
        "有的",
        "同意",
        "同意。",
        "同意！",
        "我同意",
        "可以",
        "可以的",
        "嗯",
        "嗯嗯",
        "行",
        "行的",
        "1",
        "１",
        "y",
        "Y",
        "yes",
        "Yes!",
        "ok",
        "OK",
        "要得",
        "没问题",
        "确认",
        "愿意",
        "需要",
        "有点困难",
        "👍",
        "不好意思，我同意",
    ],
)
def test_yes(text: str) -> None:
    assert parse_yes_no(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "否",
        "不",
        "不是",
        "没有",
        "没有的",
        "没有了",
        "没",
        "无",
        "不同意",
        "不同意。",
        "2",
        "２",
        "n",
        "N",
        "no",
        "No",
        "不用",
        "不用了",
        "不用了谢谢",
        "不需要",
        "不要",
        "不行",
        "没得",
        "莫得",
        "没有困难",
        "不愿意",
        "算了",
        "👎",
    ],
)
def test_no(text: str) -> None:
    assert parse_yes_no(text) is False


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "是"),
        ("abc", "是"),
        ("3", "是"),
        ("是不是", "确定"),
        ("要不要", "确定"),
        ("有没有", "确定"),
        ("不知道", "确定"),
        ("随便", "确定"),
        ("考虑一下", "确定"),
        ("😀", "是"),
        ("<b>是</b>", "是"),
        ("'; DROP TABLE t;--", "是"),
        ("是" * 5000, "太长"),
    ],
)
def test_yes_no_errors(text: str, needle: str) -> None:
    hint = hint_of(parse_yes_no, text)
    assert needle in hint and "否" in hint


# --- properties -------------------------------------------------------------------------------

option_sets = st.sampled_from([TRAVEL, INTENT, CATEGORY, SYMPTOMS, PLACE, TWELVE])
answer_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="123456789 、,和一二三第个不没有是建档立卡搬迁发烧咳嗽包车火车", max_size=12),
)


@settings(deadline=None)
@given(answer_text, option_sets)
def test_match_choice_gives_option_or_parse_error(text: str, options: tuple[Option, ...]) -> None:
    try:
        result = match_choice(text, options)
    except ParseError as error:
        assert error.hint and has_han(error.hint)
    else:
        assert result in options


@settings(deadline=None)
@given(answer_text, option_sets)
def test_match_choices_gives_ordered_unique_options(text: str, options: tuple[Option, ...]) -> None:
    try:
        result = match_choices(text, options)
    except ParseError as error:
        assert error.hint and has_han(error.hint)
    else:
        assert result
        indexes = [options.index(o) for o in result]
        assert indexes == sorted(set(indexes))


@given(option_sets, st.data())
def test_every_number_and_label_picks_its_option(options: tuple[Option, ...], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(options) - 1))
    assert match_choice(str(i + 1), options) == options[i]
    assert match_choice(options[i].label, options) == options[i]


@settings(deadline=None)
@given(answer_text)
def test_yes_no_gives_bool_or_parse_error(text: str) -> None:
    try:
        result = parse_yes_no(text)
    except ParseError as error:
        assert error.hint and has_han(error.hint)
    else:
        assert isinstance(result, bool)
