"""错峰出行 (§三(四)): when many workers of one township plan to leave for the same place on the
same day, propose spreading them over the nearby days; when enough go the same way within a
few days, propose a 点对点 chartered bus (``/包车``).

**Who travels.**  Workers with a job waiting (``status`` 待返岗), a return date within the next
``STAGGER_DAYS`` days (from tomorrow: today's travellers are on their way) and a work place
outside the county (``work_city``; 县内 work needs no long journey).  Workers holding a seat on
an open chartered bus already travel together and are left out.

**Where to.**  :func:`destination_of` reads the typed place with the place lexicon the vacancy
matching uses (``dialogs/data/job_synonyms.json``): 广东东莞、东莞市、广东省东莞市长安镇 are all
东莞 (shown 广东东莞); a province with a city the lexicon does not know keeps that city
(江苏常熟市 → 常熟); a province alone stays the province (广东).  The key is what to type as
the bus's destination: ``/包车`` invites the workers whose place contains it.

**Spreading.**  Per township (the township cadres organise, the task force oversees): a
(destination, day) with at least ``STAGGER_THRESHOLD`` travellers is crowded; its window is the
day ± ``STAGGER_SPREAD_DAYS`` (not before tomorrow), overlapping windows of one destination are
merged, and the proposal shows each day's count now → after an even spread over the window
(the extra ones stay on the days that had most, so the fewest people move).  If even then a day
keeps ``STAGGER_THRESHOLD`` or more, it says so and points at a bus.

**Buses.**  Per township and destination, the ±3-day span (:data:`handlers.buses.AROUND_DAYS`,
the span ``/包车`` invites) with the most travellers; at least ``BUS_SUGGEST_MIN`` → propose a bus
on its middle day (the one closest to everybody's own date), then look again without them.  An
open bus already going there around then (the township's or a district-wide one) replaces the
proposal: ``/错峰`` shows it with how many have not signed up.

**Once.**  The job runs daily at ``STAGGER_TIME`` and claims :class:`~models.tables.JobRun`
``("stagger", "<day>")`` in the transaction that queues the day's messages (a restart, a second
instance, the replay passing the time again: nothing twice).  Each proposal is claimed too,
``("stagger_item", "spread|<township>|<destination>|<crowded day>|<level>")`` and
``("stagger_item", "bus|<township>|<destination>|<bus day>|<level>")``, where the level grows by one
each time the count grows by half (×:data:`GROWTH`) over its threshold: a proposal comes again only
when its group grew notably, and a bus proposal is not repeated for a day within ±3 days of one
already made.  A proposal is only claimed when someone receives it.

**To whom.**  Private chat only: each active township cadre of the township, and each district
task-force cadre (one message with every township's new proposals, saying which townships have no
township cadre yet).  Counts and masked names (王*明) only — the full list with phones is
``/名单 未返岗``.  ``/错峰 [天数]`` (handlers/stagger.py) shows the current picture any time.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, true

from dialogs.matching import lexicon
from dialogs.parsing.textnorm import normalize
from handlers.buses import AROUND_DAYS, same_place
from handlers.context import Context
from handlers.views import mask_name
from models.tables import Bus, BusSeat, Cadre, JobRun, Worker
from scheduler.jobs import Job
from scheduler.lagging import wrap_items

if TYPE_CHECKING:
    from bot.app import App
    from bot.config import Settings

log = logging.getLogger(__name__)

JOB = "stagger"
ITEM = "stagger_item"
GROWTH = 1.5  # a proposal is made again once its group is this many times bigger
MAX_NAMES = 8  # masked names shown per proposal
MAX_DESTINATIONS = 8  # destinations listed per township in /错峰
LOCAL = "县内"


# ----- where to ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Destination:
    key: str  # grouping key, and what to type as a bus's destination: 东莞
    label: str  # how it reads: 广东东莞


@cache
def _places() -> tuple[list[str], list[str], dict[str, str], str, frozenset[str]]:
    lex = lexicon()
    cities = sorted((n for n, p in lex.city_province.items() if n != p), key=len, reverse=True)
    provinces = sorted((n for n, p in lex.city_province.items() if n == p), key=len, reverse=True)
    vague = frozenset((*lex.county_words, *lex.province_words, *lex.out_words, *lex.away_words,
                       *lex.any_words))
    return cities, provinces, lex.city_province, lex.home_province, vague


_NOT_PLACE = re.compile(r"[^\u4e00-\u9fff0-9A-Za-z]")
_UNKNOWN_CITY = re.compile(r"^([\u4e00-\u9fff]{2,4}?)(?:市|县|区|州)")


def destination_of(text: str | None) -> Destination | None:
    """Where a worker goes, as a city where possible (None for no place, or a vague one)."""
    t = _NOT_PLACE.sub("", normalize(text or ""))
    if len(t) < 2:
        return None
    cities, provinces, province_of, home, vague = _places()
    if t in vague:
        return None
    for city in cities:
        if city in t:
            province = province_of[city]
            return Destination(city, city if province in (home, city) else province + city)
    for province in provinces:
        if province in t:
            rest = t.split(province, 1)[1]
            rest = re.sub(r"^(?:省|市|自治区|壮族自治区|回族自治区|维吾尔自治区)", "", rest)
            found = _UNKNOWN_CITY.match(rest)
            city = found[1] if found else (rest if 2 <= len(rest) <= 4 else "")
            if city and city not in vague:
                return Destination(city, province + city)
            return Destination(province, province)
    t = re.sub(r"(?:市|省)$", "", t)[:10]
    return Destination(t, t) if len(t) >= 2 else None


# ----- who travels -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Traveller:
    worker_id: int
    name: str
    township: str
    village: str
    day: date
    dest: Destination


@dataclass
class Travel:
    """Who travels in a scope, and who was left out (and why)."""

    travellers: list[Traveller] = field(default_factory=list)
    on_bus: int = 0  # already holding a seat on a chartered bus
    no_city: int = 0  # no place outside the county that can be read


async def find_travel(session, first: date, last: date, scope: Any, today: date,
                      horizon: date | None = None) -> Travel:
    """Workers of ``scope`` (a WHERE condition on Worker) returning between ``first`` and
    ``last`` to work outside the county; those left out are counted up to ``horizon``."""
    rows = (await session.execute(
        select(Worker.id, Worker.name, Worker.township, Worker.village, Worker.return_date,
               Worker.work_city, Worker.work_area)
        .where(Worker.status == "待返岗", Worker.return_date.is_not(None),
               Worker.return_date >= first, Worker.return_date <= last, scope)
        .order_by(Worker.return_date, Worker.id))).all()
    seated = set((await session.execute(
        select(BusSeat.worker_id).join(Bus, Bus.id == BusSeat.bus_id)
        .where(Bus.status == "open", Bus.day >= today))).scalars())
    travel = Travel()
    for wid, name, township, village, day, city, area in rows:
        if area == LOCAL:
            continue
        counted = horizon is None or day <= horizon
        if wid in seated:
            travel.on_bus += counted
            continue
        dest = destination_of(city)
        if dest is None:
            travel.no_city += counted
            continue
        travel.travellers.append(Traveller(wid, name, township, village, day, dest))
    return travel


# ----- what to propose ---------------------------------------------------------------------------
@dataclass
class Spread:
    dest: Destination
    days: list[date]  # the window
    before: list[int]
    after: list[int]
    hot: list[tuple[date, int]]  # the crowded days and their counts
    names: list[str]  # masked names of those leaving on the crowded days
    threshold: int

    @property
    def enough(self) -> bool:
        return max(self.after) < self.threshold

    @property
    def moves(self) -> int:
        return sum(max(0, b - a) for b, a in zip(self.before, self.after, strict=True))


@dataclass
class BusIdea:
    dest: Destination
    day: date  # the bus's day: the middle of the span
    count: int
    first: date
    last: date
    names: list[str]
    bus: Bus | None = None  # an open bus already going there around then


@dataclass
class Picture:
    """One township's (or village's) travel: counts by destination and day, and proposals."""

    township: str
    label: str
    travellers: list[Traveller]
    first: date
    last: date
    spreads: list[Spread] = field(default_factory=list)
    buses: list[BusIdea] = field(default_factory=list)

    def by_destination(self) -> list[tuple[Destination, Counter[date]]]:
        found: dict[Destination, Counter[date]] = {}
        for t in self.travellers:
            if self.first <= t.day <= self.last:
                found.setdefault(t.dest, Counter())[t.day] += 1
        return sorted(found.items(), key=lambda kv: (-sum(kv[1].values()), kv[0].key))


def _names(travellers: list[Traveller]) -> list[str]:
    return [mask_name(t.name) for t in travellers]


def spreads_of(dest: Destination, travellers: list[Traveller], *, first: date, last: date,
               threshold: int, spread: int) -> list[Spread]:
    """Proposals to spread one destination's crowded days (``first``..``last``) over the
    days around them (not before ``first``)."""
    count = Counter(t.day for t in travellers)
    hot = sorted(d for d, n in count.items() if first <= d <= last and n >= threshold)
    windows: list[list[date]] = []  # [start, end, hot days…]
    for d in hot:
        start, end = max(d - timedelta(days=spread), first), d + timedelta(days=spread)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
            windows[-1].append(d)
        else:
            windows.append([start, end, d])
    result: list[Spread] = []
    for start, end, *hot_days in windows:
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        before = [count.get(d, 0) for d in days]
        base, extra = divmod(sum(before), len(days))
        # the extra ones stay where most people are (and nearest a crowded day): fewest moves
        order = sorted(range(len(days)), key=lambda i: (
            -before[i], min(abs((days[i] - h).days) for h in hot_days), i))
        after = [base] * len(days)
        for i in order[:extra]:
            after[i] += 1
        leaving = [t for t in travellers if t.day in hot_days]
        result.append(Spread(dest, days, before, after, [(d, count[d]) for d in hot_days],
                             _names(leaving), threshold))
    return result


def bus_ideas(dest: Destination, travellers: list[Traveller], *, first: date, last: date,
              minimum: int) -> list[BusIdea]:
    """Spans of ±:data:`AROUND_DAYS` days with at least ``minimum`` travellers to ``dest``."""
    left = sorted((t for t in travellers if first <= t.day <= last), key=lambda t: (t.day, t.worker_id))
    ideas: list[BusIdea] = []
    while len(left) >= minimum:
        best: tuple[int, int, date] | None = None
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            near = [t for t in left if abs((t.day - day).days) <= AROUND_DAYS]
            score = (len(near), -sum(abs((t.day - day).days) for t in near), day)
            if best is None or score[:2] > best[:2]:
                best = score
        assert best is not None
        count, _, day = best
        if count < minimum:
            break
        near = [t for t in left if abs((t.day - day).days) <= AROUND_DAYS]
        ideas.append(BusIdea(dest, day, count, min(t.day for t in near), max(t.day for t in near),
                             _names(near)))
        left = [t for t in left if t not in near]
    return ideas


def analyse(township: str, label: str, travellers: list[Traveller], *, today: date,
            settings: Settings, buses: list[Bus]) -> Picture:
    """The picture of one township (or village): its proposals, with open buses taken into
    account.  ``travellers`` may reach past the horizon (the spread window looks there)."""
    first = today + timedelta(days=1)
    last = today + timedelta(days=settings.stagger_days)
    picture = Picture(township, label, [t for t in travellers if first <= t.day <= last],
                      first, last)
    by_dest: dict[Destination, list[Traveller]] = {}
    for t in travellers:
        by_dest.setdefault(t.dest, []).append(t)
    for dest, group in sorted(by_dest.items(), key=lambda kv: (-len(kv[1]), kv[0].key)):
        picture.spreads += spreads_of(dest, group, first=first, last=last,
                                      threshold=settings.stagger_threshold,
                                      spread=settings.stagger_spread_days)
        going = [b for b in buses if (b.township is None or b.township == township)
                 and same_place(b.destination, dest.key)]
        left = [t for t in group if first <= t.day <= last]
        for bus in going:  # already organised: who could still sign up
            near = [t for t in left if abs((t.day - bus.day).days) <= AROUND_DAYS]
            if near:
                picture.buses.append(BusIdea(dest, bus.day, len(near), min(t.day for t in near),
                                             max(t.day for t in near), _names(near), bus))
                left = [t for t in left if t not in near]
        picture.buses += bus_ideas(dest, left, first=first, last=last,
                                   minimum=settings.bus_suggest_min)
    return picture


async def open_buses(session, today: date) -> list[Bus]:
    return list((await session.execute(
        select(Bus).where(Bus.status == "open", Bus.day >= today).order_by(Bus.day, Bus.id)))
        .scalars())


# ----- text --------------------------------------------------------------------------------------
def md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _short(day: date, month: int) -> str:
    """15日 in the month being spoken of, 3月1日 across the month's end."""
    return f"{day.day}日" if day.month == month else md(day)


