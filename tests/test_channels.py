"""Channels (issue 5): the channel model, privacy by token, HTTP done right, caching,
WebSub pings, the widgets' server side, the admin page, the JSON API and the commands.

Most tests use the hand-seeded store of test_web (two accounts, six activities whose
sources carry canary secrets); the WebSub and validity tests poll the real emulator.
"""
from __future__ import annotations

import gzip
import json
import re
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, parse_qsl, urlsplit

import fastfeedparser
import pytest
from click.testing import CliRunner
from flask import Flask, request
from lxml import etree

from feedhub.channels import ALL, Channel, ChannelError, ChannelSpec, name_for_account, narrow, parse_spec
from feedhub.cli import main
from feedhub.config import ConfigError, load_settings
from feedhub.emulator.server import serve_in_thread
from feedhub.merge import TimelineFilter
from feedhub.models import Kind, Verb
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.storage import DuplicateError, NotFoundError, Store
from feedhub.subscribe import add_url
from feedhub.web import create_app
from feedhub.web.cache import EXTENSION as CACHE
from feedhub.websub import changed_topics
from tests.test_publish import assert_atom_valid, atom_schema, json_feed_schema  # noqa: F401  (fixtures)
from tests.test_web import ALEX_WATCHED, ALL as SEEDED, CANARIES, HOME, HOME_RATED, HOME_WATCHED, T0, activity, poll, seed, title

PASSWORD = "correct horse battery"
ATOM = "http://www.w3.org/2005/Atom"


@pytest.fixture
def app(tmp_path):
    app = create_app({"data_dir": tmp_path, "admin_password": PASSWORD})
    seed(app.extensions["feedhub"].store)
    yield app
    app.extensions["feedhub"].close()


@pytest.fixture
def store(app) -> Store:
    return app.extensions["feedhub"].store


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


def csrf(client) -> str:
    with client.session_transaction() as session:
        return session["csrf"]


def ids(body: bytes) -> list[str]:
    return [item["id"] for item in json.loads(body)["items"]]


def publish(store: Store, name: str, public: bool = True) -> Channel:
    return store.replace_channel(name, replace(store.channel(name).spec, public=public), T0)


# the model, pure -------------------------------------------------------------------


def test_a_spec_from_what_a_person_typed():
    spec = parse_spec({"name": "best", "kinds": "ratings, watched", "min_rating": "4", "text": " Heart ", "since": "2026-01-01", "public": "on", "accounts": ["home"]})
    assert spec == ChannelSpec(
        name="best",
        title="feedhub — best",
        description="What home watched, rated, queued and was recommended.",
        accounts=frozenset({"home"}),
        kinds=frozenset({Kind.RATINGS, Kind.WATCHED}),
        min_rating=4.0,
        text="Heart",
        since=datetime(2026, 1, 1, tzinfo=timezone.utc),
        public=True,
    )
    assert parse_spec({"name": "x"}).public is False  # private by default
    assert parse_spec({"name": "x"}).accounts is None  # every account, also later ones
    # An edit changes only what it names; an empty value clears a condition.
    edited = parse_spec({"min_rating": "", "title": "Top"}, spec)
    assert (edited.min_rating, edited.title, edited.kinds) == (None, "Top", spec.kinds)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "a.b"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "-x"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "x", "kinds": "movies"}, "kinds"),
        ({"name": "x", "min_rating": "lots"}, "min_rating"),
        ({"name": "x", "min_rating": "7"}, "min_rating"),
        ({"name": "x", "since": "yesterday"}, "since"),
        ({"name": "x", "public": "perhaps"}, "public"),
        ({"name": "x", "accounts": 3}, "accounts"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": "x", "title": "t" * 201}, "title"),
    ],
)
def test_a_bad_spec_names_its_field(values, field):
    with pytest.raises(ChannelError, match=f"^{field}:"):
        parse_spec(values)


