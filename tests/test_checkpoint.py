"""The write-ahead log is checkpointed by a thread of its own, not inside a commit."""
from __future__ import annotations

import os
import time
from datetime import timedelta

from sqlalchemy import text

from feedhub.crypto import Cipher
from feedhub.storage import checkpoint
from feedhub.models import Kind, Title, Verb
from feedhub.storage.store import Store
from tests.test_web import T0, activity, poll, seed


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


def test_the_log_starts_over_under_poll_writes_that_never_pause(tmp_path, monkeypatch):
    # A checkpoint running beside the writes never copies the frames written meanwhile;
    # if writes never pause, the log never starts over and its file grows with all of
    # them, unless the writer copies that rest between its transactions.
    monkeypatch.setattr(checkpoint, "WAL_LIMIT", 64 * 1024)
    monkeypatch.setattr(checkpoint, "START_OVER_AT", 256 * 1024)
    monkeypatch.setattr(checkpoint, "CHECK_EVERY", 0.01)
    database = tmp_path / "feedhub.db"
    store = Store(f"sqlite:///{database}", Cipher("a key for this test"))
    try:
        seed(store)
        watched = next(s for s in store.sources() if s.account_name == "home" and s.kind is Kind.WATCHED)
        for batch in range(300):
            titles = [Title(f"t{batch}-{n}", f"A film with a long title, number {batch}-{n}, " * 4) for n in range(40)]
            done = tuple(activity("user-home", Verb.WATCHED, t, T0 + timedelta(minutes=batch, seconds=n)) for n, t in enumerate(titles))
            store.save_polls([poll(watched.id, watched.account_id, done, at=T0 + timedelta(minutes=batch))])
        written = database.stat().st_size  # about all that was written, copied in by checkpoints
        assert written > 5_000_000
        assert os.path.getsize(str(database) + "-wal") < written / 2
    finally:
        store.close()
