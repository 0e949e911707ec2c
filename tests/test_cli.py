"""The `feedhub` command as a person uses it, against servers on loopback."""
from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner
from flask import Flask, Response

from feedhub.cli import main
from feedhub.emulator.server import serve_in_thread


@pytest.fixture
def env(tmp_path):
    return {"FEEDHUB_DATA_DIR": str(tmp_path), "FEEDHUB_ALLOW_PRIVATE_NETWORKS": "on", "FEEDHUB_POLL_INTERVAL": "60"}


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _bad_origin() -> Flask:
    app = Flask("bad")
    pages = {
        "html": ("<!doctype html><html><head><title>Hi</title></head><body><p>not a feed</p></body></html>", "text/html"),
        "malformed": ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><title>x</entry>', "application/atom+xml"),
        "empty-opml": ('<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body><outline text="nothing"/></body></opml>', "text/x-opml"),
    }

    @app.get("/<name>")
    def page(name: str):
        body, content_type = pages[name]
        return Response(body, content_type=content_type)

    return app


@pytest.fixture(scope="module")
def bad_origin():
    server = serve_in_thread(_bad_origin())
    yield server.url
    server.stop()


def _db_digest(tmp_path) -> str:
    """The rows of every table, so 'unchanged' means unchanged."""
    import sqlite3

    conn = sqlite3.connect(tmp_path / "feedhub.db")
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table' order by name")]
        dump = [(t, conn.execute(f"select * from {t} order by 1").fetchall()) for t in tables]
    finally:
        conn.close()
    return hashlib.sha256(repr(dump).encode()).hexdigest()


def test_add_poll_sources_export(env, emulator, tmp_path):
    url = emulator.feeds_list_url(emulator.base_url, 0, output="xml")
    result = run(env, "add", url, "--name", "home")
    assert result.exit_code == 0, result.output
    assert "5 sources" in result.output and "queue_recent" in result.output

    polled = run(env, "poll", "--all")
    assert polled.exit_code == 0, polled.output
    assert "polled 5 sources: 5 ok, 0 failed" in polled.output

    table = run(env, "sources")
    assert table.exit_code == 0 and table.output.count("home") == 5 and "ok" in table.output

    for fmt in ("rss", "atom", "json", "opml"):
        exported = run(env, "export", "--format", fmt)
        assert exported.exit_code == 0 and exported.output.strip(), fmt
    assert "home" in run(env, "export", "--format", "rss", "--channel", "home").output


@pytest.mark.parametrize(
    "target, message",
    [
        ("unreachable", "could not connect"),
        ("html", "not a feed"),
        ("malformed", "malformed"),
        ("empty-opml", "lists no feeds"),
        ("duplicate", "already"),
        ("not-http", "not an http(s) URL"),
    ],
)
def test_bad_input_to_add_is_refused_clearly_and_changes_nothing(env, emulator, bad_origin, tmp_path, target, message):
    good = emulator.feeds_list_url(emulator.base_url, 1, output="xml")
    assert run(env, "add", good, "--name", "alex").exit_code == 0
    before = _db_digest(tmp_path)
    url = {
        "unreachable": "http://127.0.0.1:9/users/x/feeds?feed_token=SECRETCANARY",
        "duplicate": good,
        "not-http": "file:///etc/passwd",
    }.get(target, f"{bad_origin}{target}?feed_token=SECRETCANARY")
    result = CliRunner().invoke(main, ["add", url], env=env)
    assert result.exit_code != 0
    assert message in result.output
    assert "SECRETCANARY" not in result.output
    assert "Traceback" not in result.output
    assert _db_digest(tmp_path) == before


def test_poll_of_unknown_source_is_a_clear_error(env):
    result = CliRunner().invoke(main, ["poll", "--source", "999"], env=env)
    assert result.exit_code != 0 and "no source with id 999" in result.output