def test_query_filters_narrow_a_channel_never_widen_it():
    spec = parse_spec({"name": "c", "accounts": "home,alex", "kinds": "queue,ratings", "min_rating": "3", "text": "heart", "since": "2026-01-10"})
    asked = TimelineFilter(accounts=frozenset({"alex", "sam"}), kinds=frozenset({Kind.QUEUE_RECENT, Kind.WATCHED}), min_rating=2, text="brave", limit=7)
    both = narrow(spec, asked)
    assert both.accounts == frozenset({"alex"})
    assert both.kinds == frozenset({Kind.QUEUE_RECENT})  # the additions are what queue and queue_recent share
    assert (both.min_rating, both.text, both.channel_text, both.limit) == (3, "brave", "heart", 7)
    assert both.since == datetime(2026, 1, 10, tzinfo=timezone.utc)
    assert narrow(spec, TimelineFilter(kinds=frozenset({Kind.WATCHED}))).kinds == frozenset()  # nothing in common
    assert narrow(parse_spec({"name": "c"}), asked).accounts == asked.accounts


def test_account_channels_get_names_that_work_in_urls():
    assert name_for_account("home", []) == "home"
    assert name_for_account("Alex Smith", []) == "Alex-Smith"
    assert name_for_account("home", ["all", "HOME"]) == "home-2"
    assert name_for_account("ünï cödé!", []) == "n-c-d"
    assert name_for_account("...", []) == "account"


def test_a_token_is_needed_unless_public():
    spec = parse_spec({"name": "c"})
    private = Channel(spec, token="s3cret-token")
    assert private.readable_with("s3cret-token")
    assert not private.readable_with(None) and not private.readable_with("") and not private.readable_with("s3cret")
    assert Channel(replace(spec, public=True), token="t").readable_with(None)
    assert "s3cret" not in repr(private)


# storage ---------------------------------------------------------------------------


def test_all_and_one_channel_per_account_are_made_private(store):
    found = {c.name: c for c in store.channels()}
    assert set(found) == {"all", "home", "alex"}
    assert found["all"].spec.accounts is None and found["all"].owner is None
    assert found["home"].spec.accounts == frozenset({"home"}) and found["home"].owner == "home"
    assert not any(c.spec.public for c in found.values())
    assert len({c.token for c in found.values()}) == 3 and all(len(c.token) >= 32 for c in found.values())


def test_removing_all_lasts_and_removing_an_account_removes_its_channel(tmp_path):
    settings = load_settings({"data_dir": tmp_path}, environ={})
    services = build_services(settings)
    try:
        seed(services.store)
        services.store.add_channel(parse_spec({"name": "both", "accounts": "home,alex"}), T0)
        services.store.remove_channel(ALL, T0)
        services.store.remove_account("alex")
        remaining = {c.name: c.spec.accounts for c in services.store.channels()}
        assert remaining == {"home": frozenset({"home"}), "both": frozenset({"home"})}
    finally:
        services.close()
    reopened = build_services(settings)  # `all` is made once in a database's life
    try:
        assert ALL not in {c.name for c in reopened.store.channels()}
    finally:
        reopened.close()


def test_renaming_an_account_keeps_it_in_its_channels(store):
    store.rename_account(store.account("home").id, "house")
    assert store.channel("home").spec.accounts == frozenset({"house"})


def test_storage_refuses_duplicates_and_unknown_accounts(store):
    with pytest.raises(DuplicateError):
        store.add_channel(parse_spec({"name": "home"}), T0)
    with pytest.raises(ChannelError, match="accounts: no account named 'nobody'"):
        store.add_channel(parse_spec({"name": "n", "accounts": "nobody"}), T0)
    assert "n" not in {c.name for c in store.channels()}  # nothing half made
    with pytest.raises(NotFoundError):
        store.rotate_channel_token("nobody", T0)


def test_every_change_moves_the_marker_on(store):
    seen = [store.change_marker()]
    store.add_channel(parse_spec({"name": "n"}), T0)
    seen.append(store.change_marker())
    store.rotate_channel_token("n", T0)
    seen.append(store.change_marker())
    account = store.account("alex")
    store.save_poll(poll(store.sources(account.id)[0].id, account.id, (activity("user-alex", Verb.WATCHED, title(9, "Heat"), T0),)))
    seen.append(store.change_marker())
    store.save_poll(poll(store.sources(account.id)[0].id, account.id, ()))  # nothing new: no change
    seen.append(store.change_marker())
    counters = [m.counter for m in seen]
    assert counters == sorted(set(counters)) + [counters[-1]]
    # Last-Modified has whole seconds: each change moves it on by at least one, even
    # when the writer's clock (T0, in the past) says otherwise.
    times = [m.changed_at for m in seen[:-1]]
    assert all(later - earlier >= timedelta(seconds=1) for earlier, later in zip(times, times[1:]))


