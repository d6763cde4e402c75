"""Names, free-text answers and expected monthly pay."""

from __future__ import annotations

import re

from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import (
    clean_text,
    cn_number,
    has_emoji,
    has_han,
    has_words,
    is_han,
    looks_like_markup,
    looks_like_sql,
    normalize,
)

_NAME_EXAMPLE = "例如：张三、阿依古丽·买买提"
_NAME_PREFIX = re.compile(r"^(?:我的名字[是叫:]?|我的姓名[是:]?|名字[是叫:]?|姓名[是:]?|我叫|我是|叫)\s*")
_EDGE_PUNCT = re.compile(r"^[\s,.。、!！?？~…:;]+|[\s,.。、!！?？~…:;]+$")
# Middle dots people type between parts of a transliterated name.
_DOTS = re.compile(r"\s*[·•・‧∙⋅.．。]+\s*")
_LATIN_NAME = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_NOT_NAMES = frozenset({"不知道", "不告诉你", "没有", "保密", "匿名", "不想说", "跳过"})
MAX_HAN_NAME = 10
MAX_DOTTED_NAME = 20
MAX_LATIN_NAME = 30


def parse_person_name(text: str) -> str:
    """A person's name: 2–10 Chinese characters, parts joined by "·" for transliterated names
    (阿依古丽·买买提, up to 20 characters), or a latin name of letters and spaces (up to 30)."""
    t = _EDGE_PUNCT.sub("", normalize(text))
    if not t:
        raise ParseError(f"请发送您的姓名，{_NAME_EXAMPLE}")
    if len(t) > 100:
        raise ParseError(f"内容太长了，只发姓名就行，{_NAME_EXAMPLE}")
    if looks_like_markup(t) or "@" in t:
        raise ParseError(f"请直接打字发送姓名，不要带@或格式符号，{_NAME_EXAMPLE}")
    if looks_like_sql(t) or re.search(r"['\";=<>\\{}$]", t):
        raise ParseError(f"姓名里只能有汉字（或字母），不能有符号，{_NAME_EXAMPLE}")
    if has_emoji(t):
        raise ParseError(f"请用文字发送姓名，不要用表情，{_NAME_EXAMPLE}")
    if re.search(r"[0-9]", t):
        raise ParseError(f"姓名里不能有数字，请发送身份证上的姓名，{_NAME_EXAMPLE}")
    t = _EDGE_PUNCT.sub("", _NAME_PREFIX.sub("", t)) or t
    if t in _NOT_NAMES:
        raise ParseError(f"登记需要真实姓名，请发送身份证上的姓名，{_NAME_EXAMPLE}")
    if _LATIN_NAME.fullmatch(t):
        if len(t) < 2:
            raise ParseError(f"名字太短了，请发送完整姓名，{_NAME_EXAMPLE}")
        if len(t) > MAX_LATIN_NAME:
            raise ParseError(f"名字太长了（最多{MAX_LATIN_NAME}个字母），请再核对一下")
        return t
    if has_han(t):
        return _han_name(t)
    raise ParseError(f"姓名里只能有汉字，{_NAME_EXAMPLE}")


def _han_name(t: str) -> str:
    dotted = _DOTS.sub("·", t).strip("·")
    if "·" in dotted:
        parts = dotted.split("·")
    else:
        parts = [dotted.replace(" ", "")]  # "张 三" typed with a space
    if not all(part and all(is_han(ch) for ch in part) for part in parts):
        raise ParseError(f"姓名里只能有汉字，请不要夹带字母或符号，{_NAME_EXAMPLE}")
    name = "·".join(parts)
    han = sum(len(p) for p in parts)
    if han < 2:
        raise ParseError("姓名至少两个字，请发送完整的姓和名，例如：张三")
    limit = MAX_DOTTED_NAME if len(parts) > 1 else MAX_HAN_NAME
    if len(name) > limit:
        raise ParseError(f"姓名太长了（最多{limit}个字），只发姓名就行，{_NAME_EXAMPLE}")
    return name


# Replies to a yes/no question or to the summary: typed one question too early (a quick 确认
# before the last question was read), they must not be stored as a free answer (“期望地点：确认”).
NOT_AN_ANSWER = frozenset(("确认", "确定", "好的", "好", "是", "是的", "对", "对的", "嗯", "嗯嗯",
                           "可以", "行", "ok", "收到", "提交", "没问题", "确认无误"))
NOT_AN_ANSWER_HINT = "这一题请写具体的内容（“确认”“好的”是最后核对信息时回复的）。"


def parse_free_text(text: str, max_len: int = 200, *, hint: str = NOT_AN_ANSWER_HINT,
                    answer: bool = True) -> str:
    """A free answer (skills, employer, past jobs), cleaned but otherwise kept as typed.

    Markup-like text such as "[CQ:…]" or "<b>" stays literal: transports escape on output.
    Chinese punctuation is kept as typed (no NFKC: "，" must not become ",").  A bare 确认/好的
    (:data:`NOT_AN_ANSWER`) is refused with ``hint``: every free-text question of every dialog
    goes through here, so none stores it.  ``answer=False``: the text is a message passed on
    (a reply to a complaint), where “收到”“好的” are words like any other.
    """
    t = clean_text(text)
    if not t:
        raise ParseError("请用文字回答一下（如果没有，可以回复 跳过）")
    if answer and normalize(t).strip("。.！!~ ").lower() in NOT_AN_ANSWER:
        raise ParseError(hint)
    if len(t) > max_len:
        raise ParseError(f"内容太长了（{len(t)}个字），请控制在{max_len}个字以内，简单说说就行")
    if not has_words(t):
        raise ParseError("请用文字回答，不要只发表情或符号（如果没有，可以回复 跳过）")
    return t


