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


def execute_many(conn: Connection, statement, rows: list[dict]) -> None:
    """Run ``statement`` once per row, straight through the driver's ``executemany``.

    For the inserts of every poll (entries, activities, the poll log): SQLAlchemy's own
    executemany converts each parameter of each row through its type in Python, which
    cost more than SQLite's work. Here the SQL text and each parameter's conversion
    (the types' public ``bind_processor``, so values are stored exactly as ``execute``
    stores them) are looked up once per statement, and the rows go to the driver as
    they are. All rows must have the keys of the first.
    """
    if not rows:
        return
    sql, names, processors, positional = _prepared(conn.dialect, statement, tuple(rows[0]))
    if positional:
        params: list = [tuple(p(row[n]) if p else row[n] for n, p in zip(names, processors)) for row in rows]
    else:
        params = [{n: p(row[n]) if p else row[n] for n, p in zip(names, processors)} for row in rows]
    conn.exec_driver_sql(sql, params)


@lru_cache(maxsize=64)
def _prepared(dialect, statement, keys: tuple[str, ...]):
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    positional = bool(compiled.positional)
    names = list(compiled.positiontup) if positional else list(compiled.binds)
    processors = [compiled.binds[name].type.bind_processor(dialect) for name in names]
    return compiled.string, names, processors, positional
