"""Encryption at the storage boundary.

Columns of type ``Sealed`` hold secrets (source URLs, feeds-list URLs, OAuth
credentials): their values are encrypted as they are written and decrypted as they are
read, so the rest of feedhub keeps seeing plain ``SourceRow.url`` and the database file
holds only ciphertext. The ``Cipher`` belongs to the engine (``seal``): SQLAlchemy hands
a column type the engine's dialect, never the engine, so the cipher rides on it.
"""
from __future__ import annotations

from sqlalchemy import String, Text, literal, select, type_coerce, update
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.types import TypeDecorator

from ..crypto import WRONG_KEY, Cipher, SecretKeyError

_ATTRIBUTE = "feedhub_cipher"
KEY_CHECK = "secret_key_check"  # the name of the key check in the ``meta`` table


class Sealed(TypeDecorator):
    """Text encrypted at rest with the engine's ``Cipher``."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else cipher_of(dialect).encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else cipher_of(dialect).decrypt(value)


class Fingerprint(TypeDecorator):
    """A digest that is stored keyed (HMAC with the engine's ``Cipher``): equal values
    still find each other (the same value binds to the same fingerprint), but someone
    with the database and without the key cannot test guesses of a weak secret."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else cipher_of(dialect).fingerprint(value)


def cipher_of(dialect: Dialect) -> Cipher:
    cipher = getattr(dialect, _ATTRIBUTE, None)
    if cipher is None:
        raise SecretKeyError("this database connection has no secret key to read or write secrets with")
    return cipher


def seal(engine: Engine, cipher: Cipher) -> None:
    """Make ``engine`` encrypt and decrypt ``Sealed`` columns with ``cipher``."""
    setattr(engine.dialect, _ATTRIBUTE, cipher)


def reseal(conn: Connection, old: Cipher, new: Cipher) -> int:
    """Re-encrypt every ``Sealed`` value of every table from ``old`` to ``new`` and
    record ``new``'s key check; return how many values were re-encrypted. The caller
    holds the transaction, so it happens all at once or not at all."""
    from .schema import meta, metadata

    count = 0
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, Sealed)]
        if not columns:
            continue
        keys = list(table.primary_key.columns)
        raw = [type_coerce(c, Text).label(c.name) for c in columns]  # as stored: not decrypted
        for row in conn.execute(select(*keys, *raw)).all():
            values = {c.name: literal(new.encrypt(old.decrypt(v)), Text) for c, v in zip(columns, row[len(keys) :]) if v is not None}
            if values:
                where = [k == row[i] for i, k in enumerate(keys)]
                conn.execute(update(table).where(*where).values(values))
                count += len(values)
    conn.execute(update(meta).where(meta.c.name == KEY_CHECK).values(value=new.key_check()))
    return count


def check_key(conn: Connection, cipher: Cipher) -> None:
    """Refuse a key that is not the one the database's secrets were sealed with; a new
    database adopts ``cipher``'s key."""
    from .schema import meta

    stored = conn.execute(select(meta.c.value).where(meta.c.name == KEY_CHECK)).scalar()
    if stored is None:
        conn.execute(meta.insert().values(name=KEY_CHECK, value=cipher.key_check()))
    elif not cipher.matches(stored):
        raise SecretKeyError(WRONG_KEY)
