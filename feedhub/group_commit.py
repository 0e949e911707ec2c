"""Group commit: the polls that finish at about the same time are written in one
transaction. A commit costs more than all the other statements of a poll that read
nothing new (a 304), so when hundreds of polls finish per second, one commit per poll
would be most of the work.

One thread commits. Pollers hand it their writes and go on with their next source; it
takes whatever has queued up (at most ``max_batch``) and commits it with
``Store.save_polls``. Each write stays atomic: if a batch fails, its writes are tried
again one by one, so one bad write fails alone. The queue is bounded: pollers wait when
the committer is behind, so memory does not grow with the number of sources.
"""
from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from .storage import Store
from .storage.rows import PollWrite
from .storage.store import PreparedPoll

log = logging.getLogger(__name__)

MAX_BATCH = 256


class GroupCommit:
    def __init__(self, store: Store, max_batch: int = MAX_BATCH):
        self._store = store
        self._max_batch = max_batch
        self._queue: queue.Queue[tuple[PollWrite | PreparedPoll, Future[int]] | None] = queue.Queue(maxsize=2 * max_batch)
        self._thread = threading.Thread(target=self._run, name="feedhub-commit", daemon=True)
        self._thread.start()

    def submit(self, write: PollWrite | PreparedPoll) -> Future[int]:
        """Queue ``write``; the future gives how many of its activities were new, once
        it is committed (or the error that kept it from being committed)."""
        done: Future[int] = Future()
        self._queue.put((write, done))
        return done

    def close(self) -> None:
        """Commit what is queued, then stop."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stopping = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._commit(batch)
            if stopping:
                return

    def _commit(self, batch: list[tuple[PollWrite | PreparedPoll, Future[int]]]) -> None:
        settle(batch, commit_together(self._store, [write for write, _ in batch]))


def commit_together(store: Store, writes: list[PollWrite | PreparedPoll]) -> list[int | Exception]:
    """Commit ``writes`` in one transaction; for each, its count of new activities, or
    the error that kept it from being committed. If the batch fails, its writes are
    committed one by one, so that a bad write fails alone."""
    try:
        return store.save_polls(writes)
    except Exception as exc:
        if len(writes) == 1:
            return [exc]
        log.warning("a batch of %d polls failed to commit; committing them one by one", len(writes))
        outcomes: list[int | Exception] = []
        for write in writes:
            try:
                outcomes.append(store.save_poll(write))
            except Exception as exc:  # this write's own failure, handed to its poller
                outcomes.append(exc)
        return outcomes


def settle(batch: list[tuple[PollWrite | PreparedPoll, Future[int]]], outcomes: list[int | Exception]) -> None:
    """Settle each write's future with its outcome from ``commit_together``."""
    for (_, done), outcome in zip(batch, outcomes):
        if isinstance(outcome, Exception):
            done.set_exception(outcome)
        else:
            done.set_result(outcome)
