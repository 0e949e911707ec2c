"""fetch against a real HTTP server on loopback."""
from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask, Response, redirect, request

from feedhub import fetch as fetch_module
from feedhub.emulator.server import serve_in_thread
from feedhub.fetch import FetchPolicy, Fetcher, Outcome, Validators, classify_status

SECRET = "feed_token=CANARYSECRET42"
ATOM = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title><updated>2020-01-01T00:00:00Z</updated></feed>'


def _origin() -> Flask:
    app = Flask("origin")

    @app.get("/feed")
    def feed():
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(ATOM, content_type="application/atom+xml", headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 Jan 2020 00:00:00 GMT"})

    @app.get("/status/<int:code>")
    def status(code: int):
        return Response("no", status=code, headers={"Retry-After": "120"})

    @app.get("/moved")
    def moved():
        return redirect("/feed?" + SECRET, code=301)

    @app.get("/loop")
    def loop():
        return redirect("/loop?" + request.query_string.decode(), code=302)

    @app.get("/big")
    def big():
        return Response(b"x" * 300_000, content_type="application/xml")

    @app.get("/bomb")
    def bomb():
        # 10 MB of zeros compress to about 10 KB: the cap must apply after inflating.
        body = gzip.compress(b"\0" * 10_000_000)
        return Response(body, headers={"Content-Encoding": "gzip", "Content-Type": "application/xml"})

    @app.get("/slow")
    def slow():
        def trickle():
            for _ in range(40):
                yield b" "
                time.sleep(0.1)

        return Response(trickle(), content_type="application/xml")

    @app.get("/stall")
    def stall():
        def stalled():
            yield ATOM[:20]
            time.sleep(1.0)  # longer than the read timeout, well within the deadline
            yield ATOM[20:]

        return Response(stalled(), content_type="application/atom+xml")

    @app.get("/whoami")
    def whoami():
        auth = request.authorization
        return Response(f"{auth.username}:{auth.password}" if auth else "nobody", content_type="text/plain")

    @app.get("/twice")
    def twice():
        response = Response(ATOM, content_type="application/atom+xml")
        response.headers.add("Cache-Control", "max-age=60")
        response.headers.add("Cache-Control", "public")
        return response

    return app


@pytest.fixture(scope="module")
def origin():
    server = serve_in_thread(_origin())
    yield server.url
    server.stop()


class _KeepAlive(BaseHTTPRequestHandler):
    """Keeps connections alive (werkzeug's server closes each one) and tags every answer
    with the client's port, which names the connection."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 — http.server's name
        tag = '"%s"' % self.client_address[1]
        if self.path == "/moved":
            self._answer(302, b"elsewhere", Location="/feed")
        elif self.path == "/withheld":
            self.send_response(404)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.flush()
            time.sleep(2)  # the body never comes in time
        elif self.headers.get("If-None-Match"):
            self._answer(304, b"", ETag=tag)
        else:
            self._answer(404 if self.path == "/missing" else 200, ATOM, ETag=tag)

    def _answer(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def keepalive_origin():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def fetcher():
    f = Fetcher(FetchPolicy(allow_private_networks=True, read_timeout=1.0, total_timeout=1.0, max_body_bytes=200_000))
    yield f
    f.close()


def test_ok_then_not_modified_with_the_validators(origin, fetcher):
    first = fetcher.fetch(origin + "feed?" + SECRET)
    assert first.outcome is Outcome.OK and first.body == ATOM
    assert first.validators == Validators('"v1"', "Wed, 01 Jan 2020 00:00:00 GMT")
    second = fetcher.fetch(origin + "feed?" + SECRET, first.validators)
    assert second.outcome is Outcome.NOT_MODIFIED and second.body == b""


@pytest.mark.parametrize(
    "code, outcome",
    [(401, Outcome.TOKEN_REJECTED), (403, Outcome.TOKEN_REJECTED), (404, Outcome.NOT_FOUND), (410, Outcome.GONE),
     (429, Outcome.RATE_LIMITED), (503, Outcome.RATE_LIMITED), (500, Outcome.SERVER_ERROR), (400, Outcome.CLIENT_ERROR)],
)
def test_statuses_are_classified(origin, fetcher, code, outcome):
    result = fetcher.fetch(f"{origin}status/{code}?{SECRET}")
    assert result.outcome is outcome and result.status == code
    assert "CANARYSECRET42" not in result.message
    if code == 429:
        assert result.headers["retry-after"] == "120"


def test_permanent_redirect_is_reported(origin, fetcher):
    result = fetcher.fetch(origin + "moved")
    assert result.outcome is Outcome.OK
    assert result.permanent_redirect == origin + "feed?" + SECRET


def test_redirect_loop(origin, fetcher):
    result = fetcher.fetch(origin + "loop?" + SECRET)
    assert result.outcome is Outcome.TOO_MANY_REDIRECTS
    assert "CANARYSECRET42" not in result.message


@pytest.mark.parametrize("path", ["big", "bomb"])
def test_size_cap_applies_after_decompression(origin, fetcher, path):
    assert fetcher.fetch(origin + path).outcome is Outcome.TOO_LARGE


def test_a_trickling_server_hits_the_deadline(origin, fetcher):
    # A byte every 0.1 s never trips the read timeout: only the total deadline (1 s,
    # while the body takes 4 s) can end this fetch with a timeout.
    assert fetcher.fetch(origin + "slow").outcome is Outcome.TIMEOUT


def test_unreachable_host_message_has_no_secret(fetcher):
    result = fetcher.fetch("http://127.0.0.1:9/feed?" + SECRET)
    assert result.outcome is Outcome.CONNECTION_ERROR
    assert "CANARYSECRET42" not in result.message


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "http://", "not a url"])
def test_invalid_urls(fetcher, url):
    assert fetcher.fetch(url).outcome is Outcome.INVALID_URL


def test_private_addresses_are_refused_unless_allowed(origin):
    strict = Fetcher(FetchPolicy())
    # A public name that resolves to loopback is refused too (checked after DNS).
    rebinding = Fetcher(FetchPolicy(), resolver=lambda host, port: ["127.0.0.1"])
    try:
        assert strict.fetch(origin + "feed").outcome is Outcome.BLOCKED_ADDRESS
        assert rebinding.fetch("http://feeds.example.com/feed").outcome is Outcome.BLOCKED_ADDRESS
    finally:
        strict.close()
        rebinding.close()


def test_classify_status_covers_success_range():
    assert classify_status(200) is Outcome.OK and classify_status(204) is Outcome.OK


def test_a_source_that_stops_sending_mid_body_is_a_timeout(origin):
    patient = Fetcher(FetchPolicy(allow_private_networks=True, read_timeout=0.3, total_timeout=5.0))
    try:
        result = patient.fetch(origin + "stall?" + SECRET)
    finally:
        patient.close()
    assert result.outcome is Outcome.TIMEOUT and "stopped sending" in result.message


def test_one_connection_serves_200s_304s_error_pages_and_redirects(keepalive_origin, fetcher):
    first = fetcher.fetch(keepalive_origin + "feed")
    results = [
        first,
        fetcher.fetch(keepalive_origin + "feed", first.validators),  # 304: no body, the connection stays
        fetcher.fetch(keepalive_origin + "missing"),  # an error page, drained
        fetcher.fetch(keepalive_origin + "moved"),  # the redirect's body drained, the next hop on the same connection
        fetcher.fetch(keepalive_origin + "feed"),
    ]
    assert [r.status for r in results] == [200, 304, 404, 200, 200]
    assert len({r.validators.etag for r in results}) == 1


def test_an_error_page_whose_body_is_held_back_is_not_waited_for(keepalive_origin, fetcher):
    started = time.monotonic()
    result = fetcher.fetch(keepalive_origin + "withheld")
    assert result.outcome is Outcome.NOT_FOUND and time.monotonic() - started < 0.5


def test_userinfo_is_sent_as_basic_auth(origin, fetcher):
    host = origin.removeprefix("http://")
    result = fetcher.fetch(f"http://alice:s%40cret@{host}whoami")
    assert result.outcome is Outcome.OK and result.body == b"alice:s@cret"


def test_repeated_headers_are_kept_joined(origin, fetcher):
    assert fetcher.fetch(origin + "twice").headers["cache-control"] == "max-age=60, public"


def test_idle_connections_are_bounded_and_all_closed_on_close(monkeypatch, origin):
    monkeypatch.setattr(fetch_module, "_MAX_IDLE_RUNS", 2)
    f = Fetcher(FetchPolicy(allow_private_networks=True))
    taken = [f._take() for _ in range(3)]  # three threads fetching at once
    for multi in taken:
        f._give_back(multi)
    assert f._idle == taken[:2]  # the third is closed, not kept
    late = f._take()
    f.close()
    assert f._idle == []
    f._give_back(late)  # taken before close(): closed when given back
    assert f._idle == []
    assert f.fetch(origin + "feed").outcome is Outcome.OK


def test_a_closed_fetcher_connects_anew(origin, fetcher):
    assert fetcher.fetch(origin + "feed").outcome is Outcome.OK
    fetcher.close()
    assert fetcher.fetch(origin + "feed").outcome is Outcome.OK


def test_fetch_many_gives_every_result_once_and_holds_each_slot_while_it_runs(origin, fetcher):
    class Slot(threading.BoundedSemaphore):
        held = most = 0

        def acquire(self, blocking=True, timeout=None):
            taken = super().acquire(blocking, timeout)
            if taken:
                Slot.held += 1
                Slot.most = max(Slot.most, Slot.held)
            return taken

        def release(self, n=1):
            Slot.held -= 1
            super().release(n)

    slot = Slot(1)
    requests = [
        fetch_module.Request("ok", origin + "feed?" + SECRET, slots=(slot,)),
        fetch_module.Request("gone", origin + "status/410", slots=(slot,)),
        fetch_module.Request("bad", "not a url", slots=(slot,)),
        fetch_module.Request("looping", origin + "loop", slots=(slot,)),
        fetch_module.Request("free", origin + "feed"),
    ]
    got = {}
    for key, result in fetcher.fetch_many(requests, 4):
        got[key] = result.outcome
    assert Slot.most == 1 and Slot.held == 0
    assert got == {"ok": Outcome.OK, "gone": Outcome.GONE, "bad": Outcome.INVALID_URL, "looping": Outcome.TOO_MANY_REDIRECTS, "free": Outcome.OK}


def test_a_full_host_does_not_make_the_loop_read_the_callers_whole_list(origin, fetcher):
    # One slot for the host, room for four in the loop: the others wait, and the loop
    # reads the caller's requests only a few ahead of what it has ended.
    slot = threading.BoundedSemaphore(1)
    read = 0

    def requests():
        nonlocal read
        for n in range(120):
            read += 1
            yield fetch_module.Request(n, origin + "feed", slots=(slot,))

    ahead = []
    for count, (_, result) in enumerate(fetcher.fetch_many(requests(), 4), start=1):
        assert result.outcome is Outcome.OK
        ahead.append(read - count)
    assert len(ahead) == 120
    assert max(ahead) <= 4 * 4 + 4


def test_a_caller_that_stops_early_gives_the_slots_back(origin, fetcher):
    slot = threading.BoundedSemaphore(3)
    requests = [fetch_module.Request(0, origin + "feed", slots=(slot,))] + [fetch_module.Request(n, origin + "slow", slots=(slot,)) for n in (1, 2)]
    results = fetcher.fetch_many(requests, 3)
    assert next(results)[0] == 0  # the slow two are still under way, holding their slots
    assert slot.acquire(blocking=False) and not slot.acquire(blocking=False)
    slot.release()
    results.close()
    assert all(slot.acquire(blocking=False) for _ in range(3))


def test_a_slow_source_does_not_hold_up_the_others_in_its_loop(origin, fetcher):
    requests = [fetch_module.Request("slow", origin + "slow")] + [fetch_module.Request(n, origin + "feed") for n in range(6)]
    order = [(key, result.outcome) for key, result in fetcher.fetch_many(requests, 3)]
    assert order[-1] == ("slow", Outcome.TIMEOUT)  # the trickle runs until its deadline
    assert sorted(key for key, _ in order[:-1]) == list(range(6)) and {o for _, o in order[:-1]} == {Outcome.OK}
