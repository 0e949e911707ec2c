"""Polling in worker processes (``FEEDHUB_POLL_PROCESSES``): the same results as one
process, the per-host limit kept for all processes together, and a dead worker replaced."""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, Response
from hypothesis import given, settings as hypothesis_settings, strategies as st

from feedhub.config import load_settings
from feedhub.emulator.server import serve_in_thread
from feedhub.models import Kind
from feedhub.poll_workers import deal, per_host_each
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.storage.rows import NewSource, SourceRow
from feedhub.subscribe import add_url
from feedhub.urls import display_host

NOW = datetime(2026, 1, 15, tzinfo=timezone.utc)


def _source(source_id: int, host: str) -> SourceRow:
    url = f"http://{host}/feed/{source_id}"
    return SourceRow(
        id=source_id, account_id=1, account_name="a", account_key="a", kind=Kind.OTHER, title="t", url_display=url,
        state="active", etag=None, last_modified=None, last_outcome=None, last_message=None, last_status=None,
        last_polled_at=None, last_success_at=None, next_due_at=NOW, interval_seconds=900, error_count=0, entry_count=0, url=url,
    )


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    hosts=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=5),
    workers=st.integers(min_value=1, max_value=8),
    per_host=st.integers(min_value=1, max_value=10),
)
def test_dealing_keeps_every_source_once_and_the_per_host_limit_for_all_workers(hosts, workers, per_host):
    sources = [_source(len(hosts) * n + h, f"host{h}.example") for h, count in enumerate(hosts) for n in range(count)]
    shares, limit = deal(sources, workers, per_host), per_host_each(workers, per_host)
    assert len(shares) == workers
    assert sorted(s.id for share in shares for s in share) == sorted(s.id for s in sources)
    assert limit >= 1
    for host in {display_host(s.url) for s in sources}:
        holding = sum(1 for share in shares if any(display_host(s.url) == host for s in share))
        # Each worker polls at most `limit` of the host at once: together, at most per_host.
        assert holding * limit <= per_host


def _poll_everything(emulator, data_dir, processes: int) -> tuple[list, set[str]]:
    settings = load_settings(
        {"data_dir": data_dir, "allow_private_networks": True, "poll_processes": processes, "max_per_host": 4}, environ={}
    )
    services = build_services(settings)
    try:
        for index in range(3):
            add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, index), f"user{index}", 900, services.now())
        poller = Poller(services)
        try:
            reports = poller.poll_many(services.store.sources())
        finally:
            poller.close()
        return reports, {a.id for _, a in services.store.activities(limit=100_000)}
    finally:
        services.close()


def test_worker_processes_store_what_one_process_stores(emulator, tmp_path):
    one_reports, one = _poll_everything(emulator, tmp_path / "one", 1)
    two_reports, two = _poll_everything(emulator, tmp_path / "two", 2)
    assert len(two_reports) == len(one_reports) == 15
    assert Counter(r.outcome.value for r in two_reports) == Counter({"ok": 15})
    assert sum(r.new_activities for r in two_reports) == sum(r.new_activities for r in one_reports) == len(one) > 0
    assert two == one


def test_a_dead_worker_is_replaced(emulator, tmp_path):
    settings = load_settings({"data_dir": tmp_path, "allow_private_networks": True, "poll_processes": 2}, environ={})
    services = build_services(settings)
    add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, 0), "home", 900, services.now())
    poller = Poller(services)
    try:
        first = poller.poll_many(services.store.sources())
        assert {r.outcome.value for r in first} == {"ok"}
        for worker in poller._workers._workers:
            worker._process.kill()
            worker._process.join(10)
        again = poller.poll_many([replace(s, etag=None, last_modified=None) for s in services.store.sources()])
        assert {r.outcome.value for r in again} == {"ok"}
        assert all(worker.alive for worker in poller._workers._workers)
    finally:
        poller.close()
        services.close()


def log_the_url(source: SourceRow, read: int, total: int | None) -> None:
    """A page-progress hook that logs the source's secret URL, run in a worker process."""
    logging.getLogger("feedhub.test").warning("read a page of %s", source.url)


def test_what_workers_log_is_redacted_too(emulator, tmp_path, capfd):
    settings = load_settings({"data_dir": tmp_path, "allow_private_networks": True, "poll_processes": 2}, environ={})
    services = build_services(settings)
    add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, 0), "home", 900, services.now())
    sources = services.store.sources()
    token = parse_qs(urlsplit(sources[0].url).query)["feed_token"][0]
    poller = Poller(services, on_page=log_the_url)
    try:
        assert {r.outcome.value for r in poller.poll_many(sources)} == {"ok"}
    finally:
        poller.close()
        services.close()
    logged = capfd.readouterr().err
    assert logged.count("read a page of") == len(sources)
    assert token not in logged


