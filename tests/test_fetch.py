"""fetch against a real HTTP server on loopback."""
from __future__ import annotations

import gzip
import time

import pytest
from flask import Flask, Response, redirect, request

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

    return app


@pytest.fixture(scope="module")
def origin():
    server = serve_in_thread(_origin())
    yield server.url
    server.stop()


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
