"""The web layer: feeds, OPML, dashboard and API over a store seeded by hand.

The store holds two accounts whose source URLs carry canary secrets; no page, feed or
API answer may ever show them.
"""
from __future__ import annotations

import importlib
import json
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feedhub.channels import feed_id
from feedhub.config import load_settings
from feedhub.decide import activity_id
from feedhub.models import Activity, BoxArt, Kind, Title, Verb
from feedhub.services import build_services
from feedhub.storage.rows import NewSource, PollRow, PollWrite
from feedhub.urls import redact
from feedhub.web import create_app
from feedhub.web.format import absolute, badge, relative

TOKEN = "CANARYTOKEN123"
KEY = "CANARYKEY456"
CANARIES = (TOKEN, KEY)
API = "http://api.netflix.example/users/{user}/{path}?feed_token=" + TOKEN + "&oauth_consumer_key=" + KEY
T0 = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)


def url(user: str, path: str) -> str:
    return API.format(user=user, path=path)


def source(user: str, path: str, name: str, kind: Kind) -> NewSource:
    return NewSource(url(user, path), redact(url(user, path)), name, kind)


def title(n: int, name: str, year: int = 1990, art: bool = True) -> Title:
    return Title(
        key=f"catalog:movies/{n}",
        name=name,
        year=year,
        web_url=f"http://www.netflix.com/Movie/{n}",
        box_art=BoxArt(large=f"http://cdn.example/boxshots/large/{n}.jpg") if art else BoxArt(),
    )


BRAVEHEART = title(1, "Braveheart", 1995)
PLATOON = title(2, "Platoon", 1986)
ALIEN = title(3, "Alien", 1979, art=False)
HEAT = title(4, "Heat", 1995)


def activity(account_key: str, verb: Verb, t: Title, when: datetime, **fields) -> Activity:
    return Activity(
        id=activity_id(account_key, verb, t.key, "", when.isoformat()),
        account_key=account_key,
        verb=verb,
        title=t,
        occurred_at=when,
        **fields,
    )


HOME_WATCHED = activity("user-home", Verb.WATCHED, BRAVEHEART, T0 - timedelta(hours=1))
HOME_RATED = activity("user-home", Verb.RATED, PLATOON, T0 - timedelta(hours=2), rating=4.0)
HOME_QUEUED = activity("user-home", Verb.QUEUED, ALIEN, T0 - timedelta(hours=3), position=2)
HOME_UNQUEUED = activity("user-home", Verb.UNQUEUED, HEAT, T0 - timedelta(hours=5))
ALEX_WATCHED = activity("user-alex", Verb.WATCHED, BRAVEHEART, T0 - timedelta(minutes=30))
ALEX_RECOMMENDED = activity("user-alex", Verb.RECOMMENDED, HEAT, T0 - timedelta(hours=4), rating=3.6)

# Newest first, as every channel must list them.
ALL = [ALEX_WATCHED, HOME_WATCHED, HOME_RATED, HOME_QUEUED, ALEX_RECOMMENDED, HOME_UNQUEUED]
HOME = [a for a in ALL if a.account_key == "user-home"]


def poll(
    source_id: int,
    account_id: int,
    activities: tuple[Activity, ...],
    outcome: str = "ok",
    message: str = "fetched",
    at: datetime = T0,
    **values,
) -> PollWrite:
    return PollWrite(
        source_id=source_id,
        account_id=account_id,
        poll=PollRow(source_id, at, 120, outcome, 200, 1000, len(activities), 0, 0, message),
        source_values=dict(last_outcome=outcome, last_message=message, last_status=200, last_polled_at=at, **values),
        activities=activities,
    )


def seed(store) -> None:
    home, (queue, watched, ratings) = store.add_account(
        "home",
        "user-home",
        url("T1", "feeds"),
        [
            source("T1", "queues/instant", "Instant Queue", Kind.QUEUE),
            source("T1", "rental_history/watched", "Watched", Kind.WATCHED),
            source("T1", "ratings/title/actual", "Ratings", Kind.RATINGS),
        ],
        900,
        T0 - timedelta(days=1),
    )
    alex, (alex_watched, alex_recs) = store.add_account(
        "alex",
        "user-alex",
        None,
        [
            source("T2", "rental_history/watched", "Watched", Kind.WATCHED),
            source("T2", "recommendations", "Recommendations", Kind.RECOMMENDATIONS),
        ],
        900,
        T0 - timedelta(days=1),
    )
    store.save_poll(poll(queue.id, home.id, (HOME_QUEUED, HOME_UNQUEUED), next_due_at=T0 + timedelta(minutes=15)))
    store.save_poll(poll(watched.id, home.id, (HOME_WATCHED,), outcome="not_modified", message="not modified since the last poll"))
    store.save_poll(poll(ratings.id, home.id, (HOME_RATED,)))
    store.save_poll(poll(alex_watched.id, alex.id, (ALEX_WATCHED,)))
    # A library's error text quoting the whole URL must not reach a page either.
    leaked = f"connection refused: {url('T2', 'recommendations')}"
    store.save_poll(poll(alex_recs.id, alex.id, (ALEX_RECOMMENDED,), outcome="token_rejected", message=leaked, state="needs_token"))


