"""Mainland mobile phone numbers."""

from __future__ import annotations

import re

from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import normalize

# Digits as people say them: 幺 is "1" when reading numbers aloud, 两 is "2", 洞 is "0".
_SPOKEN_DIGITS = str.maketrans("零〇一二三四五六七八九幺两洞", "00123456789120")
_SEPARATORS = re.compile(r"(?<=\d)[\s\-–—.·,_/()]+(?=\d)")
_RUNS = re.compile(r"\d+")
_MOBILE = re.compile(r"1[3-9]\d{9}")

_EXAMPLE = "例如：138 1234 5678"


def _strip_country_code(run: str) -> str:
    if run.startswith("0086") and len(run) == 15:
        return run[4:]
    if run.startswith("86") and len(run) == 13:
        return run[2:]
    return run


def _looks_like_landline(run: str) -> bool:
    # 0851-8555 1234 (area code + 7 or 8 digits), a bare 7/8-digit local number, 400/800 lines.
    return (
        (run.startswith("0") and 10 <= len(run) <= 12)
        or (len(run) in (7, 8) and run[0] != "1")
        or (len(run) == 10 and run[:3] in ("400", "800"))
    )


def parse_phone(text: str) -> str:
    """Read an 11-digit mainland mobile number, returned as 11 plain digits.

    Accepts spaces, dashes and dots inside, "+86"/"0086"/"86-" in front, full-width digits,
    digits written in Chinese ("一三八…", 幺 for 1) and words around it ("电话：…").
    """
    if len(text) > 200:
        raise ParseError(f"内容太长了。请只发送11位手机号，{_EXAMPLE}")
    t = normalize(text).translate(_SPOKEN_DIGITS)
    several = f"您发了不止一个号码，请只发一个最常用的手机号，{_EXAMPLE}"
    # Whole numbers first, so two numbers separated by a space are not read as one of 22 digits.
    if len({r for r in map(_strip_country_code, _RUNS.findall(t)) if _MOBILE.fullmatch(r)}) > 1:
        raise ParseError(several)
    t = _SEPARATORS.sub("", t)
    runs = [_strip_country_code(r) for r in _RUNS.findall(t) if len(r) >= 3]
    if not runs:
        raise ParseError(f"没有看到手机号。请发送11位手机号，{_EXAMPLE}")
    mobiles = list(dict.fromkeys(r for r in runs if _MOBILE.fullmatch(r)))
    if len(mobiles) == 1:
        return mobiles[0]
    if len(mobiles) > 1:
        raise ParseError(several)
    run = runs[0] if len(runs) == 1 else "".join(runs)
    if _MOBILE.fullmatch(run):  # split by words: "138 和 1234 5678"
        return run
    if _looks_like_landline(run):
        raise ParseError(f"这看起来像座机号，请发送能接电话、收短信的手机号（11位，1开头），{_EXAMPLE}")
    if len(run) < 11:
        raise ParseError(f"您发了{len(run)}位数字，手机号应为11位，请再核对一下，{_EXAMPLE}")
    if len(run) > 11:
        raise ParseError(f"您发了{len(run)}位数字，手机号应为11位，多了几位，请再核对一下，{_EXAMPLE}")
    raise ParseError(f"手机号应以13到19开头，“{run}”好像不对，请再核对一下，{_EXAMPLE}")


def mask_phone(phone: str) -> str:
    """Hide the middle of a phone number: "138****5678"."""
    phone = phone.strip()
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
