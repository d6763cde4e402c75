"""A throw-away PostgreSQL database for one benchmark run (dropped afterwards, even if the
bot process still holds connections)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable

PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def scratch_pg_database(prefix: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """Create ``<prefix>_<random>`` next to ``TEST_PG_URL``'s database; return its URL and a
    coroutine function that drops it."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    await admin(f'CREATE DATABASE "{name}"')

    async def drop() -> None:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False), drop
