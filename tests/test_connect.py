"""Connecting an account through OAuth, the living feeds list and secrets at rest, over
loopback against the emulator: from the command line, through the scheduler's poller,
and down to the bytes of the database file."""
from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from html import unescape
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from flask import Flask, Response

from feedhub.cli import main
from feedhub.config import load_settings
from feedhub.connect import connect
from feedhub.crypto import SecretKeyError
from feedhub.emulator.server import serve_in_thread
from feedhub.feeds_list import DELISTED, refresh_account
from feedhub.fetch import FetchPolicy, Fetcher
from feedhub.models import Kind
from feedhub.oauth_client import AccessToken, Consumer, OAuthClient
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.storage import DuplicateError
from feedhub.storage.rows import NewSource
from feedhub.subscribe import add_url

KEY = "the-secret-key-of-these-tests-0123456789"


def _env(tmp_path: Path, key: str | None = KEY) -> dict[str, str | None]:
    return {
        "FEEDHUB_DATA_DIR": str(tmp_path),
        "FEEDHUB_ALLOW_PRIVATE_NETWORKS": "on",
        "FEEDHUB_POLL_INTERVAL": "60",
        "FEEDHUB_SECRET_KEY": key,
    }


def _cli(tmp_path: Path, *args: str, key: str | None = KEY, input: str | None = None):
    return CliRunner().invoke(main, ["--verbose", *args], env=_env(tmp_path, key), input=input)


