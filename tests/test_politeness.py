"""Politeness, in the spirit of the public feed-reader test servers: validators sent
back byte for byte and kept across a 304, never an unconditional GET once they are
known, never a poll before its due time, a User-Agent with a contact URL, at most a few
requests at once to one host; and the scheduling rules (``schedule``) as a table."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from flask import Flask, Response, request

from feedhub.emulator.server import serve_in_thread
from feedhub.fetch import Outcome
from feedhub.models import Kind
from feedhub import poll
from feedhub.poll import poll_source
from feedhub.schedule import MAX_BACKOFF, MAX_FRESHNESS, MAX_RETRY_AFTER, freshness, plan, plan_move, retry_after
from feedhub.services import build_services
from feedhub.scheduler import Poller, host_lanes, interleaved_by_host
from feedhub.storage.rows import NewSource
from feedhub.urls import redact

ETAG = 'W/"odd; but valid \\"etag\\""'
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)


class Origin:
    """Records every request; answers as ``mode`` says."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.mode = "normal"
        self.entries = 1  # in "no_validators" mode
        self.in_flight: dict[str, int] = {}
        self.most_in_flight: dict[str, int] = {}
        self.most_in_flight_in_all = 0
        self._lock = threading.Lock()
        app = Flask("origin")

        @app.get("/feed/<int:n>")
        @app.get("/users/<user>/feed/<int:n>")  # a Netflix-style URL: read in pages
        def feed(n: int, user: str | None = None) -> Response:
            headers = {k.lower(): v for k, v in request.headers.items()}
            host = headers["host"].rsplit(":", 1)[0]
            with self._lock:
                self.requests.append(headers)
                self.in_flight[host] = self.in_flight.get(host, 0) + 1
                self.most_in_flight[host] = max(self.most_in_flight.get(host, 0), self.in_flight[host])
                self.most_in_flight_in_all = max(self.most_in_flight_in_all, sum(self.in_flight.values()))
            try:
                if self.mode == "slow":
                    time.sleep(0.2)
                if self.mode == "fail":
                    return Response("no", status=500)
                if self.mode == "no_validators":  # every request answered in full
                    entries = "".join(f"<entry><id>urn:{n}:{i}</id><title>Entry {i}</title></entry>" for i in range(self.entries))
                    body = f'<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:{n}</id><title>F{n}</title>{entries}</feed>'
                    return Response(body, content_type="application/atom+xml")
                if headers.get("if-none-match") == ETAG:
                    return Response(status=304)  # no validators repeated: they must be kept
                body = f'<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:{n}</id><title>F{n}</title><entry><id>urn:{n}:1</id><title>One</title></entry></feed>'
                return Response(body, content_type="application/atom+xml", headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})
            finally:
                with self._lock:
                    self.in_flight[host] -= 1

        self.server = serve_in_thread(app)


@pytest.fixture
def origin():
    made = Origin()
    yield made
    made.server.stop()


def _add(services, urls: list[str]):
    made = [NewSource(u, redact(u), f"Feed {i}", Kind.OTHER) for i, u in enumerate(urls)]
    return services.store.add_account("polite", "feeds:polite", None, made, 60, services.now())[1]


def test_validators_go_back_byte_for_byte_and_are_kept_across_304s_and_failures(services, origin):
    (source,) = _add(services, [origin.server.url + "feed/1?key=POLITEKEY"])
    for mode in ("normal", "normal", "normal", "fail", "normal"):
        origin.mode = mode
        poll_source(services.store, services.fetcher, services.store.source(source.id), services.now)
    first, *later = origin.requests
    assert "if-none-match" not in first and "if-modified-since" not in first
    assert len(later) == 4
    for sent in later:  # never unconditional once the validators are known
        assert sent["if-none-match"] == ETAG
        assert sent["if-modified-since"] == LAST_MODIFIED
    stored = services.store.source(source.id)
    assert (stored.etag, stored.last_modified) == (ETAG, LAST_MODIFIED)


def test_the_same_response_again_is_not_parsed_again(services, origin, monkeypatch):
    origin.mode = "no_validators"
    (source,) = _add(services, [origin.server.url + "feed/1?key=POLITEKEY"])
    parsed = []
    real_parse = poll.parse_feed
    monkeypatch.setattr(poll, "parse_feed", lambda *args: parsed.append(1) or real_parse(*args))

    def poll_once():
        return poll_source(services.store, services.fetcher, services.store.source(source.id), services.now)

    first = poll_once()
    assert (first.outcome, first.new_activities, len(parsed)) == (Outcome.OK, 1, 1)
    again = poll_once()
    assert (again.outcome, again.message, again.new_activities, len(parsed)) == (Outcome.NOT_MODIFIED, poll.SAME_BYTES, 0, 1)
    logged = services.store.recent_polls(source.id, 1)[0]
    assert (logged.outcome, logged.http_status) == ("not_modified", 200)
    assert services.store.source(source.id).error_count == 0
    origin.entries = 2  # the feed changes: read again
    changed = poll_once()
    assert (changed.outcome, changed.new_activities, len(parsed)) == (Outcome.OK, 1, 2)
    assert services.store.source(source.id).entry_count == 2


