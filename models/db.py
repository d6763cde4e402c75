"""The async engine, sessions and schema migrations (applied on start)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiosqlite
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
_PUTS = "fgt_rows_to_put"  # Session.info key: {table: {key: row()}} not yet written
# Session.info key for rows read with Core that the transaction keeps (as the ORM's identity
# map would): forgotten at commit and rollback.
READ_CACHE = "fgt_read_cache"


def add_row(session: AsyncSession | Session, table: Table, row: dict[str, Any]) -> None:
    """Insert ``row`` into ``table`` in this session's transaction, as a Core insert: written
    (one executemany per table, rows in the order added) before the session's next statement
    and before it commits, so it is visible to the transaction's later queries and commits or
    rolls back with it, as an ORM object would; but without building an ORM object and without
    the unit of work (the outbox row of every reply: a few per cent of the CPU per message).
    The row's id is not read back."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_ROWS, {}).setdefault(table, []).append(row)


def put_row(session: AsyncSession | Session, table: Table, key: Any,
            row: Callable[[], dict[str, Any]]) -> None:
    """Insert or replace the row of ``table`` whose primary key is ``key``, as :func:`add_row`
    does (before the next statement, or at commit), with the values ``row()`` gives then: an
    object changed again after this call is written as it is at that time, once, as an ORM
    object would be.  For a row written after most messages (a dialog's state), without the
    ORM's unit of work."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_PUTS, {}).setdefault(table, {})[key] = row


def drop_put(session: AsyncSession | Session, table: Table, key: Any) -> None:
    """Forget a :func:`put_row` not yet written (the row is being deleted)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.get(_PUTS, {}).get(table, {}).pop(key, None)


_UPSERTS: dict[tuple[str, Table], Any] = {}
_INSERTS: dict[Table, Any] = {}


def _upsert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    stmt = _UPSERTS.get((dialect, table))
    if stmt is None:  # built once: building it (``excluded``) costs more than running it
        stmt = _UPSERTS[dialect, table] = _build_upsert(dialect, table)
    return stmt


def _build_upsert(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(table)
    keys = [c.name for c in table.primary_key.columns]
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys})


def _write_rows(session: Session) -> None:
    pending = session.info.pop(_ROWS, None)
    if pending:
        for table, rows in pending.items():
            stmt = _INSERTS.get(table)
            if stmt is None:
                stmt = _INSERTS[table] = insert(table)
            session.execute(stmt, rows)
    puts = session.info.pop(_PUTS, None)
    if puts:
        for table, by_key in puts.items():
            if by_key:
                session.execute(_upsert(session, table), [row() for row in by_key.values()])


@event.listens_for(Session, "do_orm_execute")
def _rows_before_statement(state: ORMExecuteState) -> None:
    info = state.session.info
    if _ROWS in info or _PUTS in info:
        _write_rows(state.session)


@event.listens_for(Session, "before_commit")
def _rows_before_commit(session: Session) -> None:
    _write_rows(session)


@event.listens_for(Session, "after_soft_rollback")
def _rows_rolled_back(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the whole transaction (savepoints are not used here)
        for key in (_ROWS, _PUTS, READ_CACHE):
            session.info.pop(key, None)


@event.listens_for(Session, "after_commit")
def _forget_reads(session: Session) -> None:
    session.info.pop(READ_CACHE, None)


class InlineSQLite(aiosqlite.Connection):
    """aiosqlite's connection, except that a call runs at once in the caller's thread (the
    event loop's) instead of being handed to the connection's own thread.

    aiosqlite hands each call to a thread and wakes the event loop with the result: two thread
    switches and a loop iteration per statement, most of the bot's time per message under
    load.  Here a statement takes microseconds (WAL, ``synchronous=NORMAL``, pages in memory),
    and the bot's SQLite sessions are one at a time anyway (``Database.session``), so nothing
    that needs the database could run meanwhile.

    The loop must never sleep on SQLite's lock, though: another connection holding it may be
    one this loop has to run (a second ``App`` in the process) or another process.  So the
    busy timeout is 0 here, and a statement that finds the database locked (``SQLITE_BUSY``:
    it did nothing) is run again in the connection's thread, which may wait for the lock up to
    ``BUSY_TIMEOUT_MS`` while the loop goes on.  The thread also opens and closes the
    connection, and SQLAlchemy sets the isolation level through it."""

    BUSY_TIMEOUT_MS = 30_000

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        return await super()._execute(self._waiting, fn, args, kwargs)

    def _waiting(self, fn: Any, args: Any, kwargs: Any) -> Any:
        """In the connection's thread: ``fn`` with SQLite's busy handler waiting for the lock."""
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout={self.BUSY_TIMEOUT_MS}")
        try:
            return fn(*args, **kwargs)
        finally:
            conn.execute("PRAGMA busy_timeout=0")


def _inline_sqlite(url: Any) -> Callable[[], Awaitable[InlineSQLite]]:
    database = url.database or ":memory:"
    uri = bool(url.query.get("uri"))

    def connector() -> sqlite3.Connection:
        # Opened by the connection's thread, used from the event loop's.
        return sqlite3.connect(database, timeout=0, check_same_thread=False, uri=uri)

    async def connect() -> InlineSQLite:
        return await InlineSQLite(connector, 64)

    return connect


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
        engine = create_async_engine(url, async_creator=_inline_sqlite(parsed),
                                     pool_reset_on_return=None, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=0")  # see InlineSQLite: never sleep in the loop
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
