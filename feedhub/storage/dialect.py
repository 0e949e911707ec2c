"""The statements whose spelling differs between SQLite and PostgreSQL.

Built once per database kind and table, then reused: they run for every poll, and
building one costs more than running it."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignore(conn: Connection, table: Table, conflict_columns: list[str]):
    """``INSERT … ON CONFLICT DO NOTHING`` for the connection's database."""
    return _insert_ignore(conn.dialect.name, table, tuple(conflict_columns))


def upsert(conn: Connection, table: Table, conflict_columns: list[str], update_columns: list[str]):
    """``INSERT … ON CONFLICT DO UPDATE`` of ``update_columns`` with the new values."""
    return _upsert(conn.dialect.name, table, tuple(conflict_columns), tuple(update_columns))


def _module(dialect: str):
    return postgresql if dialect == "postgresql" else sqlite


@lru_cache(maxsize=64)
def _insert_ignore(dialect: str, table: Table, conflict_columns: tuple[str, ...]):
    return _module(dialect).insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))


@lru_cache(maxsize=64)
def _upsert(dialect: str, table: Table, conflict_columns: tuple[str, ...], update_columns: tuple[str, ...]):
    statement = _module(dialect).insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(conflict_columns), set_={name: statement.excluded[name] for name in update_columns}
    )
