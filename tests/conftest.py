"""Fixtures: every database test runs on SQLite and on PostgreSQL.

``TEST_DATABASES`` chooses (default ``sqlite,postgresql``); ``TEST_PG_URL`` points at the
PostgreSQL server (default: the local one, trust auth, database ``test``).  Each test run makes
its own PostgreSQL database and empties it between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

# No timing deadlines (the machine is shared and noisy); in CI, the same examples every run.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")

PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",")
            if b.strip()]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    import asyncio

    name = f"fgt_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(sql))
        await engine.dispose()

    def run(sql: str) -> None:
        # This fixture may be first asked for inside a running event loop: use a thread.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, admin(sql)).result()

    run(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _empty_pg(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        tables = (
            await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname='public' "
                     "AND tablename <> 'alembic_version'")
            )
        ).scalars().all()
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database URL with an empty schema (tables created by the bot's own migrations)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/bot.db"
        return
    if request.param != "postgresql":
        raise ValueError(f"unknown backend {request.param}")
    url = request.getfixturevalue("pg_database")
    from models.db import Database

    db = Database(url)
    await db.migrate()
    await db.close()
    await _empty_pg(url)
    yield url


@pytest.fixture
def settings(database_url: str, tmp_path):
    from bot.config import Settings

    # charts go to the test's folder, not to data/charts in the checkout
    return Settings(database_url=database_url, simulator=False,
                    extra={"charts_dir": str(tmp_path / "charts")})
