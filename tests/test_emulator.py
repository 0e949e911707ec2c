"""The Netflix API 1.5 feed emulator: feeds list, Atom feeds, paging, validators,
determinism, activity over time, faults, and a real loopback server."""
from __future__ import annotations

import gzip
import re
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import feedparser
import lxml.html
import pytest
import requests
from lxml import etree

from feedhub.emulator import Emulator, create_emulator_app
from feedhub.emulator.app import FaultRule
from feedhub.emulator.catalog import MPAA_SCHEME, TV_SCHEME, Catalog, slug
from feedhub.emulator.clock import Clock
from feedhub.emulator.server import serve_in_thread
from feedhub.emulator.world import MAX_RECOMMENDATIONS, NOT_INTERESTED, Feed

START = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
BASE = "http://localhost/"  # the Flask test client's host
ATOM = "http://www.w3.org/2005/Atom"
NS = {
    "a": ATOM,
    "netflix": "http://schemas.netflix.com/atom",
    "media": "http://search.yahoo.com/mrss/",
    "os": "http://a9.com/-/spec/opensearch/1.1/",
}
KINDS = ("queue", "queue_recent", "watched", "recommendations", "ratings")
RELS = {
    "queue": "http://schemas.netflix.com/feed.queues.instant",
    "queue_recent": "http://schemas.netflix.com/feed.queues.instant.recent",
    "watched": "http://schemas.netflix.com/feed.rental_history.watched",
    "recommendations": "http://schemas.netflix.com/feed.recommendations",
    "ratings": "http://schemas.netflix.com/feed.ratings",
}
TITLES = {
    "queue": "Instant Queue",
    "queue_recent": "Recent Additions to Instant Queue",
    "watched": "Titles Watched Recently",
    "recommendations": "Recommendations",
    "ratings": "Ratings",
}
ENTRY_IDS = {
    "queue": r"users/{user}/queues/instant/(available/\d+|saved)/\d+",
    "queue_recent": r"users/{user}/queues/instant/(available/\d+|saved)/\d+",
    "watched": r"users/{user}/rental_history/watched/\d+",
    "recommendations": r"users/{user}/recommendations/\d+",
    "ratings": r"users/{user}/ratings/titles/\d+",
}


def make_app(seed: int = 7, users: int = 2, at: datetime = START):
    return create_emulator_app(seed=seed, users=users, start=START, clock=Clock(at))


@pytest.fixture
def app():
    return make_app()


@pytest.fixture
def emu(app) -> Emulator:
    return app.extensions["emulator"]


@pytest.fixture
def client(app):
    return app.test_client()


def feed_url(emu: Emulator, kind: str, user: int = 0, **params: object) -> str:
    url = emu.feed_url(BASE, user, kind)
    return url + ("&" + urlencode(params) if params else "")


def parse(body: bytes) -> etree._Element:
    return etree.fromstring(body)


def entry_ids(body: bytes) -> list[str]:
    return [e.findtext("a:id", namespaces=NS) for e in parse(body).findall("a:entry", NS)]


def total(body: bytes) -> int:
    return int(parse(body).findtext("os:totalResults", namespaces=NS))


# --- the feeds list -----------------------------------------------------------------


def test_feeds_list_xml_has_the_references_five_links(client, emu: Emulator) -> None:
    user = emu.users[0]
    response = client.get(emu.feeds_list_url(BASE, 0))
    assert response.status_code == 200
    assert response.content_type == "application/xml; charset=utf-8"
    assert b"&amp;oauth_consumer_key=" in response.data and b"></link>" in response.data
    root = parse(response.data)
    assert root.tag == "resource"
    links = root.findall("link")
    assert [link.get("rel") for link in links] == [RELS[k] for k in KINDS]
    assert [link.get("title") for link in links] == [TITLES[k] for k in KINDS]
    for kind, link in zip(KINDS, links):
        href = link.get("href")
        assert href == emu.feed_url(BASE, 0, kind)
        parts = urlsplit(href)
        query = parse_qs(parts.query)
        assert query["feed_token"] == [user.tokens.for_feed(Feed(kind))]
        assert query["oauth_consumer_key"] == [emu.consumer_key]
        assert query["output"] == ["atom"]
        assert query.get("sort") == (["date_added"] if kind == "queue_recent" else None)
    # As in the reference, the queue and its recent additions share one token.
    assert links[0].get("href") + "&sort=date_added" == links[1].get("href")
    assert len({user.tokens.queue, user.tokens.watched, user.tokens.ratings,
                user.tokens.recommendations, user.tokens.feeds_list}) == 5


