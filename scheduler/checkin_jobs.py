"""The daily check-in's scheduled messages, in the district's time zone.

* ``CHECKIN_TIME`` (08:00): first a follow-up to every worker whose reading yesterday was
  abnormal (“昨天您报告了发热，今天怎么样？”), then the prompt to every other registered worker
  who has not checked in today.  One message each: the follow-up stands in for the prompt.
* ``CHECKIN_REMIND_TIME`` (14:00): a reminder to those still silent.
* At start-up (``App.on_start``): a bot that was down at one of those times sends what it
  missed today — the prompt if it comes back before the reminder time, the reminder if it comes
  back before ``LATE_LIMIT`` (no prompts late in the evening). The ``Nudge`` rows make this safe
  after an ordinary restart too: nobody gets a second copy.

Only registered workers with a linked WeChat/QQ account are written to; not cadres, not people
who have not registered.  Each message is claimed with a ``Nudge`` row (kind, worker, day) in the
same transaction as its outbox row, a batch of workers per transaction, so that a second run of
the job (a restart, the replay's clock passing the same time again, a second instance) sends
nothing twice.  The outbound queue paces what is queued here.

A worker half way through a dialog (say, re-registering) is still prompted: their replies go to
the dialog, so the prompt tells them to put 打卡 first (``打卡 36.5 正常``), which is understood
in the middle of a dialog without disturbing it.  Asking them to cancel the dialog first, or not
asking them at all, would cost them more.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from dialogs.checkin_text import load_dictionary
from handlers.checkin import EXAMPLE, day_text, hospitals_text, symptoms_text
from handlers.context import Context
from models.checkins import (
    FOLLOWUP,
    PROMPT,
    REMIND,
    Target,
    claim_nudges,
    followup_targets,
    prompt_targets,
    remind_targets,
)
from scheduler.jobs import Job

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)
BATCH = 200  # workers per transaction
LATE_LIMIT = time(20, 0)  # a missed message is not sent after this (district time)


def _in_dialog(app: App, target: Target) -> str:
    if target.dialog is None:
        return ""
    dialog = app.engine.dialogs.get(target.dialog)
    title = dialog.title if dialog is not None else "表"
    return (f"\n（您的{title}还没填完，现在发的消息会当作{title}的回答。先打卡请在前面加“打卡”，"
            f"例如：打卡 {EXAMPLE}。填了的内容都保留着。）")


def prompt_text(app: App, target: Target, when: datetime) -> str:
    return (f"{target.name}，早上好！今天（{day_text(when.date())}）的健康打卡：请回复体温，"
            "有没有发热、咳嗽、气促、乏力等不舒服，现在在家、在路上还是已到岗。\n"
            f"直接回复就行，例如：{EXAMPLE}" + _in_dialog(app, target))


def remind_text(app: App, target: Target, when: datetime) -> str:
    return (f"{target.name}，您今天（{day_text(when.date())}）还没有健康打卡哦。"
            f"请回复体温和身体情况，例如：{EXAMPLE}" + _in_dialog(app, target))


def followup_text(app: App, target: Target, when: datetime) -> str:
    yesterday = target.yesterday
    said = symptoms_text(yesterday.symptoms) if yesterday is not None else "身体不舒服"
    if yesterday is not None and yesterday.temperature is not None:
        said += f"（体温 {yesterday.temperature:.1f}℃）"
    return (f"{target.name}，您昨天报告了{said}。今天身体怎么样？去定点医院做核酸检测了吗？\n"
            f"请回复今天的体温和身体情况，例如：36.8 不烧了 还有点咳嗽\n"
            f"还没去检查的，请戴好口罩尽快去：\n{hospitals_text(app.settings)}" + _in_dialog(app, target))


async def _nudge(app: App, when: datetime, kind: str, find, text) -> set[int]:
    """Send ``text(target)`` to each worker ``find`` returns, once per day per ``kind``; the ids
    of the workers written to."""
    day = when.date()
    after, sent = 0, 0
    reached: set[int] = set()
    while True:
        async with app.db.session() as session:
            ctx = Context(app.services, session)
            targets: list[Target] = await find(session, day, after)
            if not targets:
                break
            claimed = await claim_nudges(session, kind, day, [t.worker_id for t in targets],
                                         app.clock.utcnow())
            for target in targets:
                if target.worker_id in claimed:
                    ctx.tell(target.identity, text(app, target, when), bulk=True)
            sent += len(claimed)
            reached |= claimed
        after = targets[-1].worker_id
        app.services.notify_outbound()  # start sending while the next batch is queued
    if sent:
        log.info("check-in %s: %d message(s) queued for %s", kind, sent, day)
    return reached


async def follow_up(app: App, when: datetime) -> set[int]:
    """Ask yesterday's abnormal workers how they are today (never fails the caller)."""
    yesterday = when.date() - timedelta(days=1)
    try:
        return await _nudge(app, when, FOLLOWUP,
                            lambda s, day, after: followup_targets(s, day, yesterday, after,
                                                                   BATCH),
                            followup_text)
    except Exception:  # the prompt must still go out
        log.exception("check-in follow-up failed")
        return set()


async def morning(app: App, when: datetime) -> None:
    """Follow up yesterday's abnormal readings, then prompt everyone else."""
    await follow_up(app, when)
    await _nudge(app, when, PROMPT, lambda s, day, after: prompt_targets(s, day, after, BATCH),
                 prompt_text)


async def remind(app: App, when: datetime) -> None:
    await _nudge(app, when, REMIND, lambda s, day, after: remind_targets(s, day, after, BATCH),
                 remind_text)


async def catch_up(app: App) -> None:
    """Send today's prompt or reminder if the bot was down when it fell due."""
    settings = app.settings
    now = app.clock.now().astimezone(settings.tz)
    if settings.checkin_time <= now.time() < settings.checkin_remind_time:
        log.info("check-in: the bot started after %s, sending today's missed prompts",
                 settings.checkin_time)
        await morning(app, now)
    elif settings.checkin_remind_time <= now.time() < LATE_LIMIT:
        log.info("check-in: the bot started after %s, sending today's missed reminders",
                 settings.checkin_remind_time)
        # yesterday's abnormal workers get the follow-up, which stands in for their reminder
        followed = await follow_up(app, now)
        if followed:
            async with app.db.session() as session:
                await claim_nudges(session, REMIND, now.date(), sorted(followed),
                                   app.clock.utcnow())
        await remind(app, now)


def jobs(app: App) -> list[Job]:
    # jieba's dictionary takes a second or two to load: do it now, not in a worker's first reply.
    # (Loading it in a thread after connecting made the bot answer sooner, but the thread held
    # the interpreter for that second: the first replies took up to 2.5 s instead of 3 ms.)
    load_dictionary()
    settings = app.settings
    hooks = getattr(app, "on_start", None)
    if hooks is not None:
        hooks.append(catch_up)
    return [
        Job("checkin_prompt", at=settings.checkin_time, func=morning),
        Job("checkin_remind", at=settings.checkin_remind_time, func=remind),
    ]
