"""The ``activities`` table: what happened, with ids that never change."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Iterable

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.engine import Connection, Dialect

from ..decide import TAG_PREFIX
from ..models import Activity, Verb
from .codec import dump, load_activity
from .dialect import Rows, insert_ignore, prepare, write as write_rows
from .schema import accounts, activities


def stored_id(activity_id: str) -> str:
    """The key an activity is stored under: its id without the prefix every id shares
    (``decide.TAG_PREFIX``). Its index holds it: with the whole URI, that index was 1.7
    times as large (18 MiB for 250,000 activities), and a cold cycle of 10,000 feeds,
    whose new activities land all over it, read pages back from the disk 800,000 times
    (470,000 without). Ordered as the ids are; the feeds show the ids as they are."""
    return activity_id.removeprefix(TAG_PREFIX)


@dataclass(frozen=True)
class NewActivities:
    """Activities made ready to insert (``prepare_new``): their rows and distinct stored
    ids (``stored_id``)."""

    rows: Rows | None
    ids: tuple[str, ...]


def prepare_new(dialect: Dialect, account_id: int, items: Iterable[Activity], now: datetime) -> NewActivities:
    # In id order: two polls adding the same activities at once (a queue and its recent
    # additions) then lock the same rows in the same order, so PostgreSQL never deadlocks.
    ordered = sorted(items, key=_by_id)
    rows = [
        (
            stored_id(a.id), account_id, a.verb.value, a.verb.kind.value, a.title.key, a.title.name, a.title.name.casefold(),
            a.rating, a.occurred_at, dump(a), now,
        )
        for a in ordered
    ]
    ids = tuple(dict.fromkeys(row[0] for row in rows))
    return NewActivities(prepare(dialect, insert_ignore(dialect, activities, ["id"]), _NEW_KEYS, rows), ids)


_NEW_KEYS = (
    "id", "account_id", "verb", "kind", "title_key", "title_name", "search_text", "rating", "occurred_at", "data", "created_at",
)
_by_id = attrgetter("id")


def add(conn: Connection, new: NewActivities) -> int:
    """Insert prepared activities, those not seen before (by id); return how many were new."""
    if not new.ids:
        return 0
    if conn.dialect.name == "sqlite":
        # sqlite3 sums what each row's insert changed, and a row ignored as a conflict
        # changes nothing: the count of new ones, without a query first.
        return write_rows(conn, new.rows)
    before = conn.execute(_COUNT_KNOWN, {"ids": list(new.ids)}).scalar_one()
    write_rows(conn, new.rows)
    return len(new.ids) - before


# Built once: it runs on every poll that found activities.
_COUNT_KNOWN = select(func.count()).select_from(activities).where(activities.c.id.in_(bindparam("ids", expanding=True)))


def recent(
    conn: Connection,
    *,
    accounts_named: frozenset[str] | None = None,
    verbs: frozenset[Verb] | None = None,
    min_rating: float | None = None,
    text: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    channel_text: str | None = None,
) -> list[tuple[str, Activity]]:
    """(account name, activity) pairs, newest first, filtered in SQL the same way
    ``merge.TimelineFilter.matches`` filters (None: no condition)."""
    query = _joined()
    if accounts_named is not None:
        query = query.where(accounts.c.name.in_(sorted(accounts_named)))
    if verbs is not None:
        query = query.where(activities.c.verb.in_(sorted(v.value for v in verbs)))
    if min_rating is not None:
        query = query.where(activities.c.rating >= min_rating)
    for needle in [t.casefold() for t in (text, channel_text) if t]:
        # Account names are few: match them here with the same casefold as merge.
        names = [n for n in conn.execute(select(accounts.c.name)).scalars() if needle in n.casefold()]
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(activities.c.search_text.like(pattern, escape="\\"), accounts.c.name.in_(names)))
    if since is not None:
        query = query.where(activities.c.occurred_at >= since)
    query = query.order_by(activities.c.occurred_at.desc(), activities.c.id).limit(limit)
    return [(r.name, load_activity(r.data)) for r in conn.execute(query)]


def doers(conn: Connection, title_keys: list[str], accounts_named: frozenset[str] | None) -> set[tuple[str, Verb, str]]:
    """(account name, verb, title key) of every activity of these accounts about these
    titles, for saying who else did the same (``TimelineItem.also``). Only those three
    columns: a title many people acted on must not load all their activities."""
    found: set[tuple[str, Verb, str]] = set()
    for start in range(0, len(title_keys), 500):
        query = (
            select(accounts.c.name, activities.c.verb, activities.c.title_key)
            .distinct()
            .join(accounts, accounts.c.id == activities.c.account_id)
            .where(activities.c.title_key.in_(title_keys[start : start + 500]))
        )
        if accounts_named is not None:
            query = query.where(accounts.c.name.in_(sorted(accounts_named)))
        found.update((r.name, Verb(r.verb), r.title_key) for r in conn.execute(query))
    return found


def _joined():
    return select(accounts.c.name, activities.c.data).join(accounts, accounts.c.id == activities.c.account_id)


def daily_counts(conn: Connection, since: datetime) -> list[tuple[str, date, int]]:
    """(account name, UTC day, activities that day) since ``since``."""
    day = func.date(activities.c.occurred_at)  # stored as UTC on both databases
    query = (
        select(accounts.c.name, day.label("day"), func.count().label("n"))
        .join(accounts, accounts.c.id == activities.c.account_id)
        .where(activities.c.occurred_at >= since)
        .group_by(accounts.c.name, day)
    )
    # SQLite answers date() with text, PostgreSQL with a date.
    return [(r.name, date.fromisoformat(str(r.day)), r.n) for r in conn.execute(query)]


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(activities)).scalar_one()
