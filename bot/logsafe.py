"""Keeping personal data and secrets out of the log, whatever a log call or an exception says.

The code's own log lines name chat accounts and message ids, never message text, ID numbers,
phones or tokens (``tests/test_security.py`` checks).  Exceptions are another matter: a
database error can quote the values involved (PostgreSQL's ``DETAIL:  Key (id_number)=(…)
already exists``), and a library may put anything in its message.  So every record that
reaches a handler of the root logger goes through :class:`RedactingFilter` first: ID numbers
and mobile numbers are masked, configured secrets (access tokens, database password) replaced
— in the message, its arguments and the formatted traceback.  (SQL parameters are hidden at the
source as well: ``models.db`` creates engines with ``hide_parameters=True``; and aiosqlite,
which logs every statement with its values at DEBUG, is held at INFO even with ``-v``.)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

# Libraries that log personal data at DEBUG: aiosqlite logs every statement with its values.
CHATTY = {"aiosqlite": logging.INFO}

_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9])(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?![0-9])")
SECRET_MASK = "***"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with ID numbers (``520111********123X``), mobile numbers (``138****5678``)
    and each of ``secrets`` (``***``) hidden."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, SECRET_MASK)
    text = _ID.sub(lambda m: m[1] + "*" * 8 + m[2], text)
    return _PHONE.sub(lambda m: m[1] + "****" + m[2], text)


class RedactingFilter(logging.Filter):
    """A handler filter that redacts each record before it is formatted (never drops one)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= 4)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def secrets_of(settings: Any) -> list[str]:
    """The configured secrets: access tokens and the database password."""
    from sqlalchemy.engine import make_url

    found = [getattr(settings, "onebot_access_token", ""), getattr(settings, "wechaty_token", "")]
    try:
        found.append(make_url(settings.database_url).password or "")
    except Exception:
        pass
    return [s for s in found if s]


def quiet_chatty_libraries() -> None:
    """Even with ``-v``, libraries in :data:`CHATTY` log no more than their level there."""
    for name, level in CHATTY.items():
        chatty = logging.getLogger(name)
        if chatty.getEffectiveLevel() < level:
            chatty.setLevel(level)


def install(settings: Any = None, logger: logging.Logger | None = None) -> RedactingFilter:
    """Quiet :data:`CHATTY` libraries and put one :class:`RedactingFilter` on every handler of
    ``logger`` (default: root)."""
    quiet_chatty_libraries()
    target = logger or logging.getLogger()
    filt = RedactingFilter(secrets_of(settings) if settings is not None else ())
    for handler in target.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(filt)
    return filt