def test_feeds_list_opml_matches_the_xml_list(client, emu: Emulator) -> None:
    response = client.get(emu.feeds_list_url(BASE, 1, output="opml"))
    assert response.status_code == 200
    assert response.content_type == "text/x-opml; charset=utf-8"
    root = parse(response.data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Personal Netflix Feeds"
    assert parsedate_to_datetime(root.findtext("head/dateCreated")) == START - timedelta(days=60)
    outlines = root.findall("body/outline")
    assert [o.get("title") for o in outlines] == [TITLES[k] for k in KINDS]
    assert all(o.get("text") == o.get("title") and o.get("type") == "rss" for o in outlines)
    assert [o.get("xmlUrl") for o in outlines] == [emu.feed_url(BASE, 1, k) for k in KINDS]
    feed = feedparser.parse(client.get(outlines[2].get("xmlUrl")).data)
    assert not feed.bozo and feed.feed.title == "Titles Watched Recently"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda url: url.split("?")[0], 401),
        (lambda url: re.sub(r"feed_token=[^&]+", "feed_token=T1wrong", url), 401),
        (lambda url: re.sub(r"/users/[^/]+/", "/users/T1nobody/", url), 404),
        (lambda url: url + "&output=rss", 400),
    ],
    ids=["missing-token", "wrong-token", "unknown-user", "bad-output"],
)
def test_feeds_list_refusals(client, emu: Emulator, change, status: int) -> None:
    response = client.get(change(emu.feeds_list_url(BASE, 0)))
    assert response.status_code == status
    assert response.content_type == "text/plain; charset=utf-8"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("OAuth")


def test_a_feed_token_does_not_open_the_feeds_list(client, emu: Emulator) -> None:
    user = emu.users[0]
    url = f"{BASE}users/{user.id}/feeds?feed_token={user.tokens.queue}"
    assert client.get(url).status_code == 401


def test_users_are_like_the_references(emu: Emulator) -> None:
    ids = [user.id for user in emu.users]
    assert all(re.fullmatch(r"T1[A-Za-z0-9_-]{40}", user_id) for user_id in ids)
    assert len(set(ids)) == len(ids)
    assert len({user.name for user in emu.users}) == len(ids)
    assert re.fullmatch(r"[a-z2-7]{24}", emu.consumer_key)
    assert all(re.fullmatch(r"T1[A-Za-z0-9._]{64}", emu.users[0].tokens.for_feed(f)) for f in Feed)


