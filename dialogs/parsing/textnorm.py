"""Text clean-up and Chinese numbers, shared by every parser.

People type on phones with Chinese input methods, so the same answer arrives as "3", "３", "三"
or "第三个", with full-width punctuation, stray spaces and invisible characters pasted from other
apps. :func:`normalize` makes these look alike before any parser looks at them.
"""

from __future__ import annotations

import re
import unicodedata

import cn2an

# Invisible characters that survive NFKC and break matching when pasted from other apps.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)

CN_DIGITS = "零〇一二两三四五六七八九幺"
CN_UNITS = "十百千万廿"
# Financial (大写) numerals, also understood by cn2an.
CN_FINANCIAL = "壹贰叁肆伍陆柒捌玖拾佰仟"
_CN_NUMBER_CHARS = frozenset(CN_DIGITS + CN_UNITS + CN_FINANCIAL)
_ARABIC_TO_CN = str.maketrans("0123456789", "零一二三四五六七八九")
_ARABIC = re.compile(r"[0-9]+")
_ARABIC_WITH_UNITS = re.compile(r"[0-9十百千万]+")

_MARKUP = re.compile(
    r"<\s*/?\s*[a-zA-Z!][^>]*>|\[CQ:|&#?\w+;|\[/?[a-zA-Z]+(?:=[^\]]*)?\]|\{\{|\}\}|javascript:",
    re.IGNORECASE,
)
_SQL = re.compile(
    r"--|/\*|\*/|;\s*\w|'\s*(?:or|and)\b|\b(?:drop|delete|insert|update|select|union|truncate"
    r"|alter|exec)\b\s+\w",
    re.IGNORECASE,
)


def normalize(text: str) -> str:
    """Return ``text`` in one canonical form.

    NFKC turns full-width digits, letters and punctuation into half-width ("１３８" → "138",
    "，" → ","); zero-width, other format and control characters are removed; every run of
    whitespace (including the ideographic space and newlines) becomes one space; the ends are
    stripped. Chinese punctuation without a half-width form ("。", "、") is kept.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text.translate(_ZERO_WIDTH))
    kept = [
        ch for ch in text if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    ]
    return " ".join("".join(kept).split())


# Full-width digits and Latin letters ("１３８", "ＣＱ") become ASCII; full-width punctuation stays.
_FULL_WIDTH_ALNUM = {
    cp: cp - 0xFEE0
    for first, last in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for cp in range(first, last + 1)
}


def clean_text(text: str) -> str:
    """Free text as typed, tidied: like :func:`normalize` but without NFKC, so Chinese
    punctuation ("，" "：" "（）") stays as the person wrote it when it is shown back to them
    and to cadres; full-width digits and letters still become ASCII. Use :func:`normalize` for
    anything that is matched or parsed."""
    if not text:
        return ""
    text = text.translate(_ZERO_WIDTH).translate(_FULL_WIDTH_ALNUM)
    kept = [
        ch for ch in text if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    ]
    return " ".join("".join(kept).split())


def is_han(ch: str) -> bool:
    """True for a Chinese character (CJK unified ideographs, extensions and compatibility)."""
    cp = ord(ch)
    return (
        0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3134F
        or ch == "〇"
    )


def has_han(text: str) -> bool:
    """True if ``text`` contains at least one Chinese character."""
    return any(is_han(ch) for ch in text)


def is_emoji(ch: str) -> bool:
    """True for emoji and other pictographic symbols (and the selectors that style them)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) == "So"
        or 0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0xFE00 <= cp <= 0xFE0F
        or 0x1F3FB <= cp <= 0x1F3FF
    )


def has_emoji(text: str) -> bool:
    return any(is_emoji(ch) for ch in text)


def has_words(text: str) -> bool:
    """True if ``text`` has any letter, digit or Chinese character (not only emoji/symbols)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def looks_like_markup(text: str) -> bool:
    """HTML tags, QQ CQ codes (``[CQ:at,qq=all]``), BBCode or HTML entities."""
    return bool(_MARKUP.search(text))


def looks_like_sql(text: str) -> bool:
    """Something that reads like an SQL injection attempt (``'; DROP TABLE``, ``' OR 1=1``)."""
    return bool(_SQL.search(text))


def looks_like_garbage(text: str) -> bool:
    """True for text that cannot be a real answer: empty, only emoji/symbols, markup or SQL."""
    text = normalize(text)
    return not text or not has_words(text) or looks_like_markup(text) or looks_like_sql(text)


def cn_number(text: str) -> int | None:
    """Read a whole number written in Arabic or Chinese numerals; None if it is not one.

    "3", "３", "三", "十二", "两", "二十一", "幺", "叁", "4千", "一万二" are understood. Text with
    anything else in it ("第三", "3个", "3.5") gives None: callers strip their own words first.
    """
    t = normalize(text).replace(" ", "")
    if not t or len(t) > 20:
        return None
    if _ARABIC.fullmatch(t):
        return int(t)
    if _ARABIC_WITH_UNITS.fullmatch(t):
        # "4千", "1万2": spell the digits in Chinese so cn2an reads the whole as one number.
        t = t.translate(_ARABIC_TO_CN)
    if not all(ch in _CN_NUMBER_CHARS for ch in t):
        return None
    if t == "廿":
        return 20
    try:
        value = cn2an.cn2an(t, "normal")
    except Exception:  # cn2an raises ValueError and, on odd input, other errors
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if not isinstance(value, int) or value < 0:
        return None
    return value
