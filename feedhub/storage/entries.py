"""The ``entries`` table: everything a source ever showed, kept after it leaves the
source's window (feedhub is the history the source does not keep)."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ..models import Entry
from .codec import dump, load_entry
from .dialect import insert_ignore
from .schema import entries


def present(conn: Connection, source_id: int) -> dict[str, Entry]:
    query = select(entries.c.key, entries.c.data).where(entries.c.source_id == source_id, entries.c.present.is_(True))
    return {r.key: load_entry(r.data) for r in conn.execute(query)}


def by_keys(conn: Connection, source_id: int, keys: list[str]) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
        chunk = keys[start : start + 500]
        query = select(entries.c.key, entries.c.data).where(entries.c.source_id == source_id, entries.c.key.in_(chunk))
        found.update({r.key: load_entry(r.data) for r in conn.execute(query)})
    return found


def write(conn: Connection, source_id: int, new: Iterable[tuple[str, Entry]], changed: Iterable[tuple[str, Entry]], gone: Iterable[str], now: datetime) -> None:
    rows = [dict(source_id=source_id, key=k, data=dump(e), present=True, first_seen=now, last_seen=now) for k, e in new]
    if rows:
        conn.execute(insert_ignore(conn, entries, ["source_id", "key"]), rows)
    for key, entry in changed:
        conn.execute(
            update(entries)
            .where(entries.c.source_id == source_id, entries.c.key == key)
            .values(data=dump(entry), present=True, last_seen=now)
        )
    gone = list(gone)
    for start in range(0, len(gone), 500):
        conn.execute(
            update(entries)
            .where(entries.c.source_id == source_id, entries.c.key.in_(gone[start : start + 500]))
            .values(present=False)
        )