def _span(first: date, last: date) -> str:
    if first == last:
        return md(first)
    return f"{md(first)}—{_short(last, first.month)}"


def _name_line(names: list[str], total: int) -> str:
    shown = "、".join(names[:MAX_NAMES])
    return f"　{shown}" + (f"等{total}人" if total > len(names[:MAX_NAMES]) else "")


def spread_lines(s: Spread, *, names: bool) -> list[str]:
    month = s.days[0].month
    crowded = "、".join(f"{_short(d, month) if i else md(d)}{n}人" for i, (d, n) in enumerate(s.hot))
    lines = [f"▪{s.dest.label}：{crowded}打算出发"]
    if names:
        lines.append(_name_line(s.names, sum(n for _, n in s.hot)))
    total = sum(s.before)
    per_day = total / len(s.days)
    each = f"每天约{round(per_day)}人" if per_day >= 1 else f"共{total}人"
    lines.append(f"　建议分到{_span(s.days[0], s.days[-1])}，{each}：")
    lines += wrap_items([f"{_short(d, month)}{b}→{a}"
                         for d, b, a in zip(s.days, s.before, s.after, strict=True)],
                        "　", "　", sep=" ")
    if not s.enough:
        lines.append(f"　错开后每天仍有{max(s.after)}人，人多，建议同时组织包车。")
    return lines


