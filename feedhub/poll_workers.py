"""Polling on every core: worker processes, each running its own ``Poller`` over a share
of the sources due.

Parsing, normalizing and deciding are Python work that holds the GIL, so the threads of
one process poll on one core at most. With ``POLL_PROCESSES`` above 1, a cycle with many
sources due is dealt out to that many worker processes, each with its own fetcher,
database connection and group commit (SQLite's WAL lets them take turns to write; each
write stays one source's, atomic). The limits hold for all processes together: each host's
sources are dealt to at most ``MAX_PER_HOST`` workers, which share that limit, and the
workers share ``MAX_CONCURRENCY``.

Workers are started once (``spawn``: the polling process has threads, which ``fork``
would copy mid-flight) and report each poll back as it ends, so progress and the
feeds-list refresh after a refused token work as with one process. A worker that dies
fails the polls it had, not the cycle's others, and is started again next time.
"""
from __future__ import annotations

import logging
import multiprocessing
import threading
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from .config import Settings
from .logs import setup_logging
from .poll import PageProgress, PollReport
from .storage.rows import SourceRow
from .urls import display_host, redact_text

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess

log = logging.getLogger(__name__)

_READY = "ready"  # a worker's first message


def deal(sources: list[SourceRow], workers: int, per_host: int) -> list[list[SourceRow]]:
    """Split ``sources`` among ``workers`` so that the per-host limit holds for all of
    them together: each host's sources go round at most ``per_host`` workers (starting
    at a different worker for each host, to even the load), each of which may poll
    ``per_host_each(workers, per_host)`` of one host at once."""
    spread = _spread(workers, per_host)
    by_host: dict[str, list[SourceRow]] = defaultdict(list)
    for source in sources:
        by_host[display_host(source.url)].append(source)
    shares: list[list[SourceRow]] = [[] for _ in range(workers)]
    for offset, group in enumerate(by_host.values()):
        # In a scrambled order of ids: dealt in list order, sources that change together
        # (every tenth, say) could all land on one worker.
        for index, source in enumerate(sorted(group, key=_scrambled)):
            shares[(offset + index % spread) % workers].append(source)
    return shares


def per_host_each(workers: int, per_host: int) -> int:
    """How many sources of one host each worker may poll at once (see ``deal``)."""
    return per_host // _spread(workers, per_host)


def _spread(workers: int, per_host: int) -> int:
    return max(1, min(workers, per_host))


def _scrambled(source: SourceRow) -> int:
    return (source.id * 2654435761) % 2**32  # Knuth's multiplicative hash: a fixed shuffle