def test_never_a_poll_before_its_due_time(services, origin):
    start = datetime.now(timezone.utc)
    clock = [start]
    timed = replace(services, now=lambda: clock[0])
    _add(timed, [origin.server.url + f"feed/{n}" for n in range(3)])
    poller = Poller(timed)
    try:
        assert len(poller.poll_due()) == 3
        assert len(origin.requests) == 3
        for seconds in (0, 30, 59):  # the interval is 60 s
            clock[0] = start + timedelta(seconds=seconds)
            assert poller.poll_due() == []
        clock[0] = start + timedelta(seconds=60 * 1.1 + 1)  # past the interval and its jitter
        assert len(poller.poll_due()) == 3
    finally:
        poller.close()
    assert len(origin.requests) == 6


def test_the_user_agent_names_feedhub_and_a_contact_url(services, origin):
    (source,) = _add(services, [origin.server.url + "feed/1"])
    poll_source(services.store, services.fetcher, source, services.now)
    agent = origin.requests[0]["user-agent"]
    assert agent.startswith("feedhub/") and re.search(r"\(\+https?://\S+\)", agent)


def test_at_most_max_per_host_requests_to_one_host_at_once(services, origin):
    origin.mode = "slow"
    port = origin.server.port
    # One server, two host names: feedhub sees two hosts.
    _add(services, [f"http://127.0.0.1:{port}/feed/{n}" for n in range(6)] + [f"http://localhost:{port}/feed/{n}" for n in range(6)])
    poller = Poller(services)
    try:
        reports = poller.poll_many(services.store.sources())
    finally:
        poller.close()
    assert len(reports) == 12 and all(r.outcome is Outcome.OK for r in reports)
    assert services.settings.max_per_host == 2
    assert set(origin.most_in_flight) == {"127.0.0.1", "localhost"}
    assert all(1 <= most <= 2 for most in origin.most_in_flight.values()), origin.most_in_flight


def test_at_most_max_concurrency_polls_at_once_read_in_pages_or_not(settings, origin):
    origin.mode = "slow"
    port = origin.server.port
    services = build_services(replace(settings, max_concurrency=3, max_per_host=8))
    plain = [f"http://{host}:{port}/feed/{n}" for host in ("127.0.0.1", "localhost") for n in range(4)]
    paged = [f"http://127.0.0.1:{port}/users/u1/feed/{n}" for n in range(4)]
    made = [NewSource(u, redact(u), f"Feed {i}", Kind.OTHER) for i, u in enumerate(plain)]
    made += [NewSource(u, redact(u), f"Paged {i}", Kind.WATCHED) for i, u in enumerate(paged)]
    services.store.add_account("polite", "feeds:polite", None, made, 60, services.now())
    assert [poll.reads_in_one_request(s) for s in services.store.sources()].count(False) == 4  # polled by lanes
    poller = Poller(services)
    try:
        reports = poller.poll_many(services.store.sources())
    finally:
        poller.close()
        services.close()
    assert len(reports) == 12 and all(r.outcome is Outcome.OK for r in reports)
    assert origin.most_in_flight_in_all == 3


def test_host_lanes_deal_each_hosts_sources_round_its_lanes():
    class S:  # only what host_lanes reads
        def __init__(self, id: int, url: str):
            self.id, self.url = id, url

    sources = [S(i, f"http://a.example/{i}") for i in range(5)] + [S(10, "http://b.example/x")]
    lanes = host_lanes(sources, 2)
    assert [[s.id for s in lane] for lane in lanes] == [[0, 2, 4], [10], [1, 3]]
    assert host_lanes(sources, 1) == [[sources[i] for i in range(5)], [sources[5]]]


def test_sources_polled_together_take_turns_by_host():
    class S:
        def __init__(self, id: int):
            self.id = id

    hosts = {0: "a", 1: "a", 2: "a", 3: "b", 4: "b", 5: "c"}
    ordered = interleaved_by_host([S(i) for i in range(6)], hosts)
    assert [s.id for s in ordered] == [0, 3, 5, 1, 4, 2]


# -- the scheduling rules -----------------------------------------------------------------------


def _date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


NO_JITTER = lambda: 0.0  # noqa: E731
FULL_JITTER = lambda: 0.999  # noqa: E731


