"""The ``accounts`` table."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .rows import AccountRow
from .schema import accounts


def _row(r) -> AccountRow:
    return AccountRow(r.id, r.name, r.key, r.feeds_url_display, r.created_at, r.feeds_url)


def insert(conn: Connection, name: str, key: str, feeds_url: str | None, feeds_url_display: str | None, now: datetime) -> int:
    result = conn.execute(
        accounts.insert().values(name=name, key=key, feeds_url=feeds_url, feeds_url_display=feeds_url_display, created_at=now)
    )
    return int(result.inserted_primary_key[0])


def all(conn: Connection) -> list[AccountRow]:
    return [_row(r) for r in conn.execute(select(accounts).order_by(accounts.c.name))]


def by_name(conn: Connection, name: str) -> AccountRow | None:
    r = conn.execute(select(accounts).where(accounts.c.name == name)).first()
    return _row(r) if r else None


def by_key(conn: Connection, key: str) -> AccountRow | None:
    r = conn.execute(select(accounts).where(accounts.c.key == key)).first()
    return _row(r) if r else None


def by_id(conn: Connection, account_id: int) -> AccountRow | None:
    r = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
    return _row(r) if r else None


def delete(conn: Connection, account_id: int) -> None:
    conn.execute(accounts.delete().where(accounts.c.id == account_id))
