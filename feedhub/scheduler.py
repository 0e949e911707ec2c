"""Polling on a schedule. When each source is next due lives in the database
(``sources.next_due_at``); the APScheduler job only wakes up every few seconds, asks
storage what is due and polls it with a bounded pool, so one slow source never delays
the others, and at most ``MAX_PER_HOST`` sources of one host at a time, so many feeds of
one service are not all requested at once. A file lock in the data directory makes sure that only one process runs
the scheduler, however many web workers start."""
from __future__ import annotations

import fcntl
import gc
import itertools
import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

from apscheduler.schedulers.background import BackgroundScheduler

from .feeds_list import refresh_after_rejection, refresh_due
from .fetch import Outcome, Request
from .group_commit import GroupCommit, commit_together, settle
from .poll_workers import Handed, WorkerPool
from .poll import PageProgress, PollReport, committed, first_request, read_source, reads_in_one_request
from .services import Services
from .storage import Store
from .storage.rows import PollWrite, SourceRow
from .storage.store import PreparedPoll
from .urls import display_host
from .websub import Publisher

log = logging.getLogger(__name__)

# How a worker process passes a poll it read to the main process, which commits it.
HandOver = Callable[[SourceRow, PreparedPoll, PollReport], None]

TICK_SECONDS = 5
LOOP_BATCH = 64  # writes a loop of transfers commits at once
LOOP_LINGER = 0.2  # seconds a loop's write may wait for others to share its commit
# The collector's thresholds in a polling process. A cycle keeps every due source's row,
# result and report alive until it ends, and with the defaults (700, 10, 10) each cycle
# of 10,000 sources set off about four full collections that walked them all: 40% of
# the main process's CPU on a cycle of 304s. A young collection every 50,000
# allocations lets a poll's short-lived objects die young, and the old are rarely walked.
COLLECTOR_THRESHOLDS = (50_000, 20, 10)


