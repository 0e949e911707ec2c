"""A real RSS reader: Debian's newsboat imports feedhub's /opml from a feedhub running
on loopback, reloads every channel over HTTP and lists what it read.

newsboat keeps one copy of an item per guid across all its feeds, so an activity shown
by several channels is one article: the reader must end up with exactly the activities
feedhub holds, under feedhub's ids and headlines. Needs the ``newsboat`` package
(`.ci/run` installs it).
"""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from dataclasses import replace

import pytest
import requests

from feedhub.emulator.server import serve_in_thread
from feedhub.web import create_app
from tests.test_web import seed

PASSWORD = "newsboat reads"


@pytest.fixture
def site(tmp_path):
    app = create_app({"data_dir": tmp_path / "feedhub", "admin_password": PASSWORD})
    store = app.extensions["feedhub"].store
    seed(store)
    server = serve_in_thread(app)
    yield server, store
    server.stop()
    app.extensions["feedhub"].close()


def _admin_opml(url: str) -> bytes:
    """/opml as the logged-in admin sees it: every channel, private ones with their token."""
    with requests.Session() as session:
        token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(url + "login").text).group(1)
        session.post(url + "login", data={"password": PASSWORD, "csrf_token": token}).raise_for_status()
        response = session.get(url + "opml")
        response.raise_for_status()
        return response.content


def _newsboat(home, *args: str) -> subprocess.CompletedProcess:
    # Its own home, config, URL list and cache: nothing of the machine's user is read.
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"), "LANG": "C.UTF-8"}
    (home / "newsboat.conf").write_text("", encoding="utf-8")
    command = ["newsboat", "-C", str(home / "newsboat.conf"), "-u", str(home / "urls"), "-c", str(home / "cache.db"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=True)


def test_newsboat_imports_the_opml_and_reads_every_channel(site, tmp_path):
    server, store = site
    store.replace_channel("alex", replace(store.channel("alex").spec, public=True), store.channel("alex").updated_at)
    home = tmp_path / "reader"
    home.mkdir()
    opml = home / "feedhub.opml"
    opml.write_bytes(_admin_opml(server.url))

    _newsboat(home, "-i", str(opml))
    subscribed = (home / "urls").read_text(encoding="utf-8").split()
    channels = {c.name: c for c in store.channels()}
    expected_urls = {
        f"{server.url}feeds/{name}.rss" + ("" if channel.spec.public else f"?token={channel.token}") for name, channel in channels.items()
    }
    assert set(subscribed) == expected_urls

    reloaded = _newsboat(home, "-x", "reload", "print-unread")
    activities = store.activities(limit=500)
    assert reloaded.stdout.split()[:3] == [str(len(activities)), "unread", "articles"]

    with sqlite3.connect(home / "cache.db") as cache:
        feeds = dict(cache.execute("SELECT rssurl, title FROM rss_feed"))
        items = cache.execute("SELECT guid, title, feedurl FROM rss_item").fetchall()
    # Every channel was fetched and parsed: newsboat knows each one's title.
    assert feeds == {url: channels[re.search(r"feeds/([\w-]+)\.rss", url).group(1)].spec.title for url in expected_urls}
    assert sorted(guid for guid, _, _ in items) == sorted(a.id for _, a in activities)
    # Each under a headline one of the channels gave it (who else did the same differs
    # between channels), and from a feed it subscribed to.
    said: dict[str, set[str]] = {}
    for url in expected_urls:
        json_url = url.replace(".rss", ".json")
        for item in requests.get(json_url, timeout=10).json()["items"]:
            said.setdefault(item["id"], set()).add(item["title"])
    for guid, title, feed_url in items:
        assert title in said[guid], title
        assert feed_url in expected_urls
