"""The tables.  Times are stored in UTC (aware); convert to the district time zone to show them.

Changing a table here needs an Alembic revision (see ``models/alembic.ini``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel


class Household(SQLModel, table=True):
    """A household (户), for 一户一人: identified by its head's name within a village."""

    __table_args__ = (UniqueConstraint("township", "village", "head_name"),)

    id: int | None = Field(default=None, primary_key=True)
    township: str = Field(index=True)
    village: str
    head_name: str
    created_at: datetime


class Worker(SQLModel, table=True):
    """A migrant worker as registered (摸排登记)."""

    __table_args__ = (
        Index("ix_worker_area", "township", "village"),
        # covers the daily tally's grouped counts (models/tally.py, revision 0002_tally)
        Index("ix_worker_tally", "township", "village", "status", "work_area", "intent",
              "poverty", "relocated", "registered_at", "household_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str
    id_number: str | None = Field(default=None, unique=True)
    phone: str | None = Field(default=None, index=True)
    gender: str | None = None
    birth_date: date | None = None
    township: str
    village: str
    group_name: str | None = None
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    relation: str | None = None  # 与户主关系
    poverty: bool = False  # 建档立卡贫困劳动力
    relocated: bool = False  # 易地扶贫搬迁劳动力
    health: str | None = None
    symptoms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    difficulty: str | None = None  # 家庭困难需帮扶 (None: none)
    skills: str | None = None
    experience: str | None = None
    status: str = Field(index=True)  # 待返岗 / 已返岗 / 本地已就业 / 暂无岗位
    work_area: str | None = None  # 县内 / 省内县外 / 省外
    work_city: str | None = None
    employer: str | None = None
    return_date: date | None = None
    return_mode: str | None = None
    intent: str | None = None  # 就近就业 / 外出务工 / 暂不就业
    wanted_job: str | None = None
    wanted_place: str | None = None
    salary_min: int | None = None
    salary_max: int | None = None
    entered_by: int | None = Field(default=None, foreign_key="cadre.id")
    consent_at: datetime | None = None
    registered_at: datetime
    updated_at: datetime


class Identity(SQLModel, table=True):
    """A chat account (``platform:id``) and the worker it belongs to, once known."""

    identity: str = Field(primary_key=True)
    worker_id: int | None = Field(default=None, foreign_key="worker.id", index=True)
    display_name: str = ""
    first_seen: datetime
    last_seen: datetime


class DialogState(SQLModel, table=True):
    """Where a person is in a guided conversation; written after every answer."""

    identity: str = Field(primary_key=True)
    dialog: str
    step: str
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    history: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    editing: bool = False  # answering a 修改 N from the summary
    paused: bool = False  # 取消 pauses; 继续 resumes with every answer kept
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_at: datetime
    updated_at: datetime


class InboundSeen(SQLModel, table=True):
    """Platform message ids already handled, so a duplicate delivery is dropped."""

    platform: str = Field(primary_key=True)
    message_id: str = Field(primary_key=True)
    seen_at: datetime = Field(index=True)


PRIORITY_NOW = 0  # an outbox row's priority: a reply to who just wrote, an alert
PRIORITY_BULK = 1  # check-in prompts, vacancy pushes, broadcasts: after every PRIORITY_NOW row


class OutboxMessage(SQLModel, table=True):
    """Every message the bot sends, persisted before it is sent.

    status: pending → sending → sent | failed | unknown.  ``unknown`` means the send may have
    reached the platform (timeout, or a crash while sending): it is never sent again.
    priority: ``PRIORITY_NOW`` (replies, alerts) goes before ``PRIORITY_BULK`` (prompts, pushes,
    broadcasts); oldest first within one; never out of order within one chat (bot/outbound.py).
    """

    __table_args__ = (
        Index("ix_outbox_claim", "status", "platform", "priority", "id"),
        # Pending bulk rows by chat: a reply must not overtake one queued earlier to its chat.
        Index("ix_outbox_bulk_chat", "chat", "id",
              sqlite_where=sql_text("status = 'pending' AND priority > 0"),
              postgresql_where=sql_text("status = 'pending' AND priority > 0")),
        Index("ix_outbox_batch", "batch", "status",
              sqlite_where=sql_text("batch IS NOT NULL"),
              postgresql_where=sql_text("batch IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str  # one sending lane per platform, so a slow one never holds up another
    chat: str  # ChatRef.key
    account: str = ""
    text: str
    mentions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mention_all: bool = False
    file: str | None = None
    status: str = "pending"
    attempts: int = 0
    created_at: datetime
    not_before: datetime | None = None
    sent_at: datetime | None = None
    platform_message_id: str | None = None
    error: str | None = None
    priority: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    batch: str | None = None  # SendBatch.key: one of many sent at once, reported when all are out


class SendBatch(SQLModel, table=True):
    """Messages sent at once on someone's behalf (a /广播): when none is left to send, the
    sender is told how many went out and how many failed (scheduler/batches.py)."""

    key: str = Field(primary_key=True)
    owner: str  # the chat identity to tell
    label: str  # what it was, in the sender's words ("通知“明天开会…”")
    total: int
    created_at: datetime
    reported_at: datetime | None = None


class Cadre(SQLModel, table=True):
    """Staff: task force (district), township, village, employment bureau."""

    id: int | None = Field(default=None, primary_key=True)
    identity: str = Field(unique=True)
    name: str
    role: str  # district / township / village / bureau
    township: str | None = None
    village: str | None = None
    active: bool = True
    created_at: datetime


class Invite(SQLModel, table=True):
    """A one-time code a person sends as ``/绑定 <code>`` to become a cadre."""

    code: str = Field(primary_key=True)
    name: str
    role: str
    township: str | None = None
    village: str | None = None
    created_at: datetime
    used_by: str | None = None
    used_at: datetime | None = None


class AuditLog(SQLModel, table=True):
    """Who read or changed personal data, and when."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str  # identity, or "cli"
    action: str
    target: str = ""
    detail: str = ""


class JobRun(SQLModel, table=True):
    """A scheduled job that ran for a key (e.g. the report for a group on a day): once only."""

    job: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    started_at: datetime
    finished_at: datetime | None = None


# ----- daily check-in (日排查) ----------------------------------------------------------------
class Checkin(SQLModel, table=True):
    """One check-in reply.  A later reply the same day corrects it: the earlier row is kept
    with ``superseded=True`` (history), the newest is the day's reading."""

    __table_args__ = (
        Index("ix_checkin_day", "day", "worker_id"),
        # covers the daily tally's check-in counts (models/tally.py, revision 0002_tally)
        Index("ix_checkin_tally", "day", "superseded", "worker_id", "abnormal"),
    )

    id: int | None = Field(default=None, primary_key=True)
    worker_id: int = Field(foreign_key="worker.id", index=True)
    day: date  # the district's local date
    at: datetime
    temperature: float | None = None
    symptoms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    location: str | None = None  # 在家 / 途中 / 已到岗
    place: str | None = None
    abnormal: bool = False
    text: str = ""
    superseded: bool = False


class Nudge(SQLModel, table=True):
    """A once-per-day message to one worker (check-in prompt, reminder, follow-up,
    departure handbook…): the primary key makes it happen at most once."""

    kind: str = Field(primary_key=True)
    worker_id: int = Field(primary_key=True, foreign_key="worker.id")
    day: date = Field(primary_key=True)
    at: datetime


# ----- vacancies (对接岗位) -------------------------------------------------------------------
class Vacancy(SQLModel, table=True):
    """A vacancy; its ``id`` is the short number workers quote (报名 12)."""

    id: int | None = Field(default=None, primary_key=True)
    employer: str
    title: str
    area: str  # 县内 / 省内县外 / 省外
    city: str | None = None
    township: str | None = None  # for 县内 vacancies
    headcount: int = 1
    filled: int = 0
    pay_min: int | None = None
    pay_max: int | None = None
    requirements: str | None = None
    contact: str | None = None
    deadline: date | None = None
    public_welfare: bool = False  # 公益性岗位
    status: str = Field(default="open", index=True)  # open / closed
    terms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    posted_by: int | None = Field(default=None, foreign_key="cadre.id")
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id")
    created_at: datetime
    updated_at: datetime


class Application(SQLModel, table=True):
    """A worker's 报名 for a vacancy."""

    __table_args__ = (UniqueConstraint("vacancy_id", "worker_id"),)

    id: int | None = Field(default=None, primary_key=True)
    vacancy_id: int = Field(foreign_key="vacancy.id", index=True)
    worker_id: int = Field(foreign_key="worker.id", index=True)
    status: str = "applied"  # applied / withdrawn / hired / rejected
    created_at: datetime
    updated_at: datetime


class VacancyPush(SQLModel, table=True):
    """A vacancy told to a worker: never twice."""

    vacancy_id: int = Field(primary_key=True, foreign_key="vacancy.id")
    worker_id: int = Field(primary_key=True, foreign_key="worker.id")
    at: datetime
    rank: int = 0


class WorkerTerm(SQLModel, table=True):
    """A matching term of a worker's profile (``dialogs/matching.py``), found by its term."""

    __table_args__ = (Index("ix_workerterm_term", "term", "worker_id", "weight"),)

    worker_id: int = Field(primary_key=True, foreign_key="worker.id")
    term: str = Field(primary_key=True)
    kind: str  # job / place
    weight: float


class WorkerTermStamp(SQLModel, table=True):
    """The ``worker.updated_at`` the worker's terms were computed from (stale when different)."""

    worker_id: int = Field(primary_key=True, foreign_key="worker.id")
    updated_at: datetime


class VacancyTerm(SQLModel, table=True):
    """A matching term of a vacancy."""

    __table_args__ = (Index("ix_vacancyterm_term", "term", "vacancy_id", "weight"),)

    vacancy_id: int = Field(primary_key=True, foreign_key="vacancy.id")
    term: str = Field(primary_key=True)
    kind: str
    weight: float


# ----- enterprises and chartered buses ------------------------------------------------------------
class Enterprise(SQLModel, table=True):
    """An enterprise's resumption report (复工复产)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    township: str | None = None
    resumed_on: date | None = None
    staff_registered: int = 0
    staff_returned: int = 0
    shortage: int = 0
    jobs_wanted: str | None = None
    reported_by: int | None = Field(default=None, foreign_key="cadre.id")
    reported_at: datetime


class Bus(SQLModel, table=True):
    """A 点对点 chartered bus."""

    id: int | None = Field(default=None, primary_key=True)
    destination: str
    day: date
    seats: int
    taken: int = 0  # kept in step with BusSeat rows, updated under the row's lock
    meeting_point: str
    escort: str | None = None
    township: str | None = None
    organiser: int | None = Field(default=None, foreign_key="cadre.id")
    status: str = "open"
    created_at: datetime


class BusSeat(SQLModel, table=True):
    bus_id: int = Field(primary_key=True, foreign_key="bus.id")
    worker_id: int = Field(primary_key=True, foreign_key="worker.id")
    at: datetime


# ----- the daily tally -------------------------------------------------------------------------
class TallySnapshot(SQLModel, table=True):
    """The tally's figures for one township (or 全区) on one day: for 'since yesterday' and the
    trend chart."""

    day: date = Field(primary_key=True)
    township: str = Field(primary_key=True)
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime

