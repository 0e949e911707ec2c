"""The ``activities`` table: what happened, with ids that never change."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from ..models import Activity, Kind
from .codec import dump, load_activity
from .dialect import insert_ignore
from .schema import accounts, activities


def add(conn: Connection, account_id: int, items: Iterable[Activity], now: datetime) -> int:
    """Insert activities not seen before (by id); return how many were new."""
    rows = [
        dict(
            id=a.id,
            account_id=account_id,
            verb=a.verb.value,
            kind=a.verb.kind.value,
            title_key=a.title.key,
            title_name=a.title.name,
            rating=a.rating,
            occurred_at=a.occurred_at,
            data=dump(a),
            created_at=now,
        )
        for a in items
    ]
    if not rows:
        return 0
    ids = [r["id"] for r in rows]
    before = conn.execute(select(func.count()).select_from(activities).where(activities.c.id.in_(ids))).scalar_one()
    conn.execute(insert_ignore(conn, activities, ["id"]), rows)
    return len(set(ids)) - before


def recent(
    conn: Connection,
    *,
    accounts_named: frozenset[str] | None = None,
    kinds: frozenset[Kind] | None = None,
    min_rating: float | None = None,
    text: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[tuple[str, Activity]]:
    """(account name, activity) pairs, newest first, filtered in SQL."""
    query = select(accounts.c.name, activities.c.data).join(accounts, accounts.c.id == activities.c.account_id)
    if accounts_named:
        query = query.where(accounts.c.name.in_(sorted(accounts_named)))
    if kinds:
        query = query.where(activities.c.kind.in_(sorted(k.value for k in kinds)))
    if min_rating is not None:
        query = query.where(activities.c.rating >= min_rating)
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(or_(func.lower(activities.c.title_name).like(pattern), func.lower(accounts.c.name).like(pattern)))
    if since is not None:
        query = query.where(activities.c.occurred_at >= since)
    query = query.order_by(activities.c.occurred_at.desc(), activities.c.id).limit(limit)
    return [(r.name, load_activity(r.data)) for r in conn.execute(query)]


def same_titles(conn: Connection, title_keys: list[str]) -> list[tuple[str, Activity]]:
    """Every activity about these titles, for saying who else did the same."""
    if not title_keys:
        return []
    query = (
        select(accounts.c.name, activities.c.data)
        .join(accounts, accounts.c.id == activities.c.account_id)
        .where(activities.c.title_key.in_(title_keys[:500]))
    )
    return [(r.name, load_activity(r.data)) for r in conn.execute(query)]


def latest_change(conn: Connection) -> datetime | None:
    return conn.execute(select(func.max(activities.c.created_at))).scalar()


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(activities)).scalar_one()