# privacy -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/feeds/{}.rss", "/feeds/{}.atom", "/feeds/{}.json", "/c/{}", "/embed/{}", "/embed/{}.js", "/embed/{}.json", "/api/activities?channel={}"],
)
def test_a_private_channel_without_its_token_is_not_found(client, store, path):
    token = store.channel("home").token
    missing = client.get(path.format("nobody"))
    for query in ("", "token=wrong", f"token={token[:-1]}"):
        url = path.format("home") + (("&" if "?" in path else "?") + query if query else "")
        response = client.get(url)
        assert response.status_code == 404
        # Word for word what a channel that does not exist gets: its existence is secret.
        assert response.get_data(as_text=True).replace("'home'", "'nobody'") == missing.get_data(as_text=True)
    right = path.format("home") + ("&" if "?" in path else "?") + f"token={token}"
    assert client.get(right).status_code == 200


def test_a_new_token_stops_the_old_one_at_once(client, store):
    old = store.channel("all").token
    assert client.get(f"/feeds/all.rss?token={old}").status_code == 200  # and now cached
    new = store.rotate_channel_token("all", T0).token
    assert new != old
    assert client.get(f"/feeds/all.rss?token={old}").status_code == 404
    assert client.get(f"/feeds/all.rss?token={new}").status_code == 200


def test_a_public_channel_needs_no_token(client, store):
    publish(store, "alex")
    response = client.get("/feeds/alex.json")
    assert response.status_code == 200
    assert ids(response.data) == [ALEX_WATCHED.id, SEEDED[4].id]
    assert "public" in response.headers["Cache-Control"]
    private = client.get(f"/feeds/home.json?token={store.channel('home').token}")
    # A private channel's answer stays out of shared caches.
    assert "private" in private.headers["Cache-Control"] and "public" not in private.headers["Cache-Control"]


def test_opml_lists_what_the_requester_may_read(client, admin, store):
    publish(store, "alex")
    anonymous = etree.fromstring(client.get("/opml").data)
    assert [o.get("xmlUrl") for o in anonymous.iter("outline")] == ["http://localhost/feeds/alex.rss"]
    response = admin.get("/opml")
    assert "no-store" in response.headers["Cache-Control"] and "Cookie" in response.headers["Vary"]
    urls = {o.get("text"): o.get("xmlUrl") for o in etree.fromstring(response.data).iter("outline")}
    assert urls == {
        "feedhub — all": f"http://localhost/feeds/all.rss?token={store.channel('all').token}",
        "feedhub — alex": "http://localhost/feeds/alex.rss",
        "feedhub — home": f"http://localhost/feeds/home.rss?token={store.channel('home').token}",
    }
    for xml_url in urls.values():  # every URL the OPML gives is readable as it is
        assert client.get(xml_url).status_code == 200


# channels' own filters ------------------------------------------------------------------


def test_a_channel_shows_only_what_its_filter_lets_through(client, store):
    store.add_channel(parse_spec({"name": "good", "kinds": "ratings,watched", "min_rating": "3.5", "public": True}), T0)
    store.add_channel(parse_spec({"name": "heart", "text": "heart", "accounts": "home", "public": True}), T0)
    assert ids(client.get("/feeds/good.json").data) == [HOME_RATED.id]
    assert ids(client.get("/feeds/heart.json").data) == [HOME_WATCHED.id]
    # Query filters narrow it further (q= and the channel's own text both hold).
    assert ids(client.get("/feeds/heart.json?q=brave").data) == [HOME_WATCHED.id]
    assert ids(client.get("/feeds/heart.json?q=platoon").data) == []
    assert ids(client.get("/feeds/good.json?kind=queue").data) == []
    assert client.get("/feeds/good.json?limit=abc").status_code == 400