# --- Atom feeds -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_feed_is_atom_with_the_documented_fields(client, emu: Emulator, kind: str) -> None:
    user = emu.users[0]
    url = feed_url(emu, kind)
    response = client.get(url)
    assert response.status_code == 200
    assert response.content_type == "application/atom+xml; charset=utf-8"

    root = parse(response.data)
    assert root.tag == f"{{{ATOM}}}feed"
    assert root.findtext("a:id", namespaces=NS) == url.split("?")[0]
    assert root.findtext("a:title", namespaces=NS) == TITLES[kind]
    assert root.findtext("a:author/a:name", namespaces=NS) == user.name
    assert root.find("a:link[@rel='self']", NS).get("href") == url
    assert root.find("a:link[@rel='alternate']", NS).get("href") == BASE
    assert int(root.findtext("os:startIndex", namespaces=NS)) == 0
    assert int(root.findtext("os:itemsPerPage", namespaces=NS)) == 25
    assert total(response.data) > 25
    assert root.find("a:link[@rel='next']", NS) is not None

    parsed = feedparser.parse(response.data)
    assert parsed.bozo is False
    assert len(parsed.entries) == 25
    for entry in parsed.entries:
        assert re.fullmatch(BASE + ENTRY_IDS[kind].format(user=user.id), entry.id)
        assert entry.title and entry.updated_parsed
        rels = {link.rel: link for link in entry.links}
        assert rels["alternate"].type == "text/html" and "/Movie/" in rels["alternate"].href
        assert rels["http://schemas.netflix.com/id"].title == "title"
        assert re.search(r"/catalog/titles/(movies|series/\d+/seasons|programs)/\d+$",
                         rels["http://schemas.netflix.com/id"].href)
        schemes = {tag.scheme: tag.term for tag in entry.tags}
        assert schemes.keys() & {MPAA_SCHEME, TV_SCHEME}
        assert schemes["http://api.netflix.com/catalog/titles/format"] == "Instant"
        assert entry.media_thumbnail[0]["url"] == entry.netflix_box_art["large"]
        assert set(entry.netflix_box_art) == {"small", "medium", "large"}
        assert 1900 < int(entry.netflix_release_year) < 2100
        assert int(entry.netflix_runtime) > 0
        assert 1.0 <= float(entry.netflix_average_rating) <= 5.0
        assert entry.content[0].type == "text/html" and "<img" in entry.content[0].value
        if kind.startswith("queue"):
            state = schemes["http://api.netflix.com/categories/queue_availability"]
            assert state in ("available_now", "saved")
            assert ("netflix_position" in entry) == (state == "available_now")
        if kind == "watched":
            assert schemes["http://api.netflix.com/categories/rental_states"] == "Watched"
            watched = datetime.fromtimestamp(int(entry.netflix_watched_date), timezone.utc)
            assert watched.timetuple()[:6] == entry.updated_parsed[:6]
            assert re.fullmatch(r"\d\d:\d\d:\d\d", entry.netflix_viewed_time)
        if kind == "ratings":
            assert entry.netflix_user_rating in ("1", "2", "3", "4", "5", NOT_INTERESTED)
        if kind in ("ratings", "recommendations"):
            assert re.fullmatch(r"[1-5]\.\d", entry.netflix_predicted_rating)


def test_entries_show_the_users_state(client, emu: Emulator) -> None:
    state = emu.state(0)
    queue = feedparser.parse(client.get(feed_url(emu, "queue", max_results=500)).data).entries
    assert [e.title for e in queue] == [item.title.name for item in state.queue]
    positions = [int(e.netflix_position) for e in queue if "netflix_position" in e]
    assert positions == list(range(1, len(positions) + 1))
    ratings = feedparser.parse(client.get(feed_url(emu, "ratings", max_results=500)).data).entries
    assert [e.netflix_user_rating for e in ratings] == [str(r.user_rating) for r in state.ratings]
    watched = feedparser.parse(client.get(feed_url(emu, "watched", max_results=500)).data).entries
    assert [e.updated_parsed for e in watched] == sorted((e.updated_parsed for e in watched), reverse=True)


def test_entry_links_lead_somewhere(client, emu: Emulator) -> None:
    entry = feedparser.parse(client.get(feed_url(emu, "watched")).data).entries[0]
    rels = {link.rel: link.href for link in entry.links}
    page = client.get(rels["alternate"])
    assert page.status_code == 200 and page.content_type == "text/html; charset=utf-8"
    assert lxml.html.fromstring(page.data).findtext(".//h1") == entry.title
    record = client.get(rels["http://schemas.netflix.com/id"])
    assert record.status_code == 200 and parse(record.data).findtext("id") == rels["http://schemas.netflix.com/id"]
    for size in ("small", "medium", "large"):
        art = client.get(entry.netflix_box_art[size])
        assert art.status_code == 200 and art.content_type == "image/svg+xml"
        assert parse(art.data).tag == "{http://www.w3.org/2000/svg}svg"


def test_unknown_titles_and_sizes_are_not_found(client, emu: Emulator) -> None:
    movie = next(t for t in emu.catalog.titles if t.is_movie)
    assert client.get("/Movie/x/1").status_code == 404
    assert client.get(f"/boxshots/huge/{movie.id}.svg").status_code == 404
    assert client.get(f"/catalog/titles/programs/{movie.id}").status_code == 404


