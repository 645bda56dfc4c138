"""Time as a dependency, so tests can freeze it and the ledger stamps UTC only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FixedClock", "SystemClock", "utc_iso"]


class Clock(Protocol):
    """Something that tells the current time in UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: for tests and replays."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def utc_iso(ts: datetime) -> str:
    """Render a timestamp as fixed-width ISO-8601 UTC with microseconds (sortable as text)."""
    if ts.tzinfo is None:
        raise ValueError("refusing a timezone-naive timestamp")
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
