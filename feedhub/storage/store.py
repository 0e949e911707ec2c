"""The storage facade: opens the database, migrates it, and runs each unit of work
in one transaction."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Sequence

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..crypto import Cipher
from ..fetch import Outcome
from ..models import Activity, Entry, Kind, Verb
from ..urls import redact
from . import accounts, activities, changes, channels, credentials, entries, polls, previews, sources
from ..channels import Channel, ChannelSpec
from .changes import ChangeMarker
from .checkpoint import Checkpointer
from .dialect import Rows, write_all
from .retention import Pruned, Retention, prune
from .rows import AccountRow, CredentialsRow, NewSource, PollRow, PollWrite, SourceRow
from .schema import migrate
from .sealed import check_key, cipher_of, reseal, seal


log = logging.getLogger(__name__)

# Polls after which the stored entries are what the source lists.
_HEALTHY = frozenset(outcome.value for outcome in Outcome if outcome.healthy)
# The poll log keeps this many polls per source, the newest: a month at the default
# 15-minute interval (the dashboard pictures 30 days of them), and a bound at any.
POLL_LOG_SIZE = 3000
PAUSED_FOR_TOKENS = "paused: a feed of this account refused its token (401/403); give the account new tokens, then `feedhub resume`"


@dataclass(frozen=True)
class PreparedPoll:
    """A poll's write made ready to commit (``Store.prepare_poll``): plain rows, cheap
    to hand to another process."""

    write: PollWrite  # without its new entries and activities: they are the rows below
    new_keys: tuple[str, ...]
    writes_entries: bool
    new_entries: Rows | None
    new_activities: activities.NewActivities
    update: Rows


def _writes_entries(write: PollWrite) -> bool:
    """Whether ``write`` itself adds or changes entries (retention may delete some too)."""
    return bool(write.new_entries or write.changed_entries or write.gone_keys)


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
            # SQLite's 2 MiB page cache held a fraction of the index pages a batch of new
            # activities touches (their keys are hashes, spread over the whole index), so
            # each batch read them again. 32 MiB: a cold cycle of 3,000 feeds read 60% less
            # and wrote a third less.
            cursor.execute("PRAGMA cache_size=-32768")
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # the Checkpointer's thread does it
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    def __init__(self, url: str, cipher: Cipher, retention: Retention = Retention()):
        """Open (and migrate) the database; ``cipher`` seals its secrets and must be the
        one they were sealed with (``crypto.SecretKeyError`` otherwise). ``retention``
        limits the archive after each poll (off by default)."""
        self.engine = _engine(url)
        self.retention = retention
        self._checkpointer: Checkpointer | None = None
        seal(self.engine, cipher)
        with self.engine.begin() as conn:
            self.schema_version = migrate(conn)
            check_key(conn, cipher)
            opened = datetime.now(timezone.utc)
            changes.ensure(conn, opened)
            channels.make_defaults(conn, opened)
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if database and database != ":memory:":
            self._checkpointer = Checkpointer(self.engine, database)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.engine.dispose()

    def reseal(self, new: Cipher) -> int:
        """Re-encrypt every stored secret with ``new`` (``feedhub rotate-key``), all in
        one transaction; return how many values were re-encrypted."""
        old = cipher_of(self.engine.dialect)
        with self.engine.begin() as conn:
            sources.refingerprint(conn, new)  # reads the URLs with the old key: first
            count = reseal(conn, old, new)
        seal(self.engine, new)
        return count

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
            channels.make_for_account(conn, account_id, name, now)
            changes.bump(conn, now)
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

    def account_by_id(self, account_id: int) -> AccountRow:
        with self.engine.connect() as conn:
            row = accounts.by_id(conn, account_id)
        if row is None:
            raise NotFoundError(f"no account with id {account_id}")
        return row

    def rename_account(self, account_id: int, name: str) -> AccountRow:
        """Give an account a new name; its key, and so its activities' ids, stay."""
        with self.engine.begin() as conn:
            if accounts.by_id(conn, account_id) is None:
                raise NotFoundError(f"no account with id {account_id}")
            other = accounts.by_name(conn, name)
            if other is not None and other.id != account_id:
                raise DuplicateError(f"an account named {name!r} exists already")
            accounts.rename(conn, account_id, name)
            changes.bump(conn)
            return accounts.by_id(conn, account_id)

    def renew_account(
        self,
        account_id: int,
        feeds_url: str | None,
        replaced: Sequence[tuple[int, NewSource]],
        added: Sequence[NewSource],
        interval: int,
        now: datetime,
    ) -> list[SourceRow]:
        """Give an account's sources new URLs (new tokens) and add the feeds its new
        list has that it lacked, all or nothing; ids, entries and activities stay.
        Returns the replaced and added sources, due now (a paused one stays paused)."""
        with self.engine.begin() as conn:
            mine = {s.id for s in sources.all(conn, account_id)}
            if any(source_id not in mine for source_id, _ in replaced):
                raise NotFoundError("a source to renew is not in this account")
            renewed = {source_id for source_id, _ in replaced}
            others = {sources.url_hash(s.url, s.kind) for s in sources.all(conn) if s.id not in renewed}
            taken = [n.url_display for n in [n for _, n in replaced] + list(added) if sources.url_hash(n.url, n.kind) in others]
            if taken:
                raise DuplicateError("already added: " + ", ".join(taken))
            if feeds_url is not None:
                accounts.set_feeds_url(conn, account_id, feeds_url, redact(feeds_url))
            for source_id, new in replaced:
                sources.replace_url(conn, source_id, new, now)
            ids = [source_id for source_id, _ in replaced]
            ids += [sources.insert(conn, account_id, new, interval, now) for new in added]
            return [sources.by_id(conn, i) for i in ids]

    def taken_sources(self, new_sources: Sequence[NewSource]) -> set[str]:
        """The display URLs of those ``new_sources`` that exist already."""
        hashes = {sources.url_hash(s.url, s.kind): s.url_display for s in new_sources}
        with self.engine.connect() as conn:
            return {hashes[h] for h in sources.existing_hashes(conn, list(hashes))}

    def remove_account(self, name: str) -> None:
        account = self.account(name)
        with self.engine.begin() as conn:
            accounts.delete(conn, account.id)
            changes.bump(conn)

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

    # connected accounts and their feeds lists ------------------------------------------

    def account_by_key(self, key: str) -> AccountRow | None:
        with self.engine.connect() as conn:
            return accounts.by_key(conn, key)

    def save_credentials(self, row: CredentialsRow, now: datetime) -> None:
        """Keep (or replace) an account's OAuth credentials, encrypted."""
        with self.engine.begin() as conn:
            credentials.save(conn, row, now)

    def credentials(self, account_id: int) -> CredentialsRow | None:
        with self.engine.connect() as conn:
            return credentials.of_account(conn, account_id)

    def accounts_with_feeds_due(self, now: datetime, added_before: datetime) -> list[AccountRow]:
        """Accounts whose feeds list is due to be read again (see ``feeds_list``)."""
        with self.engine.connect() as conn:
            return accounts.due_for_feeds(conn, now, added_before)

    def record_feeds_check(
        self,
        account_id: int,
        outcome: str,
        message: str,
        due_at: datetime,
        now: datetime,
        stopped: Sequence[tuple[int, str, str]] = (),
    ) -> None:
        """How reading an account's feeds list went, and the sources it stopped
        ((id, state, why) triples), in one transaction."""
        with self.engine.begin() as conn:
            accounts.record_feeds_check(conn, account_id, outcome, message, due_at, now)
            for source_id, state, why in stopped:
                sources.stop(conn, source_id, state, why)

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
        return self.save_polls([write])[0]

    def prepare_poll(self, write: PollWrite) -> PreparedPoll:
        """``write`` made ready for ``save_polls``: its rows converted for the driver.
        Needs no connection, so it can be done in another thread or process than the
        commit (see ``poll_workers``)."""
        dialect = self.engine.dialect
        return PreparedPoll(
            # The new entries and activities are in the rows now: not carried twice.
            replace(write, new_entries=(), activities=()) if write.new_entries or write.activities else write,
            tuple(key for key, _ in write.new_entries),
            _writes_entries(write),
            entries.new_rows(dialect, write.source_id, write.new_entries, write.poll.started_at),
            activities.prepare_new(dialect, write.account_id, write.activities, write.poll.started_at),
            sources.after_poll(dialect, write.source_id, write.source_values, entries_changed=_writes_entries(write)),
        )

    def save_polls(self, writes: Sequence[PollWrite | PreparedPoll]) -> list[int]:
        """Commit the results of several polls in one transaction; return, for each, how
        many activities were new. Each write is applied as if committed alone, in order;
        sharing the commit (the costliest step of storing a poll) is all they share.
        All or nothing: a caller whose batch fails can save its writes one by one."""
        # The rows are made ready first, if they are not yet: another process's writes
        # wait for this transaction (SQLite has one writer at a time), so it holds only
        # the writing.
        prepared = [w if isinstance(w, PreparedPoll) else self.prepare_poll(w) for w in writes]
        if self._checkpointer is not None:
            self._checkpointer.catch_up()
        with self.engine.begin() as conn:
            # Each poll's update of its source waits here, to go to the driver with the
            # others in one executemany (see _apply for what may not wait).
            updates: list[Rows] = []
            added = [self._apply(conn, ready, updates) for ready in prepared]
            write_all(conn, updates)
            polls.add_many(conn, [poll for poll, _, _ in added], POLL_LOG_SIZE)
            changed = [ready.write.poll.started_at for ready, (_, _, bump) in zip(prepared, added) if bump]
            if changed:
                changes.bump(conn, max(changed))
        return [count for _, count, _ in added]

    def _apply(self, conn, ready: PreparedPoll, updates: list[Rows]) -> tuple[PollRow, int, bool]:
        """One poll's writes but its poll-log row: (that row, new activities, whether
        what channels show changed). Its source's update joins ``updates``, written
        later all together, or at once before a statement that changes sources too."""
        write = ready.write
        entries.write(
            conn, write.source_id, ready.new_entries, ready.new_keys, write.changed_entries,
            write.gone_keys, write.poll.started_at, seen=write.seen_keys,
        )
        added = activities.add(conn, ready.new_activities)
        pruned = self._prune(conn, write)
        # After a 304 the list is as it was: no point to add to the queue-length picture.
        read = write.poll.outcome == Outcome.OK.value
        present = entries.count_present(conn, write.source_id) if read and write.count_present else None
        poll = PollRow(**{**write.poll.__dict__, "new_activities": added, "present_entries": present})
        update = ready.update
        if pruned.entries and not ready.writes_entries:  # the entry count changed after all
            update = sources.after_poll(conn.dialect, write.source_id, write.source_values, entries_changed=True)
        updates.append(update)
        if write.pause_account or write.moved_url:
            # These change sources rows too: the updates before them are written first.
            write_all(conn, updates)
            updates.clear()
        if write.pause_account:
            sources.wait_for_tokens(conn, write.account_id, PAUSED_FOR_TOKENS)
        if write.moved_url and not sources.move(conn, write.source_id, write.moved_url, sources.by_id(conn, write.source_id).kind):
            log.warning("source #%d moved to a URL another source has already; it keeps its own", write.source_id)
        return poll, added, bool(added or pruned.activities)

    def _prune(self, conn, write: PollWrite) -> Pruned:
        """Retention after a successful poll (see ``retention``)."""
        if not self.retention.enabled or write.poll.outcome not in _HEALTHY:
            return Pruned()
        source = sources.by_id(conn, write.source_id)
        read = write.poll.outcome == Outcome.OK.value  # a snapshot, whose keys are kept
        return prune(
            conn, self.retention, source_id=source.id, account_id=source.account_id, is_list=source.kind.is_list,
            keep_keys=frozenset(write.seen_keys) if read else None, now=write.poll.started_at,
        )

    def enable_source(self, source_id: int, now: datetime) -> SourceRow:
        """Poll a stopped source (retired, waiting for tokens, paused) again from now on."""
        with self.engine.begin() as conn:
            if sources.by_id(conn, source_id) is None:
                raise NotFoundError(f"no source with id {source_id}")
            sources.enable(conn, [source_id], now)
            return sources.by_id(conn, source_id)

    def resume_account(self, name: str, now: datetime) -> list[SourceRow]:
        """Poll again, from now on, the sources of account ``name`` that wait for new
        tokens (after the person fixed them); return those sources."""
        account = self.account(name)
        with self.engine.begin() as conn:
            waiting = [s.id for s in sources.all(conn, account.id) if s.state == "needs_token"]
            sources.enable(conn, waiting, now)
            return [sources.by_id(conn, i) for i in waiting]

    def recent_polls(self, source_id: int, limit: int = 20) -> list[PollRow]:
        with self.engine.connect() as conn:
            return polls.recent(conn, source_id, limit)

    def recent_polls_by_source(self, limit: int = 20) -> dict[int, list[PollRow]]:
        """The last ``limit`` polls of every source, newest first."""
        with self.engine.connect() as conn:
            return polls.recent_by_source(conn, limit)

    def list_lengths(self, kind: Kind, since: datetime) -> list[tuple[str, datetime, int]]:
        """(account name, poll time, entries listed) of the sources of ``kind``, oldest first."""
        with self.engine.connect() as conn:
            return polls.list_lengths(conn, kind, since)

    def listed_entries(self, kind: Kind) -> list[tuple[str, Entry]]:
        """(account name, entry) for what the sources of ``kind`` list now."""
        with self.engine.connect() as conn:
            return entries.present_of_kind(conn, kind)

    # previews of additions -------------------------------------------------------------

    def save_preview(self, preview_id: str, data: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            previews.save(conn, preview_id, data, now)

    def preview(self, preview_id: str, now: datetime) -> str | None:
        """A preview's data; None when it is unknown or too old."""
        with self.engine.connect() as conn:
            return previews.load(conn, preview_id, now)

    def drop_preview(self, preview_id: str) -> None:
        with self.engine.begin() as conn:
            previews.delete(conn, preview_id)

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
        channel_text: str | None = None,
    ) -> list[tuple[str, Activity]]:
        """(account name, activity) rows, newest first (None: no condition)."""
        with self.engine.connect() as conn:
            return activities.recent(
                conn,
                accounts_named=accounts_named,
                verbs=verbs,
                min_rating=min_rating,
                text=text,
                since=since,
                limit=limit,
                channel_text=channel_text,
            )

    def doers(self, title_keys: list[str], accounts_named: frozenset[str] | None) -> set[tuple[str, Verb, str]]:
        """(account name, verb, title key) of what these accounts (None: all) did to
        these titles."""
        with self.engine.connect() as conn:
            return activities.doers(conn, title_keys, accounts_named)

    def daily_activity_counts(self, since: datetime) -> list[tuple[str, date, int]]:
        """(account name, UTC day, number of activities) since ``since``."""
        with self.engine.connect() as conn:
            return activities.daily_counts(conn, since)

    def activity_count(self) -> int:
        with self.engine.connect() as conn:
            return activities.count(conn)

    # channels ---------------------------------------------------------------------

    def channels(self) -> list[Channel]:
        with self.engine.connect() as conn:
            return channels.all(conn)

    def channel(self, name: str) -> Channel:
        with self.engine.connect() as conn:
            found = channels.by_name(conn, name)
        if found is None:
            raise NotFoundError(f"no channel named {name!r}")
        return found

    def add_channel(self, spec: ChannelSpec, now: datetime) -> Channel:
        """Create a channel with a new token (``ChannelError`` for an unknown account)."""
        with self.engine.begin() as conn:
            if channels.by_name(conn, spec.name) is not None:
                raise DuplicateError(f"a channel named {spec.name!r} exists already")
            channels.insert(conn, spec, now)
            changes.bump(conn, now)
            return channels.by_name(conn, spec.name)

    def replace_channel(self, name: str, spec: ChannelSpec, now: datetime) -> Channel:
        """Give channel ``name`` a new spec (a new name too); its token stays."""
        with self.engine.begin() as conn:
            if channels.by_name(conn, name) is None:
                raise NotFoundError(f"no channel named {name!r}")
            if spec.name != name and channels.by_name(conn, spec.name) is not None:
                raise DuplicateError(f"a channel named {spec.name!r} exists already")
            channels.replace(conn, name, spec, now)
            changes.bump(conn, now)
            return channels.by_name(conn, spec.name)

    def rotate_channel_token(self, name: str, now: datetime) -> Channel:
        """A new token for the channel: the old one stops working at once."""
        with self.engine.begin() as conn:
            if channels.by_name(conn, name) is None:
                raise NotFoundError(f"no channel named {name!r}")
            channels.set_token(conn, name, now)
            changes.bump(conn, now)
            return channels.by_name(conn, name)

    def remove_channel(self, name: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            if channels.by_name(conn, name) is None:
                raise NotFoundError(f"no channel named {name!r}")
            channels.remove(conn, name)
            changes.bump(conn, now)

    def change_marker(self) -> ChangeMarker:
        """How many changes the store has seen and when the last was: one small read."""
        with self.engine.connect() as conn:
            return changes.read(conn)