def test_names_that_need_escaping_survive(client, emu: Emulator) -> None:
    tricky = re.compile(r"[&<'\u0080-\uffff]")
    seen: set[str] = set()
    for user in range(len(emu.users)):
        for kind in KINDS:
            parsed = feedparser.parse(client.get(feed_url(emu, kind, user, max_results=500)).data)
            assert not parsed.bozo
            seen.update(e.title for e in parsed.entries if tricky.search(e.title))
    catalog_names = {t.name for t in emu.catalog.titles}
    assert seen <= catalog_names
    assert any("&" in n for n in seen) and any("<" in n for n in seen)
    assert any("'" in n for n in seen) and any(re.search(r"[^\x00-\x7f]", n) for n in seen)


# --- parameters -----------------------------------------------------------------------


def test_paging_walks_the_whole_feed(client, emu: Emulator) -> None:
    everything = client.get(feed_url(emu, "watched", max_results=500)).data
    expected = entry_ids(everything)
    assert len(expected) == total(everything) > 30
    walked, url = [], feed_url(emu, "watched", max_results=30)
    while url:
        root = parse(client.get(url).data)
        assert int(root.findtext("os:startIndex", namespaces=NS)) == len(walked)
        assert int(root.findtext("os:itemsPerPage", namespaces=NS)) == 30
        walked += [e.findtext("a:id", namespaces=NS) for e in root.findall("a:entry", NS)]
        link = root.find("a:link[@rel='next']", NS)
        url = link.get("href") if link is not None else None
    assert walked == expected
    beyond = client.get(feed_url(emu, "watched", start_index=len(expected) + 5)).data
    assert entry_ids(beyond) == [] and total(beyond) == len(expected)


@pytest.mark.parametrize(
    ("value", "status", "count"),
    [("500", 200, 500), ("0", 200, 0), ("501", 400, None), ("-1", 400, None), ("ten", 400, None), ("", 400, None)],
)
def test_max_results(client, emu: Emulator, value: str, status: int, count: int | None) -> None:
    response = client.get(feed_url(emu, "watched", max_results=value))
    assert response.status_code == status
    if status == 400:
        assert response.content_type == "text/plain; charset=utf-8" and b"max_results" in response.data
    else:
        assert len(entry_ids(response.data)) == min(count, total(response.data))
        assert parse(response.data).find("a:link[@rel='next']", NS) is None


@pytest.mark.parametrize("name", ["start_index", "max_results"])
def test_paging_numbers_must_be_whole(client, emu: Emulator, name: str) -> None:
    assert client.get(feed_url(emu, "ratings", **{name: "1.5"})).status_code == 400


def test_updated_min_in_both_forms(client, emu: Emulator) -> None:
    state = emu.state(0)
    cut = state.watched[12].watched_at
    expected = [w.title.id for w in state.watched if w.watched_at >= cut]
    forms = [
        str(int(cut.timestamp())),
        cut.strftime("%Y-%m-%dT%H:%M:%SZ"),
        cut.astimezone(timezone(timedelta(hours=2))).isoformat(),
        cut.strftime("%Y-%m-%dT%H:%M:%S") + " 00:00",  # an unencoded "+" arrives as a space
    ]
    for form in forms:
        body = client.get(feed_url(emu, "watched", updated_min=form)).data
        assert [int(i.rsplit("/", 1)[1]) for i in entry_ids(body)] == expected, form
        assert total(body) == 13
    for bad in ("yesterday", "2024-03-01", "2024-03-01T12:00:00", "2024-13-01T00:00:00Z"):
        response = client.get(feed_url(emu, "watched", updated_min=bad))
        assert response.status_code == 400, bad


def test_queue_sorts(client, emu: Emulator) -> None:
    def entries(sort: str):
        response = client.get(feed_url(emu, "queue", sort=sort, max_results=500))
        return feedparser.parse(response.data)

    by_position = entries("queue_sequence")
    recent = entries("date_added")
    assert recent.feed.title == "Recent Additions to Instant Queue"
    added = [e.updated_parsed for e in recent.entries]
    assert added == sorted(added, reverse=True)
    alphabetical = [e.title for e in entries("alphabetical").entries]
    assert alphabetical == sorted(alphabetical, key=str.casefold)
    assert sorted(alphabetical) == sorted(e.title for e in by_position.entries)
    assert client.get(feed_url(emu, "queue", sort="random")).status_code == 400


