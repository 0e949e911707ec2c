"""The ``entries`` table: everything a source ever showed, kept after it leaves the
source's window (feedhub is the history the source does not keep)."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Iterable

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.engine import Connection, Dialect

from ..models import Entry, Kind
from .codec import dump, load_entry
from .dialect import Rows, prepare, read, upsert, write as write_rows
from .schema import accounts, entries, sources


# Read at every poll of a source that has entries: built once, given parameters
# (building the statement cost more than running it), and run through the driver.
_PRESENT = select(entries.c.key, entries.c.data).where(entries.c.source_id == bindparam("source_id"), entries.c.present.is_(True))


def present(conn: Connection, source_id: int) -> dict[str, Entry]:
    return {key: load_entry(data) for key, data in read(conn, _PRESENT, ("source_id",), (source_id,))}


def count_present(conn: Connection, source_id: int) -> int:
    query = select(func.count()).select_from(entries).where(entries.c.source_id == source_id, entries.c.present.is_(True))
    return conn.execute(query).scalar_one()


def present_of_kind(conn: Connection, kind: Kind) -> list[tuple[str, Entry]]:
    """(account name, entry) for what the sources of ``kind`` list now."""
    query = (
        select(accounts.c.name, entries.c.data)
        .join(sources, sources.c.id == entries.c.source_id)
        .join(accounts, accounts.c.id == sources.c.account_id)
        .where(sources.c.kind == kind.value, entries.c.present.is_(True))
    )
    return [(r.name, load_entry(r.data)) for r in conn.execute(query)]


def by_keys(conn: Connection, source_id: int, keys: list[str]) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
        part = keys[start : start + 500]
        # Padded with its last key to a power of two: a few statements serve every count.
        size = min(500, 1 << (len(part) - 1).bit_length())
        query, names = _by_keys(size)
        values = (source_id, *part, *[part[-1]] * (size - len(part)))
        found.update({key: load_entry(data) for key, data in read(conn, query, names, values)})
    return found


@lru_cache(maxsize=16)
def _by_keys(count: int) -> tuple[Select, tuple[str, ...]]:
    """The lookup of ``count`` keys, and its parameters' names, built once (an
    expanding ``IN`` is built again at every execution)."""
    names = tuple(f"key_{n}" for n in range(count))
    query = select(entries.c.key, entries.c.data).where(
        entries.c.source_id == bindparam("source_id"), entries.c.key.in_([bindparam(name) for name in names])
    )
    return query, ("source_id", *names)


def new_rows(dialect: Dialect, source_id: int, new: Iterable[tuple[str, Entry]], now: datetime) -> Rows | None:
    """The rows of a poll's ``new`` entries, ready to write (see ``dialect.prepare``)."""
    rows = [(source_id, k, dump(e), True, now, now) for k, e in new]
    # A title back in a list it had left is new to the list, but its archived row
    # exists: it comes back to life (present again, as the source shows it now).
    return prepare(dialect, upsert(dialect, entries, ["source_id", "key"], ["data", "present", "last_seen"]), _NEW_KEYS, rows)


_NEW_KEYS = ("source_id", "key", "data", "present", "first_seen", "last_seen")


def write(
    conn: Connection,
    source_id: int,
    new: Rows | None,
    new_keys: Iterable[str],
    changed: Iterable[tuple[str, Entry]],
    gone: Iterable[str],
    now: datetime,
    seen: Iterable[str] = (),
) -> None:
    """Store a poll's entries: the ``new`` ones (their rows from ``new_rows``, their keys
    ``new_keys``), ``changed`` ones, ``gone`` list entries (kept, no longer present), and
    ``seen``: every key of the snapshot, last seen ``now``."""
    write_rows(conn, new)
    written = set(new_keys)
    for key, entry in changed:
        written.add(key)
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
    untouched = [key for key in seen if key not in written]
    for start in range(0, len(untouched), 500):
        conn.execute(
            update(entries)
            .where(entries.c.source_id == source_id, entries.c.key.in_(untouched[start : start + 500]))
            .values(last_seen=now)
        )
