"""The ``polls`` table: one row per poll of a source — the health history."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .rows import PollRow
from .schema import polls


def add(conn: Connection, row: PollRow) -> None:
    conn.execute(polls.insert().values(**row.__dict__))


def recent(conn: Connection, source_id: int, limit: int = 20) -> list[PollRow]:
    query = (
        select(polls)
        .where(polls.c.source_id == source_id)
        .order_by(polls.c.started_at.desc(), polls.c.id.desc())
        .limit(limit)
    )
    return [
        PollRow(r.source_id, r.started_at, r.duration_ms, r.outcome, r.http_status, r.bytes, r.new_entries, r.changed_entries, r.new_activities, r.message)
        for r in conn.execute(query)
    ]
