"""Dialog states read and written with Core statements, not through the ORM.

A person's :class:`DialogState` is read and written for nearly every private message; the ORM's
``session.get`` and unit of work were about a quarter of the bot's CPU time per message.  Here
the row is read with one ``SELECT`` and written with one insert-or-replace before the
transaction's next statement or its commit (:func:`models.db.put_row`).  Within a transaction
one person's state is one object, as with the ORM's identity map: reading it again returns the
same object, and changes to it are written when it is saved."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.db import READ_CACHE, drop_put, put_row
from models.tables import DialogState

_TABLE: Any = DialogState.__table__
_COLUMNS = [c.name for c in _TABLE.columns]
_SELECT = select(_TABLE).where(_TABLE.c.identity == bindparam("identity"))
_DELETE = delete(_TABLE).where(_TABLE.c.identity == bindparam("identity"))


def _cache(session: AsyncSession) -> dict[str, DialogState | None]:
    return session.sync_session.info.setdefault(READ_CACHE, {}).setdefault(_TABLE, {})


async def load_state(session: AsyncSession, identity: str) -> DialogState | None:
    """``identity``'s dialog in progress, or None."""
    cache = _cache(session)
    if identity in cache:
        return cache[identity]
    row = (await session.execute(_SELECT, {"identity": identity})).mappings().first()
    state = None if row is None else DialogState(**row)
    cache[identity] = state
    return state


def save_state(session: AsyncSession, state: DialogState) -> None:
    """Write ``state`` (new or changed) in this transaction, as it is when written."""
    _cache(session)[state.identity] = state
    put_row(session, _TABLE, state.identity,
            lambda: {name: getattr(state, name) for name in _COLUMNS})


async def delete_state(session: AsyncSession, identity: str) -> None:
    """End ``identity``'s dialog."""
    drop_put(session, _TABLE, identity)
    _cache(session)[identity] = None
    await session.execute(_DELETE, {"identity": identity})
