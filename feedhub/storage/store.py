"""The storage facade: opens the database, migrates it, and runs each unit of work
in one transaction."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..models import Activity, Entry, Verb
from ..urls import redact
from . import accounts, activities, entries, polls, sources
from .rows import AccountRow, NewSource, PollRow, PollWrite, SourceRow
from .schema import migrate


class DuplicateError(ValueError):
    """The source or account exists already."""


class NotFoundError(LookupError):
    pass


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cursor = dbapi_conn.cursor()
            # WAL lets the web app read while the poller writes; foreign keys for cascades.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    def __init__(self, url: str):
        self.engine = _engine(url)
        with self.engine.begin() as conn:
            self.schema_version = migrate(conn)

    def close(self) -> None:
        self.engine.dispose()

    # accounts and sources -------------------------------------------------------

    def add_account(
        self,
        name: str,
        key: str,
        feeds_url: str | None,
        new_sources: Sequence[NewSource],
        interval: int,
        now: datetime,
    ) -> tuple[AccountRow, list[SourceRow]]:
        """Create an account with its sources, all or nothing."""
        with self.engine.begin() as conn:
            if accounts.by_name(conn, name):
                raise DuplicateError(f"an account named {name!r} exists already")
            if accounts.by_key(conn, key):
                raise DuplicateError(f"this account exists already (as {accounts.by_key(conn, key).name!r})")
            taken = sources.existing_hashes(conn, [sources.url_hash(s.url, s.kind) for s in new_sources])
            dupes = [s.url_display for s in new_sources if sources.url_hash(s.url, s.kind) in taken]
            if dupes:
                raise DuplicateError("already added: " + ", ".join(dupes))
            try:
                account_id = accounts.insert(conn, name, key, feeds_url, redact(feeds_url) if feeds_url else None, now)
                ids = [sources.insert(conn, account_id, s, interval, now) for s in new_sources]
            except IntegrityError:
                raise DuplicateError("a source in this list was given twice") from None
            return accounts.by_id(conn, account_id), [sources.by_id(conn, i) for i in ids]

    def accounts(self) -> list[AccountRow]:
        with self.engine.connect() as conn:
            return accounts.all(conn)

    def account(self, name: str) -> AccountRow:
        with self.engine.connect() as conn:
            row = accounts.by_name(conn, name)
        if row is None:
            raise NotFoundError(f"no account named {name!r}")
        return row

    def remove_account(self, name: str) -> None:
        account = self.account(name)
        with self.engine.begin() as conn:
            accounts.delete(conn, account.id)

    def sources(self, account_id: int | None = None) -> list[SourceRow]:
        with self.engine.connect() as conn:
            return sources.all(conn, account_id)

    def source(self, source_id: int) -> SourceRow:
        with self.engine.connect() as conn:
            row = sources.by_id(conn, source_id)
        if row is None:
            raise NotFoundError(f"no source with id {source_id}")
        return row

    def due_sources(self, now: datetime, limit: int = 1000) -> list[SourceRow]:
        with self.engine.connect() as conn:
            return sources.due(conn, now, limit)

    def next_due_at(self) -> datetime | None:
        with self.engine.connect() as conn:
            return sources.next_due_at(conn)

    def set_source_state(self, source_id: int, state: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            sources.set_state(conn, source_id, state, now)

    # polling --------------------------------------------------------------------

    def previous_entries(self, source: SourceRow, keys: list[str]) -> dict[str, Entry] | None:
        """What decide compares a new snapshot with; None before the first good poll."""
        if source.last_success_at is None:
            return None
        with self.engine.connect() as conn:
            if source.kind.is_list:
                return entries.present(conn, source.id)
            return entries.by_keys(conn, source.id, keys)

    def save_poll(self, write: PollWrite) -> int:
        """Commit one poll's results at once; return how many activities were new."""
        with self.engine.begin() as conn:
            entries.write(conn, write.source_id, write.new_entries, write.changed_entries, write.gone_keys, write.poll.started_at)
            added = activities.add(conn, write.account_id, write.activities, write.poll.started_at)
            poll = PollRow(**{**write.poll.__dict__, "new_activities": added})
            polls.add(conn, poll)
            sources.update_after_poll(conn, write.source_id, write.source_values)
        return added

    def recent_polls(self, source_id: int, limit: int = 20) -> list[PollRow]:
        with self.engine.connect() as conn:
            return polls.recent(conn, source_id, limit)

    # reading activities ------------------------------------------------------------

    def activities(
        self,
        *,
        accounts_named: frozenset[str] | None = None,
        verbs: frozenset[Verb] | None = None,
        min_rating: float | None = None,
        text: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[tuple[str, Activity]]:
        """(account name, activity) rows, newest first (None: no condition)."""
        with self.engine.connect() as conn:
            return activities.recent(
                conn, accounts_named=accounts_named, verbs=verbs, min_rating=min_rating, text=text, since=since, limit=limit
            )

    def activities_about(self, title_keys: list[str], accounts_named: frozenset[str] | None) -> list[tuple[str, Activity]]:
        """Every activity of these accounts (None: all) about these titles."""
        with self.engine.connect() as conn:
            return activities.about_titles(conn, title_keys, accounts_named)

    def activity_count(self) -> int:
        with self.engine.connect() as conn:
            return activities.count(conn)

    def last_change(self) -> datetime | None:
        with self.engine.connect() as conn:
            return activities.latest_change(conn)
