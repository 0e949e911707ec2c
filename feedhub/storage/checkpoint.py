"""SQLite's WAL checkpoints, off the writers' path.

By default the connection whose commit makes the write-ahead log pass 1,000 pages copies
it back into the database file and syncs it, inside that commit: a poller's commit then
waits for the disk, and other processes wait for its write lock meanwhile. Instead, every
connection has automatic checkpoints off (``Store``'s pragmas) and one thread per process
runs a passive checkpoint when the log has grown past ``WAL_LIMIT``: it copies what no
reader still needs, and blocks nobody.

The log starts over only once a checkpoint has copied all of it, and under writes that
never pause a checkpoint running beside them never has: the log grew for ever (to 1.5 GB
in a cycle of 10,000 new feeds). So after the thread's copy, the poll writer itself
copies the rest, what was written meanwhile, between two of its transactions
(``catch_up``), once the log in use passes ``START_OVER_AT``; its next transaction starts
the log over.
"""
from __future__ import annotations

import logging
import os
import threading

from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

WAL_LIMIT = 8 * 1024 * 1024  # bytes of log before a checkpoint (SQLite's own: 1,000 pages, 4 MiB)
# Bytes of log in use before the writer finishes a checkpoint so that the log starts over:
# that costs the writer two syncs of the disk, so not more often than needed.
START_OVER_AT = 64 * 1024 * 1024
CHECK_EVERY = 0.5  # seconds between two looks at the log's size


class Checkpointer:
    def __init__(self, engine: Engine, database: str):
        self._engine = engine
        self._wal = database + "-wal"
        self._stop = threading.Event()
        self._copied = threading.Event()  # the thread has copied most of the log: the writer finishes
        self._thread = threading.Thread(target=self._run, name="feedhub-checkpoint", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def catch_up(self) -> None:
        """For the writer, between its transactions: if the thread has copied most of
        the log, copy the rest now, so that the next transaction starts it over."""
        if self._copied.is_set():
            self._copied.clear()
            try:
                self.checkpoint()
            except Exception:  # the write matters more; the thread will try again
                log.exception("WAL checkpoint failed")

    def _run(self) -> None:
        while not self._stop.wait(CHECK_EVERY):
            try:
                if not self._copied.is_set() and os.path.getsize(self._wal) > WAL_LIMIT and self.checkpoint() > START_OVER_AT:
                    # Again, for what was written during that copy: the writer is left
                    # with what is written during this shorter one.
                    self.checkpoint()
                    self._copied.set()
            except FileNotFoundError:
                continue  # no log yet, or the last connection closed and removed it
            except Exception:  # keep checking: a failed checkpoint is tried again later
                log.exception("WAL checkpoint failed")

    def checkpoint(self) -> int:
        """A passive checkpoint; returns how many bytes of log are in use."""
        with self._engine.connect() as conn:
            _, frames, _ = conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)")).one()
            return frames * conn.execute(text("PRAGMA page_size")).scalar_one()
