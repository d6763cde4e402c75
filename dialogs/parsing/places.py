"""Where a worker lives: 乡镇/街道 from the district's list, 村/社区, 组."""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import (
    cn_number,
    has_emoji,
    has_han,
    has_words,
    is_han,
    looks_like_markup,
    looks_like_sql,
    normalize,
)

# Ethnic-township names: 孟关苗族布依族乡 is called 孟关 or 孟关乡 in speech.
_ETHNIC = re.compile(r"(?:苗族|布依族|彝族|仡佬族|水族|回族|土家族|侗族|瑶族|白族|壮族)+")
_SUFFIXES = ("街道办事处", "街道办", "街道", "镇", "乡")
_NUMBER_WORDS = re.compile(r"^(?:选择|选)?第?(.+?)(?:个|号|项)?[.。、)]?$")
_FILLER = re.compile(r"^(?:我是|我在|我住|住在|在|是|属于)|(?:的|人|那边|这边|那里|这里)$")
_PUNCT = re.compile(r"^[\s,.。、!！?？~]+|[\s,.。、!！?？~]+$")
_DISTRICT_PREFIX = re.compile(r"^(?:贵州省?|贵阳市?|花溪区?)+")
_NON_ANSWERS = frozenset({"不知道", "不清楚", "忘了", "没有", "不记得", "跳过", "无"})

_FUZZY_CUTOFF = 0.6


@dataclass(frozen=True)
class Township:
    """A 乡镇 or 街道 of the district (``code`` is the 9-digit statistical code)."""

    code: str
    name: str


def _short_name(name: str) -> str:
    """青岩镇 → 青岩, 孟关苗族布依族乡 → 孟关, 黄河路街道 → 黄河路."""
    base = _ETHNIC.sub("", name)
    for suffix in _SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix) + 1:
            return base[: -len(suffix)]
    return base


def _keys(township: Township) -> set[str]:
    """Every way the township is commonly written."""
    short = _short_name(township.name)
    keys = {township.name, short}
    if township.name.endswith("乡"):
        keys.add(short + "乡")  # 高坡乡, 孟关乡
    if township.name.endswith("街道"):
        keys.update({short + "街道办", short + "街道办事处", short + "办事处"})
    return keys


class TownshipDirectory:
    """The district's 乡镇/街道, in the order they are listed to people (numbered from 1)."""

    def __init__(self, townships: list[Township]) -> None:
        self._townships = list(townships)
        self._keys = {t: _keys(t) for t in self._townships}
        self._by_name = {t.name: t for t in self._townships}

    @classmethod
    def from_csv(cls, path: str | Path) -> TownshipDirectory:
        """Read a CSV with the columns ``code,name,county_code``."""
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        return cls([Township(r["code"].strip(), r["name"].strip()) for r in rows if r.get("name")])

    @property
    def all(self) -> list[Township]:
        return list(self._townships)

    def get(self, name: str) -> Township | None:
        """The township with exactly this full name (or statistical code), if any."""
        name = normalize(name)
        return self._by_name.get(name) or next((t for t in self._townships if t.code == name), None)

    def numbered_list(self) -> str:
        """ "1 贵筑街道  2 阳光街道 …": compact enough for one chat message."""
        return "  ".join(f"{i} {t.name}" for i, t in enumerate(self._townships, 1))

    def _ask_all(self, why: str) -> ParseError:
        return ParseError(f"{why}请回复序号或名称：\n{self.numbered_list()}")

    def _ask_among(self, candidates: list[Township]) -> ParseError:
        numbered = "、".join(f"{self._townships.index(t) + 1} {t.name}" for t in candidates)
        return ParseError(f"您说的是哪一个？请回复序号或全名：{numbered}")

    def match(self, text: str) -> Township:
        """Find the township a person means.

        Tried in turn: the list number ("3", "第三个"); a full or short name (青岩, 孟关乡);
        a name inside the text (我在青岩镇歪脚村) or the text inside a name (黄河 → 黄河路街道);
        a small typo (青严镇). Ambiguity and no match raise ParseError listing the choices.
        """
        t = _PUNCT.sub("", normalize(text)).replace(" ", "")
        if not t or len(t) > 100 or not has_words(t):
            raise self._ask_all("没看懂您在哪个乡镇或街道。")
        number_match = _NUMBER_WORDS.match(t)
        number = cn_number(number_match[1]) if number_match else None
        if number is not None:
            if 1 <= number <= len(self._townships):
                return self._townships[number - 1]
            raise self._ask_all(f"序号只有1到{len(self._townships)}。")
        stripped = _DISTRICT_PREFIX.sub("", _FILLER.sub("", t))
        if not stripped:
            raise self._ask_all("请说具体是花溪区的哪个乡镇或街道。")
        for candidate in (t, stripped):
            exact = [tw for tw, keys in self._keys.items() if candidate in keys]
            if len(exact) == 1:
                return exact[0]
        found = self._contained(stripped)
        if len(found) == 1:
            return found[0]
        if found:
            raise self._ask_among(found)
        close = self._close(stripped)
        if len(close) == 1:
            return close[0]
        if close:
            raise self._ask_among(close)
        raise self._ask_all("在花溪区的乡镇、街道里没有找到您说的地方。")

    def _contained(self, t: str) -> list[Township]:
        """Townships named inside the text, or whose name contains the text (2+ characters)."""
        best: dict[Township, int] = {}
        for tw, keys in self._keys.items():
            for key in keys:
                if len(key) >= 2 and key in t:
                    best[tw] = max(best.get(tw, 0), len(key))
        if best:
            # "花溪区清溪街道": prefer the longest name found.
            longest = max(best.values())
            return [tw for tw in self._townships if best.get(tw) == longest]
        if len(t) >= 2 and has_han(t):
            return [tw for tw in self._townships if any(t in key for key in self._keys[tw])]
        return []

    def _close(self, t: str) -> list[Township]:
        """Townships within a small typo of the text (difflib ratio), best score only."""
        if not has_han(t) or len(t) > 20:
            return []
        scores: dict[Township, float] = {}
        for tw, keys in self._keys.items():
            scores[tw] = max(difflib.SequenceMatcher(None, t, key).ratio() for key in keys)
        top = max(scores.values(), default=0.0)
        if top < _FUZZY_CUTOFF:
            return []
        return [tw for tw in self._townships if scores[tw] >= top - 1e-9]