class WorkerPool:
    """``count`` worker processes; ``poll`` runs one cycle on them (one at a time)."""

    def __init__(self, settings: Settings, count: int, on_page: PageProgress | None = None):
        self._settings = settings
        self._count = count
        # A worker's settings: it polls in its own process, with its share of the limits.
        self._limits = replace(
            settings,
            poll_processes=1,
            max_per_host=per_host_each(count, settings.max_per_host),
            max_concurrency=max(1, -(-settings.max_concurrency // count)),
        )
        self._on_page = on_page  # must be picklable (a module-level function)
        self._workers: list[_Worker | None] = [None] * count
        self.busy = threading.Lock()  # one cycle at a time; others poll in-process meanwhile

    def start(self) -> None:
        """Start the worker processes that are not running (each takes a second or so
        to import and open the database); ``poll`` starts them too when needed."""
        for index, worker in enumerate(self._workers):
            if worker is None or not worker.alive:
                self._workers[index] = _Worker(self._limits, self._on_page)
        for index, worker in enumerate(self._workers):
            try:
                worker.wait_ready()
            except (EOFError, OSError):
                log.error("a poll worker did not start; polls will try again to start it")
                worker.stop()
                self._workers[index] = None

    def poll(self, sources: list[SourceRow], results: dict[int, Future[PollReport]]) -> None:
        """Poll ``sources`` on the workers, setting each one's result as it ends; returns
        at once. The caller holds ``busy`` and it is released when all have ended."""
        shares = deal(sources, self._count, self._settings.max_per_host)
        running = []
        for index, share in enumerate(shares):
            if not share:
                continue
            worker = self._workers[index]
            if worker is None or not worker.alive:
                worker = self._workers[index] = _Worker(self._limits, self._on_page)
            running.append(threading.Thread(target=worker.run, args=(share, results), name=f"feedhub-worker-{index}", daemon=True))
        for thread in running:
            thread.start()

        def release() -> None:
            for thread in running:
                thread.join()
            self.busy.release()

        threading.Thread(target=release, name="feedhub-workers-done", daemon=True).start()

    def close(self) -> None:
        with self.busy:
            for worker in self._workers:
                if worker is not None:
                    worker.stop()
            self._workers = [None] * self._count


class _Worker:
    """One worker process and the pipe to it."""

    def __init__(self, settings: Settings, on_page: PageProgress | None):
        context = multiprocessing.get_context("spawn")
        self._pipe, theirs = context.Pipe()
        # A spawned process starts with no logging set up: it gets the same redacting
        # handler, at the level this process logs at.
        level = logging.getLogger().getEffectiveLevel()
        self._process: SpawnProcess = context.Process(
            target=_serve, args=(settings, theirs, on_page, level), name="feedhub-poll-worker", daemon=True
        )
        self._process.start()
        theirs.close()
        self._ready = False

    def wait_ready(self) -> None:
        """Wait until the process has started and opened the database (it says so once)."""
        if not self._ready:
            if self._pipe.recv() != _READY:
                raise EOFError("the poll worker did not start")
            self._ready = True

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def run(self, share: list[SourceRow], results: dict[int, Future[PollReport]]) -> None:
        """Hand ``share`` to the process and set each source's result as it reports."""
        pending = {source.id for source in share}
        try:
            self.wait_ready()
            self._pipe.send(share)
            while pending:
                for source_id, report, error in self._pipe.recv():
                    pending.discard(source_id)
                    if error is None:
                        results[source_id].set_result(report)
                    else:
                        results[source_id].set_exception(RuntimeError(error))
        except (EOFError, OSError):
            log.error("a poll worker stopped; %d of its polls did not end", len(pending))
            self._process.kill()
            for source_id in pending:
                results[source_id].set_exception(RuntimeError("the poll worker stopped"))

    def stop(self) -> None:
        try:
            self._pipe.send(None)
        except OSError:
            pass
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()
        self._pipe.close()


def _serve(settings: Settings, pipe: Connection, on_page: PageProgress | None, log_level: int) -> None:
    """A worker process: poll each share it is sent with a ``Poller`` of its own and send
    back (source id, report, error) for each source as it ends, in batches (``_Reports``)."""
    from .scheduler import Poller  # here: the scheduler imports this module
    from .services import build_services

    setup_logging(log_level)

    services = build_services(settings)
    poller = Poller(services, on_page=on_page)
    reports = _Reports(pipe)
    pipe.send(_READY)

    def report(source_id: int, done: Future[PollReport], last: bool) -> None:
        error = done.exception()
        # The error goes on as text (an exception may not pickle), without secrets.
        message = (source_id, None, redact_text(f"{type(error).__name__}: {error}")) if error else (source_id, done.result(), None)
        reports.add(message, last)

    try:
        while True:
            try:
                share = pipe.recv()
            except EOFError:
                break
            if share is None:
                break
            started = poller.start(share)
            left = _Countdown(len(started))
            for source_id, done in started.items():
                done.add_done_callback(lambda finished, source_id=source_id: report(source_id, finished, left.one_done()))
    finally:
        poller.close()
        reports.close()
        services.close()


class _Countdown:
    """Counts a share's polls down as they end (from the threads they end on)."""

    def __init__(self, count: int):
        self._left = count
        self._lock = threading.Lock()

    def one_done(self) -> bool:
        """Count one; True for the last."""
        with self._lock:
            self._left -= 1
            return self._left == 0


class _Reports:
    """A worker's reports, sent in batches: those that end within ``REPORT_EVERY`` of
    each other go in one message (a message per poll cost both processes more than a
    304's poll itself). The share's last report goes at once: the cycle waits for it."""

    REPORT_EVERY = 0.01

    def __init__(self, pipe: Connection):
        self._pipe = pipe
        self._batch: list[tuple] = []
        self._ready = threading.Condition()
        self._closed = False
        self._now = threading.Event()  # send without waiting for more
        self._thread = threading.Thread(target=self._run, name="feedhub-worker-reports", daemon=True)
        self._thread.start()

    def add(self, report: tuple, last: bool = False) -> None:
        with self._ready:
            self._batch.append(report)
            if len(self._batch) == 1:
                self._ready.notify()
        if last:
            self._now.set()

    def close(self) -> None:
        """Send what is left, then stop."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._now.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._batch and not self._closed:
                    self._ready.wait()
                if not self._batch:
                    return
            self._now.wait(self.REPORT_EVERY)  # let the polls ending about now join the batch
            self._now.clear()
            with self._ready:
                batch, self._batch = self._batch, []
            try:
                self._pipe.send(batch)
            except OSError:
                return  # the main process is gone