def make_public(store) -> None:
    """Channels are private by default; these tests read them as any reader would
    (tests/test_channels.py covers private channels and their tokens)."""
    for channel in store.channels():
        store.replace_channel(channel.name, replace(channel.spec, public=True), T0)


@pytest.fixture
def app(tmp_path):
    app = create_app({"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path}/t.db"})
    seed(app.extensions["feedhub"].store)
    make_public(app.extensions["feedhub"].store)
    yield app
    app.extensions["feedhub"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def parse(response) -> feedparser.FeedParserDict:
    """The feed as a reader sees it: feedparser for XML; this feedparser reads no JSON
    Feed, so that is read as JSON into the same shape."""
    if response.mimetype == "application/feed+json":
        feed = json.loads(response.data)
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        return feedparser.FeedParserDict(feed=feed, entries=[feedparser.FeedParserDict(item) for item in feed["items"]])
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def ids(response) -> list[str]:
    return [entry["id"] for entry in parse(response).entries]


# channels -----------------------------------------------------------------------


def test_channels_are_all_and_one_per_account(app):
    found = {c.name: c.spec.accounts for c in app.extensions["feedhub"].store.channels()}
    assert found == {"all": None, "alex": frozenset({"alex"}), "home": frozenset({"home"})}
    assert feed_id("all") == "tag:feedhub,2026:channel:all"
    assert feed_id("a b/c") == "tag:feedhub,2026:channel:a%20b%2Fc"


# feeds ----------------------------------------------------------------------------

FORMATS = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_feed_lists_the_channel_newest_first(client, fmt):
    response = client.get(f"/feeds/all.{fmt}")
    assert response.status_code == 200
    assert response.mimetype == FORMATS[fmt]
    assert response.headers["Cache-Control"] in ("public, max-age=60", "max-age=60, public")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert ids(response) == [a.id for a in ALL]


@pytest.mark.parametrize("fmt", FORMATS)
def test_account_channel_holds_only_that_account(client, fmt):
    response = client.get(f"/feeds/home.{fmt}")
    assert response.status_code == 200
    assert ids(response) == [a.id for a in HOME]
    parsed = parse(response)
    assert parsed.feed["title"] == "feedhub — home"
    # alex watched the same title, but alex is not in this channel: a channel never
    # tells about accounts outside it (channels can be private).
    assert parsed.entries[0]["title"] == "home watched Braveheart (1995)"


def test_all_channel_says_who_else_did_the_same(client):
    titles = [e["title"] for e in parse(client.get("/feeds/all.rss")).entries]
    assert "home watched Braveheart (1995) (also watched by alex)" in titles


def test_feed_documents_name_the_channel_and_link_themselves(client):
    body = client.get("/feeds/home.atom?kind=watched").data
    feed = etree.fromstring(body)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert feed.findtext("a:id", namespaces=ns) == "tag:feedhub,2026:channel:home"
    assert feed.find("a:link[@rel='self']", ns).get("href") == "http://localhost/feeds/home.atom?kind=watched"
    alternates = {link.get("href") for link in feed.findall("a:link[@rel='alternate']", ns)}
    assert {"http://localhost/c/home", "http://localhost/feeds/home.rss?kind=watched", "http://localhost/feeds/home.json?kind=watched"} <= alternates
    assert feed.findtext("a:updated", namespaces=ns) == "2026-01-15T11:00:00Z"  # the newest item's time


def test_base_url_setting_makes_the_self_links(tmp_path):
    app = create_app({"data_dir": tmp_path, "base_url": "https://feeds.example.org/hub"})
    make_public(app.extensions["feedhub"].store)
    try:
        feed = json.loads(app.test_client().get("/feeds/all.json?limit=5").data)
    finally:
        app.extensions["feedhub"].close()
    assert feed["feed_url"] == "https://feeds.example.org/hub/feeds/all.json?limit=5"
    assert feed["home_page_url"] == "https://feeds.example.org/hub/c/all"
    assert feed["items"] == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=watched", [ALEX_WATCHED, HOME_WATCHED]),
        ("kind=ratings,recommendations", [HOME_RATED, ALEX_RECOMMENDED]),
        ("kind=queue_recent", [HOME_QUEUED]),  # additions only, not the removal
        ("kind=queue", [HOME_QUEUED, HOME_UNQUEUED]),
        ("account=alex", [ALEX_WATCHED, ALEX_RECOMMENDED]),
        ("account=alex,home&kind=watched", [ALEX_WATCHED, HOME_WATCHED]),
        ("min_rating=3.8", [HOME_RATED]),
        ("q=heart", [ALEX_WATCHED, HOME_WATCHED]),
        ("since=2026-01-15T10:30:00Z", [ALEX_WATCHED, HOME_WATCHED]),
        ("limit=2", [ALEX_WATCHED, HOME_WATCHED]),
        ("account=nobody", []),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_feed_filters(client, query, expected):
    response = client.get(f"/feeds/all.rss?{query}")
    assert response.status_code == 200
    assert ids(response) == [a.id for a in expected]


def test_channel_and_account_filter_combine(client):
    assert ids(client.get("/feeds/home.rss?account=alex")) == []
    assert ids(client.get("/feeds/home.rss?account=home,alex&kind=watched")) == [HOME_WATCHED.id]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("limit=abc", "limit"), ("kind=movies", "kind"), ("min_rating=lots", "min_rating"), ("since=yesterday", "since")],
)
def test_bad_parameters_get_400_naming_them(client, query, parameter):
    response = client.get(f"/feeds/all.atom?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith(f"400 Bad Request: {parameter}:")


def test_bad_parameter_page_for_a_browser(client):
    response = client.get("/feeds/all.rss?limit=abc", headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "limit: expected a whole number" in response.get_data(as_text=True)


def test_wrong_method_keeps_allow(client):
    response = client.post("/feeds/all.rss")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_limit_is_capped_at_500(client):
    assert ids(client.get("/feeds/all.rss?limit=100000")) == [a.id for a in ALL]


@pytest.mark.parametrize("path", ["/feeds/nobody.rss", "/feeds/all.xml", "/feeds/all", "/nowhere"])
def test_unknown_feeds_are_404(client, path):
    assert client.get(path).status_code == 404


def test_unknown_channel_says_which_exist(client):
    text = client.get("/feeds/nobody.rss").get_data(as_text=True)
    assert "no channel named 'nobody'" in text
    assert "all, alex, home" in text


def test_conditional_requests(client):
    first = client.get("/feeds/all.atom")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.last_modified is not None
    assert client.get("/feeds/all.atom").headers["ETag"] == etag  # same bytes, same tag

    assert client.get("/feeds/all.atom", headers={"If-None-Match": etag}).status_code == 304
    not_modified = client.get("/feeds/all.atom", headers={"If-Modified-Since": modified})
    assert not_modified.status_code == 304
    assert not_modified.data == b""
    assert not_modified.headers["ETag"] == etag

    earlier = format_datetime(first.last_modified - timedelta(seconds=1), usegmt=True)
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": earlier}).status_code == 200
    # If-None-Match decides alone when both are sent (RFC 9110 §13.2.2).
    both = {"If-None-Match": '"stale"', "If-Modified-Since": modified}
    assert client.get("/feeds/all.atom", headers=both).status_code == 200
    # Another format or filter is another representation.
    assert client.get("/feeds/all.rss", headers={"If-None-Match": etag}).status_code == 200
    assert client.get("/feeds/all.atom?limit=1", headers={"If-None-Match": etag}).status_code == 200


def test_new_old_activity_changes_last_modified(app, client):
    """An activity older than the newest (a backfill) still makes the feed modified."""
    first = client.get("/feeds/all.rss")
    store = app.extensions["feedhub"].store
    account = store.account("alex")
    watched = store.sources(account.id)[0]
    old = activity("user-alex", Verb.WATCHED, ALIEN, T0 - timedelta(days=300))
    store.save_poll(poll(watched.id, account.id, (old,), at=T0 + timedelta(hours=1)))
    again = client.get("/feeds/all.rss", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 200
    assert old.id in ids(again)


def test_head_answers_like_get_without_a_body(client):
    get = client.get("/feeds/all.json")
    head = client.head("/feeds/all.json")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["Content-Length"] == str(len(get.data))


def test_opml_lists_every_channel(client):
    response = client.get("/opml")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/x-opml; charset=utf-8"
    opml = etree.fromstring(response.data)
    assert opml.get("version") == "2.0"
    outlines = opml.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        "http://localhost/feeds/all.rss",
        "http://localhost/feeds/alex.rss",
        "http://localhost/feeds/home.rss",
    ]
    assert [o.get("text") for o in outlines] == ["feedhub — all", "feedhub — alex", "feedhub — home"]
    assert all(o.get("type") == "rss" for o in outlines)
    assert [o.get("htmlUrl") for o in outlines] == [f"http://localhost/c/{name}" for name in ("all", "alex", "home")]


# dashboard -------------------------------------------------------------------------


def as_admin(client):
    """The admin's session (the login itself is tested in test_auth)."""
    with client.session_transaction() as session:
        session["admin"] = True
    return client


def test_dashboard_shows_accounts_sources_timeline_and_feeds(client):
    response = as_admin(client).get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    for text in ("<h3>home</h3>", "<h3>alex</h3>", "Instant Queue", "Recommendations"):
        assert text in page
    # Sources by their redacted URL, with their health.
    assert "http://api.netflix.example/users/T1/queues/instant?feed_token=REDACTED&amp;oauth_consumer_key=REDACTED" in page
    assert '<span class="badge ok">ok</span>' in page
    assert '<span class="badge ok">not modified</span>' in page
    assert '<span class="badge token">needs new tokens</span>' in page
    assert '<code class="code">token_rejected</code>' in page
    assert "2026-01-15 12:00 UTC" in page  # last poll, absolute
    # The timeline, newest first, with box art and stars.
    first, second = page.index("alex watched Braveheart (1995)"), page.index("home watched Braveheart (1995)")
    assert first < second < page.index("home rated Platoon (1986)")
    assert '<img class="art" src="http://cdn.example/boxshots/large/1.jpg" alt="Box art of Braveheart (1995)" loading="lazy"' in page
    assert 'aria-label="4 out of 5">★★★★☆<' in page
    # Every channel in every format, and the OPML.
    for channel in ("all", "alex", "home"):
        for fmt in FORMATS:
            assert f'value="http://localhost/feeds/{channel}.{fmt}"' in page
    assert 'value="http://localhost/opml"' in page
    assert 'rel="alternate" type="application/atom+xml"' in page


def test_dashboard_pages_through_the_timeline(app, client):
    store = app.extensions["feedhub"].store
    account = store.account("home")
    watched = store.sources(account.id)[1]
    many = tuple(
        activity("user-home", Verb.WATCHED, title(100 + n, f"Film {n:03}"), T0 - timedelta(days=1, minutes=n))
        for n in range(60)
    )
    store.save_poll(poll(watched.id, account.id, many))
    first = as_admin(client).get("/timeline").get_data(as_text=True)
    assert "Film 043" in first and "Film 044" not in first  # 6 seeded + 44 = 50
    assert 'href="/timeline?page=2"' in first
    second = client.get("/timeline?page=2").get_data(as_text=True)
    assert "Film 044" in second and "Film 059" in second and "Film 043" not in second
    assert 'href="/timeline"' in second and "page=3" not in second
    assert client.get("/timeline?page=abc").status_code == 400
    assert client.get("/timeline?page=11").status_code == 400


def test_dashboard_says_when_in_words(tmp_path):
    services = build_services(load_settings({"data_dir": tmp_path}, environ={}))
    services.now = lambda: T0 + timedelta(minutes=5)
    seed(services.store)
    try:
        page = as_admin(create_app(services=services).test_client()).get("/").get_data(as_text=True)
    finally:
        services.close()
    assert '<time datetime="2026-01-15T12:00:00Z" title="2026-01-15 12:00 UTC">5 minutes ago</time>' in page
    assert '<time datetime="2026-01-15T12:15:00Z" title="2026-01-15 12:15 UTC">in 10 minutes</time>' in page
    assert "due now" in page  # the sources whose next poll has come
    assert "stopped" in page  # the one that needs a new token
    assert ">35 minutes ago</time>" in page  # alex watched Braveheart


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (None, "never"),
        (T0 - timedelta(seconds=59), "just now"),
        (T0 + timedelta(seconds=30), "just now"),
        (T0 - timedelta(seconds=90), "1 minute ago"),
        (T0 + timedelta(minutes=10), "in 10 minutes"),
        (T0 - timedelta(hours=3, minutes=59), "3 hours ago"),
        (T0 - timedelta(days=1), "1 day ago"),
        (T0 - timedelta(days=15), "2 weeks ago"),
        (T0 - timedelta(days=400), "1 year ago"),
    ],
)
def test_relative_times(moment, words):
    assert relative(moment, T0) == words