def test_queue_default_sort_is_queue_sequence(client, emu: Emulator) -> None:
    default = client.get(emu.feed_url(BASE, 0, "queue")).data
    explicit = client.get(feed_url(emu, "queue", sort="queue_sequence")).data
    assert entry_ids(default) == entry_ids(explicit)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda e, url: url.replace("feed_token=", "feed_token=x"), 401),
        (lambda e, url: re.sub(r"feed_token=[^&]+&", "", url), 401),
        (lambda e, url: re.sub(r"feed_token=[^&]+", "feed_token=" + e.users[0].tokens.watched, url), 401),
        (lambda e, url: re.sub(r"feed_token=[^&]+", "feed_token=" + e.users[1].tokens.ratings, url), 401),
        (lambda e, url: url.replace(e.users[0].id, "T1nobody"), 404),
        (lambda e, url: url.replace("output=atom", "output=rss"), 400),
        (lambda e, url: url.replace("output=atom&", ""), 200),
        (lambda e, url: url + "&colour=blue&sort=alphabetical", 200),
    ],
    ids=["wrong-token", "missing-token", "other-feeds-token", "other-users-token", "unknown-user",
         "bad-output", "no-output", "unknown-parameters"],
)
def test_feed_refusals(client, emu: Emulator, change, status: int) -> None:
    assert client.get(change(emu, emu.feed_url(BASE, 0, "ratings"))).status_code == status


# --- validators, gzip -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["watched", "queue", "ratings"])
def test_conditional_get(client, emu: Emulator, kind: str) -> None:
    url = feed_url(emu, kind)
    first = client.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)  # strong
    assert parsedate_to_datetime(last_modified) == emu.state(0).last_changed[Feed(kind)]
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": last_modified},
                    {"If-None-Match": f'"other", {etag}'}, {"If-None-Match": etag, "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}):
        again = client.get(url, headers=headers)
        assert again.status_code == 304, headers
        assert again.data == b"" and again.headers["ETag"] == etag
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    # If-None-Match wins over If-Modified-Since.
    assert client.get(url, headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified}).status_code == 200


def test_queue_updated_is_the_request_time_but_the_etag_is_not(emu: Emulator) -> None:
    changed = emu.state(0).last_changed[Feed.QUEUE]
    app = make_app(at=changed)
    client, emulated = app.test_client(), app.extensions["emulator"]
    first = client.get(feed_url(emulated, "queue"))
    emulated.advance(30)  # history events are at least a minute apart: nothing happens
    second = client.get(feed_url(emulated, "queue"))
    assert parse(first.data).findtext("a:updated", namespaces=NS) == changed.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse(second.data).findtext("a:updated", namespaces=NS) == (changed + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first.headers["ETag"] == second.headers["ETag"]
    assert first.headers["Last-Modified"] == second.headers["Last-Modified"]


@pytest.mark.parametrize("url_of", [lambda e: feed_url(e, "ratings"), lambda e: e.feeds_list_url(BASE, 0)],
                         ids=["feed", "feeds-list"])
def test_gzip(client, emu: Emulator, url_of) -> None:
    url = url_of(emu)
    plain = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data)
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    for etag in (plain.headers["ETag"], zipped.headers["ETag"]):
        assert client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag}).status_code == 304
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


# --- the simulation -------------------------------------------------------------------


def test_same_seed_same_bytes() -> None:
    def bodies(app) -> list[bytes]:
        client, emulated = app.test_client(), app.extensions["emulator"]
        urls = [emulated.feed_url(BASE, u, k) for u in range(2) for k in KINDS]
        urls += [emulated.feeds_list_url(BASE, u, output) for u in range(2) for output in ("xml", "opml")]
        return [client.get(url).data for url in urls]

    later = START + timedelta(minutes=17, seconds=3)
    first, second = bodies(make_app(at=later)), bodies(make_app(at=later))
    assert first == second
    other = bodies(make_app(seed=8, at=later))
    assert all(a != b for a, b in zip(first, other))


