"""Matching workers and vacancies (对接岗位): texts into weighted terms, and who may take a
公益性岗位.

Both sides become *terms*, stored in the database (``workerterm`` / ``vacancyterm``, see
``models/vacancies.py``) so that candidates are found and pre-scored by SQL with an index on the
term, never by loading every worker into Python.

**Job terms** (kind ``job``).  A text is cut by jieba (the shared default tokenizer, with the job
words of ``data/jobs_dict.txt`` added) and each word is looked up in ``data/job_synonyms.json``:
电焊/电焊工/氩弧焊 → 焊工, 开叉车/叉车证 → 叉车司机, 送外卖/美团 → 外卖骑手.  A word right after a
negation (不想进厂, 不会开车) is dropped.  Some jobs imply another (电子厂 → 普工).  Each job also
gives its family (``类:建筑`` for 钢筋工, 泥瓦工, 木工…), weighted by how far the family's jobs stand
in for each other (``families`` in the JSON: 1 for building trades and factory lines, ½ for
catering and logistics, 0 for drivers and certified trades — an A2 licence is not a forklift
licence).  A vacancy for a job that needs no skill (普工, 保洁, 搬运工…) carries ``入门``, which a
worker who named no skill, experience or wanted job — or wants "anything" (什么都行) — carries
too: such a worker is offered entry jobs.

The fit of a worker and a vacancy is the sum, over the terms they share, of the two weights:

=================================  ======  ================================  ======
worker term from                   weight  vacancy term from                 weight
=================================  ======  ================================  ======
wanted job (期望工种)               4       title (岗位)                       2
skills (技能特长)                   3       requirements (要求)                1
experience (务工经历)               2       family of a title job             1 × f
family ``类:…`` (half the source)   w/2 × f family of a requirement job       ½ × f
``入门`` (nothing named / anything)  2       ``入门`` (entry job)                1
=================================  ======  ================================  ======

(f: the family's factor.)  So a worker who wants the very job scores 4×2 + 2×1 = 10, one whose
experience is that job 5, a neighbour job of a building family wanted 2, and :data:`MIN_FIT` (2)
is the least that counts as a match.

**Place terms** (kind ``place``) say where the work is (``地:县内``, ``地:省外``, ``地:广东``,
``地:东莞``, ``地:青岩镇``) on the vacancy side (weight 1), and how much the worker wants it on
theirs — local first (先内后外): a worker who wants to stay near home (就近就业, or 期望地点 in the
county) gains 3 for 县内 work and 2 more in their own township, 1 for 省内 work; one who wants
贵阳/省内 gains 3 for 省内 and 2 for 县内; for both, 省外 work is :data:`FAR` (no match at all).
One who wants 广东 gains 3 for 广东 (2 more for the very city), 1 for any 省外 and ½ for 县内 work;
one who goes anywhere gains 1 everywhere; one who said nothing gains 1 for 县内 work.  A pair is
a match when the job fit and fit + place are both at least :data:`MIN_FIT`.

**Training courses** (技能培训, ``models/training.py``) read their trade as a vacancy's title
(:func:`title_terms`) and go on the job fit alone: a course is where it is, and ``入门`` does
not count — it is told to those who named its trade or a related one.

**公益性岗位** go only to those who need them most — :func:`public_welfare_reasons` (the same rule
in SQL is ``models.vacancies.eligible_condition``): 建档立卡贫困劳动力, 易地扶贫搬迁劳动力, a
member of a household where nobody has a job (零就业家庭, jobs as in the tally: 已返岗, 本地已就业,
待返岗), a family difficulty recorded at registration (家庭困难需帮扶), a disability (健康状况
残疾), or age — women from 40, men from 50 (the 就业困难人员 of the “4050” rule).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

from dialogs.parsing.textnorm import normalize

DATA = Path(__file__).parent / "data"
SYNONYMS_PATH = DATA / "job_synonyms.json"
USER_DICT_PATH = DATA / "jobs_dict.txt"

JOB, PLACE = "job", "place"
ENTRY = "入门"
FAMILY = "类:"
AT = "地:"
AREAS = ("县内", "省内县外", "省外")

# Worker side: where a job term was found.
W_WANTED, W_SKILL, W_EXPERIENCE, W_NOTHING = 4.0, 3.0, 2.0, 2.0
# Vacancy side.
V_TITLE, V_REQUIREMENT, V_ENTRY = 2.0, 1.0, 1.0
MIN_FIT = 2.0  # the least job fit, and the least fit + place, that counts as a match
FAR = -100.0  # 省外 work for a worker who wants to stay in the county or province: no match

WOMEN_FROM, MEN_FROM = 40, 50  # 就业困难人员 by age (“4050”)
HAS_JOB = ("已返岗", "本地已就业", "待返岗")  # as the tally's zero-employment rule


@dataclass(frozen=True)
class Job:
    term: str
    family: str
    entry: bool
    implies: tuple[str, ...]


@dataclass
class Lexicon:
    jobs: dict[str, Job]
    families: dict[str, float]  # family → how far its jobs stand in for each other
    words: dict[str, str]  # a word people use → the job term
    negations: frozenset[str]
    county_words: tuple[str, ...]
    province_words: tuple[str, ...]
    out_words: tuple[str, ...]
    away_words: tuple[str, ...]
    any_words: tuple[str, ...]
    home_province: str
    home_city: str
    home_places: tuple[str, ...]  # 贵阳 and its parts, the province's other cities
    city_province: dict[str, str] = field(default_factory=dict)  # 东莞 → 广东; 广东 → 广东


@cache
def lexicon() -> Lexicon:
    data = json.loads(SYNONYMS_PATH.read_text(encoding="utf-8"))
    jobs: dict[str, Job] = {}
    words: dict[str, str] = {}
    for item in data["jobs"]:
        job = Job(item["term"], item["family"], bool(item.get("entry")),
                  tuple(item.get("implies", ())))
        jobs[job.term] = job
        for word in (job.term, *item["words"]):
            words.setdefault(word.lower(), job.term)
    places = data["places"]
    city_province: dict[str, str] = {}
    for province, cities in places["provinces"].items():
        city_province[province] = province
        for city in cities:
            city_province[city] = province
    home = places["home_province"]
    home_places = (places["home_city"], *places["home_city_parts"], *places["province_cities"])
    for name in home_places:
        city_province[name] = home
    city_province[home] = home
    return Lexicon(
        jobs=jobs, words=words,
        families={k: float(v) for k, v in data["families"].items() if not k.startswith("_")},
        negations=frozenset(data["negations"]),
        county_words=tuple(places["county_words"]), province_words=tuple(places["province_words"]),
        out_words=tuple(places["out_words"]), away_words=tuple(places["away_words"]),
        any_words=tuple(places["any_words"]),
        home_province=home, home_city=places["home_city"], home_places=home_places,
        city_province=city_province,
    )


# ----- jieba -----------------------------------------------------------------------------------
_jieba_lock = threading.Lock()
_jieba_ready = False


def load_dictionary() -> None:
    """Add the job words to jieba's shared default tokenizer, once (its first use takes about a
    second to load jieba's own dictionary; call this at start-up to keep that out of a reply)."""
    global _jieba_ready
    with _jieba_lock:
        if _jieba_ready:
            return
        import jieba

        jieba.initialize()
        jieba.load_userdict(str(USER_DICT_PATH))
        _jieba_ready = True