# HTTP ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("rss", "application/rss+xml"), ("atom", "application/atom+xml"), ("json", "application/feed+json")],
)
def test_http_details_of_a_feed(client, store, fmt, media_type):
    token = store.channel("all").token
    url = f"/feeds/all.{fmt}?token={token}"
    plain = client.get(url)
    assert plain.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    assert plain.headers["Referrer-Policy"] == "no-referrer"
    assert plain.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert "max-age=60" in plain.headers["Cache-Control"]
    assert "Content-Encoding" not in plain.headers
    zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data)
    assert zipped.headers["ETag"] != plain.headers["ETag"]  # two representations, two tags
    # Either tag says the client's copy is current, whichever encoding it asks for now.
    for etag in (plain.headers["ETag"], zipped.headers["ETag"]):
        again = client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
        assert again.status_code == 304 and again.data == b""
    head = client.head(url, headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == zipped.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(zipped.data))


def test_self_links_carry_the_token_that_reads_them(client, store):
    token = store.channel("home").token
    feed = etree.fromstring(client.get(f"/feeds/home.atom?token={token}&kind=watched").data)
    assert feed.find(f"{{{ATOM}}}link[@rel='self']").get("href") == f"http://localhost/feeds/home.atom?token={token}&kind=watched"
    assert feed.find(f"{{{ATOM}}}link[@rel='alternate'][@type='text/html']").get("href") == f"http://localhost/c/home?token={token}"
    assert feed.find(f"{{{ATOM}}}link[@rel='hub']") is None  # no hub configured


def test_conditional_get_then_new_activity_gives_a_new_etag(client, store):
    token = store.channel("all").token
    url = f"/feeds/all.atom?token={token}"
    first = client.get(url)
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304
    account = store.account("alex")
    new = activity("user-alex", Verb.WATCHED, title(42, "Ran", 1985), T0 + timedelta(minutes=5))
    store.save_poll(poll(store.sources(account.id)[0].id, account.id, (new,), at=T0 + timedelta(minutes=5)))
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert new.id.encode() in changed.data
    assert client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 200


def test_a_feed_is_rendered_once_until_something_changes(app, client, store):
    token = store.channel("all").token
    url = f"/feeds/all.rss?token={token}"
    bodies = [client.get(url).data for _ in range(3)]
    cache = app.extensions[CACHE]
    assert (cache.misses, cache.hits) == (1, 2)
    assert bodies[0] == bodies[1] == bodies[2]
    client.get(url + "&limit=2")  # another query is another rendering
    assert cache.misses == 2
    store.add_channel(parse_spec({"name": "other"}), T0)  # any change: render again
    assert client.get(url).data == bodies[0]
    assert cache.misses == 3


def test_websub_hub_link_only_on_public_channels(tmp_path):
    app = create_app({"data_dir": tmp_path, "base_url": "https://feeds.example.org/", "websub_hub": "https://hub.example.net/"})
    store = app.extensions["feedhub"].store
    try:
        seed(store)
        publish(store, "alex")
        client = app.test_client()
        public = client.get("/feeds/alex.rss")
        assert public.headers["Link"] == '<https://hub.example.net/>; rel="hub", <https://feeds.example.org/feeds/alex.rss>; rel="self"'
        rss = etree.fromstring(public.data)
        assert rss.find(f"channel/{{{ATOM}}}link[@rel='hub']").get("href") == "https://hub.example.net/"
        assert json.loads(client.get("/feeds/alex.json").data)["hubs"] == [{"type": "WebSub", "url": "https://hub.example.net/"}]
        private = client.get(f"/feeds/home.rss?token={store.channel('home').token}")
        assert "Link" not in private.headers and b'rel="hub"' not in private.data
    finally:
        app.extensions["feedhub"].close()


@pytest.mark.parametrize(
    ("values", "message"),
    [({"websub_hub": "ftp://hub"}, "must be an http"), ({"websub_hub": "https://hub.example.net/"}, "needs FEEDHUB_BASE_URL")],
)
def test_websub_hub_setting_is_checked(tmp_path, values, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"data_dir": tmp_path, **values}, environ={})


# validity, by tools other than our own --------------------------------------------------------


@pytest.fixture
def polled(tmp_path, emulator):
    """A feedhub that polled two emulated people, with a public channel of their ratings."""
    settings = load_settings({"data_dir": tmp_path, "allow_private_networks": True, "admin_password": PASSWORD}, environ={})
    services = build_services(settings)
    for index, name in enumerate(("home", "alex")):
        add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, index), name, 60, services.now())
    poller = Poller(services)
    try:
        reports = poller.poll_many(services.store.sources())
    finally:
        poller.close()
    assert sum(r.new_activities for r in reports) > 20
    services.store.add_channel(parse_spec({"name": "rated", "kinds": "ratings", "public": True}), services.now())
    yield services
    services.close()


