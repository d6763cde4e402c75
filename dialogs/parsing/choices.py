"""Picking from numbered options, and yes/no answers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import cn_number, normalize


@dataclass(frozen=True)
class Option:
    """One answer to offer: ``value`` is stored, ``label`` is shown, ``synonyms`` are also read."""

    value: str
    label: str
    synonyms: tuple[str, ...] = ()


_PUNCT = re.compile(r"^[\s,.。、!！?？~…:;'\"“”‘’()【】]+|[\s,.。、!！?？~…:;'\"“”‘’()【】]+$")
_NUMBER = re.compile(r"^(?:选择|选|我选)?第?\s*(\S{1,6}?)\s*(?:个|项|种|条|号)?[.。、)]?$")
_NEGATION = re.compile(r"[不没非无别未]")
_SPLIT = re.compile(r"[\s,，、;；/+&]+|还有|以及|或者|和|与|及|跟|或")
_MAX_LEN = 300


def _clean(text: str) -> str:
    return _PUNCT.sub("", normalize(text)).lower()


def _numbered(options: Sequence[Option]) -> str:
    return "\n".join(f"{i}. {o.label}" for i, o in enumerate(options, 1))


def _ask(options: Sequence[Option], why: str = "", multi: bool = False) -> ParseError:
    if not options:
        return ParseError("暂时没有可选的项目，请回复 返回 或 帮助")
    how = "（可以多选，例如回复 1 2）" if multi and len(options) > 1 else ""
    return ParseError(f"{why}请回复序号或文字{how}：\n{_numbered(options)}")


def _keys(option: Option) -> list[str]:
    keys = [option.label, *option.synonyms]
    return [k for k in dict.fromkeys(normalize(k).lower() for k in keys) if k]


def _by_number(t: str, options: Sequence[Option]) -> Option | bool | None:
    """The option numbered in ``t``; False when ``t`` is a number out of range."""
    match = _NUMBER.match(t)
    number = cn_number(match[1]) if match else None
    if number is None:
        return None
    if 1 <= number <= len(options):
        return options[number - 1]
    return False


def _exact(t: str, options: Sequence[Option]) -> list[Option]:
    return [o for o in options if t in _keys(o) or t == normalize(o.value).lower()]


def _negated(t: str, pos: int) -> bool:
    """A negation word just before position ``pos`` ("不咳嗽", "没有发烧", "不是建档立卡")."""
    return bool(_NEGATION.search(t[max(0, pos - 3) : pos]))


def _named_inside(t: str, options: Sequence[Option]) -> list[Option]:
    """Options whose label or synonym appears in the text.

    A key is ignored when negated ("不是建档立卡"), when it is itself a negation that applies to
    another option named after it ("没有" in "没有发烧"), or when it is part of a longer key also
    found ("在家" inside "在家附近").
    """
    keys = {i: _keys(o) for i, o in enumerate(options)}
    found: list[tuple[int, str]] = []
    for i, option_keys in keys.items():
        for key in option_keys:
            pos = t.find(key)
            if pos < 0 or _negated(t, pos):
                continue
            if _NEGATION.match(key):
                after = t[pos + len(key) :]
                if any(k in after for j, ks in keys.items() if j != i for k in ks):
                    continue
            found.append((i, key))
    kept = {i for i, key in found if not any(len(other) > len(key) and key in other for _, other in found)}
    return [options[i] for i in sorted(kept)]


def _by_text(t: str, options: Sequence[Option]) -> tuple[list[Option], bool]:
    """Options meant by the text, and whether they were named in it (not merely partly typed)."""
    exact = _exact(t, options)
    if exact:
        return exact, True
    inside = _named_inside(t, options)
    if inside:
        return inside, True
    if len(t) >= 2:
        return [o for o in options if any(t in key for key in _keys(o))], False
    return [], False


def _match_one(t: str, options: Sequence[Option], multi: bool) -> list[Option]:
    if not t or not options:
        raise _ask(options, multi=multi)
    if len(t) > _MAX_LEN:
        raise _ask(options, "内容太长了，", multi=multi)
    by_number = _by_number(t, options)
    if by_number is False:
        raise _ask(options, f"序号只有1到{len(options)}，", multi=multi)
    if isinstance(by_number, Option):
        return [by_number]
    found, named = _by_text(t, options)
    if len(found) == 1 or (found and multi and named):
        return found
    if found:
        raise _ask(found, "您说的是哪一个？")
    raise _ask(options, "没看懂您的选择，", multi=multi)


def match_choice(text: str, options: Sequence[Option]) -> Option:
    """One option from "1", "１", "一", "第一个", "1.", its label, a synonym or part of one."""
    return _match_one(_clean(text), options, multi=False)[0]


def match_choices(text: str, options: Sequence[Option]) -> list[Option]:
    """Several options: "1 2", "1、2", "1,2", "1和2", "12" (fewer than 10 options), or texts
    ("建档立卡和易地搬迁"). Returned once each, in option order."""
    t = _clean(text)
    if len(options) < 10 and re.fullmatch(r"[1-9]{2,9}", t):
        numbers = {int(ch) for ch in t}
        if max(numbers) <= len(options):
            return [o for i, o in enumerate(options, 1) if i in numbers]
    exact = _exact(t, options)  # a label may itself contain "、" or "/"
    if len(exact) == 1:
        return exact
    parts = [p for p in _SPLIT.split(t) if p]
    if len(parts) <= 1:
        return _match_one(t, options, multi=True)
    picked: set[int] = set()
    for part in parts:
        try:
            chosen = _match_one(part, options, multi=True)
        except ParseError:
            if _by_number(part, options) is False:
                raise _ask(options, f"序号只有1到{len(options)}，", multi=True) from None
            chosen = _named_inside(t, options)
            if not chosen:
                raise _ask(options, "没看懂您的选择，", multi=True) from None
        picked.update(options.index(o) for o in chosen)
    return [o for i, o in enumerate(options) if i in picked]


_YES = frozenset(
    "是 对 好 有 同意 可以 嗯 嗯嗯 行 1 y yes ok okay 好的 是的 对的 有的 要 需要 愿意 确认 确定 "
    "当然 没问题 没得问题 可以的 行的 要得 中 恩 en 好滴 是滴 对头 同意的 √ 👌 👍 ✅".split()
)
_NO = frozenset(
    "否 不 不是 没有 没 无 不同意 不要 不用 不需要 不行 不可以 不对 不好 2 n no nope 没得 莫得 "
    "木有 不愿意 拒绝 不了 算了 没有的 没得的 不用了 不需要了 没有了 无需 不必 × ❌ 👎".split()
)
_UNSURE = re.compile(
    r"不知道|不清楚|不确定|不一定|说不准|不好说|看情况|再说|考虑|想想|无所谓|随便|都行|都可以|(.)[不没]\1"
)
_PARTICLES = re.compile(r"[的啊呀吧哦噢了嘛呢哈喔嗯~]+$")
_YES_PREFIX = ("是", "对", "好", "有", "同意", "可以", "行", "要", "需要", "愿意", "确认", "嗯")
_NO_PREFIX = ("不", "没", "无", "否", "莫", "别")
_YES_NO_ASK = "请回复“是”或“否”（也可以回复 1 表示是，2 表示否）"


def parse_yes_no(text: str) -> bool:
    """是/对/好/有/同意/可以/嗯/行/1/y/yes → True; 否/不/没有/无/不同意/2/n/no → False."""
    t = _clean(text).replace(" ", "")
    if not t:
        raise ParseError(_YES_NO_ASK)
    if len(t) > 100:
        raise ParseError(f"内容太长了，{_YES_NO_ASK}")
    for candidate in (t, _PARTICLES.sub("", t) or t, re.sub(r"(.)\1+", r"\1", t)):
        if candidate in _NO:
            return False
        if candidate in _YES:
            return True
    if _UNSURE.search(t):
        raise ParseError(f"需要您确定一下。{_YES_NO_ASK}")
    if "不同意" in t:
        return False
    if "同意" in t:
        return True
    if t.startswith(_NO_PREFIX):
        return False
    if t.startswith(_YES_PREFIX):
        return True
    raise ParseError(_YES_NO_ASK)
