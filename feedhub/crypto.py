"""Secrets at rest: source URLs, feeds-list URLs and OAuth credentials are stored
encrypted with a key derived from ``FEEDHUB_SECRET_KEY``.

- Encryption is Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``); its key
  and the key of the source fingerprints are derived from the secret key with HKDF-SHA256
  under distinct labels, so neither can be turned into the other or into the session key.
- The database keeps a *key check* (an HMAC, not the key): opening it with another
  key is refused at once with a clear message, never a crash on the first row or a
  silent reset.

This module knows nothing of the database; ``storage.sealed`` applies it to columns.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .config import ConfigError

_SALT = b"feedhub secrets at rest"
_CHECK_MESSAGE = b"feedhub secret key check v1"


class SecretKeyError(ConfigError):
    """The secret key is missing, or is not the one the stored secrets were sealed with."""


WRONG_KEY = (
    "the database's secrets were encrypted with another FEEDHUB_SECRET_KEY: set the key "
    "they were stored with (or, to change keys, run `feedhub rotate-key --old OLD --new NEW`)"
)


def _derive(secret_key: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=label).derive(secret_key.encode("utf-8"))


_OPENED_KEPT = 100_000  # decrypted tokens kept (the secrets of about as many sources)


class Cipher:
    """Encrypts and fingerprints secrets with keys derived from one secret key."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise SecretKeyError("no FEEDHUB_SECRET_KEY: feedhub cannot encrypt or read stored secrets without it")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret_key, b"fernet v1")))
        self._fingerprint_key = _derive(secret_key, b"fingerprint v1")
        self._check_key = _derive(secret_key, b"key check v1")
        # Every poll cycle reads every source's URL: each token is decrypted once (a
        # token always opens to the same text under one key, having been authenticated).
        self._opened: dict[str, str] = {}

    def __repr__(self) -> str:
        return "Cipher(<secret>)"

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plain text of ``token``; ``SecretKeyError`` if this key did not seal it."""
        text = self._opened.get(token)
        if text is not None:
            return text
        try:
            text = self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            raise SecretKeyError(WRONG_KEY) from None
        if len(self._opened) >= _OPENED_KEPT:
            self._opened.clear()
        self._opened[token] = text
        return text

    def fingerprint(self, text: str) -> str:
        """A keyed hash (HMAC-SHA256, hex) of ``text``: finds equal secrets without
        storing them, and tells nothing about them to someone without the key."""
        return hmac.new(self._fingerprint_key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def key_check(self) -> str:
        """What the database keeps to recognise this key (an HMAC, not the key)."""
        return hmac.new(self._check_key, _CHECK_MESSAGE, hashlib.sha256).hexdigest()

    def matches(self, key_check: str) -> bool:
        return hmac.compare_digest(self.key_check(), key_check)