def words_of(text: str) -> list[str]:
    """The text cut into words (lower case), the job words kept whole."""
    load_dictionary()
    import jieba

    return [w for w in jieba.lcut(normalize(text).lower(), HMM=False) if w.strip()]


def job_terms(text: str | None) -> list[str]:
    """Job terms named in ``text`` (canonical, in order, once each), negated ones left out:
    "电焊、驾驶证C1" → [焊工, 司机]; "不想进厂，想送外卖" → [外卖骑手]."""
    if not text:
        return []
    return list(_job_terms(text))


@lru_cache(maxsize=8192)  # many people write the same few words (普工, 电焊, 保洁)
def _job_terms(text: str) -> tuple[str, ...]:
    lex = lexicon()
    found: list[str] = []
    words = words_of(text)
    for i, word in enumerate(words):
        term = lex.words.get(word)
        if term is None:
            continue
        before = words[max(0, i - 2) : i]
        if any(w in lex.negations for w in before) and not any(w in "，,。；;、" for w in before[-1:]):
            continue
        for t in (term, *lex.jobs[term].implies):
            if t not in found:
                found.append(t)
    return tuple(found)


# ----- places -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Geo:
    """The district: its short name and its townships, for reading where work is wanted."""

    district: str  # 花溪区
    townships: tuple[str, ...]  # full names, 青岩镇…

    @property
    def district_short(self) -> str:
        return re.sub(r"(?:新区|区|县|市)$", "", self.district) or self.district

    def township_in(self, text: str) -> str | None:
        """The township named in ``text`` (青岩 or 青岩镇), if any."""
        for name in self.townships:
            if any(key in text for key in township_keys(name)):
                return name
        return None


