"""Tables and migrations. The schema version is recorded in ``meta``; ``migrate``
brings any older database up to ``SCHEMA_VERSION`` when the store opens.

The same statements run on SQLite and PostgreSQL (SQLAlchemy Core).
"""
from __future__ import annotations

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
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

SCHEMA_VERSION = 1


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
    Column("feeds_url", Text),  # secret: the feeds list this account came from, if any
    Column("feeds_url_display", Text),
    Column("created_at", UTCDateTime(), nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("title", String(300), nullable=False),
    Column("url", Text, nullable=False),  # secret
    Column("url_display", Text, nullable=False),  # redacted, for people
    Column("url_hash", String(64), nullable=False, unique=True),
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
    Column("id", String(120), primary_key=True),  # the stable tag: URI
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
    Index("ix_activities_time", "occurred_at", "id"),
    Index("ix_activities_account_time", "account_id", "occurred_at"),
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
    Index("ix_polls_source_time", "source_id", "started_at"),
)

# Migrations from version N to N+1, in order. Version 1 is the initial schema.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


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
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](conn)
        version += 1
        conn.execute(meta.update().where(meta.c.name == "schema_version").values(value=str(version)))
    return version
