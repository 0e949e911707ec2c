"""The statements whose spelling differs between SQLite and PostgreSQL.

Built once per database kind and table, then reused: they run for every poll, and
building one costs more than running it."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect


def insert_ignore(on: Connection | Dialect, table: Table, conflict_columns: list[str]):
    """``INSERT … ON CONFLICT DO NOTHING`` for the database of ``on``."""
    return _insert_ignore(_name(on), table, tuple(conflict_columns))


def upsert(on: Connection | Dialect, table: Table, conflict_columns: list[str], update_columns: list[str]):
    """``INSERT … ON CONFLICT DO UPDATE`` of ``update_columns`` with the new values."""
    return _upsert(_name(on), table, tuple(conflict_columns), tuple(update_columns))


def _name(on: Connection | Dialect) -> str:
    return on.dialect.name if isinstance(on, Connection) else on.name


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


@dataclass(frozen=True)
class Rows:
    """Rows ready for the driver's ``executemany`` (see ``prepare``)."""

    sql: str
    params: list


def prepare(dialect: Dialect, statement, rows: list[dict]) -> Rows | None:
    """``rows`` for ``statement``, converted for the driver; None when there are none.

    For the inserts of every poll (entries, activities, the poll log): SQLAlchemy's own
    executemany converts each parameter of each row through its type in Python, which
    cost more than SQLite's work. Here the SQL text and each parameter's conversion
    (the types' public ``bind_processor``, so values are stored exactly as ``execute``
    stores them) are looked up once per statement, and the rows go to the driver as
    they are. Preparing needs no connection, so it can be done before a transaction
    begins (``Store.save_polls``): the write lock is then held for the writing only.
    All rows must have the keys of the first.
    """
    if not rows:
        return None
    sql, names, processors, positional = _prepared(dialect, statement, tuple(rows[0]))
    columns = []
    for name, process in zip(names, processors):
        values = [row[name] for row in rows]
        if process is not None:
            # A poll's rows share most converted values (its time): each is converted once.
            converted: dict = {}
            values = [converted[v] if v in converted else converted.setdefault(v, process(v)) for v in values]
        columns.append(values)
    params = list(zip(*columns)) if positional else [dict(zip(names, values)) for values in zip(*columns)]
    return Rows(sql, params)


def write(conn: Connection, rows: Rows | None) -> int:
    """Run prepared rows through the driver's ``executemany``; return the driver's
    count of rows changed (summed over the rows by sqlite3; see ``add`` in activities)."""
    if rows is None:
        return 0
    return conn.exec_driver_sql(rows.sql, rows.params).rowcount


def execute_many(conn: Connection, statement, rows: list[dict]) -> None:
    """Prepare and write ``rows`` at once (see ``prepare``)."""
    write(conn, prepare(conn.dialect, statement, rows))


@lru_cache(maxsize=64)
def _prepared(dialect, statement, keys: tuple[str, ...]):
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    positional = bool(compiled.positional)
    names = list(compiled.positiontup) if positional else list(compiled.binds)
    processors = [compiled.binds[name].type.bind_processor(dialect) for name in names]
    return compiled.string, names, processors, positional
