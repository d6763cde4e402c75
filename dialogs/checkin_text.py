"""Understanding a worker's free reply to the daily health check-in (日排查).

Every morning each registered worker is asked how they are; they answer however they like on a
cheap phone: ``36.5 正常``, ``三十七度二 有点咳嗽``, ``体温36度8，没有发烧，不咳嗽``,
``有点发烧浑身没得力气 在屋头``. :func:`parse_checkin` reads such a reply into a
:class:`CheckinReading`: the temperature, the symptoms normalised to 发热/咳嗽/气促/乏力/咽痛/腹泻/其他
(negation understood), and where the worker is (在家 / 途中 / 已到岗, with the place when named).

How it reads a reply, in order:

1. :func:`~dialogs.parsing.textnorm.normalize` (full-width → half-width, ``℃`` → ``°C``), lower case.
2. Temperatures: Chinese numerals near a temperature are rewritten in digits (三十六度五 → 36度5),
   then every number is judged by its form and context (``36.5``, ``36度8``, ``体温37``, ``体温365``,
   ``36,5``; a bare ``37`` only when nothing says it is an age, a date or a count). Fahrenheit is
   ignored, thresholds (``37.3以下``) are not readings, and an implausible reading raises
   :class:`ParseError` asking to measure again. The numbers are then blanked out.
3. The rest is cut into known words from ``data/symptoms.json`` (longest match at the leftmost
   place): symptoms, body part + feeling compounds (喉咙有点痛, 脑壳疼), negators, "normal"
   statements, locations, list and clause punctuation, and words to ignore (烧饭, 家里人).
4. A small left-to-right pass applies negation: ``没有``-type negators cover a list (没有发烧咳嗽,
   无发热、咳嗽、乏力等症状), ``不`` covers what directly follows it (不发烧 咳嗽 → 咳嗽), and a
   negator after the symptoms denies them (发烧咳嗽都没有, 发热：无). Softeners keep the symptom
   (不是很咳, 有点咳 → 咳嗽), and a symptom said with intensity is never negated (咳得凶).
5. A temperature of 37.3 ℃ or more adds 发热. Places come from a list of provinces and cities in
   the lexicon, or, for a worker on the way or at work, from jieba's place-name tag (``ns``).

The module is pure and synchronous. The lexicon is compiled on first use (a few milliseconds);
jieba's dictionary (about a second) is loaded only when a place name has to be guessed, or at start
up through :func:`load_dictionary`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import normalize

__all__ = [
    "KEY_SYMPTOMS",
    "LOCATIONS",
    "SYMPTOMS",
    "CheckinReading",
    "dictionary_load_seconds",
    "load_dictionary",
    "parse_checkin",
]

_DATA = Path(__file__).parent / "data"
LEXICON_PATH = _DATA / "symptoms.json"
USER_DICT_PATH = _DATA / "health_dict.txt"

SYMPTOMS = ("发热", "咳嗽", "气促", "乏力", "咽痛", "腹泻", "其他")
KEY_SYMPTOMS = frozenset(("发热", "咳嗽", "气促", "乏力"))
LOCATIONS = ("在家", "途中", "已到岗")
FEVER_AT = 37.3
TEMPERATURE_MIN, TEMPERATURE_MAX = 34.0, 42.5
MAX_LENGTH = 500  # a check-in is a line or two; longer text is cut (it is also kept fast)

EXAMPLE = "36.5 正常 在家，或者：37.2 有点咳嗽"
HINT = f"没看懂，请按这样回复：{EXAMPLE}"
_ORDER = {name: i for i, name in enumerate(SYMPTOMS)}


@dataclass(frozen=True)
class CheckinReading:
    """What a worker said in a daily check-in.

    ``symptoms`` are present symptoms in the order of :data:`SYMPTOMS`; ``denied`` those the worker
    explicitly said they do not have (不咳嗽, 发热：无), for the record and for :meth:`describe`.
    ``all_normal`` is an explicit "all is well" (正常 / 无症状 / 都好 / 没事) with no symptom present.
    """

    temperature: float | None
    symptoms: tuple[str, ...]
    location: str | None = None
    place: str | None = None
    all_normal: bool = False
    denied: tuple[str, ...] = ()

    @property
    def abnormal(self) -> bool:
        """37.3 ℃ or more, or any of 发热/咳嗽/气促/乏力: send to the designated hospital."""
        if self.temperature is not None and self.temperature >= FEVER_AT:
            return True
        return any(s in KEY_SYMPTOMS for s in self.symptoms)

    def describe(self) -> str:
        """A short Chinese echo: ``体温 36.5℃，无症状，在家``, ``体温 37.8℃，发热、咳嗽，途中``."""
        parts = []
        if self.temperature is not None:
            parts.append(f"体温 {self.temperature:.1f}℃")
        if self.symptoms:
            parts.append("、".join("其他不适" if s == "其他" else s for s in self.symptoms))
        elif self.all_normal:
            parts.append("无症状")
        elif self.denied:
            # 不发热、不咳嗽: “无发热、咳嗽” could be read as “no fever, but a cough”.
            parts.append("、".join("无其他不适" if s == "其他" else "不" + s for s in self.denied))
        if self.location:
            parts.append(f"{self.location}（{self.place}）" if self.place else self.location)
        elif self.place:
            parts.append(self.place)
        return "，".join(parts) or "已收到"


# --- temperature -----------------------------------------------------------------------------

_CN_VALUE = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9, "半": 5}
# A numeral followed by one of these starts a word (一切, 一直, 两天), it is not a decimal digit.
_WORDY = "切直点样般天下起些个会共定次号月年岁块元斤里分秒周位人条家处遍声阵口种项十"
_CN_DECIMAL = f"(?P<sep>点|度)(?P<d>[零〇一二三四五六七八九半])(?![{_WORDY}])"
_CN_TEMPERATURE = re.compile(f"(?P<i>[一二两三四五六七八九十]{{2,3}})(?:{_CN_DECIMAL})?")
_MIXED_DECIMAL = re.compile(rf"(?<=\d){_CN_DECIMAL}")
_HALF = re.compile(r"(?<=\d)(度|点)半")

_FAHRENHEIT = re.compile(
    r"华氏(?:温度)?\s*:?\s*\d+(?:\.\d+)?\s*(?:度|°f|°)?|\d+(?:\.\d+)?\s*(?:°f|华氏度?|f(?![a-z]))"
)
_NUMBER = re.compile(
    r"(?<![\d.])(?P<int>\d{2,3})"
    r"(?:\.{1,2}(?P<dec>\d{1,2})(?!\d)|(?P<sep>[,。·、]|点|度)(?P<dec1>\d)(?![\d.]))?"
    r"(?!\d)"
    r"(?P<unit>\s?(?:°c|°|度|摄氏度|c(?![a-z])))?"
)
_CONTEXT = re.compile(
    r"(?:体温|温度|体问|提温|体稳|测温|腋温|额温|耳温|口温|体表|热度|测|量|烧)[^\d]{0,5}$"
)
_TEMPERATURE_WORD = re.compile(r"(?:体温|温度|体问|提温|体稳|测温|腋温|额温|耳温|口温)[^\d]{0,5}$")
_BELOW_BEFORE = re.compile(r"(?:低于|不到|没超过|没有超过|不超过|未超过|没超|不超|小于|没到|未到|<)\s*$")
_BELOW_AFTER = re.compile(r"\s*(?:度|°c)?\s*(?:以下|以内|之下|之内|内)")
_NOT_TEMPERATURE_AFTER = re.compile(
    r"\s?(?:[岁个人号日月年天元块斤点分时次里米%楼栋层位条件名周期届级倍台辆趟班路家床岗万千百后前多]"
    r"|[a-z]|[:/\-]\d)"
)
_NOT_TEMPERATURE_BEFORE = re.compile(r"(?:第|\d\s*[:/\-]|[a-z]|月|周|星期|号|共|总共)\s*$")


class _Temperatures(NamedTuple):
    value: float | None
    bad: float | None  # an implausible reading (ask to measure again)
    below_threshold: bool  # "37.3以下": says there is no fever
    text: str  # the text with every number read as a temperature blanked out


def _cn_int(s: str) -> int | None:
    """三十六 → 36, 三六 → 36, 四十 → 40; None for anything else."""
    if "十" in s:
        tens, _, ones = s.partition("十")
        if len(tens) > 1 or len(ones) > 1 or "十" in ones:
            return None
        return (_CN_VALUE[tens] if tens else 1) * 10 + (_CN_VALUE[ones] if ones else 0)
    value = 0
    for ch in s:
        value = value * 10 + _CN_VALUE[ch]
    return value


def _digits(match: re.Match[str]) -> str:
    number = _cn_int(match["i"])
    if number is None:
        return match[0]
    decimal = f"{match['sep']}{_CN_VALUE[match['d']]}" if match["d"] else ""
    return f"{number}{decimal}"


def _mixed(match: re.Match[str]) -> str:
    return f"{match['sep']}{_CN_VALUE[match['d']]}"


def _temperatures(t: str) -> _Temperatures:
    t = _FAHRENHEIT.sub(" ", t)
    if not any(ch.isdigit() or ch in "十二三四五六七八九" for ch in t):
        return _Temperatures(None, None, False, t)
    t = _CN_TEMPERATURE.sub(_digits, t)
    t = _MIXED_DECIMAL.sub(_mixed, t)
    t = _HALF.sub(r"\g<1>5", t)
    readings: list[float] = []
    bad: float | None = None
    below = False
    blank: list[tuple[int, int]] = []
    for m in _NUMBER.finditer(t):
        start, end = m.span()
        unit = (m["unit"] or "").strip()
        if not unit:
            end = m.end("dec") if m["dec"] else m.end("dec1") if m["dec1"] else m.end("int")
        before, after = t[max(0, start - 8):start], t[end:end + 6]
        decimal = m["dec"] or m["dec1"]
        whole = m["int"]
        if len(whole) == 3:
            if decimal:
                continue
            value = int(whole) / 10  # 体温365: the decimal point was left out
        else:
            value = int(whole) + (int(decimal) / 10 ** len(decimal) if decimal else 0)
        below_before, below_after = _BELOW_BEFORE.search(before), _BELOW_AFTER.match(after)
        said_temperature = bool(_TEMPERATURE_WORD.search(before))
        strong = bool(unit) or bool(_CONTEXT.search(before))
        plausible = TEMPERATURE_MIN <= value <= TEMPERATURE_MAX
        if len(whole) == 3:
            accepted = strong and plausible
            wrong = strong and not plausible and said_temperature
        elif plausible:
            accepted = bool(
                strong or m["dec"] or (m["dec1"] and m["sep"] != "、")
                or (35 <= value <= 42 and not _NOT_TEMPERATURE_AFTER.match(after)
                    and not _NOT_TEMPERATURE_BEFORE.search(before))
            )
            wrong = False
        else:
            accepted = False
            wrong = bool(
                said_temperature
                or (unit and 25 <= value < 50)
                or (m["dec"] and 30 <= value < 50)
            )
        if (below_before or below_after) and (accepted or wrong):
            below = True  # 37.3以下, 不超过37度: a threshold, not a reading
            blank.append((start - (len(below_before[0]) if below_before else 0),
                          end + (len(below_after[0]) if below_after else 0)))
        elif accepted:
            readings.append(round(value + 1e-9, 1))
            blank.append((start, end))
        elif wrong:
            if bad is None:
                bad = float(whole) if len(whole) == 3 else value
            blank.append((start, end))
    for start, end in reversed(blank):
        t = f"{t[:start]} {t[end:]}"
    return _Temperatures(max(readings) if readings else None, bad, below, t)


def _format_number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


# --- the lexicon -----------------------------------------------------------------------------

class _Token(NamedTuple):
    start: int
    end: int
    kind: str
    value: Any = None


class _Lexicon(NamedTuple):
    words: dict[str, tuple[str, Any]]
    literal: re.Pattern[str]
    compound: re.Pattern[str]
    compound_kinds: dict[str, tuple[str, Any]]
    intensity: re.Pattern[str]
    places: re.Pattern[str]
    home_places: frozenset[str]


_BOUNDARIES = {",": "bnd", "。": "bnd", "!": "bnd", "?": "bnd", ";": "bnd", "~": "bnd", "…": "bnd",
               ".": "bnd", "\n": "bnd", " ": "sp", ":": "colon"}


def _alternation(words: list[str] | set[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


@cache
def _lexicon() -> _Lexicon:
    data = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))
    words: dict[str, tuple[str, Any]] = {}

    def add(forms: list[str], kind: str, value: Any = None) -> None:
        for form in forms:
            form = normalize(form).lower()
            if not form:
                continue
            if kind == "sym":  # a form may name two symptoms (上吐下泻)
                old_kind, old_value = words.get(form, ("", ()))
                value_here = (*(old_value if old_kind == "sym" else ()), value)
                words[form] = (kind, tuple(dict.fromkeys(value_here)))
            else:
                words[form] = (kind, value)

    # Later groups win when a form is listed twice.
    add(data["connectors"], "conn")
    add(data["breakers"], "brk")
    add(data["affirm"], "aff")
    add(data["softeners"], "soft")
    add(data["list_end"], "end")
    add(data["questions"], "quest")
    add(data["question_only"], "quest?")
    for kind, forms in data["negators"].items():
        add(forms, "neg", kind)
    add(data["resolved_suffixes"], "resolved")
    add(data["ignore"], "ignore")
    for location, forms in data["locations"].items():
        add(forms, "loc", location)
    add(data["normal_weak"], "weak")
    add(data["normal"], "normal")
    for symptom, forms in data["resolved_forms"].items():
        add(forms, "deny", symptom)
    for symptom, forms in data["symptoms"].items():
        add(forms, "sym", symptom)
    for ch, kind in _BOUNDARIES.items():
        words[ch] = (kind, None)
    literal = re.compile(_alternation(list(words)))

    adverbs = _alternation(data["compound_adverbs"])
    alternatives, kinds = [], {}
    for i, rule in enumerate(data["compounds"]):
        name = f"c{i}"
        alternatives.append(
            f"(?P<{name}>(?:{_alternation(rule['parts'])})(?:{adverbs}){{0,2}}"
            f"(?:{_alternation(rule['feelings'])}))"
        )
        kinds[name] = ("sym", (rule["category"],))
    for i, rule in enumerate(data["patterns"]):
        name = f"p{i}"
        alternatives.append(f"(?P<{name}>{rule['pattern']})")
        kinds[name] = ("sym", (rule["category"],)) if "category" in rule else ("loc", rule["location"])
    normal = data["normal_compound"]
    alternatives.append(
        f"(?P<normal>(?:{_alternation(normal['negators'])})(?:{_alternation(normal['fillers'])})?的?"
        f"(?:地方)?(?:{_alternation(normal['objects'])}))"
    )
    kinds["normal"] = ("normal", None)
    compound = re.compile("|".join(alternatives))
    intensity = re.compile(_alternation(data["intensity_suffixes"]))

    home = data["places"]["home"]
    places = re.compile(
        f"(?P<name>{_alternation(home + data['places']['away'])})(?:省|市|区|县|自治区)?"
    )
    return _Lexicon(words, literal, compound, kinds, intensity, places, frozenset(home))


def _scan(t: str, lex: _Lexicon) -> list[_Token]:
    """Cut ``t`` into known words: the leftmost match first, the longest at the same place."""
    tokens: list[_Token] = []
    i, n = 0, len(t)
    lit: re.Match[str] | None = None
    comp: re.Match[str] | None = None
    lit_done = comp_done = False
    while i < n:
        if not lit_done and (lit is None or lit.start() < i):
            lit = lex.literal.search(t, i)
            lit_done = lit is None
        if not comp_done and (comp is None or comp.start() < i):
            comp = lex.compound.search(t, i)
            comp_done = comp is None
        if lit is None and comp is None:
            break
        if comp is None or (lit is not None and (lit.start(), -lit.end()) <= (comp.start(), -comp.end())):
            assert lit is not None
            start, end = lit.span()
            kind, value = lex.words[lit[0]]
        else:
            start, end = comp.span()
            kind, value = lex.compound_kinds[comp.lastgroup or ""]
        if kind == "sym":
            more = lex.intensity.match(t, end)
            if more:
                end = more.end()
                value = (value, True)  # said with intensity: never negated
            else:
                value = (value, False)
        tokens.append(_Token(start, end, kind, value))
        i = end
    return tokens


# --- negation and the rest --------------------------------------------------------------------

_FILLER = frozenset("的了啊呀吧嘛呢哦喔噢哈嘞噻撒哟呦咯额呃都还又就也是很太")
_QUESTION = re.compile(
    r"\?|吗|怎么办|怎么样|怎么回事|怎么弄|怎么搞|怎么做|咋办|咋个办|咋弄|咋整|啷个|(?<!多)多少(?!有)|哪里|"
    r"哪儿|哪个|哪天|哪些|什么时候|啥时候|几时|几号|几点|为什么|为啥|能不能|可不可以|可以不|行不行|"
    r"对不对|要不要|好不好|有没有(?:工作|岗位|活|事|招)|招不招|招工|工资"
)
_ASKED_AFTER = re.compile(r"\s?(?:吗|么|不|没|\?|呢)")
_DIRECTION_BEFORE = re.compile(r"(?:去|往|回|返|飞|赴|离开|从|准备去|要去|想去)\s*$")
_PLACE_STOP = frozenset({"家里", "老家", "屋头", "厂里", "路上", "车上", "公司", "单位", "工地", "本地",
                         "外地", "当地", "省外", "县外", "县内", "省内", "中国", "国内", "全国", "老乡"})

_PRESENT, _DENIED, _TENTATIVE, _ASKED = range(4)
_AFTER_ANSWER = frozenset({"bnd", "sp", "colon", "loc", "normal", "weak", "sym", "neg", "resolved", "conn"})


def _content(gap: str) -> int:
    """How many real characters (letters, digits, Chinese) a stretch between known words has."""
    return sum(1 for ch in gap if ch.isalnum() and ch not in _FILLER)


class _Mention:
    __slots__ = ("segment", "status", "symptom")

    def __init__(self, symptom: str, status: int, segment: int) -> None:
        self.symptom, self.status, self.segment = symptom, status, segment


class _Scope:
    __slots__ = ("chars", "kind", "negated", "pending", "tentative")

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "exist" (没有: covers a list), "verb" (不: what follows), "quest" (有没有)
        self.negated = False
        self.tentative = False  # after a comma: a list goes on only if it ends in 等/症状
        self.pending: list[_Mention] = []
        self.chars = 0


class _Reading(NamedTuple):
    present: set[str]
    denied: set[str]
    normal: bool
    weak_normal: bool
    location: str | None
    question: bool


def _segments(t: str, tokens: list[_Token]) -> tuple[list[int], list[bool]]:
    """The clause of each token, and whether each clause is a question."""
    seg_of, questions, seg, start = [], [], 0, 0
    for tok in tokens:
        seg_of.append(seg)
        if tok.kind == "bnd":
            questions.append(bool(_QUESTION.search(t, start, tok.end)))
            seg, start = seg + 1, tok.end
    questions.append(bool(_QUESTION.search(t, start)))
    return seg_of, questions


def _read(t: str, tokens: list[_Token]) -> _Reading:
    seg_of, questions = _segments(t, tokens)
    mentions: list[_Mention] = []
    run: list[_Mention] = []  # present or asked symptoms that a following 没有 may deny
    scope: _Scope | None = None
    seg_pure = True  # the clause so far is only a list of symptoms
    normal_in: list[int] = []
    weak_in: list[int] = []
    locations: list[tuple[int, str]] = []

    def close() -> None:
        nonlocal scope
        if scope is not None:
            for m in scope.pending:
                m.status = _PRESENT
                run.append(m)
        scope = None

    def gap_after(k: int) -> int:
        end = tokens[k + 1].start if k + 1 < len(tokens) else len(t)
        return _content(t[tokens[k].end:end])

    def meaningful(k: int, step: int) -> int | None:
        """The index of the next (step=1) or previous (step=-1) token that is not a space or colon,
        if nothing but fillers stands between."""
        j = k + step
        while 0 <= j < len(tokens):
            a, b = (tokens[j - 1], tokens[j]) if step == 1 else (tokens[j], tokens[j + 1])
            if _content(t[a.end:b.start]) > (4 if step == 1 else 0):
                return None
            if tokens[j].kind not in ("sp", "colon", "conn"):
                return j
            j += step
        return None

    def spaced(a: int, b: int) -> bool:
        return any(tokens[j].kind in ("sp", "colon") for j in range(a + 1, b))

    prev_end = 0
    for k, tok in enumerate(tokens):
        seg = seg_of[k]
        content = _content(t[prev_end:tok.start])
        prev_end = tok.end
        if content:
            seg_pure = False
            if content > 3:
                run.clear()
            if scope is not None:
                scope.chars += content
                if scope.negated or scope.chars > 4:
                    close()
        kind, value = tok.kind, tok.value
        if kind == "sp":
            if scope is not None and scope.negated and scope.kind == "verb":
                close()
        elif kind in ("colon", "conn"):
            pass
        elif kind == "bnd":
            if scope is not None and scope.kind == "exist" and scope.negated and not questions[seg]:
                scope.tentative = True
            else:
                close()
            if not seg_pure:
                run.clear()
            seg_pure = True
        elif kind == "sym":
            symptoms, intense = value
            if intense:
                close()
            for symptom in symptoms:
                if scope is None:
                    m = _Mention(symptom, _PRESENT, seg)
                    run.append(m)
                elif scope.kind == "quest":
                    m = _Mention(symptom, _ASKED, seg)
                    run.append(m)
                elif scope.tentative:
                    m = _Mention(symptom, _TENTATIVE, seg)
                    scope.pending.append(m)
                else:
                    m = _Mention(symptom, _DENIED, seg)
                    scope.negated = True
                mentions.append(m)
        elif kind == "deny":
            mentions.append(_Mention(value, _DENIED, seg))
            seg_pure = False
        elif kind == "neg":
            nxt = meaningful(k, 1)
            before = meaningful(k, -1)
            pre = nxt is not None and tokens[nxt].kind == "sym" and not tokens[nxt].value[1]
            if nxt is not None and pre and before is not None and tokens[before].kind == "sym" and any(
                m.segment == seg and m.status in (_PRESENT, _ASKED) for m in run
            ):
                # 发热：无 咳嗽：无 / 发热无咳嗽无 — the negator answers what came before it.
                after_next = meaningful(nxt, 1)
                if spaced(k, nxt) or (after_next is not None and tokens[after_next].kind == "neg"
                                      and not _content(t[tokens[nxt].end:tokens[after_next].start])):
                    pre = False
            if pre:
                close()
                scope = _Scope(value)
            else:
                close()
                seg_pure = False
                # Only 没有/无 ending a clause answers what came before (咳嗽没有, 发热：无); 睡不着 and
                # 没量 do not deny the symptoms before them.
                if value != "exist" or gap_after(k) or (
                    k + 1 < len(tokens) and tokens[k + 1].kind not in _AFTER_ANSWER
                ):
                    continue
                surface = t[tok.start:tok.end]
                everything = surface[0] in "都全均也"
                targets = [m for m in run if everything or m.segment == seg]
                if not targets and seg > 0 and questions[seg - 1]:
                    targets = [m for m in run if m.segment == seg - 1]  # 发烧？没有
                for m in targets:
                    m.status = _DENIED
                run[:] = [m for m in run if m not in targets]
                if not targets and (
                    k + 1 == len(tokens) or tokens[k + 1].kind in ("bnd", "sp", "loc", "normal", "weak")
                ) and not any(m.segment == seg for m in mentions):
                    normal_in.append(seg)  # a bare 没有 / 无 / 都没有
        elif kind == "resolved":
            close()
            for m in run:
                if m.segment == seg:
                    m.status = _DENIED
            run[:] = [m for m in run if m.segment != seg]
            seg_pure = False
        elif kind in ("soft", "brk", "ignore"):
            close()
            seg_pure = False
            if kind == "brk":
                run.clear()
        elif kind in ("quest", "quest?"):
            close()
            if kind == "quest" or questions[seg]:
                scope = _Scope("quest")
        elif kind == "aff":
            close()
            for m in run:
                if m.status == _ASKED:
                    m.status = _PRESENT
        elif kind == "end":
            if scope is not None and scope.tentative:
                for m in scope.pending:
                    m.status = _DENIED
                scope = None
            elif scope is not None and scope.kind != "quest":
                scope = None
        elif kind == "normal":
            close()
            # "正常" asked about (正常不？ 是不是正常) is not a statement; "体温正常，可以返岗吗" is.
            asked = _ASKED_AFTER.match(t, tok.end) or (k > 0 and tokens[k - 1].kind.startswith("quest"))
            if not asked:
                normal_in.append(seg)
            seg_pure = False
        elif kind == "weak":
            weak_in.append(seg)
        elif kind == "loc":
            close()
            locations.append((seg, value))
            seg_pure = False
    close()

    present = {m.symptom for m in mentions if m.status == _PRESENT}
    denied = {m.symptom for m in mentions if m.status == _DENIED} - present
    statement = [not q for q in questions]
    location = next((loc for seg, loc in reversed(locations) if statement[seg]), None)
    return _Reading(
        present=present,
        denied=denied,
        normal=bool(normal_in),
        weak_normal=any(statement[s] for s in weak_in),
        location=location,
        question=any(questions),
    )


# --- places and jieba ------------------------------------------------------------------------

_jieba_lock = threading.Lock()
_jieba_posseg: Any = None
_load_seconds: float | None = None


def load_dictionary() -> float:
    """Load jieba's dictionary with the health and place words, once; return the seconds it took.

    Called lazily the first time a place name has to be guessed; call it at start-up to keep that
    second out of a worker's reply. The words are added to jieba's shared default dictionary (no
    second copy of its ~100 MB), tagged so that only real places come out as ``ns``.
    """
    global _jieba_posseg, _load_seconds
    with _jieba_lock:
        if _load_seconds is not None:
            return _load_seconds
        started = time.perf_counter()
        import jieba
        import jieba.posseg

        jieba.initialize()
        jieba.load_userdict(str(USER_DICT_PATH))
        data = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))
        for place in data["places"]["home"] + data["places"]["away"]:
            jieba.add_word(place, tag="ns")
        _jieba_posseg = jieba.posseg
        _load_seconds = time.perf_counter() - started
        return _load_seconds


def dictionary_load_seconds() -> float | None:
    """How long :func:`load_dictionary` took, or None if jieba has not been loaded yet."""
    return _load_seconds


def _guess_place(t: str) -> str | None:
    """A place name by jieba's part of speech, for a worker who says they are on the way or at work."""
    load_dictionary()
    found = None
    for word, flag in _jieba_posseg.lcut(t, HMM=False):
        if flag == "ns" and len(word) >= 2 and word not in _PLACE_STOP and not any(
            ch.isdigit() for ch in word
        ):
            found = word
    if found and len(found) > 2 and found[-1] in "省市":
        found = found[:-1]
    return found