_VILLAGE_ASK = "请发送您所在的村或社区名称，例如：歪脚村、龙井社区"


def parse_village(text: str) -> str:
    """A 村/社区 name as typed: 2–20 characters, Chinese (digits allowed, as in 一村 or 新寨2组)."""
    t = _PUNCT.sub("", normalize(text)).replace(" ", "")
    if not t:
        raise ParseError(_VILLAGE_ASK)
    if looks_like_markup(t) or looks_like_sql(t):
        raise ParseError("请直接打字发送村或社区的名称，不要带符号或格式，例如：歪脚村")
    if has_emoji(t):
        raise ParseError("请用文字发送村或社区的名称，不要用表情，例如：歪脚村")
    if t.isdigit():
        raise ParseError(f"只有数字看不出是哪个村。{_VILLAGE_ASK}")
    if len(t) > 20:
        raise ParseError("名称太长了（最多20个字），只发村或社区的名字就行，例如：歪脚村")
    if len(t) < 2:
        raise ParseError(f"名称太短了。{_VILLAGE_ASK}")
    if t in _NON_ANSWERS:
        raise ParseError(f"{_VILLAGE_ASK}（可以问问家人或村干部）")
    if not all(is_han(ch) or ch.isdigit() for ch in t) or not has_han(t):
        raise ParseError(f"村名里只能有汉字和数字。{_VILLAGE_ASK}")
    return t


_GROUP_ASK = "请发送组号，例如：3 或 第三组（没有组可以回复 跳过）"
_GROUP_NUMBER = re.compile(r"^第?(.{1,4}?)(?:村民组|村民小组|小组|组|队|生产队)?$")


def parse_group(text: str) -> str:
    """The 村民组: "3", "三", "3组", "第三组" → "3组"; a named one ("大寨组") is kept."""
    t = _PUNCT.sub("", normalize(text)).replace(" ", "")
    if not t:
        raise ParseError(_GROUP_ASK)
    number_match = _GROUP_NUMBER.match(t)
    number = cn_number(number_match[1]) if number_match else None
    if number is not None:
        if 1 <= number <= 99:
            return f"{number}组"
        raise ParseError(f"组号一般在1到99之间，请再核对一下。{_GROUP_ASK}")
    if looks_like_markup(t) or looks_like_sql(t) or has_emoji(t):
        raise ParseError("请直接打字发送" + _GROUP_ASK[2:])
    # Many villages in Guizhou name their groups after hamlets: 大寨组, 上坝组.
    name = re.sub(r"(?:村民小组|村民组|小组)$", "组", t)
    if name in _NON_ANSWERS or not all(is_han(ch) for ch in name):
        raise ParseError(_GROUP_ASK)
    if not name.endswith("组"):
        name += "组"
    if not 2 <= len(name) <= 10:
        raise ParseError(_GROUP_ASK)
    return name
