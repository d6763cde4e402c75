"""Resident identity card numbers (GB 11643-1999, 18 digits)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import normalize

# ISO 7064 MOD 11-2: weight of each of the first 17 digits, and the check character by remainder.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"

# First two digits of the address code (GB/T 2260 provinces; 71 Taiwan, 81 Hong Kong, 82 Macao;
# 83 is used on residence permits of Taiwan residents).
PROVINCE_CODES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
        83,
    }
)
MAX_AGE = 120

_SEPARATORS = re.compile(r"(?<=[0-9Xx])[\s\-–—_.·/]+(?=[0-9Xx])")
_RUNS = re.compile(r"[0-9Xx]*[0-9][0-9Xx]*")

_ASK = "请发送身份证上的18位号码（最后一位可能是X），数字之间有空格也没关系"


@dataclass(frozen=True)
class IdCard:
    """A checked ID number with what it tells about its holder."""

    number: str  # 18 characters, the last may be "X"
    gender: str  # "男" or "女"
    birth: date

    def age(self, on: date) -> int:
        """Whole years of age on the day ``on``."""
        before_birthday = (on.month, on.day) < (self.birth.month, self.birth.day)
        return on.year - self.birth.year - before_birthday


def check_char(first17: str) -> str:
    """The 18th character that makes ``first17`` (17 digits) a valid ID number."""
    total = sum(int(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _candidate(text: str) -> str:
    """Pick the one ID-like run of digits out of what the person sent."""
    text = normalize(text)
    several = "好像发了不止一串数字，请只发送身份证号码这一串（18位，最后一位可能是X）"
    # Whole numbers first, so two IDs separated by a space are not read as one of 36 digits.
    if len([r for r in _RUNS.findall(text) if len(r) == 18]) > 1:
        raise ParseError(several)
    runs = [r for r in _RUNS.findall(_SEPARATORS.sub("", text)) if sum(ch.isdigit() for ch in r) >= 4]
    if not runs:
        raise ParseError("没有看到身份证号码。" + _ASK)
    if len(runs) == 1:
        return runs[0]
    full = [r for r in runs if len(r) == 18]
    if len(full) == 1:
        return full[0]
    raise ParseError(several)


def parse_id_number(text: str, today: date) -> IdCard:
    """Check an 18-digit ID number typed by a person and read gender and birth date from it.

    Spaces, dashes, full-width digits, a lower-case x and words around the number
    ("我的身份证是…") are accepted. ``today`` bounds the birth date.
    """
    if len(text) > 500:
        raise ParseError("内容太长了。" + _ASK)
    raw = _candidate(text).upper()
    if len(raw) == 15 and raw.isdigit():
        raise ParseError("这是15位的老身份证号，现在需要18位的新号码，请看身份证正面或户口本上的18位号码")
    if len(raw) != 18:
        raise ParseError(f"您发的号码有{len(raw)}位，身份证号应为18位，请再核对一下（最后一位可能是X）")
    if "X" in raw[:17]:
        raise ParseError("X只能是身份证号的最后一位，前17位都是数字，请再核对一下")
    if int(raw[:2]) not in PROVINCE_CODES:
        raise ParseError(f"身份证号的前两位“{raw[:2]}”不是有效的省份代码（贵州是52），请再核对一下")
    y, m, d = int(raw[6:10]), int(raw[10:12]), int(raw[12:14])
    try:
        birth = date(y, m, d)
    except ValueError:
        raise ParseError(
            f"身份证号第7到14位是出生日期，“{raw[6:14]}”不是有效的日期"
            f"（{m}月没有{d}日或月份不对），请再核对一下"
        ) from None
    if birth > today:
        raise ParseError(f"身份证号里的出生日期{y}年{m}月{d}日还没到，请核对第7到14位")
    card = IdCard(raw, "男" if int(raw[16]) % 2 else "女", birth)
    if card.age(today) > MAX_AGE:
        raise ParseError(f"身份证号里的出生年份是{y}年，年龄超过{MAX_AGE}岁了，请核对第7到10位")
    if check_char(raw[:17]) != raw[17]:
        raise ParseError(
            "身份证号最后一位校验不对，可能有一位数字输错了，请再核对一下（18位，最后一位可能是X）"
        )
    return card


def mask_id(number: str) -> str:
    """Hide the middle of an ID number: "5201**********123X" (first 4 and last 4 shown)."""
    number = number.strip().upper()
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
