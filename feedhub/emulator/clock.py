"""The emulator's clock: real time by default; fixed or moved on by tests and demos.

Only the emulator reads it. It decides which simulated events have happened, so moving
it on makes activity appear without waiting.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class Clock:
    """A thread-safe clock of aware UTC datetimes.

    Real time until ``set`` fixes it. ``advance`` moves it on: a fixed clock jumps, a
    real-time clock keeps running with an offset.
    """

    def __init__(self, now: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._fixed = _utc(now) if now is not None else None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        with self._lock:
            if self._fixed is not None:
                return self._fixed
            return datetime.now(timezone.utc) + self._offset

    @property
    def is_fixed(self) -> bool:
        with self._lock:
            return self._fixed is not None

    def set(self, now: datetime) -> datetime:
        """Fix the clock at ``now`` (aware); returns it."""
        with self._lock:
            self._fixed = _utc(now)
            return self._fixed

    def advance(self, seconds: float) -> datetime:
        """Move the clock on by ``seconds`` (not backwards); returns the new time."""
        if seconds < 0:
            raise ValueError("the emulator's clock does not go backwards")
        step = timedelta(seconds=seconds)
        with self._lock:
            if self._fixed is not None:
                self._fixed += step
                return self._fixed
            self._offset += step
            return datetime.now(timezone.utc) + self._offset


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the emulator's clock needs an aware datetime")
    return value.astimezone(timezone.utc)
