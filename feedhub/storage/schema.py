"""Tables and migrations. The schema version is recorded in ``meta``; ``migrate``
brings any older database up to ``SCHEMA_VERSION`` when the store opens.

The same statements run on SQLite and PostgreSQL (SQLAlchemy Core).
"""
from __future__ import annotations

import logging
from datetime import timezone
from typing import Callable

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from .sealed import Fingerprint, Sealed

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database (SQLite
    keeps no zone, so values are stored as naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to storage")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    # Stable identity used in activity ids (e.g. the Netflix user id); never a secret.
    Column("key", String(300), nullable=False, unique=True),
    Column("feeds_url", Sealed()),  # secret: the feeds list this account came from, if any
    Column("feeds_url_display", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    # The living feeds list (feeds_list.py): when it is next read, and how the last read went.
    Column("feeds_due_at", UTCDateTime()),  # None: the account has no feeds list
    Column("feeds_checked_at", UTCDateTime()),
    Column("feeds_outcome", String(32)),
    Column("feeds_message", Text),
)

# OAuth 1.0a credentials of an account connected through the API (oauth_client.py).
credentials = Table(
    "credentials",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("api_base", Text, nullable=False),  # e.g. http://api.netflix.com/ (no secret)
    Column("user_id", String(200), nullable=False),
    Column("consumer_key", Sealed(), nullable=False),
    Column("consumer_secret", Sealed(), nullable=False),
    Column("access_token", Sealed(), nullable=False),
    Column("access_secret", Sealed(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("title", String(300), nullable=False),
    Column("url", Sealed(), nullable=False),  # secret: encrypted at rest
    Column("url_display", Text, nullable=False),  # redacted, for people
    # Keyed: the digest of kind and URL (sources.url_hash), as an HMAC with the secret key.
    Column("url_hash", Fingerprint(), nullable=False, unique=True),
    Column("state", String(32), nullable=False, default="active"),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_outcome", String(32)),
    Column("last_message", Text),
    Column("last_status", Integer),
    Column("last_polled_at", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("next_due_at", UTCDateTime(), nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    Column("error_count", Integer, nullable=False, default=0),
    Column("entry_count", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    # After a complete backfill of an event feed: the newest entry's time, sent as the
    # API's updated_min so that later polls read only what is new (poll.py).
    Column("updated_min", UTCDateTime()),
    # A permanent redirect (301/308) seen by the last polls, adopted once seen again
    # (schedule.plan_move): the target (secret) and how many polls in a row saw it.
    Column("moved_to", Sealed()),
    Column("moved_count", Integer, nullable=False, default=0),
    # SHA-256 of the last response read (type and body; feeds read in one request): the
    # same again is not parsed again, for servers that answer every request with a 200.
    Column("body_digest", String(64)),
    # The rows the poll log (``polls``) holds for this source, kept with each poll: the
    # log's trim reads it instead of counting them.
    Column("poll_count", Integer, nullable=False, default=0),
    Index("ix_sources_due", "state", "next_due_at"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),
    Column("data", Text, nullable=False),  # the normalized Entry as JSON
    Column("present", Boolean, nullable=False, default=True),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    UniqueConstraint("source_id", "key", name="uq_entries_source_key"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", String(120), primary_key=True),  # the stable tag: URI, less its common prefix (activities.stored_id)
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("verb", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("title_key", Text, nullable=False),
    Column("title_name", Text, nullable=False),
    Column("search_text", Text, nullable=False),  # casefolded title name, for q=
    Column("rating", Float),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("data", Text, nullable=False),  # the Activity as JSON
    Column("created_at", UTCDateTime(), nullable=False),
    # Time alone: the merge's order (newest first, then by id, ascending) cannot use an id
    # after it, which took most of the index (24 MiB for 250,000 activities; 7 without).
    Index("ix_activities_time", "occurred_at"),
    Index("ix_activities_account_time", "account_id", "occurred_at"),
    # "Also watched by": who did what to a page's titles, read from the index alone.
    Index("ix_activities_title", "title_key", "verb", "account_id"),
)

polls = Table(
    "polls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("http_status", Integer),
    Column("bytes", Integer, nullable=False, default=0),
    Column("new_entries", Integer, nullable=False, default=0),
    Column("changed_entries", Integer, nullable=False, default=0),
    Column("new_activities", Integer, nullable=False, default=0),
    Column("message", Text),
    # Entries the source listed after this poll (a queue's length); None when it failed.
    Column("present_entries", Integer),
    Index("ix_polls_source_time", "source_id", "started_at"),
)

# What an add form found (a feeds list, an OPML file or a feed), kept between its
# preview and its creation. ``data`` holds the feed URLs: secret.
previews = Table(
    "previews",
    metadata,
    Column("id", String(64), primary_key=True),  # a random token, in the preview's URL
    Column("data", Sealed(), nullable=False),  # encrypted at rest: it holds feed URLs
    Column("created_at", UTCDateTime(), nullable=False),
)

# The republished channels (SPEC §1, §6): a named filter, private unless ``public``.
# ``account_id`` names the account a channel was made for: removed with it.
channels = Table(
    "channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE")),
    Column("all_accounts", Boolean, nullable=False),  # else the rows of channel_accounts
    Column("kinds", Text),  # comma list; NULL: every kind
    Column("min_rating", Float),
    Column("text", Text),
    Column("since", UTCDateTime()),
    Column("public", Boolean, nullable=False),
    Column("token", Sealed(), nullable=False),  # secret: reads a private channel
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

channel_accounts = Table(
    "channel_accounts",
    metadata,
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
)

def _add_body_digest(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE sources ADD COLUMN body_digest VARCHAR(64)"))


def _add_poll_count(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE sources ADD COLUMN poll_count INTEGER NOT NULL DEFAULT 0"))
    conn.execute(text("UPDATE sources SET poll_count = (SELECT count(*) FROM polls WHERE polls.source_id = sources.id)"))


def _shorten_activity_keys(conn: Connection) -> None:
    """The activities' indexes made smaller (see ``activities.stored_id`` and the time
    index above): 6 s for 250,000 activities here."""
    conn.execute(text("DROP INDEX ix_activities_time"))  # first: the update then has one index less to keep
    prefix = "tag:feedhub,2026:activity:"  # what every id began with until then (decide.TAG_PREFIX)
    conn.execute(
        text("UPDATE activities SET id = substr(id, :start) WHERE id LIKE :pattern"),
        {"start": len(prefix) + 1, "pattern": prefix + "%"},
    )
    conn.execute(text("CREATE INDEX ix_activities_time ON activities (occurred_at)"))


# Migrations from version N to N+1, in order. Version 1 is the initial schema.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _add_body_digest, 2: _add_poll_count, 3: _shorten_activity_keys,
}


def migrate(conn: Connection) -> int:
    """Create or upgrade the schema; return the version now in place."""
    metadata.create_all(conn, tables=[meta])
    row = conn.execute(select(meta.c.value).where(meta.c.name == "schema_version")).first()
    if row is None:
        metadata.create_all(conn)
        conn.execute(meta.insert().values(name="schema_version", value=str(SCHEMA_VERSION)))
        return SCHEMA_VERSION
    version = int(row.value)
    if version > SCHEMA_VERSION:
        raise RuntimeError(f"the database has schema version {version}, newer than this feedhub ({SCHEMA_VERSION})")
    if version < SCHEMA_VERSION:
        # Said first: one of them rewrites every stored activity, a minute or so for millions.
        log.warning("upgrading the database from schema version %d to %d", version, SCHEMA_VERSION)
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](conn)
        version += 1
        conn.execute(meta.update().where(meta.c.name == "schema_version").values(value=str(version)))
    return version
