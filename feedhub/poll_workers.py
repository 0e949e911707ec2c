"""Polling on every core: worker processes, each running its own ``Poller`` over a share
of the sources due.

Parsing, normalizing and deciding are Python work that holds the GIL, so the threads of
one process poll on one core at most. With ``POLL_PROCESSES`` above 1, a cycle with many
sources due is dealt out to that many worker processes, each with its own fetcher and
database connection. The limits hold for all processes together: each host's sources
are dealt to at most ``MAX_PER_HOST`` workers, which share that limit, and the workers
share ``MAX_CONCURRENCY``.

The workers read (fetch, parse, decide, and make the rows ready), and hand each poll's
prepared write back to the main process, where one thread receives from all workers and
commits what came, in batches (``COMMIT_BATCH``, ``COMMIT_LINGER``). One writer, because
SQLite discards a connection's page cache whenever another process has written: with
every worker writing, each transaction began by reading its B-tree pages again, and two
processes spent more CPU per source than one.

Workers are started once (``spawn``: the polling process has threads, which ``fork``
would copy mid-flight) and hand each poll back as it ends, so progress and the
feeds-list refresh after a refused token work as with one process. A worker that dies
fails the polls it had not handed back, not the cycle's others, and is started again
next time.
"""
from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Callable, Iterable

from .config import Settings
from .logs import setup_logging
from .poll import PageProgress, PollReport
from .storage.rows import SourceRow
from .storage.store import PreparedPoll
from .urls import display_host, redact_text

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess

# A poll a worker handed back: (source, its prepared write, its report, its result to
# settle once committed); the main process commits them with a ``Commit``.
Handed = tuple[SourceRow, PreparedPoll, PollReport, Future[PollReport]]
Commit = Callable[[list[Handed]], None]

log = logging.getLogger(__name__)