def _place(t: str, location: str | None, lex: _Lexicon) -> tuple[str | None, str | None]:
    """The place named in ``t`` and the location it implies (在东莞 → 已到岗), if any."""
    runs: list[list[Any]] = []  # [start, end, names, all_home]
    for m in lex.places.finditer(t):
        name = m["name"]
        if runs and runs[-1][1] == m.start():
            runs[-1][1] = m.end()
            runs[-1][2].append(name)
            runs[-1][3] = runs[-1][3] and name in lex.home_places
        else:
            runs.append([m.start(), m.end(), [name], name in lex.home_places])
    travelling = location in ("途中", "已到岗")
    chosen = None
    for run in runs:
        directional = bool(_DIRECTION_BEFORE.search(t, 0, run[0]))
        if travelling and run[3] and chosen is not None:
            continue
        if travelling and t[max(0, run[0] - 2):run[0]].endswith(("从", "离开")):
            continue
        chosen = (run, directional)
    if chosen is None:
        if travelling:
            return _guess_place(t), None
        return None, None
    run, directional = chosen
    implied = None
    if location is None and not run[3] and not directional:
        implied = "已到岗"
    return "".join(run[2]), implied


# --- the entry point -------------------------------------------------------------------------

def parse_checkin(text: str) -> CheckinReading:
    """Read a worker's daily check-in reply; raise :class:`ParseError` with a hint if it says nothing
    about their health (no temperature, no symptom, no "all normal"), or if the temperature cannot be
    right (体温 45 度不太对，请再量一下…).

    Judgement calls: a softened symptom is still a symptom (不是很咳, 不太咳 → 咳嗽; 咳嗽好多了 →
    咳嗽), a symptom that is over is not (烧退了, 感冒好了); when several temperatures are given the
    highest is kept; "all normal" next to a symptom is not all normal; and a place outside 贵州
    named without a location word (在东莞, 人在深圳) means the worker is at work (已到岗).
    """
    t = normalize(text if isinstance(text, str) else "")[:MAX_LENGTH].lower()
    lex = _lexicon()
    temps = _temperatures(t)
    if temps.bad is not None:
        raise ParseError(
            f"体温 {_format_number(temps.bad)} 度不太对，请再量一下，然后这样回复：36.5 正常 在家"
        )
    t = re.sub(r"\s+", " ", temps.text)
    tokens = _scan(t, lex)
    r = _read(t, tokens)
    present, denied = set(r.present), set(r.denied)
    if temps.below_threshold and "发热" not in present:
        denied.add("发热")
    temperature = temps.value
    if temperature is not None and temperature >= FEVER_AT:
        present.add("发热")
        denied.discard("发热")
    normal = r.normal or (r.weak_normal and temperature is not None)
    if temperature is None and not present and not denied and not normal:
        if r.location and not r.question:
            raise ParseError(
                f"收到，您{r.location}。还请报一下今天的体温和身体情况，例如：36.5 正常 {r.location}"
            )
        raise ParseError(HINT)
    place, implied = _place(t, r.location, lex)
    return CheckinReading(
        temperature=temperature,
        symptoms=tuple(sorted(present, key=_ORDER.__getitem__)),
        location=r.location or implied,
        place=place,
        all_normal=normal and not present,
        denied=tuple(sorted(denied, key=_ORDER.__getitem__)),
    )
