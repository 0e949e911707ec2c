"""One row per bad input, fault or attack a source can throw at feedhub (issue #3).

Every row starts from the same polled database: account ``home`` (the emulator's five
Netflix feeds of one user, added through its feeds list) and account ``blog`` (one
generic Atom feed on a small origin server). The row arms its fault on one *victim*
source, then every active source is polled once, as the scheduler would, under the
strict address policy (private networks off; only ``127.0.0.1`` on the allow-list).

Each row asserts:

- the classified code of the victim's poll, and that it is in the poll log;
- the scheduling consequence: the next due time (interval, backoff, Retry-After,
  freshness), retirement, or the account paused until it has new tokens;
- survival: the poll returned within its deadline (a ``timeout`` code, never a hang:
  the faults that would hang run far longer than the deadline) and within a memory
  bound (the peak traced while polling);
- nothing else changed: every other source still polled healthily, no entry was lost,
  a failed poll changed neither the victim's entries nor its validators nor the
  activities, the database passes ``PRAGMA integrity_check``, and no secret or canary
  leaked into the database.
"""
from __future__ import annotations

import gzip
import shutil
import sqlite3
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner
from flask import Flask, Response, request

from feedhub.cli import main
from feedhub.config import load_settings
from feedhub.emulator.server import serve_in_thread
from feedhub.fetch import Outcome
from feedhub.models import Kind
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.storage.rows import NewSource
from feedhub.subscribe import AddError, add_url
from feedhub.urls import redact

from .canary import Canary
from .conftest import start_emulator

INTERVAL = 60
MAX_BODY = 1024 * 1024
TOTAL_TIMEOUT = 1.5
MEMORY_BOUND = 64 * 1024 * 1024  # traced bytes at the peak of one poll of every source
BLOG_SECRET = "BLOGKEY-5e1f0c"
DAY = timedelta(days=1)
ATOM = "application/atom+xml"


def _atom(entries: str = "", head: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'{head}<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:blog</id><title>Blog</title>'
        f"<updated>2026-01-01T00:00:00Z</updated>{entries}</feed>\n"
    ).encode()


def _entry(i: int, title: str | None = None, extra: str = "") -> str:
    return (
        f"<entry><id>urn:blog:{i}</id><title>{title or f'Post {i}'}</title>"
        f'<link href="https://blog.example/{i}"/><updated>2026-01-0{1 + i % 9}T00:00:00Z</updated>{extra}</entry>'
    )


BLOG = _atom("".join(_entry(i) for i in range(3)))


class Origin:
    """The blog's server: answers ``/feed`` with whatever the row set (by default, the
    blog feed with validators), and ``/new-feed`` with the blog feed."""

    def __init__(self) -> None:
        self.answer: Callable[[], Response] = self.blog
        self.trickled = 0  # bytes a trickling answer got out
        app = Flask("origin")
        app.add_url_rule("/feed", "feed", lambda: self.answer())
        app.add_url_rule("/new-feed", "new_feed", self.blog)
        self.server = serve_in_thread(app)
        self.url = self.server.url

    def blog(self) -> Response:
        if request.headers.get("If-None-Match") == '"blog-1"':
            return Response(status=304, headers={"ETag": '"blog-1"'})
        return Response(BLOG, content_type=ATOM, headers={"ETag": '"blog-1"'})

    def serve(self, body: bytes = b"", status: int = 200, content_type: str = ATOM, **headers: str) -> None:
        self.answer = lambda: Response(body, status, content_type=content_type, headers=headers)

    def stream(self, chunks: Callable[[], object], **headers: str) -> None:
        self.answer = lambda: Response(chunks(), content_type=ATOM, headers=headers)


@dataclass
class World:
    base: Path
    emulator: object
    origin: Origin
    canary: Canary
    canary_file: Path
    secrets: list[str] = field(default_factory=list)


