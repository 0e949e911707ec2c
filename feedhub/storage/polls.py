"""The ``polls`` table: one row per poll of a source — the health history."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.engine import Connection

from ..models import Kind
from .rows import PollRow
from .dialect import execute_many
from .schema import accounts, polls, sources


# Written after every poll: built once, given parameters (building a statement anew
# each time cost more than running it).
_INSERT = polls.insert()
_OLDEST_KEPT = (
    select(polls.c.started_at)
    .where(polls.c.source_id == bindparam("source_id"))
    .order_by(polls.c.started_at.desc())
    .offset(bindparam("skip"))
    .limit(1)
    .scalar_subquery()
)
_TRIM = delete(polls).where(polls.c.source_id == bindparam("source_id"), polls.c.started_at < _OLDEST_KEPT)


def add_many(conn: Connection, rows: list[PollRow]) -> None:
    execute_many(conn, _INSERT, [row.__dict__ for row in rows])


def trim(conn: Connection, source_id: int, keep: int) -> None:
    """Delete the polls of a source older than its newest ``keep``."""
    conn.execute(_TRIM, {"source_id": source_id, "skip": keep - 1})


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
