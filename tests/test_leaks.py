"""A canary token in a source URL, driven through success, 401, 500, a timeout, a
temporary redirect, a permanent redirect that is adopted, and a parse error, never
appears in a log line, a stored error, the poll log, an error page, the command line's
output or any published output (SPEC §6, issue #3 "Secrets")."""
from __future__ import annotations

import logging
import sqlite3
import time

from click.testing import CliRunner
from flask import Flask, Response, redirect, request

from feedhub.cli import main
from feedhub.emulator.server import serve_in_thread
from feedhub.web import create_app

TOKEN = "CANARYTOKEN-4f9e2b7a"
FEED = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:c</id><title>Canary diary</title>'
    "<updated>2026-01-01T00:00:00Z</updated>{entries}</feed>"
)


class Origin:
    def __init__(self) -> None:
        self.mode = "ok"
        self.polls = 0
        app = Flask("canary-origin")

        @app.get("/<path:path>")
        def answer(path: str) -> Response:
            self.polls += 1
            if path == "feed" and self.mode == "redirect":
                return redirect(f"/elsewhere?token={TOKEN}", 302)
            if path == "feed" and self.mode == "moved":
                return redirect("/moved", 301)  # without the token: feedhub keeps it
            if path == "elsewhere" and request.args.get("token") != TOKEN:
                return Response(f"no {request.url}", 401)
            if self.mode == "401":
                return Response(f"bad token {TOKEN}", 401)
            if self.mode == "500":
                return Response(f"<h1>Traceback: {request.url}</h1>", 500)
            if self.mode == "slow":
                return Response((time.sleep(0.3) or b" " for _ in range(100)), content_type="application/atom+xml")
            if self.mode == "broken":
                return Response(f"<feed><title>{TOKEN}</title><entry>", content_type="application/atom+xml")
            entries = "".join(
                f"<entry><id>urn:c:{i}</id><title>Post {i}</title><link href='https://diary.example/{i}'/>"
                f"<updated>2026-01-0{i}T00:00:00Z</updated></entry>"
                for i in range(1, 2 + self.polls % 5)
            )
            return Response(FEED.format(entries=entries), content_type="application/atom+xml")

        self.server = serve_in_thread(app)


def test_a_canary_token_never_leaks(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    origin = Origin()
    env = {
        "FEEDHUB_DATA_DIR": str(tmp_path),
        "FEEDHUB_ALLOW_PRIVATE_NETWORKS": "on",
        "FEEDHUB_POLL_INTERVAL": "60",
        "FEEDHUB_TOTAL_TIMEOUT": "1",
        "FEEDHUB_READ_TIMEOUT": "1",
    }
    runner = CliRunner()
    outputs: list[str] = []

    def cli(*args: str) -> str:
        result = runner.invoke(main, ["--verbose", *args], env=env, catch_exceptions=False)
        outputs.append(result.output)
        return result.output

    try:
        cli("add", f"{origin.server.url}feed?token={TOKEN}", "--name", "diary")
        seen = set()
        for mode in ("ok", "401", "ok", "500", "slow", "redirect", "broken", "moved", "moved", "ok"):
            origin.mode = mode
            cli("enable", "1")  # a 401 stopped it; polling on regardless
            seen.add(cli("poll", "--source", "1").split(": ", 1)[1].split(" ", 1)[0])
            cli("sources")
        cli("polls", "1", "--limit", "50")
        for fmt in ("rss", "atom", "json", "opml"):
            cli("export", "--format", fmt)
        cli("export", "--format", "opml", "--sources")
    finally:
        origin.server.stop()
    # Every path was taken, and the permanent redirect was adopted with its token.
    assert {"ok", "token_rejected", "server_error", "timeout", "malformed"} <= seen, seen
    assert "/moved?token=REDACTED" in cli("polls", "1")

    app = create_app({"data_dir": tmp_path, "allow_private_networks": True})
    client = app.test_client()
    token = app.extensions["feedhub"].store.channel("all").token
    for path in ["/", "/api/accounts", "/api/activities?limit=500", "/opml", "/feeds/nope.rss", "/api/nope",
                 f"/feeds/all.rss?token={token}", f"/feeds/all.atom?token={token}", f"/feeds/all.json?token={token}"]:
        outputs.append(client.get(path).get_data(as_text=True))
    app.extensions["feedhub"].close()
    outputs += [record.getMessage() for record in caplog.records]
    with sqlite3.connect(tmp_path / "feedhub.db") as db:
        outputs.append("\n".join(db.iterdump()))  # stored errors, the poll log, and all the rest

    text = "\n".join(outputs)
    assert "token_rejected" in text and "timeout" in text and "malformed" in text
    assert TOKEN not in text