class Poller:
    """Runs the pipeline for many sources at once, at most ``max_concurrency``, and at
    most ``max_per_host`` of one host; with ``poll_processes`` above 1, in worker
    processes (see ``poll_workers``) when more than one source is due. Sources read in
    one request go through one loop of transfers, which commits its own writes in
    batches (``_LoopWrites``); the lanes of paged sources write through one group commit
    (see ``group_commit``).

    In a worker process, ``hand_over`` is given: each poll's write, prepared, goes to it
    with the poll's report instead of being committed there (the main process commits
    for all workers, see ``poll_workers``), and the poll's result is its report as read."""

    def __init__(self, services: Services, on_page: PageProgress | None = None, hand_over: HandOver | None = None):
        gc.set_threshold(*COLLECTOR_THRESHOLDS)  # this process polls (see COLLECTOR_THRESHOLDS)
        self.services = services
        self._on_page = on_page  # hears of each page of a paged read (the CLI's backfill progress)
        self._hand_over = hand_over
        self._pool = ThreadPoolExecutor(services.settings.max_concurrency, thread_name_prefix="feedhub-poll")
        self._in_flight: set[int] = set()
        self._lock = threading.Lock()
        self._per_host = services.settings.max_per_host
        # Also holds between two poll_many calls running at once (a tick and "poll now").
        self._host_slots: defaultdict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(self._per_host)
        )
        # The polls under way, in lanes and in the loop of transfers together.
        self._polling = threading.BoundedSemaphore(services.settings.max_concurrency)
        self._publisher = Publisher(services.settings, services.store)
        self._commits = GroupCommit(services.store)
        processes = services.settings.poll_processes
        self._workers = WorkerPool(services.settings, processes, on_page, self.commit_handed_over) if processes > 1 else None

    def poll_many(self, sources: Iterable[SourceRow], on_done: Callable[[SourceRow, PollReport], None] | None = None) -> list[PollReport]:
        """Poll ``sources`` (those not being polled already) and return their reports, in order."""
        sources = list(sources)
        futures = self.start(sources)
        todo = [s for s in sources if s.id in futures]
        reports = []
        for source in todo:
            report = futures[source.id].result()
            reports.append(report)
            if on_done:
                on_done(source, report)
        # A refused feed may mean re-issued tokens: its feeds list names the new ones.
        refresh_after_rejection(self.services, {s.account_id for s, r in zip(todo, reports) if r.outcome is Outcome.TOKEN_REJECTED})
        return reports

    def start(self, sources: Iterable[SourceRow]) -> dict[int, Future[PollReport]]:
        """Start polling those of ``sources`` not being polled already; their reports
        by source id, each set once the poll is committed."""
        with self._lock:
            todo = [s for s in sources if s.id not in self._in_flight]
            self._in_flight.update(s.id for s in todo)
        futures: dict[int, Future[PollReport]] = {s.id: Future() for s in todo}
        for source_id, result in futures.items():
            result.add_done_callback(lambda _, source_id=source_id: self._done(source_id))
        if self._workers is not None and len(todo) > 1 and self._workers.busy.acquire(blocking=False):
            try:
                self._workers.poll(todo, futures)
                return futures
            except Exception:
                self._workers.busy.release()
                log.exception("could not start the poll workers; polling in this process")
        # Sources read in one request share one loop of transfers (``Fetcher.fetch_many``);
        # those read in pages, request after request, are polled by lanes of threads.
        single = [s for s in todo if reads_in_one_request(s)]
        lanes = [single] if single else []
        lanes += host_lanes([s for s in todo if not reads_in_one_request(s)], self._per_host)
        for lane in lanes:
            running = self._pool.submit(self._poll_together if lane is single else self._poll_lane, lane, futures)
            # A lane the pool cancels (close() while polling) never runs: its sources'
            # results are cancelled too, so that nobody waits for them for ever.
            running.add_done_callback(lambda ran, lane=lane: _cancel_if_cancelled(ran, [futures[s.id] for s in lane]))
        return futures

    def _poll_together(self, sources: list[SourceRow], futures: dict[int, Future[PollReport]]) -> None:
        """Poll sources read in one request each: their transfers run together, at most
        ``max_concurrency`` and ``max_per_host`` at once, and each response is read as it
        comes. The loop commits its writes itself, in batches (see ``_LoopWrites``)."""
        services = self.services
        hosts = {source.id: display_host(source.url) for source in sources}
        with self._lock:
            slots = {host: self._host_slots[host] for host in set(hosts.values())}
        requests = (
            Request(source, *first_request(source), slots=(self._polling, slots[hosts[source.id]]))
            for source in interleaved_by_host(sources, hosts)
        )
        writes = _LoopWrites(services.store)
        try:
            for source, fetched in services.fetcher.fetch_many(requests, services.settings.max_concurrency, on_idle=writes.idle):
                try:
                    write, report = read_source(services.store, services.fetcher, source, services.now, self._on_page, fetched)
                except Exception as exc:  # handed to poll_many's caller, as the pool would
                    futures[source.id].set_exception(exc)
                    continue
                self._save(source, write, report, futures[source.id], writes.add)
            writes.flush()
        except BaseException as exc:
            for source in sources:  # nobody waits for ever for a poll that will not end
                if not futures[source.id].done():
                    futures[source.id].set_exception(exc)
            raise

    def _slot(self, source: SourceRow) -> threading.BoundedSemaphore:
        with self._lock:
            return self._host_slots[display_host(source.url)]

    def _poll_lane(self, lane: list[SourceRow], futures: dict[int, Future[PollReport]]) -> None:
        """Poll the sources of one lane one after the other (see ``host_lanes``); each
        poll's write goes to the group commit, and the lane goes on to its next source."""
        for source in lane:
            try:
                with self._polling, self._slot(source):
                    write, report = read_source(self.services.store, self.services.fetcher, source, self.services.now, self._on_page)
            except Exception as exc:  # handed to poll_many's caller, as the pool would
                futures[source.id].set_exception(exc)
                continue
            # Made ready here, so that the committing thread only writes.
            self._save(source, write, report, futures[source.id], lambda write: self._commits.submit(self.services.store.prepare_poll(write)))

    def _save(
        self, source: SourceRow, write: PollWrite, report: PollReport, result: Future[PollReport],
        commit: Callable[[PollWrite], Future[int]],
    ) -> None:
        """Commit a poll's ``write`` with ``commit`` and settle ``result`` once it is
        committed; in a worker process, hand it over instead (see ``__init__``)."""
        if self._hand_over is not None:
            # The activities go along only for a WebSub ping: they cost the most to send.
            sent = report if self._publisher.pings or not report.activities else replace(report, activities=())
            self._hand_over(source, self.services.store.prepare_poll(write), sent)
            result.set_result(sent)
            return
        commit(write).add_done_callback(lambda saved: self._committed(source, report, saved.exception() or saved.result(), result))

    def commit_handed_over(self, handed: list[Handed]) -> None:
        """Commit, in this thread and together, polls that worker processes read (see
        ``poll_workers``): each (source, prepared write, report, result to settle)."""
        outcomes = commit_together(self.services.store, [prepared for _, prepared, _, _ in handed])
        for (source, _, report, result), outcome in zip(handed, outcomes):
            self._committed(source, report, outcome, result)

    def _committed(self, source: SourceRow, report: PollReport, outcome: int | BaseException, result: Future[PollReport]) -> None:
        """Runs once the poll's write is committed (``outcome``: its count of new
        activities), or failed to be (the error)."""
        if isinstance(outcome, BaseException):
            result.set_exception(outcome)
            return
        report = committed(source, report, outcome)
        self._publisher.poll_committed(source, report)  # queued: never holds up polling
        # The activities were for the ping only: a cycle's reports must not keep every
        # activity of every source alive (memory would grow with the number of sources).
        result.set_result(replace(report, activities=()) if report.activities else report)

    def _done(self, source_id: int) -> None:
        with self._lock:
            self._in_flight.discard(source_id)

    def start_workers(self) -> None:
        """Start the worker processes now rather than at the first cycle that needs them."""
        if self._workers is not None:
            self._workers.start()

    def poll_due(self) -> list[PollReport]:
        refresh_due(self.services)  # feeds lists first: new tokens before the polls that use them
        return self.poll_many(self.services.store.due_sources(self.services.now()))

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._commits.close()
        self._publisher.close()