@pytest.mark.parametrize(
    "outcome, headers, errors, expected",
    [
        (Outcome.OK, {}, 0, timedelta(seconds=900)),
        (Outcome.NOT_MODIFIED, {}, 3, timedelta(seconds=900)),
        (Outcome.OK, {"cache-control": "public, max-age=3600"}, 0, timedelta(hours=1)),
        (Outcome.OK, {"cache-control": 'max-age="7200"'}, 0, timedelta(hours=2)),
        (Outcome.OK, {"cache-control": "max-age=60"}, 0, timedelta(seconds=900)),  # never sooner than the interval
        (Outcome.OK, {"cache-control": "max-age=31536000"}, 0, MAX_FRESHNESS),  # at most a day
        (Outcome.OK, {"cache-control": "no-cache, max-age=7200"}, 0, timedelta(seconds=900)),
        (Outcome.OK, {"cache-control": "max-age=abc"}, 0, timedelta(seconds=900)),
        (Outcome.OK, {"expires": _date(NOW + timedelta(hours=3))}, 0, timedelta(hours=3)),
        (Outcome.OK, {"expires": _date(NOW + timedelta(hours=3)), "date": _date(NOW - timedelta(hours=1))}, 0, timedelta(hours=4)),
        (Outcome.OK, {"expires": "0"}, 0, timedelta(seconds=900)),
        (Outcome.OK, {"expires": _date(NOW - timedelta(days=2))}, 0, timedelta(seconds=900)),
        (Outcome.OK, {"expires": _date(NOW + timedelta(hours=5)), "cache-control": "max-age=7200"}, 0, timedelta(hours=2)),  # max-age wins
        (Outcome.SERVER_ERROR, {}, 0, timedelta(seconds=900)),
        (Outcome.SERVER_ERROR, {}, 1, timedelta(seconds=1800)),
        (Outcome.TIMEOUT, {}, 4, timedelta(seconds=900 * 16)),
        (Outcome.NOT_FOUND, {}, 500, MAX_BACKOFF),  # never gives up, never waits more than a day
        (Outcome.RATE_LIMITED, {"retry-after": "7200"}, 0, timedelta(hours=2)),
        (Outcome.RATE_LIMITED, {"retry-after": "60"}, 0, timedelta(seconds=900)),  # a floor, not a shortcut
        (Outcome.RATE_LIMITED, {"retry-after": "99999999999999999999"}, 0, MAX_RETRY_AFTER),
        (Outcome.RATE_LIMITED, {"retry-after": _date(NOW + timedelta(hours=2))}, 0, timedelta(hours=2)),
        # The server's clock is an hour slow: its date is read against its own Date.
        (Outcome.RATE_LIMITED, {"retry-after": _date(NOW - timedelta(minutes=30)), "date": _date(NOW - timedelta(hours=1))}, 0, timedelta(seconds=1800)),
        (Outcome.RATE_LIMITED, {"retry-after": "soon"}, 0, timedelta(seconds=900)),
        (Outcome.RATE_LIMITED, {"retry-after": "-5"}, 0, timedelta(seconds=900)),
        (Outcome.RATE_LIMITED, {"retry-after": _date(NOW - timedelta(days=3))}, 1, timedelta(seconds=1800)),
    ],
)
def test_the_next_poll(outcome, headers, errors, expected):
    planned = plan(outcome, headers, 900, errors, NOW, NO_JITTER)
    assert planned.next_due_at - NOW == expected
    jittered = plan(outcome, headers, 900, errors, NOW, FULL_JITTER)
    assert expected < jittered.next_due_at - NOW <= expected * 1.1  # up to 10% later
    assert planned.error_count == (0 if outcome.healthy else errors + 1)


def test_gone_retires_and_a_refused_token_pauses_the_account():
    gone = plan(Outcome.GONE, {}, 900, 0, NOW, NO_JITTER)
    refused = plan(Outcome.TOKEN_REJECTED, {}, 900, 0, NOW, NO_JITTER)
    assert (gone.state, gone.pause_account) == ("retired", False)
    assert (refused.state, refused.pause_account) == ("needs_token", True)
    assert plan(Outcome.SERVER_ERROR, {}, 900, 0, NOW).state is None


def test_retry_after_and_freshness_ignore_what_they_cannot_read():
    for garbage in ("", "soon", "Fri, 99 Foo 2026", "1.5", "١٢", "\x00"):
        assert retry_after({"retry-after": garbage}, NOW) is None
        assert freshness({"expires": garbage}, NOW) is None


def test_a_permanent_redirect_is_adopted_when_it_repeats_with_the_secrets_kept():
    old = "https://feeds.example/u/1?feed_token=SECRET&output=atom"
    moved = "https://feeds.example/v2/u/1?output=atom"
    first = plan_move(old, moved, None, 0)
    assert first.adopt is None and first.count == 1 and first.pending == moved + "&feed_token=SECRET"
    second = plan_move(old, moved, first.pending, first.count)
    assert second.adopt == moved + "&feed_token=SECRET" and second.pending is None
    # A poll without the redirect starts the count again; another target too.
    assert plan_move(old, None, first.pending, 1) == plan_move(old, None, None, 0)
    assert plan_move(old, "https://feeds.example/other", first.pending, 1).count == 1
    # To another host, the secrets stay behind.
    assert plan_move(old, "https://elsewhere.example/u/1", "https://elsewhere.example/u/1", 1).adopt == "https://elsewhere.example/u/1"