def _sign_in(emulator, login_url: str, user_index: int = 0) -> str:
    """What the person does on the login page: fill in the form and allow; the verifier."""
    page = requests.get(login_url, timeout=10)
    assert page.status_code == 200
    fields = {unescape(n): unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
    user = emulator.users[user_index]
    allowed = requests.post(emulator.base_url + "oauth/login", data=fields | {"name": user.login, "password": user.password, "accept_tos": "TRUE"}, timeout=10)
    return re.search(r'<code id="verifier">([^<]+)</code>', allowed.text).group(1)


def _access(emulator, user_index: int = 0) -> AccessToken:
    """The three legs, driven programmatically."""
    fetcher = Fetcher(FetchPolicy(allow_private_networks=True))
    try:
        client = OAuthClient(fetcher, emulator.base_url, Consumer(emulator.consumer_key, emulator.consumer_secret))
        authorization = client.start()
        return client.finish(authorization, _sign_in(emulator, authorization.login_url, user_index))
    finally:
        fetcher.close()


def _connect_args(emulator, access: AccessToken, name: str = "home") -> list[str]:
    return [
        "connect", "--base-url", emulator.base_url, "--consumer-key", emulator.consumer_key,
        "--consumer-secret", emulator.consumer_secret, "--access-token", access.token, "--access-secret", access.secret,
        "--name", name,
    ]


def _secrets(emulator, *more: str) -> list[str]:
    values = [emulator.consumer_key, emulator.consumer_secret, *more]
    for user in emulator.users:
        t = user.tokens
        values += [t.queue, t.watched, t.recommendations, t.ratings, t.feeds_list, user.password]
    for access in emulator.oauth.access_tokens():
        values += [access.token, access.secret]
    assert all(len(v) >= 12 for v in values)
    return values


def _tokens(emulator, user_index: int = 0) -> list[str]:
    t = emulator.users[user_index].tokens
    return [t.queue, t.watched, t.recommendations, t.ratings, t.feeds_list]


def _activities(tmp_path: Path):
    services = build_services(load_settings({"data_dir": tmp_path, "secret_key": KEY}, environ={}))
    try:
        return [a for _, a in services.store.activities(limit=100000)], services.store.sources()
    finally:
        services.close()


@pytest.fixture
def services(tmp_path):
    built = build_services(load_settings({"data_dir": tmp_path, "allow_private_networks": True, "poll_interval": 60, "secret_key": KEY}, environ={}))
    clock = [datetime.now(timezone.utc)]
    built.now = lambda: clock[0]
    built.clock = clock  # the test moves feedhub's clock on
    yield built
    built.close()


def test_connect_from_the_command_line_with_the_login_page(tmp_path, emulator):
    env = {**os.environ, **_env(tmp_path)}
    command = [sys.executable, "-c", "from feedhub.cli import main; main()", "--verbose", "connect", "--base-url", emulator.base_url,
               "--consumer-key", emulator.consumer_key, "--consumer-secret", emulator.consumer_secret, "--name", "home"]
    process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        shown = []
        while not any("oauth/login" in line for line in shown):
            line = process.stdout.readline()
            assert line, f"no login URL: {shown} {process.stderr.read()}"
            shown.append(line)
        login_url = next(line.strip() for line in shown if "oauth/login" in line)
        out, err = process.communicate(_sign_in(emulator, login_url) + "\n", timeout=60)
    finally:
        process.kill()
    output = "".join(shown) + out + err
    assert process.returncode == 0, output
    assert "connected account 'home' with 5 sources" in out
    assert out.count("REDACTED") >= 5
    for secret in _secrets(emulator):
        assert secret not in output
    polled = _cli(tmp_path, "poll", "--all")
    assert "polled 5 sources: 5 ok, 0 failed" in polled.output


def test_wrong_consumer_secret_is_a_clear_error_and_adds_nothing(tmp_path, emulator):
    result = _cli(tmp_path, "connect", "--base-url", emulator.base_url, "--consumer-key", emulator.consumer_key,
                  "--consumer-secret", "not-the-secret-at-all")
    assert result.exit_code == 1
    assert "the API refused the consumer key or secret (HTTP 401 from oauth/request_token)" in result.output
    assert "not-the-secret-at-all" not in result.output and "Traceback" not in result.output
    assert "no sources yet" in _cli(tmp_path, "sources").output
    unreachable = _cli(tmp_path, "connect", "--base-url", "ftp://example.invalid/", "--consumer-key", "k", "--consumer-secret", "s")
    assert unreachable.exit_code == 1 and "plain http(s) URL" in unreachable.output


def test_revoked_access_pauses_and_reconnecting_resumes_with_nothing_lost(tmp_path, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    outputs = []
    first = _cli(tmp_path, *_connect_args(emulator, _access(emulator)))
    outputs.append(first.output)
    assert first.exit_code == 0 and "connected account 'home' with 5 sources" in first.output
    outputs.append(_cli(tmp_path, "poll", "--all").output)
    before, sources_before = _activities(tmp_path)
    assert len(before) > 100
    old_tokens = _tokens(emulator) + [v for t in emulator.oauth.access_tokens() for v in (t.token, t.secret)]

    emulator.advance(300)
    emulator.revoke(0)
    emulator.advance(300)
    refused = _cli(tmp_path, "poll", "--all")
    outputs.append(refused.output)
    assert refused.exit_code == 1 and refused.output.count("token_rejected") == 5
    table = _cli(tmp_path, "sources").output
    outputs.append(table)
    assert table.count("needs_token") == 5
    again = _cli(tmp_path, "refresh")
    outputs.append(again.output)
    assert again.exit_code == 1 and "home: token_rejected — the API refused the account's feeds list" in again.output
    assert "polled 0 sources" in _cli(tmp_path, "poll", "--all").output  # paused: nothing is polled

    back = _cli(tmp_path, *_connect_args(emulator, _access(emulator)))
    outputs.append(back.output)
    assert back.exit_code == 0, back.output
    assert "connected account 'home' again: 5 sources took new URLs; 5 of 5 sources active" in back.output
    resumed = _cli(tmp_path, "poll", "--all")
    outputs.append(resumed.output)
    assert "polled 5 sources: 5 ok, 0 failed" in resumed.output

    after, sources_after = _activities(tmp_path)
    assert [s.id for s in sources_after] == [s.id for s in sources_before]
    assert all(a.entry_count >= b.entry_count for a, b in zip(sources_after, sources_before))
    assert {a.id for a in before} <= {a.id for a in after}
    seen = {(a.verb, a.title.key, a.occurred_at) for a in before}
    added = [a for a in after if a.id not in {b.id for b in before}]
    assert added, "the emulator moved on: there is news"
    assert not [a for a in added if (a.verb, a.title.key, a.occurred_at) in seen], "an activity came twice"
    assert all(a.occurred_at > emulator.world.start for a in added), "old entries were announced again"

    text = "\n".join(outputs + [r.getMessage() for r in caplog.records])
    for secret in _secrets(emulator, *old_tokens):
        assert secret not in text


def test_rotated_feed_tokens_are_taken_up_automatically(emulator, services):
    connected = connect(services, OAuthClient(services.fetcher, emulator.base_url, Consumer(emulator.consumer_key, emulator.consumer_secret)), _access(emulator))
    poller = Poller(services)
    try:
        assert [r.outcome.value for r in poller.poll_due()] == ["ok"] * 5
        count = services.store.activity_count()

        # Rotated between two polls: the feeds refuse the old tokens, the list names new ones.
        emulator.advance(120)
        emulator.rotate_feed_tokens(0)
        services.clock[0] += timedelta(seconds=120)
        assert [r.outcome.value for r in poller.poll_due()] == ["token_rejected"] * 5
        sources = services.store.sources(connected.account.id)
        assert {s.state for s in sources} == {"active"}
        assert {t for t in _tokens(emulator)[:4]} == {re.search(r"feed_token=([^&]+)", s.url).group(1) for s in sources}
        assert [r.outcome.value for r in poller.poll_due()] == ["ok"] * 5
        assert services.store.activity_count() >= count

        # Rotated again, and a day passes: the daily read of the list comes first, so no
        # feed is refused at all.
        emulator.advance(120)
        emulator.rotate_feed_tokens(0)
        services.clock[0] += timedelta(days=1, seconds=1)
        assert [r.outcome.value for r in poller.poll_due()] == ["ok"] * 5
    finally:
        poller.close()


def test_feeds_list_changes_add_and_retire_sources(emulator, services):
    """A feeds list that gains and loses feeds (served here, naming the emulator's feeds)."""
    user = emulator.users[0]
    listed = ["queue", "queue_recent", "watched", "recommendations"]
    rels = {"queue": "feed.queues.instant", "queue_recent": "feed.queues.instant.recent", "watched": "feed.rental_history.watched",
            "recommendations": "feed.recommendations", "ratings": "feed.ratings"}
    lister = Flask("feeds_list")

    @lister.get("/users/<user_id>/feeds")
    def feeds(user_id: str) -> Response:
        links = "".join(
            f'<link href="{emulator.feed_url(emulator.base_url, 0, kind).replace("&", "&amp;")}" rel="http://schemas.netflix.com/{rels[kind]}" title="{kind}"></link>'
            for kind in listed
        )
        return Response(f"<resource>{links}</resource>", content_type="application/xml")

    with serve_in_thread(lister) as server:
        added = add_url(services.store, services.fetcher, f"{server.url}users/{user.id}/feeds?feed_token=list-secret-123", "home", 60, services.now())
        ids = {s.kind.value: s.id for s in added.sources}
        listed[:] = ["queue", "queue_recent", "recommendations", "ratings"]
        report = refresh_account(services, added.account)
        assert (report.outcome.value, report.added, report.retired) == ("ok", 1, 1)
        sources = {s.kind.value: s for s in services.store.sources(added.account.id)}
        assert sources["watched"].state == "retired" and sources["watched"].last_message == DELISTED
        assert sources["ratings"].state == "active" and sources["ratings"].id not in ids.values()
        listed.append("watched")
        report = refresh_account(services, added.account)
        assert (report.renewed, report.added, report.retired) == (1, 0, 0)
        back = {s.kind.value: s for s in services.store.sources(added.account.id)}
        assert back["watched"].id == ids["watched"] and back["watched"].state == "active"
        assert len(back) == 5
        report = refresh_account(services, added.account)
        assert report.message == "no change"


def test_database_holds_no_secret_in_plain_text(tmp_path, emulator, services):
    client = OAuthClient(services.fetcher, emulator.base_url, Consumer(emulator.consumer_key, emulator.consumer_secret))
    connected = connect(services, client, _access(emulator))
    add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, 1), "alex", 60, services.now())
    poller = Poller(services)
    try:
        poller.poll_due()
        old_tokens = _tokens(emulator)
        emulator.rotate_feed_tokens(0)
        services.clock[0] += timedelta(seconds=120)
        poller.poll_due()
    finally:
        poller.close()
    assert services.store.credentials(connected.account.id).consumer_secret == emulator.consumer_secret
    urls = [s.url for s in services.store.sources()]
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("feedhub.db*"))
    assert len(raw) > 10_000
    for secret in _secrets(emulator, *old_tokens):
        assert secret.encode() not in raw
    for url in urls:
        assert url.encode() not in raw
        for kind in ("queue", "queue_recent", "watched", "recommendations", "ratings"):
            assert hashlib.sha256(f"{kind} {url}".encode()).hexdigest().encode() not in raw  # the digests are keyed