def bus_lines(b: BusIdea, *, names: bool) -> list[str]:
    if b.bus is not None:
        bus = b.bus
        return [f"▪{b.dest.label}：已有包车{bus.id}号（{md(bus.day)}，已报名{bus.taken}/{bus.seats}）",
                f"　{_span(b.first, b.last)}返岗的还有{b.count}人没报名，",
                f"　可请他们回复“报名包车 {bus.id}”。"]
    lines = [f"▪{b.dest.label}：{_span(b.first, b.last)}共{b.count}人返岗，够组织一趟点对点包车。"]
    if names:
        lines.append(_name_line(b.names, b.count))
    lines.append(f"　发 /包车 组织：目的地填“{b.dest.key}”，出发日期{md(b.day)}。")
    return lines


def proposal_lines(spreads: list[Spread], buses: list[BusIdea], *, names: bool) -> list[str]:
    lines: list[str] = []
    for s in spreads:
        lines += spread_lines(s, names=names)
    for b in buses:
        lines += bus_lines(b, names=names)
    return lines


ADVICE = "以上是建议，哪天走请和本人、用工单位商量。"


def counts_lines(picture: Picture, threshold: int) -> list[str]:
    lines: list[str] = []
    items = picture.by_destination()
    for dest, days in items[:MAX_DESTINATIONS]:
        month = min(days).month
        marks = [f"{_short(d, month) if i else md(d)}{n}{'⚠' if n >= threshold else ''}"
                 for i, (d, n) in enumerate(sorted(days.items()))]
        lines += wrap_items(marks, f"▪{dest.label} {sum(days.values())}人：", "　", sep=" ")
    if len(items) > MAX_DESTINATIONS:
        rest = items[MAX_DESTINATIONS:]
        lines.append(f"▪其他{len(rest)}个地方共{sum(sum(d.values()) for _, d in rest)}人")
    return lines


