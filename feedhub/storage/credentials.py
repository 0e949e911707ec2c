"""The ``credentials`` table: the OAuth 1.0a credentials of accounts connected through
the API. Every secret column is ``Sealed`` (encrypted at rest)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .rows import CredentialsRow
from .schema import credentials


def _row(r) -> CredentialsRow:
    return CredentialsRow(r.account_id, r.api_base, r.user_id, r.updated_at, r.consumer_key, r.consumer_secret, r.access_token, r.access_secret)


def save(conn: Connection, row: CredentialsRow, now: datetime) -> None:
    """Insert or replace the credentials of ``row.account_id``."""
    conn.execute(credentials.delete().where(credentials.c.account_id == row.account_id))
    conn.execute(
        credentials.insert().values(
            account_id=row.account_id,
            api_base=row.api_base,
            user_id=row.user_id,
            consumer_key=row.consumer_key,
            consumer_secret=row.consumer_secret,
            access_token=row.access_token,
            access_secret=row.access_secret,
            updated_at=now,
        )
    )


def of_account(conn: Connection, account_id: int) -> CredentialsRow | None:
    r = conn.execute(select(credentials).where(credentials.c.account_id == account_id)).first()
    return _row(r) if r else None
