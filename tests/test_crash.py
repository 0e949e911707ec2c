"""Crash safety: a poller process killed with SIGKILL — between fetch and commit, or at
any moment of a busy poll loop — leaves a consistent database, and the next poll
refetches what was not committed (SPEC §5, issue #3 "Durability").

The pollers here are real subprocesses; nothing in them is told it is about to die.
"""
from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask, Response, request

from feedhub.config import load_settings
from feedhub.emulator.server import serve_in_thread
from feedhub.fetch import Outcome
from feedhub.models import Kind
from feedhub.poll import poll_source
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.storage.rows import NewSource
from feedhub.subscribe import add_url
from feedhub.urls import redact

from .conftest import start_emulator

# The poller of test 1: polls one source, but stops for good between fetch and commit
# (its commit, Store.save_poll, waits), saying so on stdout.
STALLING_POLLER = """
import sys, time
from feedhub.config import load_settings
from feedhub.poll import poll_source
from feedhub.services import build_services
from feedhub.storage.store import Store

def stall(self, write):
    print("fetched, not committed", flush=True)
    time.sleep(600)

Store.save_poll = stall
services = build_services(load_settings({"data_dir": sys.argv[1], "allow_private_networks": True}, environ={}))
poll_source(services.store, services.fetcher, services.store.source(int(sys.argv[2])), services.now)
"""

# The poller of test 2: polls every source again and again, moving the emulator's clock
# on between rounds, so that there is always something to write.
BUSY_POLLER = """
import sys, json, urllib.request
from feedhub.config import load_settings
from feedhub.scheduler import Poller
from feedhub.services import build_services

services = build_services(load_settings({"data_dir": sys.argv[1], "allow_private_networks": True}, environ={}))
poller = Poller(services)
print("polling", flush=True)
while True:
    advance = urllib.request.Request(sys.argv[2] + "_emulator/clock", json.dumps({"advance": 600}).encode(),
                                     {"Content-Type": "application/json"})
    urllib.request.urlopen(advance).read()
    poller.poll_many([s for s in services.store.sources() if s.state == "active"])
"""


def _settings(data_dir: Path):
    return load_settings({"data_dir": data_dir, "allow_private_networks": True, "poll_interval": 60}, environ={})


def _start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _check_database(data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "feedhub.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        # Each source's entry count is written in the commit that writes its entries:
        # they agree unless a commit was half done.
        counts = db.execute(
            "SELECT s.id, s.entry_count, (SELECT count(*) FROM entries e WHERE e.source_id = s.id) FROM sources s"
        ).fetchall()
        assert all(stored == actual for _, stored, actual in counts), counts


class Blog:
    """A feed whose content (and ETag) the test changes; it records what each request sent."""

    def __init__(self) -> None:
        self.version = 1
        self.seen: list[str | None] = []
        app = Flask("blog")

        @app.get("/feed")
        def feed() -> Response:
            self.seen.append(request.headers.get("If-None-Match"))
            etag = f'"v{self.version}"'
            if request.headers.get("If-None-Match") == etag:
                return Response(status=304, headers={"ETag": etag})
            entries = "".join(
                f"<entry><id>urn:p:{i}</id><title>Post {i}</title><updated>2026-01-0{i}T00:00:00Z</updated></entry>"
                for i in range(1, 2 + 2 * self.version)
            )
            body = f'<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:b</id><title>B</title><updated>2026-01-01T00:00:00Z</updated>{entries}</feed>'
            return Response(body, content_type="application/atom+xml", headers={"ETag": etag})

        self.server = serve_in_thread(app)


def test_killed_between_fetch_and_commit_then_the_next_poll_refetches(tmp_path):
    blog = Blog()
    try:
        services = build_services(_settings(tmp_path))
        url = blog.server.url + "feed?key=CRASHKEY1"
        _, (source,) = services.store.add_account("blog", "feeds:blog", None, [NewSource(url, redact(url), "Blog", Kind.OTHER)], 60, services.now())
        first = poll_source(services.store, services.fetcher, source, services.now)
        assert first.outcome is Outcome.OK and services.store.source(source.id).etag == '"v1"'
        polls_before = len(services.store.recent_polls(source.id))
        services.close()

        blog.version = 2  # new entries, a new ETag
        poller = _start(STALLING_POLLER, tmp_path, source.id)
        try:
            assert poller.stdout.readline().strip() == "fetched, not committed", poller.stderr.read()
            assert blog.seen[-1] == '"v1"'  # it did fetch, and got version 2
        finally:
            poller.send_signal(signal.SIGKILL)
            poller.wait()
        assert poller.returncode == -signal.SIGKILL

        _check_database(tmp_path)
        services = build_services(_settings(tmp_path))
        try:
            after_kill = services.store.source(source.id)
            # Nothing of the killed poll was kept: not its validators, entries or log row.
            assert (after_kill.etag, after_kill.entry_count) == ('"v1"', 3)
            assert len(services.store.recent_polls(source.id)) == polls_before
            again = poll_source(services.store, services.fetcher, after_kill, services.now)
        finally:
            services.close()
        # The next poll asked with the validators it had, so it got the new version again.
        assert blog.seen[-1] == '"v1"'
        assert again.outcome is Outcome.OK and again.new_entries == 2
        services = build_services(_settings(tmp_path))
        try:
            assert (services.store.source(source.id).etag, services.store.source(source.id).entry_count) == ('"v2"', 5)
        finally:
            services.close()
    finally:
        blog.server.stop()


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_at_random_moments_of_busy_polling(tmp_path, seed):
    emulator, server = start_emulator()
    try:
        services = build_services(_settings(tmp_path))
        add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, 0), "home", 60, services.now())
        add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, 1, "opml"), "alex", 60, services.now())
        services.close()
        moments = random.Random(seed)
        for _ in range(4):
            poller = _start(BUSY_POLLER, tmp_path, emulator.base_url)
            try:
                assert poller.stdout.readline().strip() == "polling", poller.stderr.read()
                time.sleep(moments.uniform(0.05, 1.5))  # not a timing assertion: where the kill lands
            finally:
                poller.send_signal(signal.SIGKILL)
                poller.wait()
            _check_database(tmp_path)

        # After all that, polling works and finds the database as it should be.
        services = build_services(_settings(tmp_path))
        poller = Poller(services)
        try:
            reports = poller.poll_many(services.store.sources())
            assert reports and all(r.outcome.healthy for r in reports), [r.message for r in reports]
            again = poller.poll_many(services.store.sources())
            assert all(r.outcome is Outcome.NOT_MODIFIED and r.new_activities == 0 for r in again)
        finally:
            poller.close()
            services.close()
        _check_database(tmp_path)
    finally:
        server.stop()