def picture_text(pictures: list[Picture], *, area: str, first: date, last: date, travel: Travel,
                 settings: Settings, names: bool) -> str:
    """``/错峰``: the picture of the asker's scope (one section per township for 全区)."""
    total = sum(len(p.travellers) for p in pictures)
    lines = [f"【错峰出行】{area} {_span(first, last)}"]
    if not total:
        lines.append("这几天没有登记了返岗日期、要去县外的务工人员。")
    else:
        lines.append(f"待返岗、要去县外的 {total} 人，按目的地和日期：")
    notes = []
    if travel.on_bus:
        notes.append(f"{travel.on_bus}人已报名包车（不算在内）")
    if travel.no_city:
        notes.append(f"{travel.no_city}人的务工城市没填或看不出")
    if notes:
        lines.append("另有" + "，".join(notes) + "。")
    several = len(pictures) > 1 or any(p.label != area for p in pictures)  # 全区: by township
    proposals = False
    for p in pictures:
        if not p.travellers:
            continue
        if several:
            lines.append("")
            lines.append(f"〔{p.label}〕{len(p.travellers)}人")
        lines += counts_lines(p, settings.stagger_threshold)
        body = proposal_lines(p.spreads, p.buses, names=names)
        if body:
            proposals = True
            lines.append("建议：")
            lines += body
    if total:
        lines.append("")
        lines.append(f"⚠：同一天去同一个地方有{settings.stagger_threshold}人以上。")
        if proposals:
            lines.append(ADVICE)
        else:
            lines.append("暂时不用错峰，也还不够组织包车"
                         f"（{settings.bus_suggest_min}人起）。")
        lines.append("名单和电话：/名单 未返岗")
    return "\n".join(lines)


# ----- the daily job -----------------------------------------------------------------------------
def level(count: int, base: int) -> int:
    """0 at ``base``, one more each time ``count`` grows by :data:`GROWTH`."""
    found, step = 0, base * GROWTH
    while count >= step:
        found += 1
        step *= GROWTH
    return found


async def _claim(session, key: str, at: datetime) -> bool:
    from scheduler.report import claim

    return await claim(session, ITEM, key, at)