def test_history_fills_the_feeds_before_start(emu: Emulator) -> None:
    for user in range(len(emu.users)):
        state = emu.state(user)
        assert 35 <= len(state.queue) <= 75
        assert 100 <= len(state.watched) <= 200
        assert 50 <= len(state.ratings) <= 130
        assert 20 <= len(state.recommendations) <= MAX_RECOMMENDATIONS
        assert all(item.updated < START for item in (*state.queue, *state.watched, *state.ratings))
        assert any(r.user_rating == NOT_INTERESTED for r in state.ratings)
        assert any(item.position is None for item in state.queue)  # a saved, pre-release title


@pytest.mark.parametrize("later", [timedelta(0), timedelta(hours=1), timedelta(hours=30)], ids=["start", "1h", "30h"])
def test_state_keeps_its_invariants(emu: Emulator, later: timedelta) -> None:
    emu.advance(later.total_seconds())
    for user in range(len(emu.users)):
        state = emu.state(user)
        positions = [item.position for item in state.queue]
        available = [p for p in positions if p is not None]
        assert available == list(range(1, len(available) + 1))
        assert positions[len(available):] == [None] * (len(positions) - len(available))  # saved ones last
        queued = [item.title.id for item in state.queue]
        assert len(set(queued)) == len(queued)
        recommended = {r.title.id for r in state.recommendations}
        assert len(recommended) == len(state.recommendations) <= MAX_RECOMMENDATIONS
        assert not recommended & set(queued)
        assert not any(item.title.is_episode for item in state.queue)
        assert [w.watched_at for w in state.watched] == sorted((w.watched_at for w in state.watched), reverse=True)
        assert [r.rated_at for r in state.ratings] == sorted((r.rated_at for r in state.ratings), reverse=True)
        assert 30 <= len(state.queue) <= 80  # the user never runs out of titles to queue


def test_episodes_are_watched_in_order(emu: Emulator) -> None:
    state = emu.state(0)
    watched = {w.title.id for w in state.watched}
    seasons = [t for t in emu.catalog.titles if t.is_season and watched & set(t.episode_ids)]
    assert seasons
    for season in seasons:
        seen = [episode in watched for episode in season.episode_ids]
        assert seen == sorted(seen, reverse=True), season.name  # a prefix of the season


def test_activity_moves_on_with_the_clock(client, emu: Emulator) -> None:
    before = {kind: client.get(feed_url(emu, kind)) for kind in ("watched", "queue")}
    queue_before = [item.title.id for item in emu.state(0).queue]
    moved = client.post("/_emulator/clock", json={"advance": 900})
    assert moved.status_code == 200 and moved.json["now"] == "2024-03-01T12:15:00Z"

    watched = client.get(feed_url(emu, "watched"))
    newest = feedparser.parse(watched.data).entries[0]
    assert datetime(*newest.updated_parsed[:6], tzinfo=timezone.utc) > START
    assert watched.headers["ETag"] != before["watched"].headers["ETag"]
    assert parsedate_to_datetime(watched.headers["Last-Modified"]) > START
    stale = client.get(feed_url(emu, "watched"), headers={"If-None-Match": before["watched"].headers["ETag"]})
    assert stale.status_code == 200
    assert [item.title.id for item in emu.state(0).queue] != queue_before
    assert client.get(feed_url(emu, "queue")).headers["ETag"] != before["queue"].headers["ETag"]


def test_a_request_takes_a_few_milliseconds(client, emu: Emulator) -> None:
    url = feed_url(emu, "watched")
    client.get(url)  # the first request makes the user's history
    began = time.perf_counter()
    for _ in range(20):
        client.get(url)
    assert (time.perf_counter() - began) / 20 < 0.05


# --- catalog and clock ----------------------------------------------------------------