def test_every_format_of_every_channel_is_valid(polled, atom_schema, json_feed_schema):  # noqa: F811
    client = create_app(services=polled).test_client()
    for channel in polled.store.channels():
        query = f"?token={channel.token}&limit=500"
        atom = client.get(f"/feeds/{channel.name}.atom{query}").data
        assert_atom_valid(atom_schema, atom)
        feed = json.loads(client.get(f"/feeds/{channel.name}.json{query}").data)
        json_feed_schema.validate(feed)
        rss = etree.fromstring(client.get(f"/feeds/{channel.name}.rss{query}").data)
        (element,) = rss.findall("channel")
        assert all(element.findtext(name) for name in ("title", "link", "description"))  # RSS 2.0's required
        items = element.findall("item")
        assert items and all(item.findtext("title") or item.findtext("description") for item in items)
        expected = [item["id"] for item in feed["items"]]
        assert [item.findtext("guid") for item in items] == expected
        # A second, independent parser reads the same items from every format.
        for fmt in ("rss", "atom", "json"):
            parsed = fastfeedparser.parse(client.get(f"/feeds/{channel.name}.{fmt}{query}").data)
            assert [entry["id"] for entry in parsed["entries"]] == expected, fmt
            assert parsed["feed"]["title"] == channel.spec.title


# WebSub pings -------------------------------------------------------------------------------


class Hub:
    """A WebSub hub on loopback that only records publish pings."""

    def __init__(self) -> None:
        self.pings: list[list[tuple[str, str]]] = []
        self.content_types: list[str] = []
        self._lock = threading.Lock()
        app = Flask("hub")

        @app.post("/")
        def receive():
            with self._lock:
                self.pings.append(parse_qsl(request.get_data(as_text=True)))
                self.content_types.append(request.mimetype)
            return "", 204

        self.server = serve_in_thread(app)


@pytest.fixture
def hub():
    running = Hub()
    yield running
    running.server.stop()


# With poll processes, the workers hand their polls' activities to the main process, which pings.
@pytest.mark.parametrize("processes", [1, 2])
def test_one_ping_per_change_of_a_public_channel(tmp_path, emulator, hub, processes):
    settings = load_settings(
        {
            "data_dir": tmp_path, "allow_private_networks": True, "base_url": "https://feeds.example.org/",
            "websub_hub": hub.server.url, "poll_processes": processes,
        },
        environ={},
    )
    services = build_services(settings)
    try:
        add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, 0), "home", 60, services.now())
        add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, 1), "alex", 60, services.now())
        publish(services.store, "all")  # public; `home` and `alex` stay private

        def poll_everything() -> int:
            """Polls every source; returns how many polls committed new activities."""
            poller = Poller(services)
            try:
                reports = poller.poll_many([s for s in services.store.sources() if s.state == "active"])
            finally:
                poller.close()  # sends what is queued
            return sum(1 for r in reports if r.new_activities)

        changes = poll_everything()
        assert changes > 0 and len(hub.pings) == changes
        expected = [("hub.mode", "publish")] + [("hub.url", f"https://feeds.example.org/feeds/all.{fmt}") for fmt in ("rss", "atom", "json")]
        assert all(ping == expected for ping in hub.pings)  # private channels never named
        assert set(hub.content_types) == {"application/x-www-form-urlencoded"}

        pinged = len(hub.pings)
        assert poll_everything() == 0 and len(hub.pings) == pinged  # nothing new: no ping
        emulator.advance(3 * 3600)
        changes = poll_everything()
        assert changes > 0 and len(hub.pings) == pinged + changes
    finally:
        services.close()


def test_only_channels_that_show_an_activity_are_named():
    good = Channel(parse_spec({"name": "good", "min_rating": "4", "public": True}), token="t")
    alex = Channel(parse_spec({"name": "alex", "accounts": "alex", "public": True}), token="t")
    secret = Channel(parse_spec({"name": "secret"}), token="t")
    topics = changed_topics([good, alex, secret], "home", [HOME_RATED, HOME_WATCHED], "https://f.example/")
    assert topics == [f"https://f.example/feeds/good.{fmt}" for fmt in ("rss", "atom", "json")]
    assert changed_topics([good], "home", [HOME_WATCHED], "https://f.example/") == []


