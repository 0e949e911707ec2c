"""The ``channels`` table and ``channel_accounts``: the republished channels.

A channel's accounts are kept by id, so renaming an account keeps it in its channels
and removing it takes it out of them (and removes the channel made for it).
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from ..channels import ALL, Channel, ChannelError, ChannelSpec, default_spec, name_for_account
from ..models import Kind
from .dialect import insert_ignore
from .schema import accounts, channel_accounts, channels, meta

_DEFAULTS_MADE = "channel_defaults"


def new_token() -> str:
    """A secret for a private channel's URL: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def all(conn: Connection) -> list[Channel]:
    return _load(conn, conn.execute(_query().order_by(channels.c.name)).all())


def by_name(conn: Connection, name: str) -> Channel | None:
    found = _load(conn, conn.execute(_query().where(channels.c.name == name)).all())
    return found[0] if found else None


def names(conn: Connection) -> list[str]:
    return list(conn.execute(select(channels.c.name)).scalars())


def insert(conn: Connection, spec: ChannelSpec, now: datetime, owner_id: int | None = None) -> None:
    """Add a channel with a new token; ``owner_id``: the account it is made for."""
    result = conn.execute(
        channels.insert().values(**_columns(spec), account_id=owner_id, token=new_token(), created_at=now, updated_at=now)
    )
    _set_accounts(conn, int(result.inserted_primary_key[0]), spec.accounts)


def replace(conn: Connection, name: str, spec: ChannelSpec, now: datetime) -> None:
    channel_id = _id(conn, name)
    conn.execute(update(channels).where(channels.c.id == channel_id).values(**_columns(spec), updated_at=now))
    _set_accounts(conn, channel_id, spec.accounts)


def set_token(conn: Connection, name: str, now: datetime) -> None:
    conn.execute(update(channels).where(channels.c.name == name).values(token=new_token(), updated_at=now))


def remove(conn: Connection, name: str) -> None:
    conn.execute(delete(channels).where(channels.c.name == name))


def make_defaults(conn: Connection, now: datetime) -> None:
    """Make ``all`` once in the life of a database (removing it keeps it removed)."""
    # RETURNING says whether this transaction wrote the row (rowcount does not, on psycopg).
    marker = insert_ignore(conn, meta, ["name"]).returning(meta.c.name)
    first = conn.execute(marker, {"name": _DEFAULTS_MADE, "value": now.isoformat()}).first() is not None
    if first and by_name(conn, ALL) is None:
        insert(conn, default_spec(ALL, None), now)


def make_for_account(conn: Connection, account_id: int, account_name: str, now: datetime) -> None:
    """The account's own channel, named after it."""
    name = name_for_account(account_name, names(conn))
    insert(conn, default_spec(name, frozenset({account_name})), now, owner_id=account_id)


def _query():
    owner = accounts.alias("owner")
    return select(channels, owner.c.name.label("owner_name")).outerjoin(owner, owner.c.id == channels.c.account_id)


def _load(conn: Connection, rows: list) -> list[Channel]:
    members: dict[int, set[str]] = {row.id: set() for row in rows}
    if members:
        query = (
            select(channel_accounts.c.channel_id, accounts.c.name)
            .join(accounts, accounts.c.id == channel_accounts.c.account_id)
            .where(channel_accounts.c.channel_id.in_(list(members)))
        )
        for channel_id, account_name in conn.execute(query):
            members[channel_id].add(account_name)
    return [
        Channel(
            spec=ChannelSpec(
                name=row.name,
                title=row.title,
                description=row.description,
                accounts=None if row.all_accounts else frozenset(members[row.id]),
                kinds=frozenset(Kind(k) for k in row.kinds.split(",")) if row.kinds is not None else None,
                min_rating=row.min_rating,
                text=row.text,
                since=row.since,
                public=row.public,
            ),
            token=row.token,
            owner=row.owner_name,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


def _columns(spec: ChannelSpec) -> dict:
    return dict(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        all_accounts=spec.accounts is None,
        kinds=",".join(sorted(k.value for k in spec.kinds)) if spec.kinds is not None else None,
        min_rating=spec.min_rating,
        text=spec.text,
        since=spec.since,
        public=spec.public,
    )


def _set_accounts(conn: Connection, channel_id: int, members: frozenset[str] | None) -> None:
    conn.execute(delete(channel_accounts).where(channel_accounts.c.channel_id == channel_id))
    if not members:
        return
    ids = dict(conn.execute(select(accounts.c.name, accounts.c.id).where(accounts.c.name.in_(sorted(members)))).all())
    unknown = sorted(members - set(ids))
    if unknown:
        raise ChannelError(f"accounts: no account named {', '.join(map(repr, unknown))}")
    conn.execute(channel_accounts.insert(), [{"channel_id": channel_id, "account_id": ids[n]} for n in sorted(members)])


def _id(conn: Connection, name: str) -> int:
    channel_id = conn.execute(select(channels.c.id).where(channels.c.name == name)).scalar()
    if channel_id is None:
        raise LookupError(f"no channel named {name!r}")
    return channel_id