async def _new_spread(session, township: str, s: Spread, threshold: int, at: datetime) -> bool:
    new = False
    for day, count in s.hot:
        top = level(count, threshold)
        for lv in range(top + 1):
            claimed = await _claim(session, f"spread|{township}|{s.dest.key}|{day}|{lv}", at)
            new = new or (claimed and lv == top)
    return new


async def _new_bus(session, township: str, b: BusIdea, minimum: int, at: datetime) -> bool:
    prefix = f"bus|{township}|{b.dest.key}|"
    top = level(b.count, minimum)
    made = (await session.execute(select(JobRun.key).where(
        JobRun.job == ITEM, JobRun.key.startswith(prefix, autoescape=True)))).scalars()
    for key in made:
        try:
            day, lv = key[len(prefix):].split("|")
            if abs((date.fromisoformat(day) - b.day).days) <= AROUND_DAYS and int(lv) >= top:
                return False
        except ValueError:
            continue
    return await _claim(session, f"{prefix}{b.day}|{top}", at)


async def daily(app: App, when: datetime) -> int:
    """Today's new proposals to the township cadres and the task force; returns how many
    messages were queued."""
    from scheduler.report import claim

    settings = app.settings
    today = when.date()
    now = app.clock.utcnow()
    sent = 0
    async with app.db.session() as s:
        if not await claim(s, JOB, today.isoformat(), now):
            return 0
        first = today + timedelta(days=1)
        last = today + timedelta(days=settings.stagger_days + settings.stagger_spread_days)
        travel = await find_travel(s, first, last, true(), today)
        buses = await open_buses(s, today)
        cadres = list((await s.execute(select(Cadre).where(
            Cadre.active, Cadre.role.in_(("township", "district"))).order_by(Cadre.id))).scalars())
        district = [c for c in cadres if c.role == "district"]
        by_township: dict[str, list[Traveller]] = {}
        for t in travel.travellers:
            by_township.setdefault(t.township, []).append(t)
        order = {t.name: i for i, t in enumerate(app.services.townships.all)}
        sections: list[tuple[str, list[str], bool]] = []  # township, lines, has a cadre
        ctx = Context(app.services, s)
        for township in sorted(by_township, key=lambda t: (order.get(t, len(order)), t)):
            picture = analyse(township, township, by_township[township], today=today,
                              settings=settings, buses=buses)
            local = [c for c in cadres if c.role == "township" and c.township == township]
            if not local and not district:
                continue  # nobody to tell: keep the proposals for when someone is
            spreads = [sp for sp in picture.spreads
                       if await _new_spread(s, township, sp, settings.stagger_threshold, now)]
            ideas = [b for b in picture.buses if b.bus is None
                     and await _new_bus(s, township, b, settings.bus_suggest_min, now)]
            if not spreads and not ideas:
                continue
            body = proposal_lines(spreads, ideas, names=True)
            sections.append((township, body, bool(local)))
            for cadre in local:
                ctx.tell(cadre.identity, "\n".join([
                    f"{cadre.name}，您好！【错峰出行建议】{township}，今后{settings.stagger_days}天：",
                    *body, ADVICE, "名单和电话：/名单 未返岗；随时查看：/错峰"]))
                sent += 1
        if sections:
            for cadre in district:
                lines = [f"{cadre.name}，您好！【错峰出行建议】全区，今后{settings.stagger_days}天，"
                         f"{len(sections)}个乡镇/街道有新情况："]
                for township, body, has_cadre in sections:
                    lines.append(f"〔{township}〕" + ("已告诉乡镇干部" if has_cadre
                                                     else "还没有乡镇干部绑定机器人，请转告"))
                    lines += body
                lines += [ADVICE, "随时查看：/错峰"]
                ctx.tell(cadre.identity, "\n".join(lines))
                sent += 1
    if sent:
        log.info("stagger: %d proposal message(s) queued for %s", sent, today)
        app.services.notify_outbound()
    return sent


async def catch_up(app: App) -> None:
    """At start: today's proposals if the bot was down at ``STAGGER_TIME`` (not late in the
    evening; the day's claim makes this safe after any restart)."""
    from scheduler.checkin_jobs import LATE_LIMIT

    now = app.clock.now().astimezone(app.settings.tz)
    if app.settings.stagger_time <= now.time() < LATE_LIMIT:
        await daily(app, now)


def jobs(app: App) -> list[Job]:
    hooks = getattr(app, "on_start", None)
    if hooks is not None:
        hooks.append(catch_up)
    return [Job(JOB, at=app.settings.stagger_time, func=daily)]