def _settings(data_dir: Path):
    return load_settings(
        {
            "data_dir": data_dir,
            "allow_private_networks": False,
            "allowed_hosts": "127.0.0.1",
            "poll_interval": INTERVAL,
            "connect_timeout": 1.0,
            "read_timeout": 1.0,
            "total_timeout": TOTAL_TIMEOUT,
            "max_body_bytes": MAX_BODY,
        },
        environ={},
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    emulator, emulator_server = start_emulator()
    origin, canary = Origin(), Canary()
    canary_file = tmp_path_factory.mktemp("files") / "secret.txt"
    canary_file.write_text("LOCAL-FILE-CANARY-91d2\n")
    base = tmp_path_factory.mktemp("base")
    services = build_services(_settings(base))
    add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, 0), "home", INTERVAL, services.now())
    blog_url = f"{origin.url}feed?key={BLOG_SECRET}"
    services.store.add_account("blog", "feeds:blog", None, [NewSource(blog_url, redact(blog_url), "Blog", Kind.OTHER)], INTERVAL, services.now())
    poller = Poller(services)
    try:
        first = poller.poll_many(services.store.sources())
    finally:
        poller.close()
        services.close()
    assert all(r.outcome is Outcome.OK for r in first), [r.message for r in first]
    user = emulator.users[0]
    secrets = [BLOG_SECRET, user.tokens.feeds_list, user.tokens.watched, user.tokens.queue, user.tokens.ratings]
    yield World(base, emulator, origin, canary, canary_file, secrets)
    canary.stop()
    origin.server.stop()
    emulator_server.stop()


# -- rows --------------------------------------------------------------------------------

WATCHED = r"/rental_history/"


@dataclass(frozen=True)
class Row:
    id: str
    arm: Callable[[World], None]
    code: Outcome
    then: str  # the scheduling consequence: interval, backoff, retry:<s>, capped, retired, paused, fresh:<s>
    victim: str = "watched"  # "watched" (home's Netflix feed) or "blog"
    polls: int = 1
    check: Callable[[World, object, object], None] | None = None  # more assertions: (world, services, victim)
    says: str = ""  # words the victim's message must hold


def fault(**kwargs) -> Callable[[World], None]:
    return lambda w: w.emulator.add_fault(WATCHED, **kwargs)


def serve(body: bytes, **kwargs) -> Callable[[World], None]:
    return lambda w: w.origin.serve(body, **kwargs)


def _http_date(delta: timedelta) -> str:
    return format_datetime(datetime.now(timezone.utc) + delta, usegmt=True)


def _nothing_fetched(w: World, services, victim) -> None:
    assert w.canary.hits == []


def _entries_of_blog(count: int):
    def check(w: World, services, victim) -> None:
        assert services.store.source(victim.id).entry_count == count

    return check


def _future_dated_activity_is_dated_when_seen(w: World, services, victim) -> None:
    found = [a for _, a in services.store.activities(limit=500) if a.title.name == "From the future"]
    assert len(found) == 1 and found[0].occurred_at <= datetime.now(timezone.utc)


def _adopted(w: World, services, victim) -> None:
    source = services.store.source(victim.id)
    assert source.url == f"{w.origin.url}new-feed?key={BLOG_SECRET}"  # the secret kept
    assert source.url_display == f"{w.origin.url}new-feed?key=REDACTED"


def _not_adopted(w: World, services, victim) -> None:
    assert services.store.source(victim.id).url == f"{w.origin.url}feed?key={BLOG_SECRET}"


def _moved_once(w: World, services, victim) -> None:
    source = services.store.source(victim.id)
    assert source.url == f"{w.origin.url}feed?key={BLOG_SECRET}" and source.moved_count == 1


