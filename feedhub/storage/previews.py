"""The ``previews`` table: what an add form found, kept from its preview to its creation.

The data is opaque JSON text to storage; ``web.admin`` writes and reads it. Previews
older than ``MAX_AGE`` are dropped whenever a new one is saved.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .schema import previews

MAX_AGE = timedelta(hours=1)


def save(conn: Connection, preview_id: str, data: str, now: datetime) -> None:
    conn.execute(previews.delete().where(previews.c.created_at < now - MAX_AGE))
    conn.execute(previews.insert().values(id=preview_id, data=data, created_at=now))


def load(conn: Connection, preview_id: str, now: datetime) -> str | None:
    query = select(previews.c.data).where(previews.c.id == preview_id, previews.c.created_at >= now - MAX_AGE)
    return conn.execute(query).scalar()


def delete(conn: Connection, preview_id: str) -> None:
    conn.execute(previews.delete().where(previews.c.id == preview_id))