def test_catalog_is_seeded_and_complete() -> None:
    catalog = Catalog.generate(3)
    assert catalog == Catalog.generate(3)
    assert catalog.titles != Catalog.generate(4).titles
    assert len(catalog.titles) == 400 and len(Catalog.generate(3, size=150).titles) == 150
    assert len({t.id for t in catalog.titles}) == 400
    kinds = {"movie": 0, "season": 0, "episode": 0}
    for title in catalog.titles:
        kind = "movie" if title.is_movie else "season" if title.is_season else "episode"
        kinds[kind] += 1
        assert re.fullmatch(r"movies|series/\d+/seasons|programs", title.type)
        assert 1.0 <= title.average_rating <= 5.0 and round(title.average_rating, 1) == title.average_rating
        assert title.rating_scheme == (MPAA_SCHEME if title.is_movie else TV_SCHEME)
        allowed = ("G", "PG", "PG-13", "R", "NC-17", "NR", "UR") if title.is_movie else ("TV-Y", "TV-G", "TV-PG", "TV-14", "TV-MA")
        assert title.rating_label in allowed
        assert title.runtime > 0 and 1900 < title.year < 2100
        if title.is_episode:
            season = catalog.get(title.season_id)
            assert title.id in season.episode_ids and title.name == f"{season.series_name}: {title.short_name}"
    assert all(kinds.values())
    assert {t.id for t in catalog.listable} == {t.id for t in catalog.titles if not t.is_episode}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ben-Hur: Collector's Edition", "Ben-Hur_Collector_s_Edition"),
        ("All the President's Men", "All_the_President_s_Men"),
        ("The Office: Season 1", "The_Office_Season_1"),
        ("Noël & Smörgåsbord", "Noel_Smorgasbord"),
    ],
)
def test_slug_is_the_references(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_clock() -> None:
    fixed = Clock(START)
    assert fixed.now() == START and fixed.is_fixed
    assert fixed.advance(90) == START + timedelta(seconds=90) == fixed.now()
    real = Clock()
    assert not real.is_fixed
    real.advance(3600)
    assert abs(real.now() - datetime.now(timezone.utc) - timedelta(hours=1)) < timedelta(seconds=5)
    with pytest.raises(ValueError):
        fixed.set(datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        fixed.advance(-1)


def test_clock_control_endpoint(client, emu: Emulator) -> None:
    assert client.get("/_emulator/clock").json["now"] == "2024-03-01T12:00:00Z"
    assert client.post("/_emulator/clock", json={"now": "2024-03-02T08:30:00+01:00"}).json["now"] == "2024-03-02T07:30:00Z"
    assert emu.clock.now() == datetime(2024, 3, 2, 7, 30, tzinfo=timezone.utc)
    for bad in ({}, {"now": "soon"}, {"advance": -5}, {"advance": "5"}, {"later": 5}):
        assert client.post("/_emulator/clock", json=bad).status_code == 400, bad


def test_start_defaults_to_the_clocks_minute() -> None:
    app = create_emulator_app(seed=1, users=1, clock=Clock(datetime(2024, 5, 5, 10, 42, 31, 5, tzinfo=timezone.utc)))
    assert app.extensions["emulator"].world.start == datetime(2024, 5, 5, 10, 42, tzinfo=timezone.utc)


# --- faults ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "status", "headers"),
    [
        ({"status": 500}, 500, {}),
        ({"status": 503, "retry_after": 120}, 503, {"Retry-After": "120"}),
        ({"status": 429, "retry_after": 5}, 429, {"Retry-After": "5"}),
        ({"status": 410}, 410, {}),
        ({"status": 301, "location": "http://localhost/moved"}, 301, {"Location": "http://localhost/moved"}),
        ({"status": 302, "location": "/elsewhere"}, 302, {"Location": "/elsewhere"}),
    ],
    ids=["500", "503", "429", "410", "301", "302"],
)
def test_status_faults(client, emu: Emulator, rule: dict, status: int, headers: dict) -> None:
    assert client.post("/_emulator/faults", json={"path": "/rental_history/", **rule}).status_code == 201
    response = client.get(feed_url(emu, "watched"))
    assert response.status_code == status
    for name, value in headers.items():
        assert response.headers[name] == value
    assert client.get(feed_url(emu, "ratings")).status_code == 200  # other paths are untouched


def test_body_faults(client, emu: Emulator) -> None:
    url = feed_url(emu, "watched")
    etag = client.get(url).headers["ETag"]
    emu.add_fault("watched", body="html", times=1)
    page = client.get(url)
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    assert b"<feed" not in page.data
    emu.add_fault("watched", body="malformed", times=1)
    # A fault answers even a request whose validators would have got 304.
    broken = client.get(url, headers={"If-None-Match": etag})
    assert broken.status_code == 200 and broken.content_type.startswith("application/atom+xml")
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(broken.data)
    assert feedparser.parse(broken.data).bozo
    emu.add_fault("watched", body="empty", times=1)
    assert client.get(url).data == b""
    emu.add_fault("watched", body="oversized", size=3_000_000, times=2)
    huge = client.get(url)
    assert len(huge.data) == 3_000_000 == int(huge.headers["Content-Length"])
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and len(zipped.data) < 100_000
    assert len(gzip.decompress(zipped.data)) == 3_000_000
    assert feedparser.parse(client.get(url).data).bozo is False  # every rule was used up


def test_fault_times_delay_and_clearing(client, emu: Emulator) -> None:
    url = feed_url(emu, "ratings")
    emu.add_fault(r"/ratings/", status=500, times=2)
    assert [client.get(url).status_code for _ in range(3)] == [500, 500, 200]
    emu.add_fault(r"/ratings/", delay=0.2)
    began = time.perf_counter()
    assert client.get(url).status_code == 200
    assert time.perf_counter() - began >= 0.2
    emu.add_fault(".*", status=503)
    assert client.get("/_emulator/faults").json["faults"][0]["delay"] == 0.2  # control paths never fault
    assert client.delete("/_emulator/faults").json == {"cleared": 2}
    assert emu.faults == () and client.get(url).status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        {"status": 500},
        {"path": "(", "status": 500},
        {"path": "x", "status": 700},
        {"path": "x", "status": 301},
        {"path": "x", "body": "bogus"},
        {"path": "x"},
        {"path": "x", "status": "500"},
        {"path": "x", "status": 500, "colour": "red"},
        {"path": "x", "status": 500, "times": 0},
    ],
)
def test_bad_fault_rules_are_refused(client, rule: dict) -> None:
    response = client.post("/_emulator/faults", json=rule)
    assert response.status_code == 400 and response.json["error"]


