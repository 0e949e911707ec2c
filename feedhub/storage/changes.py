"""The store-wide change marker: a counter and a time, kept in ``meta``.

Every write that changes what a channel shows (new activities, accounts added, renamed
or removed, channels made, edited, removed or given a new token) moves it on, in the
same transaction. Readers compare one small row instead of scanning the activities,
which is what lets the web layer keep rendered feeds until something changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Integer, Text, bindparam, cast, text, update
from sqlalchemy.engine import Connection

from .dialect import execute_many, insert_ignore
from .schema import meta

COUNTER = "changes"
CHANGED_AT = "changed_at"

_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class ChangeMarker:
    """How many changes the store has seen, and when the last one was (None: never)."""

    counter: int
    changed_at: datetime | None


def ensure(conn: Connection, now: datetime) -> None:
    """Create the marker's rows if they are missing: a new database, changed ``now``."""
    rows = [{"name": COUNTER, "value": "0"}, {"name": CHANGED_AT, "value": _stamp(now)}]
    conn.execute(insert_ignore(conn, meta, ["name"]), rows)


def bump(conn: Connection, now: datetime | None = None) -> None:
    """Count one change at ``now`` (None: the wall clock).

    The time moves on by at least a second each change, whatever the clocks say, so a
    ``Last-Modified`` (whole seconds) never stays the same over a change.
    """
    # Computed by the database, so two writers at once each count; this first write also
    # takes the lock that keeps the next read-then-write to this transaction alone.
    execute_many(conn, _COUNT_ONE, ("_name", "_step"), [(COUNTER, 1)])
    last = read(conn).changed_at
    moment = now or datetime.now(timezone.utc)
    if last is not None:
        moment = max(moment, last + timedelta(seconds=1))
    execute_many(conn, _SET_VALUE, ("_name", "_value"), [(CHANGED_AT, _stamp(moment))])


# Every commit that brings new activities bumps the marker: its statements are built once
# and go to the driver as the poll's rows do (``dialect.execute_many``). Built and run
# by SQLAlchemy each time, the bump took 320 µs (110 µs this way, measured alone).
_NAMED = meta.c.name == bindparam("_name")
_COUNT_ONE = update(meta).where(_NAMED).values(value=cast(cast(meta.c.value, Integer) + bindparam("_step", type_=Integer), Text))
_SET_VALUE = update(meta).where(_NAMED).values(value=bindparam("_value"))


# Read on every request for a feed: a fixed statement, so that nothing is built or
# compiled each time (a fifth of the cost of the same select built with Core).
_READ = text(f"SELECT name, value FROM meta WHERE name IN ('{COUNTER}', '{CHANGED_AT}')")


def read(conn: Connection) -> ChangeMarker:
    rows = dict(conn.execute(_READ).all())
    stamp = rows.get(CHANGED_AT) or ""
    return ChangeMarker(int(rows.get(COUNTER) or 0), datetime.fromisoformat(stamp) if stamp else None)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(_STAMP)