def _stream(size: int, chunk: int = 65536):
    def chunks():
        yield _atom()[:-8]
        for _ in range(size // chunk):
            yield b" " * chunk

    return chunks


TRICKLED = 4000


def _trickle(origin: Origin):
    origin.trickled = 0

    def chunks():
        for byte in _atom("".join(_entry(i) for i in range(40)))[:TRICKLED].ljust(TRICKLED):
            time.sleep(0.01)
            origin.trickled += 1
            yield bytes([byte])

    return chunks


def _hung_up_early(w: World, services, victim) -> None:
    time.sleep(0.3)  # the server notices the hang-up at its next write
    assert w.origin.trickled < TRICKLED // 2


def _cut_short():
    yield _atom(_entry(1))[:40]  # then the server stops, well short of its Content-Length


ROWS = [
    # HTTP statuses
    Row("status-401", fault(status=401), Outcome.TOKEN_REJECTED, "paused"),
    Row("status-403", fault(status=403), Outcome.TOKEN_REJECTED, "paused"),
    Row("status-410", fault(status=410), Outcome.GONE, "retired"),
    Row("status-404", fault(status=404), Outcome.NOT_FOUND, "backoff"),
    Row("status-400", fault(status=400), Outcome.CLIENT_ERROR, "backoff"),
    Row("status-500", fault(status=500), Outcome.SERVER_ERROR, "backoff"),
    Row("status-502", fault(status=502), Outcome.SERVER_ERROR, "backoff"),
    Row("status-429-retry-after-seconds", fault(status=429, retry_after=3600), Outcome.RATE_LIMITED, "retry:3600"),
    Row("status-503-retry-after-http-date", lambda w: w.emulator.add_fault(WATCHED, status=503, retry_after=_http_date(timedelta(hours=2))), Outcome.RATE_LIMITED, "retry:7200"),
    Row("status-503-retry-after-in-the-past", lambda w: w.emulator.add_fault(WATCHED, status=503, retry_after=_http_date(-DAY)), Outcome.RATE_LIMITED, "backoff"),
    Row("status-429-retry-after-garbage", fault(status=429, retry_after="soon, maybe"), Outcome.RATE_LIMITED, "backoff"),
    Row("status-429-retry-after-huge", fault(status=429, retry_after=10**9), Outcome.RATE_LIMITED, "capped"),
    # time
    Row("headers-later-than-the-read-timeout", fault(delay=4), Outcome.TIMEOUT, "backoff"),
    Row("trickled-feed", fault(body="oversized", size=4096, trickle=0.05), Outcome.TIMEOUT, "backoff"),
    Row("trickled-error-page", fault(status=200, body="html", trickle=0.2), Outcome.TIMEOUT, "backoff"),
    # 4,000 bytes with their Content-Length, one every 10 ms: a reader waits for them all
    # in one read, so only shutting the socket at the deadline stops it early.
    Row("trickled-body-one-read", lambda w: w.origin.stream(_trickle(w.origin), **{"Content-Length": str(TRICKLED)}), Outcome.TIMEOUT, "backoff", victim="blog", check=_hung_up_early),
    # size
    Row("oversized-body", fault(body="oversized", size=8 * MAX_BODY), Outcome.TOO_LARGE, "backoff"),
    Row("gzip-bomb", fault(body="gzip_bomb", size=512 * MAX_BODY), Outcome.TOO_LARGE, "backoff"),
    Row("declared-length-too-large", lambda w: w.origin.stream(lambda: iter([b"<feed"]), **{"Content-Length": str(50 * MAX_BODY)}), Outcome.TOO_LARGE, "backoff", victim="blog"),
    Row("endless-chunked-body", lambda w: w.origin.stream(_stream(4 * MAX_BODY)), Outcome.TOO_LARGE, "backoff", victim="blog"),
    Row("body-cut-short", lambda w: w.origin.stream(_cut_short, **{"Content-Length": "5000"}), Outcome.CONNECTION_ERROR, "backoff", victim="blog"),
    # not a feed, or a broken one
    Row("empty-body", fault(body="empty"), Outcome.NOT_A_FEED, "backoff"),
    Row("html-sign-in-page", fault(body="html"), Outcome.NOT_A_FEED, "backoff"),
    Row("html-page-linking-a-feed", lambda w: w.emulator.add_fault(WATCHED, body="html_feed_link", target=w.origin.url + "feed"), Outcome.NOT_A_FEED, "backoff"),
    Row("truncated-xml", fault(body="malformed"), Outcome.MALFORMED, "backoff"),
    Row("binary-garbage", serve(bytes(range(256)) * 64, content_type="application/octet-stream"), Outcome.NOT_A_FEED, "backoff", victim="blog"),
    Row("json-that-is-not-json", serve(b'{"version": "https://jsonfeed.org/version/1.1", "items": [', content_type="application/feed+json"), Outcome.MALFORMED, "backoff", victim="blog"),
    Row("json-that-is-no-feed", serve(b'{"hello": "world"}', content_type="application/json"), Outcome.NOT_A_FEED, "backoff", victim="blog"),
    Row("lone-surrogate-reference", serve(_atom(_entry(1, "&#xD800;"))), Outcome.MALFORMED, "backoff", victim="blog"),
    Row("huge-character-reference", serve(_atom(_entry(1, "&#999999999999;"))), Outcome.MALFORMED, "backoff", victim="blog"),
    Row("control-characters", serve(_atom(_entry(1, "bell\x07here"))), Outcome.MALFORMED, "backoff", victim="blog"),
    Row("nested-too-deep", serve(_atom("<x>" * 200 + "</x>" * 200)), Outcome.MALFORMED, "backoff", victim="blog"),
    Row("too-many-elements", serve(_atom("<x/>" * 60_000)), Outcome.MALFORMED, "backoff", victim="blog"),
    Row("too-many-attributes", serve(_atom("<x " + " ".join(f'a{i}="1"' for i in range(5000)) + "/>")), Outcome.MALFORMED, "backoff", victim="blog"),
    # entity tricks: refused at once, nothing read, fetched or expanded
    Row("billion-laughs", fault(body="billion_laughs"), Outcome.MALFORMED, "backoff", says="declares"),
    Row("billion-laughs-one-line-doctype", fault(body="billion_laughs_one_line"), Outcome.MALFORMED, "backoff", says="declares"),
    Row("quadratic-blowup", fault(body="quadratic_blowup"), Outcome.MALFORMED, "backoff", says="declares"),
    Row("xxe-entity-local-file", lambda w: w.emulator.add_fault(WATCHED, body="xxe_entity", target=w.canary_file.as_uri()), Outcome.MALFORMED, "backoff", says="declares"),
    Row("xxe-entity-http", lambda w: w.emulator.add_fault(WATCHED, body="xxe_entity", target=w.canary.url + "xxe"), Outcome.MALFORMED, "backoff", check=_nothing_fetched, says="declares"),
    Row("xxe-parameter-entity-local-file", lambda w: w.emulator.add_fault(WATCHED, body="xxe_parameter", target=w.canary_file.as_uri()), Outcome.MALFORMED, "backoff", says="declares"),
    Row("xxe-parameter-entity-http", lambda w: w.emulator.add_fault(WATCHED, body="xxe_parameter", target=w.canary.url + "pe"), Outcome.MALFORMED, "backoff", check=_nothing_fetched, says="declares"),
    # An external DTD is named, never read: the entity it would declare stays unknown.
    Row("xxe-external-dtd-http", lambda w: w.emulator.add_fault(WATCHED, body="xxe_dtd", target=w.canary.url + "dtd"), Outcome.MALFORMED, "backoff", check=_nothing_fetched),
    Row("xxe-external-dtd-local-file", lambda w: w.emulator.add_fault(WATCHED, body="xxe_dtd", target=w.canary_file.as_uri()), Outcome.MALFORMED, "backoff"),
    Row("external-dtd-named-but-not-needed", lambda w: w.origin.serve(_atom(_entry(1), f'<!DOCTYPE feed SYSTEM "{w.canary.url}dtd">\n')), Outcome.OK, "interval", victim="blog", check=_nothing_fetched),
    # redirects
    Row("redirect-loop", lambda w: w.emulator.add_fault(WATCHED, status=302, location="/users/x/rental_history/watched"), Outcome.TOO_MANY_REDIRECTS, "backoff"),
    Row("redirect-chain-of-6", fault(status=302, redirects=6), Outcome.TOO_MANY_REDIRECTS, "backoff"),
    Row("redirect-chain-of-5", fault(status=307, redirects=5), Outcome.NOT_MODIFIED, "interval"),  # validators sent on every hop
    Row("redirect-to-cloud-metadata", fault(status=302, location="http://169.254.169.254/latest/meta-data/"), Outcome.BLOCKED_ADDRESS, "backoff"),
    Row("redirect-to-private-network", fault(status=301, location="http://10.0.0.1/feed"), Outcome.BLOCKED_ADDRESS, "backoff"),
    Row("redirect-to-loopback-spelled-127-1", lambda w: w.emulator.add_fault(WATCHED, status=302, location=f"http://127.1:{w.canary.port}/"), Outcome.BLOCKED_ADDRESS, "backoff", check=_nothing_fetched),
    Row("redirect-to-a-file", fault(status=302, location="file:///etc/passwd"), Outcome.INVALID_URL, "backoff"),
    Row("permanent-redirect-seen-once", lambda w: w.origin.serve(status=301, Location=w.origin.url + "new-feed"), Outcome.NOT_MODIFIED, "interval", victim="blog", check=_moved_once),
    Row("permanent-redirect-seen-twice", lambda w: w.origin.serve(status=308, Location=w.origin.url + "new-feed"), Outcome.NOT_MODIFIED, "interval", victim="blog", polls=2, check=_adopted),
    Row("temporary-redirect-seen-twice", lambda w: w.origin.serve(status=302, Location=w.origin.url + "new-feed"), Outcome.NOT_MODIFIED, "interval", victim="blog", polls=2, check=_not_adopted),
    # where the source is
    Row("private-address", lambda w: None, Outcome.BLOCKED_ADDRESS, "backoff", victim="http://10.1.2.3/feed?key=PRIVATEKEY1"),
    Row("connection-refused", lambda w: None, Outcome.CONNECTION_ERROR, "backoff", victim="http://127.0.0.1:9/feed?key=REFUSEDKEY1"),
    Row("not-http", lambda w: None, Outcome.INVALID_URL, "backoff", victim="ftp://127.0.0.1/feed?key=FTPKEY1"),
    # what the server says about freshness
    Row("cache-control-max-age", fault(headers={"Cache-Control": "max-age=7200"}), Outcome.NOT_MODIFIED, "fresh:7200"),
    Row("expires-in-a-day-and-more", lambda w: w.emulator.add_fault(WATCHED, headers={"Expires": _http_date(3 * DAY)}), Outcome.NOT_MODIFIED, "fresh:86400"),
    Row("expires-zero", fault(headers={"Expires": "0"}), Outcome.NOT_MODIFIED, "interval"),
    Row("max-age-shorter-than-the-interval", fault(headers={"Cache-Control": "max-age=5"}), Outcome.NOT_MODIFIED, "interval"),
    # tolerated: read, with documented rules
    Row("wrong-declared-encoding", serve(_atom(_entry(1, "Café"), "").replace(b"utf-8", b"us-ascii")), Outcome.OK, "interval", victim="blog"),
    Row("latin-1-bytes-declared-utf-8", serve(_atom(_entry(1, "Caf\xe9")).replace("Café".encode(), b"Caf\xe9")), Outcome.OK, "interval", victim="blog"),
    Row("served-as-text-plain", serve(BLOG, content_type="text/plain"), Outcome.OK, "interval", victim="blog"),
    Row("utf-16-with-bom", serve(BLOG.decode().replace("utf-8", "utf-16").encode("utf-16")), Outcome.OK, "interval", victim="blog"),
    Row("entries-without-ids", serve(_atom("<entry><title>No id</title><content>x</content></entry><entry><title>Link only</title><link href='https://blog.example/l'/></entry>")), Outcome.OK, "interval", victim="blog", check=_entries_of_blog(5)),
    Row("duplicate-ids", serve(_atom(_entry(7) + _entry(7, "Same id again"))), Outcome.OK, "interval", victim="blog", check=_entries_of_blog(4)),
    Row("dated-in-the-future", serve(_atom("<entry><id>urn:future</id><title>From the future</title><updated>2999-01-01T00:00:00Z</updated></entry>")), Outcome.OK, "interval", victim="blog", check=_future_dated_activity_is_dated_when_seen),
    # Not BLOG itself: the same content as the last poll would not be parsed again.
    Row("gzip-served-honestly", serve(gzip.compress(_atom(_entry(8, "Compressed"))), **{"Content-Encoding": "gzip"}), Outcome.OK, "interval", victim="blog", check=_entries_of_blog(4)),
]


# -- the test ----------------------------------------------------------------------------


def _database_text(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "feedhub.db") as db:
        return "\n".join(db.iterdump())


def _integrity(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "feedhub.db") as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def _victim(w: World, services, row: Row):
    sources = services.store.sources()
    if row.victim == "watched":
        return next(s for s in sources if s.account_name == "home" and s.kind is Kind.WATCHED)
    if row.victim == "blog":
        return next(s for s in sources if s.account_name == "blog")
    # A source of its own, at the address the row names.
    url = row.victim
    _, (made,) = services.store.add_account("other", "feeds:other", None, [NewSource(url, redact(url), "Other", Kind.OTHER)], INTERVAL, services.now())
    return made


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input(world: World, row: Row, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(world.base, data)
    world.emulator.clear_faults()
    world.origin.answer = world.origin.blog
    world.canary.reset()
    services = build_services(_settings(data))
    poller = Poller(services)
    try:
        victim = _victim(world, services, row)
        before = {s.id: s for s in services.store.sources()}
        activities_before = services.store.activity_count()
        row.arm(world)
        for _ in range(row.polls):
            started = services.now()
            tracemalloc.start()
            try:
                reports = poller.poll_many([s for s in services.store.sources() if s.state == "active"])
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        after = {s.id: s for s in services.store.sources()}

        # The code, in the report and in the poll log.
        by_source = {r.source_id: r for r in reports}
        assert by_source[victim.id].outcome is row.code, by_source[victim.id].message
        assert row.says in by_source[victim.id].message
        assert services.store.recent_polls(victim.id, 1)[0].outcome == row.code.value
        # Survival: bounded memory (the time bound is the code itself: see the docstring).
        assert peak < MEMORY_BOUND, f"{peak / 2**20:.1f} MiB"

        # The scheduling consequence.
        _assert_schedule(row, after, victim.id, started)

        # Nothing else changed.
        others = [r for r in reports if r.source_id != victim.id]
        assert others and all(r.outcome.healthy for r in others), [(r.source_id, r.outcome, r.message) for r in others]
        for source_id, old in before.items():
            assert after[source_id].entry_count >= old.entry_count, f"entries lost from #{source_id}"
        if not row.code.healthy:
            assert after[victim.id].entry_count == before[victim.id].entry_count
            assert (after[victim.id].etag, after[victim.id].last_modified) == (before[victim.id].etag, before[victim.id].last_modified)
            assert services.store.activity_count() == activities_before
        if row.check:
            row.check(world, services, victim)
    finally:
        poller.close()
        services.close()
    assert _integrity(data) == "ok"
    stored = _database_text(data)
    assert "LOCAL-FILE-CANARY-91d2" not in stored and Canary.SECRET not in stored
    assert not any(secret in stored for secret in world.secrets)  # stored sealed, never in clear


def _assert_schedule(row: Row, after: dict, victim_id: int, started: datetime) -> None:
    victim = after[victim_id]
    due = victim.next_due_at - started
    jitter = 1.1 + 0.05  # the plan's jitter, and a little for the time the poll took
    if row.then == "paused":
        assert victim.state == "needs_token"
        home = [s for s in after.values() if s.account_name == "home"]
        assert all(s.state == "needs_token" for s in home), [(s.id, s.state) for s in home]
        assert all(s.state == "active" for s in after.values() if s.account_name != "home")
        return
    if row.then == "retired":
        assert victim.state == "retired"
        return
    assert victim.state == "active"
    if row.then in ("interval",) or row.then.startswith("fresh:"):
        seconds = INTERVAL if row.then == "interval" else int(row.then.split(":")[1])
        assert victim.error_count == 0 and not victim.backing_off
    elif row.then == "backoff":
        seconds = INTERVAL  # the first failure in a row: one interval
        assert victim.error_count == 1 and victim.backing_off
    elif row.then == "capped":
        seconds = int(DAY.total_seconds())
    else:  # retry:<seconds>
        seconds = int(row.then.split(":")[1])
        assert victim.error_count == 1
    assert timedelta(seconds=seconds * 0.99) <= due <= timedelta(seconds=seconds * jitter), (row.then, due)


# -- after the table: bringing stopped sources back, and pages that are no feed --------------


def test_a_paused_account_resumes_and_a_retired_source_comes_back(world: World, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(world.base, data)
    world.emulator.clear_faults()
    world.emulator.add_fault(WATCHED, status=401, times=1)
    world.emulator.add_fault(r"/ratings/", status=410, times=1)
    services = build_services(_settings(data))
    poller = Poller(services)
    try:
        poller.poll_many([s for s in services.store.sources() if s.state == "active"])
        home = {s.kind: s for s in services.store.sources() if s.account_name == "home"}
    finally:
        poller.close()
        services.close()
    assert home[Kind.RATINGS].state == "retired"
    assert {s.state for k, s in home.items() if k is not Kind.RATINGS} == {"needs_token"}

    env = {"FEEDHUB_DATA_DIR": str(data), "FEEDHUB_ALLOWED_HOSTS": "127.0.0.1"}
    runner = CliRunner()
    listing = runner.invoke(main, ["sources"], env=env)
    assert "needs_token" in listing.output and "retired" in listing.output
    resumed = runner.invoke(main, ["resume", "home"], env=env)
    assert resumed.exit_code == 0 and "resumed 4 sources" in resumed.output
    enabled = runner.invoke(main, ["enable", str(home[Kind.RATINGS].id)], env=env)
    assert enabled.exit_code == 0 and "active again" in enabled.output
    assert runner.invoke(main, ["enable", "999"], env=env).exit_code == 1
    assert runner.invoke(main, ["resume", "nobody"], env=env).exit_code == 1

    services = build_services(_settings(data))
    poller = Poller(services)
    try:
        due = services.store.due_sources(services.now())
        assert {s.id for s in due} == {s.id for s in home.values()}  # all due now, failures forgotten
        assert all(s.error_count == 0 and s.state == "active" for s in due)
        assert all(r.outcome.healthy for r in poller.poll_many(due))
        log = runner.invoke(main, ["polls", str(home[Kind.WATCHED].id)], env=env).output
        assert "token_rejected" in log and "401" in log and "feed_token=REDACTED" in log
    finally:
        poller.close()
        services.close()


def test_adding_an_html_page_follows_the_feed_it_links(world: World, tmp_path):
    world.emulator.clear_faults()
    feed = world.emulator.feed_url(world.emulator.base_url, 0, "watched")
    world.emulator.add_fault(r"^/diary$", body="html_feed_link", target=feed.replace(world.emulator.base_url, "/"))
    world.emulator.add_fault(r"^/plain-page$", body="html")
    world.emulator.add_fault(r"^/sneaky$", body="html_feed_link", target="http://169.254.169.254/latest/feed.xml")
    services = build_services(_settings(tmp_path / "data"))
    try:
        added = add_url(services.store, services.fetcher, world.emulator.base_url + "diary", "diary", INTERVAL, services.now())
        (source,) = added.sources
        assert source.url == feed and source.kind is Kind.WATCHED  # the linked feed, not the page
        with pytest.raises(AddError, match="links no feed"):
            add_url(services.store, services.fetcher, world.emulator.base_url + "plain-page", "plain", INTERVAL, services.now())
        with pytest.raises(AddError, match="could not be read as feeds"):
            add_url(services.store, services.fetcher, world.emulator.base_url + "sneaky", "sneaky", INTERVAL, services.now())
        assert [a.name for a in services.store.accounts()] == ["diary"]  # nothing else was written
    finally:
        services.close()
        world.emulator.clear_faults()


@pytest.mark.parametrize(
    "rule, error",
    [
        ({"path": "x", "trickle": 11}, "trickle"),
        ({"path": "x", "redirects": 51}, "redirects"),
        ({"path": "x", "status": 500, "redirects": 2}, "redirect status"),
        ({"path": "x", "body": "html_feed_link"}, "needs a target"),
        ({"path": "x", "body": "html", "target": "file:///etc/passwd"}, "target goes with"),
        ({"path": "x", "body": "html", "size": 10}, "size goes with"),
        ({"path": "x", "headers": {"X": 1}}, "wrong type|headers"),
        ({"path": "x", "retry_after": "a\nb"}, "printable"),
        ({"path": "x"}, "needs a status"),
    ],
)
def test_the_emulator_refuses_a_bad_fault_clearly(rule, error):
    from feedhub.emulator.app import FaultRule

    with pytest.raises(ValueError, match=error):
        FaultRule.from_json(rule)


def test_a_server_trickling_its_status_line_and_headers_meets_the_deadline():
    """Before any header has arrived there is no response to read a body from: the
    deadline wakes the read all the same (the table's trickles send the body slowly)."""
    import socket
    import threading

    from feedhub.fetch import FetchPolicy, Fetcher

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()

    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\nContent-Length: 2\r\n\r\nok"
    sent = []

    def trickle() -> None:
        connection, _ = listening.accept()
        with connection:
            connection.recv(4096)
            try:
                for byte in answer:
                    connection.sendall(bytes([byte]))
                    sent.append(byte)
                    time.sleep(0.2)  # each byte well within the read timeout; 16 s in all
            except OSError:
                pass  # the client hung up at its deadline

    threading.Thread(target=trickle, daemon=True).start()
    fetcher = Fetcher(FetchPolicy(allow_private_networks=True, read_timeout=1, total_timeout=TOTAL_TIMEOUT))
    try:
        result = fetcher.fetch(f"http://127.0.0.1:{listening.getsockname()[1]}/feed?key=TRICKLEKEY")
    finally:
        fetcher.close()
        listening.close()
    assert result.outcome is Outcome.TIMEOUT and "TRICKLEKEY" not in result.message
    time.sleep(0.5)  # the server notices the hang-up at its next write
    assert len(sent) < len(answer) // 2  # the client hung up at its deadline, not at the end