class _LoopWrites:
    """The writes of one loop of transfers, committed by the loop's own thread: a batch
    when ``LOOP_BATCH`` have come, or when the loop would wait anyway and the oldest has
    waited ``LOOP_LINGER``. Handing them to the group commit's thread cost more: the
    committing thread, inside its transaction, waited for the interpreter lock that the
    loop held while it parsed, and another process waited for SQLite's write lock."""

    def __init__(self, store: Store):
        self._store = store
        self._batch: list[tuple[PollWrite, Future[int]]] = []
        self._since = 0.0

    def add(self, write: PollWrite) -> Future[int]:
        """Queue ``write``; its future gives its count of new activities once committed."""
        saved: Future[int] = Future()
        if not self._batch:
            self._since = time.monotonic()
        self._batch.append((write, saved))
        if len(self._batch) >= LOOP_BATCH:
            self.flush()
        return saved

    def idle(self) -> None:
        if self._batch and time.monotonic() - self._since >= LOOP_LINGER:
            self.flush()

    def flush(self) -> None:
        batch, self._batch = self._batch, []
        if batch:
            settle(batch, commit_together(self._store, [write for write, _ in batch]))


def _cancel_if_cancelled(lane: Future[None], results: list[Future[PollReport]]) -> None:
    # Only a lane that never ran: one that ran leaves its results to its commits.
    if lane.cancelled():
        for result in results:
            result.cancel()


def host_lanes(sources: list[SourceRow], per_host: int) -> list[list[SourceRow]]:
    """Split ``sources`` into lanes, polled one after the other, so that no host has
    more than ``per_host`` lanes; each host's sources are dealt round the host's lanes.
    The lanes of different hosts come interleaved, so a pool starts on many hosts."""
    by_host: dict[str, list[SourceRow]] = defaultdict(list)
    for source in sources:
        by_host[display_host(source.url)].append(source)
    lanes_by_host = [[group[i::per_host] for i in range(min(per_host, len(group)))] for group in by_host.values()]
    return [lanes[i] for i in range(per_host) for lanes in lanes_by_host if i < len(lanes)]


def interleaved_by_host(sources: list[SourceRow], hosts: dict[int, str]) -> list[SourceRow]:
    """``sources`` with their hosts (``hosts``, by source id) taking turns, so that a run
    of one host's sources, waiting for its ``max_per_host`` slots, does not hold up the
    other hosts'."""
    by_host: dict[str, list[SourceRow]] = defaultdict(list)
    for source in sources:
        by_host[hosts[source.id]].append(source)
    return [s for turn in itertools.zip_longest(*by_host.values()) for s in turn if s is not None]


class SchedulerLock:
    """An exclusive, non-blocking lock on DATA_DIR/scheduler.lock."""

    def __init__(self, data_dir: Path):
        self._path = data_dir / "scheduler.lock"
        self._file = None

    def acquire(self) -> bool:
        self._file = open(self._path, "w")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.close()
            self._file = None
            return False
        return True

    def release(self) -> None:
        if self._file:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class Scheduler:
    """The background scheduler of one process (if it wins the lock)."""

    def __init__(self, services: Services, tick_seconds: float = TICK_SECONDS):
        self.poller = Poller(services)
        self._lock = SchedulerLock(services.settings.data_dir)
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._tick_seconds = tick_seconds
        self.running = False

    def start(self) -> bool:
        """Start polling; False if another process runs the scheduler already."""
        if not self._lock.acquire():
            log.info("another feedhub process runs the scheduler; this one only serves")
            return False
        # max_instances=1 and coalesce: a long tick is never run twice at once.
        self._scheduler.add_job(self._tick, "interval", seconds=self._tick_seconds, max_instances=1, coalesce=True, id="poll-due")
        self._scheduler.start()
        self.poller.start_workers()
        self.running = True
        return True

    def _tick(self) -> None:
        try:
            self.poller.poll_due()
        except Exception:  # keep the scheduler alive whatever one tick hits
            log.exception("poll tick failed")

    def stop(self) -> None:
        if self.running:
            self._scheduler.shutdown(wait=False)
            self.running = False
        self.poller.close()
        self._lock.release()
