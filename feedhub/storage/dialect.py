"""The statements whose spelling differs between SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignore(conn: Connection, table: Table, conflict_columns: list[str]):
    """``INSERT … ON CONFLICT DO NOTHING`` for the connection's database."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)


def upsert(conn: Connection, table: Table, conflict_columns: list[str], update_columns: list[str]):
    """``INSERT … ON CONFLICT DO UPDATE`` of ``update_columns`` with the new values."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = module.insert(table)
    return statement.on_conflict_do_update(
        index_elements=conflict_columns, set_={name: statement.excluded[name] for name in update_columns}
    )