def test_wrong_or_missing_key_is_a_clear_error_and_resets_nothing(tmp_path, emulator):
    assert _cli(tmp_path, *_connect_args(emulator, _access(emulator))).exit_code == 0
    wrong = _cli(tmp_path, "sources", key="another-key-entirely-0123456789")
    assert wrong.exit_code == 1 and "encrypted with another FEEDHUB_SECRET_KEY" in wrong.output and "Traceback" not in wrong.output
    missing = _cli(tmp_path, "poll", "--all", key=None)  # no key: one is generated, and it is not the database's
    assert missing.exit_code == 1 and "encrypted with another FEEDHUB_SECRET_KEY" in missing.output
    with pytest.raises(SecretKeyError):
        build_services(load_settings({"data_dir": tmp_path, "secret_key": "yet-another-key-0123456789"}, environ={}))
    table = _cli(tmp_path, "sources")
    assert table.exit_code == 0 and table.output.count("netflix") + table.output.count("home") >= 5


def test_rotate_key_reencrypts_everything_at_once(tmp_path, emulator):
    assert _cli(tmp_path, *_connect_args(emulator, _access(emulator))).exit_code == 0
    assert _cli(tmp_path, "add", emulator.feeds_list_url(emulator.base_url, 1), "--name", "alex").exit_code == 0
    wrong_old = _cli(tmp_path, "rotate-key", "--old", "not-the-key-0123456789", "--new", "x" * 32)
    assert wrong_old.exit_code == 1 and "nothing was changed" in wrong_old.output
    new_key = "the-new-secret-key-9876543210-abcdef"
    rotated = _cli(tmp_path, "rotate-key", "--old", KEY, "--new", new_key)
    assert rotated.exit_code == 0
    # At least 10 source URLs, 1 feeds-list URL and 4 OAuth credentials (and whatever else is sealed).
    assert int(re.search(r"re-encrypted (\d+) stored secrets", rotated.output).group(1)) >= 15
    assert "FEEDHUB_SECRET_KEY" in rotated.output and new_key not in rotated.output
    assert _cli(tmp_path, "sources").exit_code == 1  # the old key is refused now
    assert "polled 10 sources: 10 ok" in _cli(tmp_path, "poll", "--all", key=new_key).output
    # Duplicates are still found through the re-keyed fingerprints.
    dupe = _cli(tmp_path, "add", emulator.feeds_list_url(emulator.base_url, 1), key=new_key)
    assert dupe.exit_code == 1 and "exists already" in dupe.output
    services = build_services(load_settings({"data_dir": tmp_path, "secret_key": new_key}, environ={}))
    try:
        watched = next(s for s in services.store.sources() if s.account_name == "alex" and s.kind is Kind.WATCHED)
        with pytest.raises(DuplicateError, match="already added"):
            services.store.add_account("other", "feeds:other", None, [NewSource(watched.url, watched.url_display, "w", Kind.WATCHED)], 60, services.now())
    finally:
        services.close()
    assert _cli(tmp_path, "refresh", key=new_key).exit_code == 0  # the credentials decrypt with the new key


def test_rotate_key_updates_a_generated_key_file(tmp_path, emulator):
    assert _cli(tmp_path, "add", emulator.feeds_list_url(emulator.base_url, 0), "--name", "home", key=None).exit_code == 0
    key_file = tmp_path / "secret_key"
    old = key_file.read_text().strip()
    rotated = _cli(tmp_path, "rotate-key", "--old", old, "--new", "a-brand-new-key-for-the-file-0123", key=None)
    assert rotated.exit_code == 0 and "now holds the new key" in rotated.output
    assert key_file.read_text() == "a-brand-new-key-for-the-file-0123" and oct(key_file.stat().st_mode)[-3:] == "600"
    assert "polled 5 sources: 5 ok" in _cli(tmp_path, "poll", "--all", key=None).output
