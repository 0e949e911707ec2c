"""The dashboard and its administration through Flask's test client, against accounts
added from the real emulator over loopback.

The emulator's feed tokens, feeds-list tokens and consumer key are canaries: no page,
JSON answer or redirect may hold one.
"""
from __future__ import annotations

import io
import re
import shutil
from datetime import date, datetime, timedelta, timezone

import pytest

from feedhub import charts
from feedhub.config import load_settings
from feedhub.models import Kind
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.storage.rows import SourceRow
from feedhub.subscribe import add_url
from feedhub.web import create_app
from feedhub.web.dashboard import health

from tests.conftest import START, start_emulator

PASSWORD = "correct horse battery"


def make_services(data_dir, emulator):
    settings = load_settings(
        {"data_dir": data_dir, "allow_private_networks": True, "poll_interval": 60, "admin_password": PASSWORD}, environ={}
    )
    services = build_services(settings)
    services.now = emulator.clock.now
    return services


def add_home(data_dir, emulator) -> None:
    """The emulator's first user added as ``home`` and polled once."""
    services = make_services(data_dir, emulator)
    add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, 0), "home", 60, services.now())
    poller = Poller(services)
    poller.poll_many(services.store.sources())
    poller.close()
    services.close()


@pytest.fixture(scope="module")
def shared_emulator():
    emulated, server = start_emulator()
    yield emulated
    server.stop()


@pytest.fixture(scope="module")
def polled(tmp_path_factory, shared_emulator):
    """A data directory with ``home`` polled once, made once and copied for each test
    (a first poll backfills some 300 entries: a second a test would add up)."""
    data_dir = tmp_path_factory.mktemp("polled")
    add_home(data_dir, shared_emulator)
    return data_dir


@pytest.fixture
def emulator(shared_emulator):
    """The module's emulator, back at its start with no fault armed."""
    shared_emulator.set_time(START)
    shared_emulator.clear_faults()
    return shared_emulator


@pytest.fixture
def site(tmp_path, polled, emulator):
    """feedhub on a copy of the polled data; its clock is the emulator's."""
    shutil.copytree(polled, tmp_path / "data")
    services = make_services(tmp_path / "data", emulator)
    yield create_app(services=services)
    services.close()


@pytest.fixture
def client(site):
    return site.test_client()


@pytest.fixture
def admin(client):
    login(client)
    return client


def login(client) -> None:
    client.get("/login")
    response = client.post("/login", data={"password": PASSWORD, "csrf_token": token(client), "next": "/"})
    assert response.status_code == 302


def token(client) -> str:
    with client.session_transaction() as session:
        return session["csrf"]


def store(site):
    return site.extensions["feedhub"].store


def canaries(emulator) -> list[str]:
    values = [emulator.consumer_key]
    for user in emulator.users:
        t = user.tokens
        values += [t.queue, t.watched, t.recommendations, t.ratings, t.feeds_list]
    return values


def assert_no_secret(emulator, *responses) -> None:
    for response in responses:
        seen = response.get_data(as_text=True) + str(response.headers)
        for canary in canaries(emulator):
            assert canary not in seen


def post(client, path: str, data: dict | None = None, **kwargs):
    return client.post(path, data={"csrf_token": token(client), **(data or {})}, **kwargs)


# the dashboard -------------------------------------------------------------------------


def test_dashboard_shows_health_pictures_and_latest_activity(admin, emulator):
    response = admin.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<li class="tile tile-ok"><strong>5</strong> ok</li>' in page  # health at a glance
    assert page.count('<svg class="spark"') == 5  # a sparkline per source
    assert 'aria-label="Last 1 polls of home&#39;s Instant Queue: 1 healthy, 0 failed;' in page
    assert page.count('role="img" aria-labelledby="chart-') == 3  # the three pictures
    for picture in ("Activity per week, last 12 weeks", "Ratings: titles by number of stars", "Queue length over time"):
        assert picture in page
    assert page.count('<li class="card event">') == 10  # the latest activity
    assert 'href="/timeline"' in page
    assert_no_secret(emulator, response)


