"""SQLite's WAL checkpoints, off the writers' path.

By default the connection whose commit makes the write-ahead log pass 1,000 pages copies
it back into the database file and syncs it, inside that commit: a poller's commit then
waits for the disk, and other processes wait for its write lock meanwhile. Instead, every
connection has automatic checkpoints off (``Store``'s pragmas) and one thread per process
runs a passive checkpoint when the log has grown past ``WAL_LIMIT``: it copies what no
reader still needs, and never blocks a reader or a writer.
"""
from __future__ import annotations

import logging
import os
import threading

from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

WAL_LIMIT = 8 * 1024 * 1024  # bytes of log before a checkpoint (SQLite's own: 1,000 pages, 4 MiB)
CHECK_EVERY = 0.5  # seconds between two looks at the log's size


class Checkpointer:
    def __init__(self, engine: Engine, database: str):
        self._engine = engine
        self._wal = database + "-wal"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feedhub-checkpoint", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(CHECK_EVERY):
            try:
                if os.path.getsize(self._wal) > WAL_LIMIT:
                    self.checkpoint()
            except FileNotFoundError:
                continue  # no log yet, or the last connection closed and removed it
            except Exception:  # keep checking: a failed checkpoint is tried again later
                log.exception("WAL checkpoint failed")

    def checkpoint(self) -> None:
        with self._engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