def test_a_worker_that_dies_mid_cycle_fails_only_its_own_polls(tmp_path):
    app = Flask("slow")

    @app.get("/feed/<int:n>")
    def feed(n: int) -> Response:
        time.sleep(0.3)  # long enough to kill a worker while it polls
        body = f'<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:{n}</id><title>F{n}</title><entry><id>urn:{n}:1</id><title>One</title></entry></feed>'
        return Response(body, content_type="application/atom+xml")

    settings = load_settings({"data_dir": tmp_path, "allow_private_networks": True, "poll_processes": 2, "max_per_host": 2}, environ={})
    services = build_services(settings)
    with serve_in_thread(app) as origin:
        urls = [f"{origin.url}feed/{n}" for n in range(8)]
        services.store.add_account("slow", "k:slow", None, [NewSource(u, u, f"F{n}", Kind.OTHER) for n, u in enumerate(urls)], 900, services.now())
        poller = Poller(services)
        try:
            poller.start_workers()
            victim = poller._workers._workers[0]
            killer = threading.Timer(0.5, victim._process.kill)
            killer.start()
            with pytest.raises(RuntimeError, match="the poll worker stopped"):
                poller.poll_many(services.store.sources())
            killer.join()
            waited = time.monotonic()
            while poller._in_flight and time.monotonic() - waited < 30:  # the other worker's polls end
                time.sleep(0.05)
            polled = {s.id for s in services.store.sources() if s.last_outcome == "ok"}
            assert 0 < len(polled) < 8  # the survivor's polls, not the victim's unfinished ones
            again = {r.source_id: r.outcome.value for r in poller.poll_many(services.store.sources())}  # the dead worker is replaced
            # Those read before send the same bytes again (not modified); the others are read now.
            assert again == {s.id: "not_modified" if s.id in polled else "ok" for s in services.store.sources()}
        finally:
            poller.close()
            services.close()


@pytest.fixture
def reports(monkeypatch):
    """A worker's ``_Reports`` over a pipe, whose batches would wait for ever (only a
    full batch or ``send_now`` sends), and the pipe's other end."""
    from multiprocessing import Pipe

    from feedhub import poll_workers

    monkeypatch.setattr(poll_workers._Reports, "REPORT_EVERY", 600.0)
    ours, theirs = Pipe()
    made = poll_workers._Reports(theirs)
    yield made, ours
    made.close()


def test_a_shares_last_report_goes_at_once_the_others_in_batches(reports):
    reports, ours = reports
    reports.add((1, None, None))
    reports.add((2, None, None))
    assert not ours.poll(0.2)  # held for the batch
    reports.add((3, None, None))
    reports.send_now()
    assert ours.poll(10) and ours.recv() == [(1, None, None), (2, None, None), (3, None, None)]


def test_a_full_batch_of_reports_goes_at_once(reports, monkeypatch):
    # The worker waits rather than keep more than MAX_WAITING reports (the main process
    # is behind): a full batch is sent without the batching wait.
    reports, ours = reports
    monkeypatch.setattr(reports, "MAX_WAITING", 2)
    reports.add((1, None, None))
    reports.add((2, None, None))
    assert not ours.poll(0.2)  # not full yet: held for the batch
    reports.add((3, None, None))  # waits until the first two are sent
    assert ours.poll(10) and ours.recv() == [(1, None, None), (2, None, None)]


def test_what_waits_to_be_sent_is_bounded_by_its_rows(reports, monkeypatch):
    # A new feed's rows weigh on the worker's memory, a 304's report hardly: the bound
    # counts rows, so a heavy report makes the next one wait, light ones do not.
    reports, ours = reports
    monkeypatch.setattr(reports, "MAX_WAITING", 10)
    reports.add((1, None, None), rows=10)
    reports.add((2, None, None))  # waits until the heavy one is sent
    assert ours.poll(10) and ours.recv() == [(1, None, None)]
    for source_id in range(3, 11):
        reports.add((source_id, None, None))
    assert not ours.poll(0.2)  # nine light ones: below the bound, held for the batch
    reports.close()
    assert ours.recv() == [(n, None, None) for n in range(2, 11)]