def test_fault_rule_round_trips_as_json() -> None:
    rule = FaultRule("watched", status=429, retry_after=3, times=1)
    assert FaultRule.from_json(rule.to_json()) == rule


# --- over real HTTP -------------------------------------------------------------------


def test_over_loopback_http() -> None:
    app = make_app(at=START + timedelta(minutes=5))
    emulated = app.extensions["emulator"]
    server = serve_in_thread(app)
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", server.url) and server.port > 0
        session = requests.Session()
        listing = session.get(emulated.feeds_list_url(server.url, 1), timeout=5)
        assert listing.status_code == 200
        hrefs = [link.get("href") for link in parse(listing.content).findall("link")]
        assert all(href.startswith(server.url) for href in hrefs)
        for href in hrefs:
            response = session.get(href, timeout=5)  # requests asks for gzip and unpacks it
            assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
            assert feedparser.parse(response.content).bozo is False
            again = session.get(href, headers={"If-None-Match": response.headers["ETag"]}, timeout=5)
            assert again.status_code == 304
        # Absolute URLs in the feeds follow the host the request came to.
        entry = feedparser.parse(session.get(hrefs[2], timeout=5).content).entries[0]
        assert all(link.href.startswith(server.url) for link in entry.links)
    finally:
        began = time.perf_counter()
        server.stop()
        assert time.perf_counter() - began < 1.0
    with pytest.raises(requests.ConnectionError):
        session.get(hrefs[0], timeout=2)  # also the kept-alive connection is gone


def test_serve_in_thread_reports_a_busy_port() -> None:
    with serve_in_thread(make_app()) as server:
        with pytest.raises(OSError):
            serve_in_thread(make_app(), port=server.port)
