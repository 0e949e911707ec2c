"""No source secret in any output: feeds, OPML, pages, API, CLI output or log lines.

The emulator's real feed tokens, feeds-list tokens and consumer key are the canaries:
they are driven through adding, polling (success, 304, 401, 500, a parse error), and
every output is searched for them.
"""
from __future__ import annotations

import logging

from click.testing import CliRunner

from feedhub.cli import main
from feedhub.web import create_app


def _secrets(emulator) -> list[str]:
    values = [emulator.consumer_key]
    for user in emulator.users:
        tokens = user.tokens
        values += [tokens.queue, tokens.watched, tokens.recommendations, tokens.ratings, tokens.feeds_list]
    assert all(len(v) >= 8 for v in values)
    return values


def test_no_secret_in_any_output(tmp_path, emulator, caplog):
    caplog.set_level(logging.DEBUG)  # urllib3 and werkzeug included
    env = {"FEEDHUB_DATA_DIR": str(tmp_path), "FEEDHUB_ALLOW_PRIVATE_NETWORKS": "on", "FEEDHUB_POLL_INTERVAL": "60"}
    runner = CliRunner()
    outputs: list[str] = []

    def cli(*args: str) -> None:
        result = runner.invoke(main, ["--verbose", *args], env=env, catch_exceptions=False)
        outputs.append(result.output)

    cli("add", emulator.feeds_list_url(emulator.base_url, 0, output="xml"), "--name", "home")
    cli("add", emulator.feeds_list_url(emulator.base_url, 1, output="opml"), "--name", "alex")
    cli("add", emulator.feeds_list_url(emulator.base_url, 1, output="opml"))  # duplicate: an error
    cli("add", emulator.feeds_list_url(emulator.base_url, 2).replace("feed_token=", "feed_token=x"))  # 401
    cli("poll", "--all")
    cli("poll", "--all")  # 304s
    emulator.add_fault(path="rental_history", status=500, times=1)
    emulator.add_fault(path="recommendations", body="malformed", times=1)
    emulator.add_fault(path="ratings", status=401, times=1)
    emulator.advance(600)
    cli("poll", "--all")
    cli("sources")
    for fmt in ("rss", "atom", "json", "opml"):
        cli("export", "--format", fmt)
        cli("export", "--format", fmt, "--channel", "home")

    app = create_app({"data_dir": tmp_path, "allow_private_networks": True})
    client = app.test_client()
    for path in ["/", "/opml", "/api/accounts", "/api/activities?limit=500", "/feeds/nope.rss", "/api/nope", "/feeds/all.rss?limit=x"]:
        outputs.append(client.get(path).get_data(as_text=True))
    for channel in ("all", "home", "alex"):
        token = app.extensions["feedhub"].store.channel(channel).token  # channels are private
        for fmt in ("rss", "atom", "json"):
            response = client.get(f"/feeds/{channel}.{fmt}?limit=500&token={token}")
            assert response.status_code == 200
            outputs.append(response.get_data(as_text=True))
    outputs += [record.getMessage() for record in caplog.records]

    # The run did reach every state it was meant to, and logged it.
    text = "\n".join(outputs)
    assert sum("polled" in record.getMessage() for record in caplog.records) >= 30
    assert "server_error" in text and "malformed" in text and "token_rejected" in text
    assert "already added" in text or "exists already" in text
    for secret in _secrets(emulator):
        assert secret not in text


def test_a_token_opened_before_opens_the_same_and_only_with_its_key():
    import pytest

    from feedhub.crypto import Cipher, SecretKeyError

    ours, theirs = Cipher("our key"), Cipher("their key")
    token = ours.encrypt("https://api.example/users/u1/feeds?feed_token=SECRET")
    assert ours.decrypt(token) == ours.decrypt(token) == "https://api.example/users/u1/feeds?feed_token=SECRET"
    with pytest.raises(SecretKeyError):
        theirs.decrypt(token)
    tampered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    with pytest.raises(SecretKeyError):
        ours.decrypt(tampered)