def test_visitors_see_health_but_not_what_people_did(client, emulator):
    # Channels are private by default: the dashboard must not show what they protect.
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<li class="tile tile-ok"><strong>5</strong> ok</li>' in page and page.count('<svg class="spark"') == 5
    assert 'role="img" aria-labelledby="chart-' not in page and '<li class="card event">' not in page
    assert "log in</a> to see it" in page and 'href="/timeline"' not in page
    assert "Poll now" not in page and "Manage" not in page  # no actions without the login
    timeline = client.get("/timeline")
    assert timeline.status_code == 302 and "/login" in timeline.headers["Location"]


def test_pages_send_a_strict_content_security_policy(client):
    login(client)
    for path in ("/", "/timeline", "/login"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy
        assert headers["Referrer-Policy"] == "no-referrer"
    script = client.get("/static/feedhub.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript" and b"fetch(" in script.data


@pytest.mark.parametrize(
    ("state", "outcome", "tone", "label"),
    [
        ("active", None, "new", "not polled yet"),
        ("active", "ok", "ok", "ok"),
        ("active", "not_modified", "ok", "not modified"),
        ("active", "server_error", "warn", "backing off"),
        ("active", "rate_limited", "warn", "backing off"),
        ("active", "timeout", "warn", "backing off"),
        ("active", "not_a_feed", "error", "error"),
        ("active", "some_future_code", "error", "error"),
        ("needs_token", "token_rejected", "token", "needs new tokens"),
        ("retired", "gone", "off", "retired"),
        ("paused", "ok", "off", "paused"),
    ],
    ids=lambda v: str(v),
)
def test_health_of_a_source(state, outcome, tone, label):
    source = SourceRow(
        1, 1, "home", "k", Kind.QUEUE, "Queue", "http://x/", state, None, None, outcome, None, None, None, None,
        datetime.now(timezone.utc), 60, 0, 0, url="http://x/",
    )
    found = health(source)
    assert (found.tone, found.label, found.code) == (tone, label, outcome)


# the timeline ----------------------------------------------------------------------------


def test_timeline_filters_by_account_kind_and_text(admin, site, emulator):
    add_url(store(site), site.extensions["feedhub"].fetcher, emulator.feeds_list_url(emulator.base_url, 1), "alex", 60, emulator.clock.now())
    Poller(site.extensions["feedhub"]).poll_many(store(site).sources(store(site).account("alex").id))
    everyone = admin.get("/timeline").get_data(as_text=True)
    assert "home " in everyone and "alex " in everyone
    only_alex = admin.get("/timeline?account=alex").get_data(as_text=True)
    headlines = re.findall(r'<p class="headline">\s*(?:<a [^>]*>)?([^<]*)', only_alex)
    assert headlines and all("alex" in h and not h.startswith("home ") for h in headlines)
    assert '<option value="alex" selected>alex</option>' in only_alex
    watched = admin.get("/timeline?kind=watched").get_data(as_text=True)
    assert set(re.findall(r'<span class="verb verb-(\w+)">', watched)) == {"watched"}
    assert '<svg class="icon icon-watched" aria-hidden="true"' in watched  # the kind's icon
    ratings = admin.get("/timeline?kind=ratings").get_data(as_text=True)
    assert set(re.findall(r'<span class="verb verb-(\w+)">', ratings)) == {"rated"}
    assert 'role="img" aria-label="' in ratings  # stars, said in words
    title = re.findall(r'<p class="headline">\s*<a [^>]*>\w+ watched ([^<(]+)', watched)[0].strip()
    searched = admin.get("/timeline", query_string={"q": title}).get_data(as_text=True)
    assert title in searched
    assert all(title.casefold() in h.casefold() for h in re.findall(r'<p class="headline">\s*<a [^>]*>([^<]*)', searched))
    assert "Nothing matches these filters" in admin.get("/timeline?q=no-such-title-anywhere").get_data(as_text=True)
    assert admin.get("/timeline?kind=nonsense").status_code == 400


def test_timeline_pages_keep_the_filters(admin):
    client = admin
    first = client.get("/timeline?kind=watched").get_data(as_text=True)
    assert 'href="/timeline?page=2&amp;kind=watched"' in first or 'href="/timeline?kind=watched&amp;page=2"' in first
    second = client.get("/timeline?kind=watched&page=2").get_data(as_text=True)
    assert 'rel="prev" href="/timeline?kind=watched"' in second
    firsts = re.findall(r'<li class="card event">.*?</li>', first, re.S)
    seconds = re.findall(r'<li class="card event">.*?</li>', second, re.S)
    assert len(firsts) == 50 and seconds and not set(firsts) & set(seconds)
    assert client.get("/timeline?page=0").status_code == 400
    assert client.get("/timeline?page=abc").status_code == 400


def test_a_title_with_markup_shows_as_text(admin, site):
    # The emulator's catalog names some titles with "<" and "&" on purpose.
    names = [a.title.name for _, a in store(site).activities(limit=500)]
    marked = next(n for n in names if "<" in n)
    page = admin.get("/timeline", query_string={"q": marked}).get_data(as_text=True)
    escaped = marked.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in page and marked not in page


# the pictures -------------------------------------------------------------------------------


def test_weekly_counts_and_star_counts():
    weeks = charts.week_starts(date(2026, 1, 15), 3)  # a Thursday
    assert weeks == [date(2025, 12, 29), date(2026, 1, 5), date(2026, 1, 12)]
    daily = [("home", date(2026, 1, 14), 2), ("home", date(2026, 1, 12), 1), ("alex", date(2026, 1, 6), 4), ("alex", date(2025, 12, 1), 9)]
    assert charts.weekly_counts(daily, weeks) == {"home": [0, 0, 3], "alex": [0, 4, 0]}
    ratings = [("home", 5.0), ("home", 3.5), ("home", None), ("alex", 1.0), ("alex", 0.2)]
    assert charts.star_counts(ratings) == {"home": [0, 0, 0, 1, 1], "alex": [2, 0, 0, 0, 0]}


def test_pictures_say_in_words_what_they_show():
    weeks = charts.week_starts(date(2026, 1, 15), 2)
    svg = charts.weekly_activity("w", ["alex", "home"], weeks, {"home": [1, 3], "alex": [2, 1]})
    assert '<title id="w-title">Activity per week, last 2 weeks</title>' in svg
    assert '<desc id="w-desc">alex: 3; home: 4. Busiest: the week of 12 Jan with 4.</desc>' in svg
    assert 'aria-labelledby="w-title w-desc"' in svg and "style=" not in svg
    assert svg.count('<rect class="series-') == 4 and "<title>home, week of 12 Jan: 3</title>" in svg
    stars = charts.rating_distribution("r", ["home"], {"home": [0, 1, 0, 2, 4]})
    assert "1 star: 0; 2 stars: 1; 3 stars: 0; 4 stars: 2; 5 stars: 4; home rated 7." in stars
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    line = charts.list_length("q", ["home"], {"home": [(t0, 50), (t0 + timedelta(days=1), 53)]}, t0, t0 + timedelta(days=2))
    assert "home: 53 now, between 50 and 53." in line and '<path class="line" d="M34.0 ' in line


def test_pictures_escape_names_and_say_when_empty():
    svg = charts.rating_distribution("r", ["<b>x</b>"], {"<b>x</b>": [1, 0, 0, 0, 0]})
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert charts.weekly_activity("w", ["a"], charts.week_starts(date(2026, 1, 1), 4), {}) == (
        '<p class="chart-empty">No activity in the last 4 weeks yet.</p>'
    )
    assert "no polls yet" in charts.sparkline([], name="x")


def test_sparkline_colours_each_poll_by_its_outcome():
    t0 = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
    marks = [
        charts.SparkMark(t0, "ok", "ok", 40),
        charts.SparkMark(t0 + timedelta(minutes=1), "server error", "warn", 3000),
        charts.SparkMark(t0 + timedelta(minutes=2), "token rejected", "error", 20),
    ]
    svg = charts.sparkline(marks, name="home's Queue")
    assert [m for m in re.findall(r'class="tone-(\w+)"', svg)] == ["ok", "warn", "error"]
    assert "<title>2026-01-15 12:01 UTC · server error · 3.0 s</title>" in svg
    assert 'aria-label="Last 3 polls of home&#39;s Queue: 1 healthy, 2 failed; typical 40 ms, slowest 3.0 s"' in svg


def test_queue_length_is_pictured_from_the_polls(admin, site, emulator):
    client = admin
    emulator.advance(3600)
    Poller(site.extensions["feedhub"]).poll_many(store(site).sources())
    page = client.get("/").get_data(as_text=True)
    queue = re.search(r'<desc id="chart-queue-desc">([^<]*)</desc>', page).group(1)
    length = len(emulator.state(0).queue)
    assert queue.startswith(f"home: {length} now")


# administration: who may -----------------------------------------------------------------------


ADMIN_PAGES = ["/admin/add", "/admin/accounts/1", "/admin/accounts/1/remove"]
ADMIN_ACTIONS = [
    "/admin/add/url",
    "/admin/add/opml",
    "/admin/add/some-preview",
    "/admin/accounts/1/rename",
    "/admin/accounts/1/renew",
    "/admin/accounts/1/remove",
    "/admin/sources/1/pause",
    "/admin/sources/1/resume",
    "/admin/sources/1/poll",
]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_need_the_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ADMIN_ACTIONS)
def test_admin_actions_need_the_login_and_change_nothing(client, site, path):
    before = [(s.id, s.state, s.url_display) for s in store(site).sources()], [a.name for a in store(site).accounts()]
    client.get("/login")  # a session with a CSRF token, but no login
    response = post(client, path, {"name": "renamed", "url": "http://example.com/"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    after = [(s.id, s.state, s.url_display) for s in store(site).sources()], [a.name for a in store(site).accounts()]
    assert after == before


def test_the_poll_endpoint_answers_401_without_the_login(client, site):
    client.get("/login")
    response = client.post("/api/sources/1/poll", headers={"X-CSRF-Token": token(client)})
    assert response.status_code == 401 and response.get_json()["error"]["status"] == 401


@pytest.mark.parametrize("path", ["/admin/accounts/1/rename", "/admin/sources/1/pause", "/admin/accounts/1/remove", "/api/sources/1/poll"])
def test_a_post_without_the_csrf_token_is_refused(admin, site, path):
    before = [(s.id, s.state) for s in store(site).sources()], [a.name for a in store(site).accounts()]
    response = admin.post(path, data={"name": "renamed"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    forged = admin.post(path, data={"name": "renamed", "csrf_token": "forged"})
    assert forged.status_code == 400
    assert ([(s.id, s.state) for s in store(site).sources()], [a.name for a in store(site).accounts()]) == before


# adding -------------------------------------------------------------------------------------------


def test_add_by_url_previews_then_creates(admin, site, emulator):
    url = emulator.feeds_list_url(emulator.base_url, 1)
    response = post(admin, "/admin/add/url", {"url": url, "name": "alex"})
    assert response.status_code == 302
    preview_path = response.headers["Location"]
    assert re.fullmatch(r"/admin/add/[A-Za-z0-9_-]{32}", preview_path)
    assert [a.name for a in store(site).accounts()] == ["home"]  # nothing created yet
    preview = admin.get(preview_path)
    page = preview.get_data(as_text=True)
    assert "This is a Netflix feeds list" in page and "one account with 5 sources" in page
    assert page.count('<span class="badge ok">new</span>') == 5
    assert "feed_token=REDACTED" in page and 'value="alex"' in page
    created = post(admin, preview_path, {"name": "alex"})
    assert created.status_code == 302 and created.headers["Location"].startswith("/#account-")
    alex = store(site).account("alex")
    sources = store(site).sources(alex.id)
    assert len(sources) == 5 and all(s.state == "active" for s in sources)
    dashboard = admin.get("/")
    text = dashboard.get_data(as_text=True)
    assert "Added alex with 5 sources; polling them now." in text
    assert text.count("data-autopoll") == 5  # the page polls them at once
    assert "data-autopoll" not in admin.get("/").get_data(as_text=True)  # once
    assert admin.get(preview_path).status_code == 404  # a preview is used once
    assert_no_secret(emulator, response, preview, created, dashboard)


def test_add_by_opml_upload_previews_then_creates(admin, site, emulator):
    opml = emulator.feeds_list_url(emulator.base_url, 2, output="opml")
    body = site.extensions["feedhub"].fetcher.fetch(opml).body
    response = post(admin, "/admin/add/opml", {"opml": (io.BytesIO(body), "sam.opml"), "name": "sam"}, content_type="multipart/form-data")
    assert response.status_code == 302
    preview = admin.get(response.headers["Location"])
    page = preview.get_data(as_text=True)
    assert "This is an OPML document, <strong>Personal Netflix Feeds</strong>." in page
    assert page.count("<tr>") == 6  # the head and five sources
    assert "sam" not in [a.name for a in store(site).accounts()]
    post(admin, response.headers["Location"], {"name": "sam"})
    assert len(store(site).sources(store(site).account("sam").id)) == 5
    assert_no_secret(emulator, response, preview)


def test_a_preview_says_what_exists_already_and_creating_it_is_refused(admin, site, emulator):
    response = post(admin, "/admin/add/url", {"url": emulator.feeds_list_url(emulator.base_url, 0)})
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert page.count("already added") == 5
    refused = post(admin, response.headers["Location"], {"name": "again"})
    assert refused.status_code == 409 and "exists already" in refused.get_data(as_text=True)
    assert [a.name for a in store(site).accounts()] == ["home"]


@pytest.mark.parametrize(
    ("make_url", "words"),
    [
        (lambda e: e.feeds_list_url(e.base_url, 1).replace("feed_token=", "feed_token=x"), "refused the feed"),
        (lambda e: e.base_url + "Movie/x/60000001", "cannot add"),
        (lambda e: "ftp://example.com/feeds", "not an http(s) URL"),
        (lambda e: "", "Give the URL"),
    ],
    ids=["revoked-token", "html-page", "not-http", "empty"],
)
def test_bad_urls_are_refused_clearly_and_change_nothing(admin, site, emulator, make_url, words):
    url = make_url(emulator)
    response = post(admin, "/admin/add/url", {"url": url})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and words in page
    assert [a.name for a in store(site).accounts()] == ["home"]
    assert 'name="url" type="url"' in page and "value=\"http" not in page  # the URL is not echoed
    assert_no_secret(emulator, response)


def test_bad_opml_uploads_are_refused(admin, site):
    def upload(body: bytes):
        return post(admin, "/admin/add/opml", {"opml": (io.BytesIO(body), "f.opml")}, content_type="multipart/form-data")

    no_feeds = upload(b'<opml version="2.0"><head/><body><outline text="x"/></body></opml>')
    assert no_feeds.status_code == 400 and "lists no feeds" in no_feeds.get_data(as_text=True)
    not_opml = upload(b"<html><body>hello</body></html>")
    assert not_opml.status_code == 400 and "not an OPML document" in not_opml.get_data(as_text=True)
    huge = upload(b"<opml>" + b" " * (3 * 1024 * 1024) + b"</opml>")
    assert huge.status_code == 413 and "too large" in huge.get_data(as_text=True)
    missing = post(admin, "/admin/add/opml", {}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "Choose an OPML file" in missing.get_data(as_text=True)
    assert [a.name for a in store(site).accounts()] == ["home"]


def test_a_preview_with_a_feed_that_is_no_http_url_creates_nothing(admin, site):
    body = b'<opml version="2.0"><body><outline text="x" xmlUrl="file:///etc/passwd"/></body></opml>'
    response = post(admin, "/admin/add/opml", {"opml": (io.BytesIO(body), "f.opml")}, content_type="multipart/form-data")
    preview = admin.get(response.headers["Location"])
    assert preview.status_code == 400 and "not an http(s) URL" in preview.get_data(as_text=True)
    assert "Create the account" not in preview.get_data(as_text=True)


def test_unknown_previews_are_404(admin):
    assert admin.get("/admin/add/nothing-here").status_code == 404
    assert post(admin, "/admin/add/nothing-here", {"name": "x"}).status_code == 404


# accounts ------------------------------------------------------------------------------------------


def test_rename_keeps_the_activities_and_their_ids(admin, site):
    ids = sorted(a.id for _, a in store(site).activities(limit=500))
    response = post(admin, "/admin/accounts/1/rename", {"name": "household"})
    assert response.status_code == 302
    assert [a.name for a in store(site).accounts()] == ["household"]
    assert sorted(a.id for _, a in store(site).activities(limit=500)) == ids
    assert "Renamed home to household." in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "household watched" in admin.get("/timeline?kind=watched").get_data(as_text=True)


@pytest.mark.parametrize(("name", "status", "words"), [("", 400, "cannot be empty"), ("x" * 201, 400, "too long"), ("a\x07b", 400, "control characters")])
def test_rename_refuses_bad_names(admin, site, name, status, words):
    response = post(admin, "/admin/accounts/1/rename", {"name": name})
    assert response.status_code == status and words in response.get_data(as_text=True)
    assert [a.name for a in store(site).accounts()] == ["home"]


def test_rename_refuses_a_name_in_use(admin, site, emulator):
    add_url(store(site), site.extensions["feedhub"].fetcher, emulator.feeds_list_url(emulator.base_url, 1), "alex", 60, emulator.clock.now())
    response = post(admin, "/admin/accounts/1/rename", {"name": "alex"})
    assert response.status_code == 409 and "exists already" in response.get_data(as_text=True)
    assert sorted(a.name for a in store(site).accounts()) == ["alex", "home"]


def test_remove_asks_first_then_removes_everything_of_the_account(admin, site, emulator):
    confirm = admin.get("/admin/accounts/1/remove")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Remove home?" in page and "with its 5 sources" in page
    assert store(site).accounts()  # asking changes nothing
    response = post(admin, "/admin/accounts/1/remove")
    assert response.status_code == 302
    assert store(site).accounts() == [] and store(site).sources() == [] and store(site).activity_count() == 0
    assert "Removed home" in admin.get("/").get_data(as_text=True)
    assert admin.get("/admin/accounts/1").status_code == 404
    assert_no_secret(emulator, confirm)


def test_account_page_shows_its_sources_and_actions(admin, emulator):
    response = admin.get("/admin/accounts/1")
    page = response.get_data(as_text=True)
    assert page.count('<tr id="source-') == 5 and page.count(">Poll now</button>") == 5
    for label in ('<label for="renew-url">New feeds-list URL</label>', '<label for="rename-name">Account name</label>', "Remove home…"):
        assert label in page
    assert_no_secret(emulator, response)


# sources ----------------------------------------------------------------------------------------------


def test_pause_and_resume(admin, site):
    source = store(site).sources()[0]
    paused = post(admin, f"/admin/sources/{source.id}/pause")
    assert paused.status_code == 302 and paused.headers["Location"] == f"/#source-{source.id}"
    assert store(site).source(source.id).state == "paused"
    assert source.id not in {s.id for s in store(site).due_sources(datetime(2100, 1, 1, tzinfo=timezone.utc))}
    page = admin.get("/").get_data(as_text=True)
    assert "is paused: it is not polled until resumed." in page and '<span class="badge off">paused</span>' in page
    assert post(admin, f"/admin/sources/{source.id}/pause").status_code == 409  # paused already
    resumed = post(admin, f"/admin/sources/{source.id}/resume", {"back": "account"})
    assert resumed.headers["Location"] == f"/admin/accounts/{source.account_id}#source-{source.id}"
    assert store(site).source(source.id).state == "active"
    assert post(admin, "/admin/sources/999/pause").status_code == 404


def test_poll_now_as_a_form(admin, site, emulator):
    source = store(site).sources()[0]
    emulator.advance(3600)
    response = post(admin, f"/admin/sources/{source.id}/poll")
    assert response.status_code == 302
    assert len(store(site).recent_polls(source.id)) == 2
    page = admin.get("/").get_data(as_text=True)
    assert re.search(r"home&#39;s Instant Queue: (ok|not modified) — ", page)


def test_poll_now_as_json_gives_the_result_and_the_new_row(admin, site, emulator):
    source = store(site).sources()[2]
    emulator.advance(7200)
    response = admin.post(f"/api/sources/{source.id}/poll", headers={"X-CSRF-Token": token(admin), "Accept": "application/json"})
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["poll"]["outcome"] in ("ok", "not_modified") and answer["poll"]["healthy"] is True
    assert answer["source"]["health"]["tone"] == "ok"
    assert answer["row"].startswith(f'<tr id="source-{source.id}"') and 'aria-label="Last 2 polls of home' in answer["row"]
    assert answer["summary"].endswith(" ms)")
    assert_no_secret(emulator, response)
    missing = admin.post("/api/sources/999/poll", headers={"X-CSRF-Token": token(admin)})
    assert missing.status_code == 404 and missing.get_json()["error"]["message"] == "no source with id 999"


# new tokens ----------------------------------------------------------------------------------------------


@pytest.fixture
def own_emulator():
    """An emulator of this test alone: revoking tokens cannot be undone."""
    emulated, server = start_emulator()
    yield emulated
    server.stop()


def test_revoked_account_gets_new_tokens_and_resumes_with_nothing_lost(tmp_path, own_emulator):
    emulator = own_emulator
    add_home(tmp_path, emulator)
    services = make_services(tmp_path, emulator)
    site = create_app(services=services)
    admin = site.test_client()
    login(admin)
    before_sources = {s.id: s.entry_count for s in store(site).sources()}
    before_ids = {a.id for _, a in store(site).activities(limit=500)}
    emulator.revoke(0)  # the person took back access: every old token is refused
    emulator.advance(1800)
    source = store(site).sources()[0]
    post(admin, f"/admin/sources/{source.id}/poll")
    assert {s.state for s in store(site).sources()} == {"needs_token"}
    page = admin.get("/").get_data(as_text=True)
    assert "home needs new tokens." in page and page.count('<span class="badge token">needs new tokens</span>') == 5
    assert "Give home a new feeds-list URL" in page
    assert post(admin, f"/admin/sources/{source.id}/resume").status_code == 409  # new tokens, not a resume

    wrong = post(admin, "/admin/accounts/1/renew", {"url": emulator.feeds_list_url(emulator.base_url, 1)})
    assert wrong.status_code == 400 and "belong to another account" in wrong.get_data(as_text=True)
    assert {s.state for s in store(site).sources()} == {"needs_token"}

    renewed = post(admin, "/admin/accounts/1/renew", {"url": emulator.feeds_list_url(emulator.base_url, 0)})
    assert renewed.status_code == 302
    sources = store(site).sources()
    assert {s.id: s.entry_count for s in sources} == before_sources  # same sources, entries kept
    assert {s.state for s in sources} == {"active"}
    page = admin.get("/").get_data(as_text=True)
    assert "home: 5 sources resumed with the new tokens" in page and page.count("data-autopoll") == 5
    reports = Poller(site.extensions["feedhub"]).poll_many(sources)
    assert all(r.outcome.healthy for r in reports)
    after_ids = {a.id for _, a in store(site).activities(limit=500)}
    assert before_ids <= after_ids  # nothing lost, nothing renumbered
    assert_no_secret(emulator, wrong, renewed)
    services.close()


# secrets ---------------------------------------------------------------------------------------------

PAGES = ["/", "/timeline", "/timeline?kind=ratings&q=the", "/timeline?page=2", "/login", "/no-such-page", "/admin/add", "/admin/accounts/1", "/admin/accounts/1/remove"]


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "admin"])
def test_no_page_holds_a_source_secret(client, emulator, logged_in):
    emulator.add_fault(path="ratings", status=500, times=1)  # an error message on a page too
    if logged_in:
        login(client)
        post(client, "/admin/sources/5/poll")
    responses = [client.get(path) for path in PAGES]
    assert [r.status_code for r in responses][:5] == ([200] * 5 if logged_in else [200, 302, 302, 302, 200])
    assert_no_secret(emulator, *responses)
