"""The async engine, sessions and schema migrations (applied on start)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, event, insert, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every instance of the bot.
_PG_MIGRATION_LOCK = 7_391_042
_IN_SESSION: ContextVar[Database | None] = ContextVar("in_session", default=None)
_ROWS = "fgt_rows_to_insert"  # Session.info key: {table: [row, …]} not yet written


def add_row(session: AsyncSession | Session, table: Table, row: dict[str, Any]) -> None:
    """Insert ``row`` into ``table`` in this session's transaction, as a Core insert: written
    (one executemany per table, rows in the order added) before the session's next statement
    and before it commits, so it is visible to the transaction's later queries and commits or
    rolls back with it, as an ORM object would; but without building an ORM object and without
    the unit of work (the outbox row of every reply: a few per cent of the CPU per message).
    The row's id is not read back."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_ROWS, {}).setdefault(table, []).append(row)


def _write_rows(session: Session) -> None:
    pending = session.info.pop(_ROWS, None)
    if pending:
        for table, rows in pending.items():
            session.execute(insert(table), rows)


@event.listens_for(Session, "do_orm_execute")
def _rows_before_statement(state: ORMExecuteState) -> None:
    if _ROWS in state.session.info:
        _write_rows(state.session)


@event.listens_for(Session, "before_commit")
def _rows_before_commit(session: Session) -> None:
    _write_rows(session)


@event.listens_for(Session, "after_soft_rollback")
def _rows_rolled_back(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the whole transaction (savepoints are not used here)
        session.info.pop(_ROWS, None)


def create_engine(url: str) -> AsyncEngine:
    """An engine for ``url``; for SQLite, the folder is created and WAL mode switched on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Sessions always end in a commit or a rollback: the pool's own rollback on return
        # would be one more round trip to SQLite's thread per transaction.
        # hide_parameters: a database error's text must not quote a worker's data into the log.
        engine = create_async_engine(url, connect_args={"timeout": 30},
                                     pool_reset_on_return=None, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True,
                               hide_parameters=True)


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Two instances starting together must not both create the tables.
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "heads")  # several feature branches may start from one base


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def insert_new(session: AsyncSession, model: Any, rows: list[dict[str, Any]],
                     returning: Any) -> set[Any]:
    """Insert ``rows`` into ``model``'s table, skipping any whose key is there already — also
    when two transactions insert the same key at once — and return ``returning`` (a column)
    of the rows inserted: a record-once table (who was told of what) in one statement."""
    if not rows:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    stmt = upsert(model).values(rows).on_conflict_do_nothing().returning(returning)
    return set((await session.execute(stmt)).scalars())


class Database:
    """The engine and a session factory; ``session()`` commits on success, rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time, and a writer that finds it busy sleeps and retries
        # (up to 100 ms a try): under load the database then sits idle between sleepers.  Its
        # sessions queue here instead, in order (a session opened inside another, in the same
        # task, does not wait).
        self._one_at_a_time = asyncio.Lock() if self.dialect == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> None:
        await migrate(self.engine)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        lock = self._one_at_a_time
        if lock is None or _IN_SESSION.get() is self:
            async with self._session() as session:
                yield session
            return
        async with lock:
            token = _IN_SESSION.set(self)
            try:
                async with self._session() as session:
                    yield session
            finally:
                _IN_SESSION.reset(token)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def close(self) -> None:
        await self.engine.dispose()