_ETHNIC = re.compile(r"(?:苗族|布依族|彝族|仡佬族|水族|回族|土家族|侗族|瑶族|白族|壮族)+")


@cache
def township_keys(name: str) -> tuple[str, ...]:
    base = _ETHNIC.sub("", name)
    for suffix in ("街道办事处", "街道", "镇", "乡"):
        if base.endswith(suffix) and len(base) > len(suffix) + 1:
            base = base[: -len(suffix)]
            break
    return tuple(k for k in dict.fromkeys((name, base)) if len(k) >= 2)


@cache
def default_geo() -> Geo:
    from bot.config import DEFAULT_TOWNSHIPS_CSV
    from dialogs.parsing.places import TownshipDirectory

    directory = TownshipDirectory.from_csv(DEFAULT_TOWNSHIPS_CSV)
    return Geo("花溪区", tuple(t.name for t in directory.all))


def geo_for(district: str, townships: Iterable[str]) -> Geo:
    return _geo(district, tuple(townships))


@cache
def _geo(district: str, townships: tuple[str, ...]) -> Geo:
    return Geo(district, townships)


@dataclass(frozen=True)
class Place:
    """Where work is, or is wanted: the areas meant, and provinces, cities and a township named."""

    areas: frozenset[str] = frozenset()  # 县内 / 省内县外 / 省外; all three for "anywhere"
    provinces: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    township: str | None = None

    @property
    def anywhere(self) -> bool:
        return self.areas == frozenset(AREAS)


def read_place(text: str | None, geo: Geo) -> Place:
    """"花溪区内" → 县内; "贵阳" → 省内县外; "广东东莞" → 省外 (广东, 东莞); "哪里都行" → anywhere."""
    if not text:
        return Place()
    t = normalize(text).lower().replace(" ", "")
    lex = lexicon()
    areas: set[str] = set()
    provinces: list[str] = []
    cities: list[str] = []
    if any(w in t for w in lex.any_words):
        areas.update(AREAS)
    township = geo.township_in(t)
    if township or geo.district_short in t or any(w in t for w in lex.county_words):
        areas.add("县内")
    if any(w in t for w in lex.province_words):
        areas.add("省内县外")
    rest = t
    for name in sorted(lex.city_province, key=len, reverse=True):
        if name in rest:
            rest = rest.replace(name, " ")
            province = lex.city_province[name]
            if province == lex.home_province:
                # 贵阳花溪, 贵州花溪: the county, said with its city; 贵阳 alone is 省内.
                if "县内" not in areas or name not in (lex.home_city, lex.home_province):
                    areas.add("省内县外")
                if name != lex.home_province:
                    cities.append(name)
            else:
                areas.add("省外")
                if province not in provinces:
                    provinces.append(province)
                if name != province:
                    cities.append(name)
    if any(w in t for w in lex.out_words):
        areas.add("省外")
    if any(w in t for w in lex.away_words) and not provinces:
        areas.update(("省内县外", "省外"))
    return Place(frozenset(areas), tuple(provinces), tuple(cities), township)


# ----- terms of a worker and of a vacancy -------------------------------------------------------
Terms = dict[str, tuple[str, float]]  # term → (kind, weight)


def _add(terms: Terms, term: str, kind: str, weight: float) -> None:
    old = terms.get(term)
    if old is None or abs(weight) > abs(old[1]):
        terms[term] = (kind, weight)


_ANY_JOB = re.compile(r"都行|都可以|都能|不限|随便|无所谓|什么都|啥都|什么活|啥活|有活就")


def _family(terms: Terms, lex: Lexicon, job: str, weight: float) -> None:
    """The job's family term, weighted by how far the family's jobs stand in for each other."""
    family = lex.jobs[job].family
    related = lex.families.get(family, 1.0)
    if related > 0:
        _add(terms, FAMILY + family, JOB, weight * related)


def worker_terms(
    *, skills: str | None = None, experience: str | None = None, wanted_job: str | None = None,
    wanted_place: str | None = None, intent: str | None = None, township: str | None = None,
    geo: Geo | None = None,
) -> Terms:
    """The weighted terms of a worker's profile (see the module's table)."""
    geo = geo or default_geo()
    lex = lexicon()
    terms: Terms = {}
    for text, weight in ((wanted_job, W_WANTED), (skills, W_SKILL), (experience, W_EXPERIENCE)):
        for term in job_terms(text):
            _add(terms, term, JOB, weight)
            _family(terms, lex, term, weight / 2)
    if not terms or (wanted_job and _ANY_JOB.search(wanted_job)):
        _add(terms, ENTRY, JOB, W_NOTHING)
    for term, weight in _place_wishes(wanted_place, intent, township, geo).items():
        _add(terms, term, PLACE, weight)
    return terms


