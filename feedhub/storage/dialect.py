"""The statements whose spelling differs between SQLite and PostgreSQL.

Built once per database kind and table, then reused: they run for every poll, and
building one costs more than running it."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

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


def prepare(dialect: Dialect, statement, keys: tuple[str, ...], rows: list[tuple], *, as_executed: bool = False) -> Rows | None:
    """``rows`` (tuples of the values of ``keys``) for ``statement``, converted for the
    driver; None when there are none.

    For the statements of every poll (entries, activities, the poll log, the source's
    update): SQLAlchemy's own executemany converts each parameter of each row through
    its type in Python, which cost more than SQLite's work. Here the SQL text and each
    parameter's conversion are looked up once per statement, and the rows go to the
    driver as they are. Preparing needs no connection, so it is done before a
    transaction begins (``Store.save_polls``): the write lock is then held for the
    writing only. Rows are tuples, not dicts: building a dict per row cost more than
    all the rest.

    Conversions: the types' public ``bind_processor``, then, on SQLite, what sqlite3
    itself would do to the value while the transaction is open (its adapter: a
    datetime becomes ``isoformat(" ")``), each distinct value once. That is how the
    inserted tables (entries, activities, polls) have always been written. With
    ``as_executed``, the conversions are those of ``Connection.execute`` instead, for
    tables it writes too (``sources``): on SQLite its datetime text always has
    microseconds, where the adapter leaves them out of a whole second. Both read back
    the same; each table keeps the text it always had.
    """
    if not rows:
        return None
    sql, names, positions, processors, positional = _prepared(dialect, statement, keys, as_executed)
    if len(rows) == 1:  # a source's update after a poll: no values to share between rows
        row = rows[0]
        values = [row[position] if process is None else process(row[position]) for position, process in zip(positions, processors)]
        return Rows(sql, [tuple(values)] if positional else [dict(zip(names, values))])
    given = list(zip(*rows))
    columns = []
    for position, process in zip(positions, processors):
        values = given[position]
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


def write_all(conn: Connection, rows: list[Rows]) -> None:
    """Write prepared rows in order, each run of rows of the same statement in one
    ``executemany``."""
    start = 0
    while start < len(rows):
        end = start + 1
        while end < len(rows) and rows[end].sql == rows[start].sql:
            end += 1
        run = rows[start:end]
        write(conn, run[0] if len(run) == 1 else Rows(run[0].sql, [params for r in run for params in r.params]))
        start = end


def read(conn: Connection, statement, keys: tuple[str, ...], values: tuple) -> Iterable[tuple]:
    """The rows of ``statement``, a query built once, with ``values`` for its ``keys``:
    converted as ``Connection.execute`` would (see ``prepare``) and run on the driver's
    own connection, for the reads of every poll. A worker polling 10,000 feeds spent
    more in SQLAlchemy's execution of a lookup of stored entries (315 µs of CPU a poll,
    240 µs through ``exec_driver_sql``) than in SQLite's (153 µs this way, all told)."""
    sql, names, positions, processors, positional = _prepared(conn.dialect, statement, keys, True)
    params = [values[position] if process is None else process(values[position]) for position, process in zip(positions, processors)]
    return conn.connection.driver_connection.execute(sql, tuple(params) if positional else dict(zip(names, params)))


def execute_many(conn: Connection, statement, keys: tuple[str, ...], rows: list[tuple]) -> None:
    """Prepare and write ``rows`` at once (see ``prepare``)."""
    write(conn, prepare(conn.dialect, statement, keys, rows))


@lru_cache(maxsize=64)
def _prepared(dialect, statement, keys: tuple[str, ...], as_executed: bool):
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    positional = bool(compiled.positional)
    names = list(compiled.positiontup) if positional else list(compiled.binds)
    positions = [keys.index(name) for name in names]
    types = [compiled.binds[name].type for name in names]
    if as_executed:
        processors = [t.dialect_impl(dialect).bind_processor(dialect) for t in types]
    else:
        processors = [t.bind_processor(dialect) for t in types]
        if dialect.name == "sqlite":
            processors = [None if process is None else _then_adapted(process) for process in processors]
    return compiled.string, names, positions, processors, positional


def _then_adapted(process):
    """``process``, then sqlite3's adapter for the type of what it gave, if it has one."""
    adapters, protocol = sqlite3.adapters, sqlite3.PrepareProtocol

    def converted(value):
        value = process(value)
        adapt = adapters.get((type(value), protocol))
        return value if adapt is None else adapt(value)

    return converted
