"""The tables.  Times are stored in UTC (aware); convert to the district time zone to show them.

Changing a table here needs an Alembic revision (see ``models/alembic.ini``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
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

    __table_args__ = (Index("ix_worker_area", "township", "village"),)

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


class OutboxMessage(SQLModel, table=True):
    """Every message the bot sends, persisted before it is sent.

    status: pending → sending → sent | failed | unknown.  ``unknown`` means the send may have
    reached the platform (timeout, or a crash while sending): it is never sent again.
    """

    __table_args__ = (Index("ix_outbox_lane", "status", "platform", "id"),)

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
