from __future__ import annotations

import pytest

from feedhub.urls import REDACTED, netflix_user_id, redact, redact_text, scrub

FEED = (
    "http://api.netflix.com/users/T1tareQFowlmc8aiTEXBcQ5aed9h_Z8zdmSX1SnrKoOCA-/queues/instant"
    "?feed_token=T1u.tZSbY9311F5W0C5eVQXaJ49&oauth_consumer_key=v9s778n692e9qvd83wfj9t8c&output=atom"
)


def test_redact_hides_token_and_consumer_key_but_keeps_the_rest():
    shown = redact(FEED)
    assert "T1u.tZSbY9311F5W0C5eVQXaJ49" not in shown
    assert "v9s778n692e9qvd83wfj9t8c" not in shown
    assert "output=atom" in shown and shown.count(REDACTED) == 2
    assert "/users/T1tareQFowlmc8aiTEXBcQ5aed9h_Z8zdmSX1SnrKoOCA-/queues/instant" in shown


@pytest.mark.parametrize(
    "url, secret",
    [
        ("https://user:hunter22@example.com/feed", "hunter22"),
        ("https://example.com/feed?api_key=abcd1234", "abcd1234"),
        ("https://example.com/feed?access_token=zzzz9999", "zzzz9999"),
        ("https://example.com/feed?sig=aaaa5555&x=1", "aaaa5555"),
        ("https://example.com/feed/0123456789abcdef0123456789abcdef01234567/rss", "0123456789abcdef0123456789abcdef01234567"),
        ("https://example.com/feed#session=qqqq7777", "qqqq7777"),
    ],
    ids=["userinfo", "api_key", "access_token", "signature", "path-secret", "fragment"],
)
def test_redact_removes_every_kind_of_secret(url, secret):
    assert secret not in redact(url)


@pytest.mark.parametrize("bad", ["", "not a url", "http://[::1", "javascript:alert(1)"])
def test_redact_never_raises_and_never_echoes_malformed_input(bad):
    assert redact(bad) == "<invalid URL>"


def test_scrub_and_redact_text_clean_library_messages():
    message = f"HTTPConnectionPool: Max retries exceeded with url: {FEED} (token T1u.tZSbY9311F5W0C5eVQXaJ49)"
    assert "T1u.tZSbY9311F5W0C5eVQXaJ49" not in scrub(message, FEED)
    assert "T1u.tZSbY9311F5W0C5eVQXaJ49" not in redact_text("GET /users/x/queues/instant?feed_token=T1u.tZSbY9311F5W0C5eVQXaJ49 200")
    assert "output=atom" in redact_text(f"fetched {FEED}")


def test_netflix_user_id():
    assert netflix_user_id(FEED) == "T1tareQFowlmc8aiTEXBcQ5aed9h_Z8zdmSX1SnrKoOCA-"
    assert netflix_user_id("https://example.com/rss") is None


def test_log_lines_and_tracebacks_are_redacted():
    import io
    import logging

    from feedhub.logs import RedactingFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("feedhub.test-redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ConnectionError(f"Max retries exceeded with url: {FEED}")
        except ConnectionError:
            logger.exception("polling %s failed", FEED)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "Traceback" in written and "Max retries exceeded" in written
    assert "T1u.tZSbY9311F5W0C5eVQXaJ49" not in written and "v9s778n692e9qvd83wfj9t8c" not in written
