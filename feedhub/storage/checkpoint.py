"""SQLite's WAL checkpoints, off the writers' path.

By default the connection whose commit makes the write-ahead log pass 1,000 pages copies
it back into the database file and syncs it, inside that commit: a poller's commit then
waits for the disk, and other processes wait for its write lock meanwhile. Instead, every
connection has automatic checkpoints off (``Store``'s pragmas) and one thread per process
checkpoints when the log has grown past ``WAL_LIMIT``: a passive checkpoint first, which
copies what no reader still needs and blocks nobody, then a restart one, which copies
what was written meanwhile, holding writers off for that short while, so that the log
starts over and its file stays about ``WAL_LIMIT`` long.
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
RESTART_WAIT_MS = 200  # how long a checkpoint waits for readers and writers to let it finish
BUSY_TIMEOUT_MS = 30_000  # how long any other statement waits for the database (Store's pragmas)


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
            # Copies most of the log while writers go on.
            conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
            # The log starts over only after a checkpoint has copied all of it, and under
            # steady writes a passive one never has: the log grew for ever (to 1.5 GB in a
            # cycle of 10,000 new feeds). A RESTART copies the rest, what was written
            # meanwhile, with writers held off (for at most RESTART_WAIT_MS), and the next
            # writer then starts the log over.
            conn.execute(text(f"PRAGMA busy_timeout={RESTART_WAIT_MS}"))
            try:
                conn.execute(text("PRAGMA wal_checkpoint(RESTART)"))
            finally:
                conn.execute(text(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}"))