def _place_wishes(wanted_place: str | None, intent: str | None, township: str | None,
                  geo: Geo) -> dict[str, float]:
    place = read_place(wanted_place, geo)
    areas = set(place.areas)
    if not areas and not place.provinces:
        if intent == "就近就业":
            areas = {"县内"}
        elif intent == "外出务工":
            areas = {"省内县外", "省外"}
    wishes: dict[str, float] = {}
    if place.anywhere or (areas == {"省内县外", "省外"} and not place.provinces):
        return {AT + a: 1.0 for a in AREAS}
    if place.provinces:  # somewhere outside the province, named
        wishes = {AT + "省外": 1.0, AT + "县内": 0.5}
        for province in place.provinces:
            wishes[AT + province] = 3.0
        for city in place.cities:
            wishes[AT + city] = 2.0
        return wishes
    if "省内县外" in areas:  # 贵阳, 贵州: the county is in it
        wishes = {AT + "县内": 2.0, AT + "省内县外": 3.0, AT + "省外": FAR}
        for city in place.cities:
            wishes[AT + city] = 1.0
        return wishes
    if "县内" in areas:
        wishes = {AT + "县内": 3.0, AT + "省内县外": 1.0, AT + "省外": FAR}
        near = place.township or township
        if near:
            wishes[AT + near] = 2.0
        return wishes
    if "省外" in areas:  # 省外, not saying where
        return {AT + "省外": 2.0, AT + "省内县外": 1.0, AT + "县内": 0.5}
    return {AT + "县内": 1.0}  # nothing said: local first


def title_terms(title: str) -> Terms:
    """The job terms a title names — a vacancy's job, a training course's trade (技能培训) —
    each with its family (see the module's table).  No ``入门``: that is the vacancy's to add
    for an entry job; a course is told only to those who named its trade or a related one."""
    lex = lexicon()
    terms: Terms = {}
    for term in job_terms(title):
        _add(terms, term, JOB, V_TITLE)
        _family(terms, lex, term, 1.0)
    return terms


def vacancy_terms(
    *, title: str, requirements: str | None = None, area: str, city: str | None = None,
    township: str | None = None, geo: Geo | None = None,
) -> Terms:
    """The weighted terms of a vacancy (see the module's table)."""
    geo = geo or default_geo()
    lex = lexicon()
    terms = title_terms(title)
    title_jobs = job_terms(title)
    for term in job_terms(requirements):
        _add(terms, term, JOB, V_REQUIREMENT)
        _family(terms, lex, term, 0.5)
    if any(lex.jobs[t].entry for t in title_jobs):
        _add(terms, ENTRY, JOB, V_ENTRY)
    _add(terms, AT + area, PLACE, 1.0)
    if township:
        _add(terms, AT + township, PLACE, 1.0)
    place = read_place(city, geo)
    for name in (*place.provinces, *place.cities):
        _add(terms, AT + name, PLACE, 1.0)
    if place.township and area == "县内":
        _add(terms, AT + place.township, PLACE, 1.0)
    return terms


def fit(worker: Terms, vacancy: Terms) -> tuple[float, float]:
    """(job fit, place score) of two term sets, as the SQL computes them (for tests and tools)."""
    job = place = 0.0
    for term, (kind, weight) in vacancy.items():
        mine = worker.get(term)
        if mine is None:
            continue
        if kind == JOB:
            job += mine[1] * weight
        else:
            place += mine[1] * weight
    return job, place


# ----- 公益性岗位 ------------------------------------------------------------------------------
def age_on(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def public_welfare_reasons(
    *, poverty: bool, relocated: bool, household_has_job: bool, difficulty: str | None,
    health: str | None, gender: str | None, birth_date: date | None, today: date,
) -> list[str]:
    """Why a worker may take a 公益性岗位 (empty: not eligible).  ``household_has_job``: someone
    in the household, the worker included, has a job (:data:`HAS_JOB`)."""
    reasons = []
    if poverty:
        reasons.append("建档立卡贫困劳动力")
    if relocated:
        reasons.append("易地扶贫搬迁劳动力")
    if not household_has_job:
        reasons.append("零就业家庭")
    if difficulty:
        reasons.append("家庭困难")
    if health == "残疾":
        reasons.append("残疾")
    age = age_on(birth_date, today)
    if age is not None and (
        (gender == "女" and age >= WOMEN_FROM) or (gender == "男" and age >= MEN_FROM)
    ):
        reasons.append("大龄（女40、男50岁以上）")
    return reasons
