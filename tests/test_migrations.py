"""The schema the bot builds from its migrations is the schema its models describe, and the
migrations have one head (a new migration has one parent)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (the tables, registered on SQLModel.metadata)
from models.db import Database, alembic_config


def test_the_migrations_have_one_head():
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == ["0005_merge_heads"]


async def test_the_migrated_schema_matches_the_models(database_url):
    db = Database(database_url)
    await db.migrate()
    try:
        async with db.engine.connect() as conn:
            def compare(sync_conn):
                context = MigrationContext.configure(sync_conn)
                return context.get_current_heads(), compare_metadata(context, SQLModel.metadata)

            heads, differences = await conn.run_sync(compare)
    finally:
        await db.close()
    assert heads == ("0005_merge_heads",)
    assert differences == []
