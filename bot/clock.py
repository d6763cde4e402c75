"""Time, injectable: the real clock in production, a manual one in the replay and in tests."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


class Clock:
    """The real clock."""

    def now(self) -> datetime:
        """Now, timezone-aware (UTC)."""
        return datetime.now(UTC)

    def utcnow(self) -> datetime:
        """Now in UTC (aware), the form stored in the database."""
        return self.now()

    def local(self, tz: tzinfo) -> datetime:
        return self.now().astimezone(tz)


class ManualClock(Clock):
    """A clock that moves only when told to (replay ``clock`` lines, ``at`` fields, tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Move to ``when`` (aware); the clock never goes backwards."""
        when = when.astimezone(UTC)
        if when > self._now:
            self._now = when

    def rewind(self, when: datetime) -> None:
        """Put the clock at ``when`` even if that is earlier (a replay that first ran on the real
        clock and then names the day it is about)."""
        self._now = when.astimezone(UTC)