# widgets (server side; tests/test_widget_browser.py draws them in a browser) -------------------


def test_the_iframe_page_can_be_framed_anywhere_and_runs_nothing(client, store):
    token = store.channel("home").token
    response = client.get(f"/embed/home?token={token}&count=2&layout=grid&theme=dark&ratings=hide")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "script-src" not in policy and "default-src 'none'" in policy
    page = response.get_data(as_text=True)
    assert "<script" not in page
    assert 'class="fh layout-grid theme-dark"' in page
    assert page.count('class="fh-item"') == 2
    assert "home watched Braveheart (1995)" in page
    assert "★" not in page  # ratings hidden
    assert f'href="http://localhost/c/home?token={token}"' in page


def test_widget_data_says_each_item_for_a_widget(client, store):
    publish(store, "home")
    shown = json.loads(client.get("/embed/home.json?count=3").data)
    hidden = json.loads(client.get("/embed/home.json?count=3&ratings=hide").data)
    assert [item["id"] for item in shown["items"]] == [a.id for a in HOME[:3]]
    rated = shown["items"][1]
    assert rated["text"] == "home rated Platoon (1986) ★★★★☆" and rated["stars"] == "★★★★☆" and rated["rating"] == 4.0
    assert hidden["items"][1]["text"] == "home rated Platoon (1986)" and hidden["items"][1]["stars"] is None
    assert rated["image"] == "http://cdn.example/boxshots/large/2.jpg" and rated["url"] == "http://www.netflix.com/Movie/2"
    assert shown["page_url"] == "http://localhost/c/home"
    kinds = json.loads(client.get("/embed/home.json?kind=queue").data)
    assert {item["verb"] for item in kinds["items"]} == {"queued", "unqueued"}


def test_the_script_is_served_for_any_origin(client, store):
    publish(store, "home")
    response = client.get("/embed/home.js?count=3&layout=compact")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    script = response.get_data(as_text=True)
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "document.write" not in script
    assert "createTextNode" in script
    assert client.get("/embed/home.json").headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("query", ["count=0", "count=51", "count=x", "layout=table", "theme=pink", "ratings=maybe", "kind=films"])