def test_absolute_time_and_badges():
    assert absolute(T0 + timedelta(seconds=59)) == "2026-01-15 12:00 UTC"
    assert badge(None) == ("new", "not polled yet")
    assert badge("ok") == ("ok", "ok")
    assert badge("not_modified") == ("ok", "not modified")
    assert badge("token_rejected") == ("error", "token rejected")
    assert badge("some_new_code") == ("error", "some new code")


def test_empty_dashboard(tmp_path):
    app = create_app({"data_dir": tmp_path})
    make_public(app.extensions["feedhub"].store)
    try:
        page = as_admin(app.test_client()).get("/").get_data(as_text=True)
    finally:
        app.extensions["feedhub"].close()
    assert "No accounts yet" in page
    assert "Nothing has happened yet" in page
    assert 'value="http://localhost/feeds/all.rss"' in page


def test_wsgi_module_serves_the_app_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDHUB_DATA_DIR", str(tmp_path))
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    monkeypatch.delitem(sys.modules, "wsgi", raising=False)
    wsgi = importlib.import_module("wsgi")
    try:
        assert wsgi.app.extensions["feedhub"].settings.data_dir == tmp_path
        make_public(wsgi.app.extensions["feedhub"].store)
        assert wsgi.app.test_client().get("/feeds/all.rss").status_code == 200
    finally:
        wsgi.app.extensions["feedhub"].close()
        monkeypatch.delitem(sys.modules, "wsgi")


