"""The ``sources`` table: one row per polled URL, with its validators and health."""
from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, case, func, literal, select, update
from sqlalchemy.engine import Connection, Dialect

from ..crypto import Cipher
from ..models import Kind
from ..urls import redact
from .dialect import Rows, prepare
from .rows import NewSource, SourceRow
from .schema import accounts, entries, sources
from .sealed import cipher_of


def url_hash(url: str, kind: Kind) -> str:
    """Duplicate detection without indexing the secret itself. The kind is part of it
    because one URL may serve two views (see ``discover.kind_of``)."""
    return hashlib.sha256(f"{kind.value} {url.strip()}".encode("utf-8")).hexdigest()


# The columns of a ``SourceRow``, in the order of its fields: a row is then made from
# the result's values by position (reading two dozen columns by name cost twice as
# much as the query, in every cycle's reading of the sources due).
_ACCOUNT_COLUMNS = {"account_name": accounts.c.name, "account_key": accounts.c.key}
_SELECTED = [
    _ACCOUNT_COLUMNS[f.name].label(f.name) if f.name in _ACCOUNT_COLUMNS else sources.c[f.name] for f in fields(SourceRow)
]


def _query():
    return select(*_SELECTED).join(accounts, accounts.c.id == sources.c.account_id)


def _row(r) -> SourceRow:
    source_id, account_id, account_name, account_key, kind, *rest = r
    return SourceRow(source_id, account_id, account_name, account_key, Kind(kind), *rest)


def insert(conn: Connection, account_id: int, new: NewSource, interval: int, now: datetime) -> int:
    result = conn.execute(
        sources.insert().values(
            account_id=account_id,
            kind=new.kind.value,
            title=new.title,
            url=new.url,
            url_display=new.url_display,
            url_hash=url_hash(new.url, new.kind),
            state="active",
            next_due_at=now,
            interval_seconds=interval,
            error_count=0,
            entry_count=0,
            created_at=now,
        )
    )
    return int(result.inserted_primary_key[0])


def existing_hashes(conn: Connection, hashes: list[str]) -> set[str]:
    """Those of ``hashes`` that a source has (the column keeps them keyed: see ``sealed.Fingerprint``)."""
    if not hashes:
        return set()
    stored = set(conn.execute(select(sources.c.url_hash).where(sources.c.url_hash.in_(hashes))).scalars())
    cipher = cipher_of(conn.dialect)
    return {h for h in hashes if cipher.fingerprint(h) in stored}


def refingerprint(conn: Connection, cipher: Cipher) -> None:
    """Key every source's ``url_hash`` with ``cipher`` (the secret key is changing);
    the URLs are read with the engine's current key."""
    for r in conn.execute(select(sources.c.id, sources.c.url, sources.c.kind)).all():
        keyed = literal(cipher.fingerprint(url_hash(r.url, Kind(r.kind))), String)
        conn.execute(update(sources).where(sources.c.id == r.id).values(url_hash=keyed))


def all(conn: Connection, account_id: int | None = None) -> list[SourceRow]:
    query = _query().order_by(accounts.c.name, sources.c.id)
    if account_id is not None:
        query = query.where(sources.c.account_id == account_id)
    return [_row(r) for r in conn.execute(query)]


def by_id(conn: Connection, source_id: int) -> SourceRow | None:
    r = conn.execute(_query().where(sources.c.id == source_id)).first()
    return _row(r) if r else None


def due(conn: Connection, now: datetime, limit: int) -> list[SourceRow]:
    query = (
        _query()
        .where(sources.c.state == "active", sources.c.next_due_at <= now)
        .order_by(sources.c.next_due_at)
        .limit(limit)
    )
    return [_row(r) for r in conn.execute(query)]


def next_due_at(conn: Connection) -> datetime | None:
    return conn.execute(select(func.min(sources.c.next_due_at)).where(sources.c.state == "active")).scalar()


_ENTRY_COUNT = select(func.count()).select_from(entries).where(entries.c.source_id == bindparam("_id")).scalar_subquery()
# Built once: they run after every poll.
_UPDATE = update(sources).where(sources.c.id == bindparam("_id"))
_UPDATE_COUNTING = _UPDATE.values(entry_count=_ENTRY_COUNT)


def after_poll(dialect: Dialect, source_id: int, values: dict[str, Any], entries_changed: bool = True) -> Rows:
    """The update that stores a poll's effect on its source, ready to write (see
    ``dialect.prepare``); it counts the entries again only when the poll wrote entries
    (not after a 304)."""
    statement = _UPDATE_COUNTING if entries_changed else _UPDATE
    return prepare(dialect, statement, (*values, "_id"), [(*values.values(), source_id)], as_executed=True)


def replace_url(conn: Connection, source_id: int, new: NewSource, now: datetime) -> None:
    """Give a source a new URL (new tokens), keeping its id and so its entries and
    activities; its health starts afresh and it is due at once (one its person paused
    stays paused). The old validators belonged to the old URL."""
    conn.execute(
        update(sources)
        .where(sources.c.id == source_id)
        .values(
            url=new.url,
            url_display=new.url_display,
            url_hash=url_hash(new.url, new.kind),
            state=case((sources.c.state == "paused", "paused"), else_="active"),
            etag=None,
            last_modified=None,
            error_count=0,
            next_due_at=now,
        )
    )


def stop(conn: Connection, source_id: int, state: str, message: str) -> None:
    """Stop polling a source (``needs_token``, ``retired``), saying why."""
    conn.execute(update(sources).where(sources.c.id == source_id).values(state=state, last_message=message))


def move(conn: Connection, source_id: int, url: str, kind: Kind) -> bool:
    """Give a source the URL its feed moved to (a confirmed 301/308), keeping its id,
    entries, validators and health; False when another source has that URL already."""
    if existing_hashes(conn, [url_hash(url, kind)]):
        return False
    conn.execute(
        update(sources)
        .where(sources.c.id == source_id)
        .values(url=url, url_display=redact(url), url_hash=url_hash(url, kind), moved_to=None, moved_count=0)
    )
    return True


def wait_for_tokens(conn: Connection, account_id: int, message: str) -> None:
    """Pause every active source of an account until it has new tokens (``needs_token``):
    one refused token usually means the account's access was revoked, and polling the
    others would only be refused again. Paused and retired sources stay as they are."""
    conn.execute(
        update(sources)
        .where(sources.c.account_id == account_id, sources.c.state == "active")
        .values(state="needs_token", last_message=message)
    )


def enable(conn: Connection, source_ids: list[int], now: datetime) -> None:
    """Poll these sources again from now on, their failures forgotten."""
    conn.execute(update(sources).where(sources.c.id.in_(source_ids)).values(state="active", error_count=0, next_due_at=now))


def set_state(conn: Connection, source_id: int, state: str, now: datetime) -> None:
    conn.execute(update(sources).where(sources.c.id == source_id).values(state=state, next_due_at=now))
