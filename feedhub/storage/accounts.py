"""The ``accounts`` table."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.engine import Connection

from .rows import AccountRow
from .schema import accounts, credentials


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


def rename(conn: Connection, account_id: int, name: str) -> None:
    conn.execute(update(accounts).where(accounts.c.id == account_id).values(name=name))


def set_feeds_url(conn: Connection, account_id: int, feeds_url: str, feeds_url_display: str) -> None:
    conn.execute(update(accounts).where(accounts.c.id == account_id).values(feeds_url=feeds_url, feeds_url_display=feeds_url_display))


def due_for_feeds(conn: Connection, now: datetime, added_before: datetime) -> list[AccountRow]:
    """Accounts with a feeds list (its URL, or OAuth credentials) due to be read again;
    one not read since it was added is due once it was added before ``added_before``."""
    has_list = or_(accounts.c.feeds_url.is_not(None), exists().where(credentials.c.account_id == accounts.c.id))
    due = or_(accounts.c.feeds_due_at <= now, and_(accounts.c.feeds_due_at.is_(None), accounts.c.created_at <= added_before))
    return [_row(r) for r in conn.execute(select(accounts).where(has_list, due).order_by(accounts.c.id))]


def record_feeds_check(conn: Connection, account_id: int, outcome: str, message: str, due_at: datetime, now: datetime) -> None:
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(feeds_checked_at=now, feeds_outcome=outcome, feeds_message=message, feeds_due_at=due_at)
    )


def delete(conn: Connection, account_id: int) -> None:
    conn.execute(accounts.delete().where(accounts.c.id == account_id))