_SALARY_EXAMPLE = "例如：4000、4千、3000到5000、6000以上，或者回复 面议"
_SALARY_ANY = re.compile(
    r"面议|都可以|都行|不限|随便|无所谓|看着给|没要求|没有要求|不知道|没想好|不清楚|看情况"
)
_SALARY_NOT_MONTHLY = re.compile(r"日薪|时薪|年薪|一天|每天|天\d|\d天|小时|一年|每年|计件")
_AT_LEAST = re.compile(r"以上|起步|起|往上|不低于|至少|最少|最低|大于|>=|>|\+|多")
_AT_MOST = re.compile(r"以下|以内|之内|不超过|不高于|最多|最高|小于|<=|<")
_FILLER = re.compile(
    r"元|块钱|块|rmb|¥|人民币|每个月|每月|一个月|/月|月薪|月|工资|薪资|薪水|左右|上下|大概|大约|差不多"
    r"|希望|期望|想要|要求|最好|能有|能拿|有|我|要|之间|的|吧|啊|呀|就行|就好|可以|能"
)
_RANGE = re.compile(r"-|~|到|至|—|–")
_UNITS = {"k": 1000, "千": 1000, "w": 10000, "万": 10000, "百": 100}
_DECIMAL_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(k|千|w|万|百)?(\d)?")
_ARABIC_TO_CN = str.maketrans("0123456789", "零一二三四五六七八九")
MIN_SALARY = 500
MAX_SALARY = 100_000


def _amount(s: str) -> tuple[float, int] | None:
    """Read "4000", "4千", "4k", "1.5万", "4千5", "四千五" → (yuan, unit multiplier used)."""
    match = _DECIMAL_AMOUNT.fullmatch(s)
    if match:
        number, unit, tail = match.groups()
        multiplier = _UNITS.get(unit or "", 1)
        value = float(number) * multiplier
        if tail:  # "4千5" is 4500, "1万5" is 15000
            if multiplier == 1:
                return None
            value += int(tail) * multiplier // 10
        return value, multiplier
    s = s.replace("k", "千").replace("w", "万")
    value = cn_number(s.translate(_ARABIC_TO_CN)) if re.fullmatch(r"[0-9千万百]+", s) else None
    if value is None:
        value = cn_number(s)
    if value is None:
        return None
    unit = next((m for u, m in _UNITS.items() if u in s), 1)
    return value, unit


def _check(amount: float) -> int:
    value = round(amount)
    if value < MIN_SALARY:
        raise ParseError(f"{value}元一个月好像太少了，是不是少写了“千”？请写完整的月薪，{_SALARY_EXAMPLE}")
    if value > MAX_SALARY:
        raise ParseError(f"{value}元一个月好像太多了，请再核对一下，{_SALARY_EXAMPLE}")
    return value


def parse_salary(text: str) -> tuple[int | None, int | None]:
    """Expected monthly pay in yuan as (lowest, highest); None where open-ended.

    "4000" → (4000, 4000); "3000-5000", "三到五千" → (3000, 5000); "6000以上" → (6000, None);
    "5000以下" → (None, 5000); "面议", "都可以", "不限" → (None, None).
    """
    t = normalize(text).lower().replace(" ", "").replace(",", "")
    if not t:
        raise ParseError(f"请说说您期望的月薪，{_SALARY_EXAMPLE}")
    if len(t) > 50:
        raise ParseError(f"内容太长了，只说个数字就行，{_SALARY_EXAMPLE}")
    if _SALARY_ANY.search(t):
        return None, None
    if _SALARY_NOT_MONTHLY.search(t):
        raise ParseError(f"请换算成每个月大概多少钱，{_SALARY_EXAMPLE}")
    at_most = bool(_AT_MOST.search(t))
    t = _AT_MOST.sub("", t)
    at_least = bool(_AT_LEAST.search(t))
    t = _EDGE_PUNCT.sub("", _FILLER.sub("", _AT_LEAST.sub("", t)))
    sides = [s for s in _RANGE.split(t)]
    if len(sides) > 2 or not all(sides):
        raise ParseError(f"没看懂这个金额，{_SALARY_EXAMPLE}")
    amounts = [_amount(s) for s in sides]
    if any(a is None for a in amounts):
        raise ParseError(f"没看懂这个金额，{_SALARY_EXAMPLE}")
    if len(amounts) == 1:
        value = _check(amounts[0][0])  # type: ignore[index]
        if at_most:
            return None, value
        if at_least:
            return value, None
        return value, value
    (low, low_unit), (high, high_unit) = amounts  # type: ignore[misc]
    if low_unit == 1 and high_unit > 1 and low < MIN_SALARY:
        low *= high_unit  # "三到五千": the unit of the second number applies to both
    low, high = sorted((_check(low), _check(high)))
    return low, high
