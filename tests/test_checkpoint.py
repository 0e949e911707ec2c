"""The write-ahead log is checkpointed by a thread of its own, not inside a commit."""
from __future__ import annotations

import os
import time

from sqlalchemy import text

from feedhub.crypto import Cipher
from feedhub.storage import checkpoint
from feedhub.storage.store import Store


def test_the_log_is_copied_into_the_database_by_the_checkpoint_thread(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "WAL_LIMIT", 64 * 1024)
    monkeypatch.setattr(checkpoint, "CHECK_EVERY", 0.05)
    database = tmp_path / "feedhub.db"
    store = Store(f"sqlite:///{database}", Cipher("a key for this test"))
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0  # no commit does it
        before = database.stat().st_size
        with store.engine.begin() as conn:
            conn.execute(text("CREATE TABLE scratch (x TEXT)"))
            conn.execute(text("INSERT INTO scratch VALUES (:x)"), [{"x": "x" * 1000}] * 2000)
        assert os.path.getsize(str(database) + "-wal") > 64 * 1024
        deadline = time.monotonic() + 10
        while database.stat().st_size <= before + 1_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert database.stat().st_size > before + 1_000_000  # the 2 MB are in the database file now
    finally:
        store.close()
    assert not store._checkpointer._thread.is_alive()


def test_the_log_starts_over_under_writes_that_never_pause(tmp_path, monkeypatch):
    # A passive checkpoint never copies the frames written while it runs; if writes never
    # pause, the log never starts over, and its file grows with all that is written.
    monkeypatch.setattr(checkpoint, "WAL_LIMIT", 256 * 1024)
    monkeypatch.setattr(checkpoint, "CHECK_EVERY", 0.01)
    database = tmp_path / "feedhub.db"
    store = Store(f"sqlite:///{database}", Cipher("a key for this test"))
    written = 0
    try:
        with store.engine.begin() as conn:
            conn.execute(text("CREATE TABLE scratch (x TEXT)"))
        while written < 60_000_000:
            with store.engine.begin() as conn:
                conn.execute(text("INSERT INTO scratch VALUES (:x)"), [{"x": os.urandom(500).hex()}] * 50)
            written += 50_000
        assert os.path.getsize(str(database) + "-wal") < written / 2
    finally:
        store.close()