def test_stylesheet_is_served(client):
    response = client.get("/static/feedhub.css")
    assert response.status_code == 200
    assert b"prefers-color-scheme: dark" in response.data


# API -------------------------------------------------------------------------------


def test_api_accounts(client):
    response = client.get("/api/accounts")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    accounts = response.get_json()["accounts"]
    assert [a["name"] for a in accounts] == ["alex", "home"]
    assert accounts[0]["created"] == "2026-01-14T12:00:00Z"
    home_queue = accounts[1]["sources"][0]
    assert home_queue == {
        "id": home_queue["id"],
        "kind": "queue",
        "title": "Instant Queue",
        "url_display": "http://api.netflix.example/users/T1/queues/instant?feed_token=REDACTED&oauth_consumer_key=REDACTED",
        "state": "active",
        "backing_off": False,
        "error_count": 0,
        "last_outcome": "ok",
        "last_message": "fetched",
        "last_polled_at": "2026-01-15T12:00:00Z",
        "next_due_at": "2026-01-15T12:15:00Z",
        "entry_count": 0,
    }
    recs = accounts[0]["sources"][1]
    assert (recs["state"], recs["last_outcome"]) == ("needs_token", "token_rejected")


def test_api_activities(client):
    response = client.get("/api/activities?kind=watched,ratings")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert body["channel"] == "all"
    assert [a["id"] for a in body["activities"]] == [ALEX_WATCHED.id, HOME_WATCHED.id, HOME_RATED.id]
    assert body["activities"][2] == {
        "id": HOME_RATED.id,
        "verb": "rated",
        "kind": "ratings",
        "account": "home",
        "also": [],
        "title": {"name": "Platoon", "year": 1986, "web_url": "http://www.netflix.com/Movie/2", "box_art": "http://cdn.example/boxshots/large/2.jpg"},
        "rating": 4.0,
        "occurred_at": "2026-01-15T10:00:00Z",
        "headline": "home rated Platoon (1986) ★★★★☆",
    }
    assert body["activities"][0]["also"] == ["home"]
    channel = client.get("/api/activities?channel=alex").get_json()
    assert [a["id"] for a in channel["activities"]] == [ALEX_WATCHED.id, ALEX_RECOMMENDED.id]


@pytest.mark.parametrize(("path", "status"), [("/api/activities?limit=abc", 400), ("/api/activities?channel=nobody", 404), ("/api/nothing", 404)])
def test_api_errors_are_json(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["status"] == status
    assert error["message"]


# secrets -----------------------------------------------------------------------------

EVERY_OUTPUT = [
    "/",
    "/?page=1",
    "/opml",
    "/api/accounts",
    "/api/activities",
    "/api/activities?channel=home",
    "/feeds/nobody.rss",
    "/api/activities?limit=abc",
    *(f"/feeds/{channel}.{fmt}" for channel in ("all", "home", "alex") for fmt in FORMATS),
]


@pytest.mark.parametrize("path", EVERY_OUTPUT)
@pytest.mark.parametrize("accept", ["text/html", "*/*", None])
def test_no_output_holds_a_source_secret(client, path, accept):
    response = client.get(path, headers={"Accept": accept} if accept else {})
    seen = response.get_data(as_text=True) + str(response.headers)
    for canary in CANARIES:
        assert canary not in seen
