"""The day before a departure: the prevention handbook and the health declaration (安全出行).

Every :data:`EVERY_MINUTES` minutes between :data:`FIRST_SEND` and :data:`LAST_SEND` (the
district's time), each worker leaving tomorrow — by their recorded return date, or on a chartered
bus they have a seat on (``models.departure.departure_targets``) — who has not had it yet gets
the handbook: ``dialogs/data/departure_handbook.txt`` (district staff edit it; it is read at
every run) with the picture ``departure_handbook.png`` attached, sent as a file through the
outbound queue.  Then the declaration begins (dialogs/departure_declaration.py).  A worker in
the middle of another form is not interrupted: they are told to reply “健康申报” when done.

The first run of the day does the bulk; the later ones reach who registered or took a bus seat
since, and make up for a bot that was not running at the first.  Nobody is written to at night.
Once per worker per departure: a ``Nudge`` row (kind ``departure_handbook``, the departure day)
is claimed in the same transaction as the messages, so a second run, a restart or a second
instance sends nothing twice.  Declarations left unanswered after the departure are dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from handlers.buses import AROUND_DAYS
from handlers.context import Context
from handlers.departure import QUESTIONS, declaration_intro, start_declaration, when_text
from handlers.staff import contacts
from models.checkins import claim_nudges
from models.departure import DECLARATION, DEPARTURE, Departure, departure_targets, drop_stale_declarations
from models.tables import Worker
from scheduler.jobs import Job

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent.parent / "dialogs" / "data"
HANDBOOK = DATA / "departure_handbook.txt"
IMAGE = DATA / "departure_handbook.png"
FIRST_SEND, LAST_SEND = time(10, 0), time(20, 0)
EVERY_MINUTES = 30
STALE_AFTER = timedelta(days=3)  # a declaration begun this long ago is for a trip gone by
BATCH = 200
FALLBACK = ("【返岗路上防护须知】全程戴好口罩，勤洗手，和别人保持1米以上距离，保管好车票，"
            "每天量体温；路上发热、咳嗽，马上告诉乘务员，就近去发热门诊。")


def handbook_text(path: Path = HANDBOOK) -> str:
    """The handbook as district staff last saved it, without its ``#`` comment lines."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        log.exception("cannot read the departure handbook %s; sending the short version", path)
        return FALLBACK
    text = "\n".join(line.rstrip() for line in lines if not line.lstrip().startswith("#")).strip()
    return text or FALLBACK


def handbook_message(worker: Worker, departure: Departure, today, handbook: str) -> str:
    when = when_text(departure.day, today)
    if departure.bus is not None:
        bus = departure.bus
        trip = (f"您报名了{when}开往{bus.destination}的包车{bus.id}号，请按时到{bus.meeting_point}"
                "集合，带好身份证。")
    else:
        trip = f"您登记的返岗时间是{when}。"
    return f"{worker.name}，您好！{trip}\n出发前请看看这份防护须知，图片上是要点：\n\n{handbook}"


async def send_handbooks(app: App, when: datetime) -> int:
    """Send tomorrow's travellers the handbook and begin their declarations; returns how many."""
    local = when.astimezone(app.settings.tz)
    if not FIRST_SEND <= local.time() <= LAST_SEND:
        return 0
    today, day = local.date(), local.date() + timedelta(days=1)
    now = app.clock.utcnow()
    async with app.db.session() as session:
        await drop_stale_declarations(session, now - STALE_AFTER)
    handbook = handbook_text()
    image = str(IMAGE) if IMAGE.is_file() else None
    if image is None:
        log.warning("the handbook's picture %s is missing: run python -m scheduler.handbook_image",
                    IMAGE)
    after, sent = 0, 0
    while True:
        async with app.db.session() as session:
            ctx = Context(app.services, session)
            targets = await departure_targets(session, day, AROUND_DAYS, after, BATCH)
            if not targets:
                break
            ids = [w.id for w, _ in targets if w.id is not None]
            claimed = await claim_nudges(session, DEPARTURE, day, ids, now)
            reach = await contacts(session, ids)
            for worker, departure in targets:
                identity = reach.get(worker.id or 0)
                if worker.id not in claimed or identity is None:
                    continue
                ctx.tell(identity, handbook_message(worker, departure, today, handbook), file=image,
                         bulk=True)
                await _declaration(app, ctx, identity, worker, departure, today)
                sent += 1
        after = targets[-1][0].id or 0
        app.services.notify_outbound()
    if sent:
        log.info("departure handbook: %d worker(s) leaving on %s", sent, day)
    return sent


async def _declaration(app: App, ctx: Context, identity: str, worker: Worker,
                       departure: Departure, today) -> None:
    engine = app.engine
    state = await engine.load(ctx, identity)
    if state is None or state.dialog == DECLARATION:
        await start_declaration(ctx, identity, worker, departure,
                                declaration_intro(departure, today))
        return
    title = engine.dialogs[state.dialog].title
    how = "回复“健康申报”开始" if state.paused else "请先填完，或回复“取消”先停下，再回复“健康申报”"
    ctx.tell(identity, f"出发前还要做个健康申报（{QUESTIONS}个问题）。您的{title}还没填完，{how}。")


def jobs(app: App) -> list[Job]:
    return [Job("departure_handbook", at=None, every_minutes=EVERY_MINUTES, func=send_handbooks)]