def test_bad_widget_options_get_400_naming_them(client, store, query):
    publish(store, "home")
    for path in ("/embed/home", "/embed/home.js", "/embed/home.json"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert query.split("=")[0] in response.get_data(as_text=True)


# the channel's page ---------------------------------------------------------------------------


def test_the_channel_page(client, store):
    token = store.channel("home").token
    page = client.get(f"/c/home?token={token}&kind=watched").get_data(as_text=True)
    assert "home watched Braveheart (1995)" in page and "Platoon" not in page
    assert f'href="http://localhost/feeds/home.atom?token={token}&amp;kind=watched"' in page
    assert '<meta name="robots" content="noindex">' in page
    publish(store, "alex")
    public = client.get("/c/alex").get_data(as_text=True)
    assert "alex watched Braveheart (1995)" in public and "noindex" not in public


# the admin's page -------------------------------------------------------------------------------


def test_the_channels_page_is_for_the_admin(client, admin, store):
    assert client.get("/channels").status_code == 302  # to the login page
    assert client.post("/channels", data={"name": "x"}).status_code == 400  # no CSRF token
    response = admin.get("/channels")
    assert response.status_code == 200
    assert "frame-src 'self'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    for channel in store.channels():
        assert f'id="channel-{channel.name}"' in page
        assert f"/feeds/{channel.name}.json?token={channel.token}" in page
        assert f"/embed/{channel.name}.js?token={channel.token}" in page  # the script snippet
        assert f'class="widget-preview" src="http://localhost/embed/{channel.name}?token={channel.token}"' in page
    assert "<script" not in page.split("<body>")[1]  # the page's script is a file


def test_create_edit_rotate_and_remove_from_the_page(admin, store):
    post = lambda path, **data: admin.post(path, data={"csrf_token": csrf(admin), **data})  # noqa: E731
    created = post("/channels", name="best", kinds="ratings", min_rating="4", accounts="home")
    assert created.status_code == 303 and created.headers["Location"].endswith("/channels#channel-best")
    assert store.channel("best").spec.min_rating == 4 and not store.channel("best").spec.public
    assert "Channel &#39;best&#39; created" in admin.get("/channels").get_data(as_text=True)

    assert post("/channels/best", name="top", all_accounts="on", public="on", text="heart").status_code == 303
    edited = store.channel("top").spec
    assert (edited.accounts, edited.public, edited.text, edited.kinds) == (None, True, "heart", None)

    old = store.channel("top").token
    assert post("/channels/top/token").status_code == 303 and store.channel("top").token != old
    assert post("/channels/top/remove").status_code == 303
    assert "top" not in {c.name for c in store.channels()}
    assert post("/channels/top/remove").status_code == 404


def test_bad_input_on_the_page_says_why_and_changes_nothing(admin, store):
    before = store.channels()
    marker = store.change_marker()
    response = admin.post("/channels", data={"csrf_token": csrf(admin), "name": "new", "min_rating": "lots"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "min_rating: expected a number" in page
    assert 'value="lots"' in page  # what was typed is still there
    taken = admin.post("/channels/home", data={"csrf_token": csrf(admin), "name": "all"})
    assert taken.status_code == 400 and "exists already" in taken.get_data(as_text=True)
    assert store.channels() == before and store.change_marker() == marker


# JSON API ---------------------------------------------------------------------------------------


def test_api_lists_what_the_requester_may_see(client, admin, store):
    publish(store, "alex")
    anonymous = client.get("/api/channels").get_json()["channels"]
    assert [c["name"] for c in anonymous] == ["alex"]
    assert "token" not in anonymous[0] and anonymous[0]["urls"]["rss"] == "http://localhost/feeds/alex.rss"
    everything = admin.get("/api/channels").get_json()["channels"]
    assert [c["name"] for c in everything] == ["all", "alex", "home"]
    home = everything[2]
    assert home["token"] == store.channel("home").token
    assert home["urls"]["json"] == f"http://localhost/feeds/home.json?token={home['token']}"
    assert client.get("/api/channels/home").status_code == 404
    assert client.get(f"/api/channels/home?token={home['token']}").get_json()["name"] == "home"


def test_api_changes_channels_for_the_admin(client, admin, store):
    headers = {"X-CSRF-Token": csrf(admin)}
    made = admin.post("/api/channels", json={"name": "mine", "kinds": ["watched"], "public": True}, headers=headers)
    assert made.status_code == 201 and made.get_json()["kinds"] == ["watched"]
    assert ids(client.get("/feeds/mine.json").data) == [ALEX_WATCHED.id, HOME_WATCHED.id]
    patched = admin.patch("/api/channels/mine", json={"accounts": ["home"]}, headers=headers)
    assert patched.get_json()["accounts"] == ["home"] and patched.get_json()["kinds"] == ["watched"]
    token = admin.post("/api/channels/mine/token", headers=headers).get_json()["token"]
    assert token == store.channel("mine").token
    assert admin.delete("/api/channels/mine", headers=headers).status_code == 204
    assert client.get("/feeds/mine.json").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/api/channels", {"name": "home"}, 409),
        ("post", "/api/channels", {"name": "a b"}, 400),
        ("post", "/api/channels", ["not", "an", "object"], 400),
        ("patch", "/api/channels/home", {"min_rating": 9}, 400),
        ("patch", "/api/channels/nobody", {"title": "x"}, 404),
        ("delete", "/api/channels/nobody", None, 404),
    ],
)
def test_api_errors_say_why(admin, store, method, path, body, status):
    before = store.channels()
    response = getattr(admin, method)(path, json=body, headers={"X-CSRF-Token": csrf(admin)})
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert store.channels() == before


def test_api_changes_need_the_admin_and_the_csrf_token(client, admin):
    assert client.post("/api/channels", json={"name": "x"}, headers={"X-CSRF-Token": "x"}).status_code == 400
    with client.session_transaction() as session:
        session["csrf"] = "known"
    assert client.post("/api/channels", json={"name": "x"}, headers={"X-CSRF-Token": "known"}).status_code == 401
    assert admin.post("/api/channels", json={"name": "x"}).status_code == 400  # no CSRF header


# the command line -----------------------------------------------------------------------------


def test_channel_commands(tmp_path):
    env = {"FEEDHUB_DATA_DIR": str(tmp_path), "FEEDHUB_BASE_URL": "https://feeds.example.org/"}
    services = build_services(load_settings({"data_dir": tmp_path}, environ={}))
    seed(services.store)
    services.close()

    def run(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    listed = run("channel", "list")
    assert listed.exit_code == 0
    assert re.search(r"^all\s+private\s+every account$", listed.output, re.M)
    assert re.search(r"^home\s+private\s+accounts: home \(made for home\)$", listed.output, re.M)

    added = run("channel", "add", "best", "--kind", "ratings,watched", "--min-rating", "3.5", "--account", "home")
    assert added.exit_code == 0, added.output
    token = re.search(r"feeds/best\.rss\?token=([\w-]+)", added.output).group(1)
    assert "private: these URLs hold its token" in added.output

    assert run("channel", "edit", "best", "--public", "--min-rating", "").exit_code == 0
    assert run("channel", "urls", "best").output.splitlines()[0].strip() == "RSS        https://feeds.example.org/feeds/best.rss"
    rotated = run("channel", "rotate", "best")
    assert rotated.exit_code == 0 and token not in rotated.output

    exported = run("export", "--format", "json", "--channel", "home")
    assert exported.exit_code == 0
    assert ids(exported.stdout_bytes) == [a.id for a in HOME]
    opml = run("export", "--format", "opml")
    assert opml.output.count("<outline") == 4 and "token=" in opml.output  # every channel, for the admin

    for args, message in [
        (("channel", "add", "best"), "exists already"),
        (("channel", "add", "x", "--min-rating", "9"), "min_rating:"),
        (("channel", "add", "x", "--account", "nobody"), "no account named 'nobody'"),
        (("channel", "edit", "nobody", "--public"), "no channel named 'nobody'"),
        (("channel", "edit", "best"), "nothing to change"),
        (("channel", "remove", "nobody"), "no channel named 'nobody'"),
        (("export", "--format", "rss", "--channel", "nobody"), "no channel named 'nobody'"),
        (("export", "--format", "rss", "--sources"), "--format opml"),
    ]:
        result = CliRunner().invoke(main, list(args), env=env)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    assert run("channel", "remove", "best").exit_code == 0
    assert "best" not in run("channel", "list").output


def test_sources_export_leaves_secrets_out_unless_asked(tmp_path, admin, store):
    page = admin.get("/opml/sources")
    assert page.status_code == 200 and "attachment" in page.headers["Content-Disposition"]
    text = page.get_data(as_text=True)
    assert "feed_token=REDACTED" in text
    assert not any(canary in text for canary in CANARIES)
    assert [o.get("text") for o in etree.fromstring(page.data).findall("body/outline")] == ["alex", "home"]
    secret = admin.post("/opml/sources", data={"csrf_token": csrf(admin), "secrets": "yes"})
    body = secret.get_data(as_text=True)
    assert all(canary in body for canary in CANARIES)
    assert body.index("<!-- This file holds the secret URLs") < body.index("<opml")
    assert "with-secrets" in secret.headers["Content-Disposition"]


def test_sources_export_is_for_the_admin(client):
    assert client.get("/opml/sources").status_code == 302
    with client.session_transaction() as session:
        session["csrf"] = "known"
    assert client.post("/opml/sources", data={"csrf_token": "known", "secrets": "yes"}).status_code == 302


def test_no_channel_output_holds_a_source_secret(admin, client, store):
    publish(store, "alex")
    token = store.channel("home").token
    paths = [
        "/channels", "/opml", "/api/channels", "/c/alex", "/embed/alex", "/embed/alex.json", "/embed/alex.js",
        f"/c/home?token={token}", f"/embed/home.json?token={token}", "/feeds/nobody.rss",
    ]
    for who in (admin, client):
        for path in paths:
            seen = who.get(path).get_data(as_text=True)
            assert not any(canary in seen for canary in CANARIES), path


def test_a_feed_url_from_the_page_reads_the_feed(admin, client, store):
    page = admin.get("/channels").get_data(as_text=True)
    url = re.search(r'value="(http://localhost/feeds/home\.json\?token=[^"]+)"', page).group(1)
    parts = urlsplit(url)
    assert parse_qs(parts.query)["token"] == [store.channel("home").token]
    assert ids(client.get(f"{parts.path}?{parts.query}").data) == [a.id for a in HOME]