_READY = "ready"  # a worker's first message
# The main process commits what workers hand back once this many have come, or once the
# oldest has waited COMMIT_LINGER seconds: each commit has a cost of its own (the poll
# log's trim, the change marker, the pages it writes), which batches of the 50 or so
# that came at a time paid a fifth of the writer's time for.
COMMIT_BATCH = 256
COMMIT_LINGER = 0.05


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

    def __init__(self, settings: Settings, count: int, on_page: PageProgress | None, commit: Commit):
        self._settings = settings
        self._commit = commit
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
        given = []
        for index, share in enumerate(shares):
            if share:
                worker = self._workers[index]
                if worker is None or not worker.alive:
                    worker = self._workers[index] = _Worker(self._limits, self._on_page)
                given.append((worker, share))
        threading.Thread(target=self._collect, args=(given, results), name="feedhub-workers", daemon=True).start()

    def _collect(self, given: list[tuple[_Worker, list[SourceRow]]], results: dict[int, Future[PollReport]]) -> None:
        """Hand each worker its share, then commit what they hand back, in batches
        (``COMMIT_BATCH``, ``COMMIT_LINGER``), until every poll has ended; release
        ``busy``. One thread both receives and commits: while it commits, what the
        workers hand back waits in the pipes, and their batches grow."""
        sources = {source.id: source for _, share in given for source in share}
        pending: dict[Connection, set[int]] = {}
        workers: dict[Connection, _Worker] = {}
        try:
            for worker, share in given:
                if worker.hand(share):
                    pending[worker.pipe] = {source.id for source in share}
                    workers[worker.pipe] = worker
                else:
                    worker.lost([source.id for source in share], results)
            handed: list[Handed] = []
            oldest = 0.0  # when the oldest of ``handed`` came
            while pending:
                # Waits for more only as long as the oldest may still wait.
                ready = wait(list(pending), max(0.0, oldest + COMMIT_LINGER - time.monotonic()) if handed else None)
                for pipe in ready:
                    try:
                        batch = pipe.recv()
                    except (EOFError, OSError):
                        workers[pipe].lost(pending.pop(pipe), results)
                        continue
                    if batch and not handed:
                        oldest = time.monotonic()
                    for source_id, read, error in batch:
                        pending[pipe].discard(source_id)
                        if error is None:
                            handed.append((sources[source_id], *read, results[source_id]))
                        else:
                            results[source_id].set_exception(RuntimeError(error))
                    if not pending[pipe]:
                        del pending[pipe]
                if handed and (len(handed) >= COMMIT_BATCH or not pending or time.monotonic() - oldest >= COMMIT_LINGER):
                    self._commit(handed)
                    handed = []
        except BaseException as exc:  # nobody waits for ever for a poll that will not end
            log.exception("collecting the poll workers' results failed")
            for result in results.values():
                if not result.done():
                    result.set_exception(RuntimeError(f"collecting the poll workers' results failed: {type(exc).__name__}"))
        finally:
            self.busy.release()

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

    @property
    def pipe(self) -> Connection:
        return self._pipe

    def hand(self, share: list[SourceRow]) -> bool:
        """Send ``share`` to the process; False if it is gone."""
        try:
            self.wait_ready()
            self._pipe.send(share)
            return True
        except (EOFError, OSError):
            return False

    def lost(self, source_ids: Iterable[int], results: dict[int, Future[PollReport]]) -> None:
        """The process stopped: fail the polls of ``source_ids`` it had not handed back."""
        source_ids = list(source_ids)
        log.error("a poll worker stopped; %d of its polls did not end", len(source_ids))
        self._process.kill()
        for source_id in source_ids:
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
    back, for each source as it ends, (source id, (prepared write, report), None), or
    (source id, None, error); in batches (``_Reports``)."""
    from .scheduler import Poller  # here: the scheduler imports this module
    from .services import build_services

    setup_logging(log_level)

    services = build_services(settings)
    reports = _Reports(pipe)
    poller = Poller(
        services, on_page=on_page,
        hand_over=lambda source, prepared, report: reports.add((source.id, (prepared, report), None), _weight(prepared)),
    )
    pipe.send(_READY)

    def report(source_id: int, done: Future[PollReport], last: bool) -> None:
        # A poll that ended well was handed over already (see Poller._save).
        error = done.exception()
        # The error goes on as text (an exception may not pickle), without secrets.
        if error is not None:
            reports.add((source_id, None, redact_text(f"{type(error).__name__}: {error}")))
        if last:
            reports.send_now()

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


def _weight(prepared: PreparedPoll) -> int:
    """What a prepared poll weighs while it waits to be sent: one, and its new rows."""
    new = (prepared.new_entries, prepared.new_activities.rows)
    return 1 + sum(len(rows.params) for rows in new if rows is not None)


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
    304's poll itself). The share's last report goes at once: the cycle waits for it.
    At most ``MAX_WAITING`` rows wait to be sent (a poll counts one, plus the new entries
    and activities it brings): when the main process commits more slowly than the
    worker reads, the worker waits, so its memory stays bounded. Counted in rows, not
    polls: 304s, which weigh little, do not make the worker wait while the main process
    commits a batch (with a bound of 64 polls, they did for 8% of a worker's time)."""

    REPORT_EVERY = 0.01
    MAX_WAITING = 3200  # rows: 64 new feeds of 25 entries, or 3,200 polls that found nothing new

    def __init__(self, pipe: Connection):
        self._pipe = pipe
        self._batch: list[tuple] = []
        self._rows = 0  # what ``_batch`` weighs (see ``add``)
        self._ready = threading.Condition()
        self._closed = False
        self._now = threading.Event()  # send without waiting for more
        self._thread = threading.Thread(target=self._run, name="feedhub-worker-reports", daemon=True)
        self._thread.start()

    def add(self, report: tuple, rows: int = 1) -> None:
        with self._ready:
            while self._rows >= self.MAX_WAITING and not self._closed:
                self._now.set()
                self._ready.wait()
            self._batch.append(report)
            self._rows += rows
            self._ready.notify_all()

    def send_now(self) -> None:
        """Send what waits without waiting for more."""
        self._now.set()

    def close(self) -> None:
        """Send what is left, then stop."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
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
                batch, self._batch, self._rows = self._batch, [], 0
                self._ready.notify_all()  # room for those waiting to add
            try:
                self._pipe.send(batch)
            except OSError:  # the main process is gone: nobody waits for reports
                with self._ready:
                    self._closed = True
                    self._ready.notify_all()
                return
