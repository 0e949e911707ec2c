"""The ``polls`` table: one row per poll of a source — the health history."""
from __future__ import annotations

from collections import Counter
from dataclasses import fields
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Connection

from ..models import Kind
from .rows import PollRow
from .dialect import execute_many
from .schema import accounts, polls, sources


# Written after every poll: built once, given parameters (building a statement anew
# each time cost more than running it).
_INSERT = polls.insert()
_FIELDS = tuple(field.name for field in fields(PollRow))
_LOGGED = select(sources.c.id, sources.c.poll_count).where(sources.c.id.in_(bindparam("ids", expanding=True)))
_DROP_OLDEST = delete(polls).where(
    polls.c.id.in_(
        select(polls.c.id)
        .where(polls.c.source_id == bindparam("source_id"))
        .order_by(polls.c.started_at, polls.c.id)
        .limit(bindparam("count"))
    )
)
_SET_LOGGED = update(sources).where(sources.c.id == bindparam("_id")).values(poll_count=bindparam("logged"))


def add_many(conn: Connection, rows: list[PollRow], keep: int) -> None:
    """Add polls to the log, where each source keeps its newest ``keep``: the oldest go.
    How many a source has is kept with it (``sources.poll_count``): counting them, or
    finding the ``keep``-th newest, walks the whole log of the source, and did so at
    every poll once logs were full."""
    added = Counter(row.source_id for row in rows)
    ids = list(added)
    logged: dict[int, int] = {}
    for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        logged.update(conn.execute(_LOGGED, {"ids": ids[start : start + 500]}).all())
    execute_many(conn, _INSERT, _FIELDS, [tuple(row.__dict__.values()) for row in rows])
    held = {source_id: logged.get(source_id, 0) + count for source_id, count in added.items()}
    doomed = [{"source_id": source_id, "count": count - keep} for source_id, count in held.items() if count > keep]
    if doomed:
        conn.execute(_DROP_OLDEST, doomed)
    execute_many(conn, _SET_LOGGED, ("_id", "logged"), [(source_id, min(count, keep)) for source_id, count in held.items()])


def recent(conn: Connection, source_id: int, limit: int = 20) -> list[PollRow]:
    query = (
        select(polls)
        .where(polls.c.source_id == source_id)
        .order_by(polls.c.started_at.desc(), polls.c.id.desc())
        .limit(limit)
    )
    return [_row(r) for r in conn.execute(query)]


def _row(r) -> PollRow:
    return PollRow(r.source_id, r.started_at, r.duration_ms, r.outcome, r.http_status, r.bytes, r.new_entries, r.changed_entries, r.new_activities, r.message, r.present_entries)


def recent_by_source(conn: Connection, limit: int) -> dict[int, list[PollRow]]:
    """The last ``limit`` polls of every source, newest first, in one query."""
    rank = func.row_number().over(partition_by=polls.c.source_id, order_by=(polls.c.started_at.desc(), polls.c.id.desc()))
    ranked = select(polls, rank.label("rank")).subquery()
    query = select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.source_id, ranked.c.rank)
    found: dict[int, list[PollRow]] = {}
    for r in conn.execute(query):
        found.setdefault(r.source_id, []).append(_row(r))
    return found


def list_lengths(conn: Connection, kind: Kind, since: datetime) -> list[tuple[str, datetime, int]]:
    """(account name, poll time, entries listed) for the good polls of sources of
    ``kind`` since ``since``, oldest first: how long a list was over time."""
    query = (
        select(accounts.c.name, polls.c.started_at, polls.c.present_entries)
        .join(sources, sources.c.id == polls.c.source_id)
        .join(accounts, accounts.c.id == sources.c.account_id)
        .where(sources.c.kind == kind.value, polls.c.started_at >= since, polls.c.present_entries.is_not(None))
        .order_by(polls.c.started_at, polls.c.id)
    )
    return [(r.name, r.started_at, r.present_entries) for r in conn.execute(query)]
