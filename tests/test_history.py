"""The history the source forgets, end to end against the emulator over loopback:
backfill through paging, increments, the archive, retention, and every change as one
activity whose id never changes, as the republished Atom feed shows it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from html import escape
from time import perf_counter

import pytest
from click.testing import CliRunner
from flask import Flask, Response
from lxml import etree
from sqlalchemy import func, select

from feedhub.cli import main
from feedhub.config import ConfigError, load_settings
from feedhub.emulator import create_emulator_app
from feedhub.emulator.script import ScriptedEvent
from feedhub.emulator.server import serve_in_thread
from feedhub.models import Kind
from feedhub.normalize import normalize, title_key
from feedhub.parse import parse_feed
from feedhub.poll import PAGE_SIZE
from feedhub.publish.structured import NAMESPACE
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.storage.schema import activities, entries
from feedhub.subscribe import add_url
from feedhub.web import create_app

START = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
ATOM = "http://www.w3.org/2005/Atom"


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


# --- helpers ---------------------------------------------------------------------------


@pytest.fixture
def emulated():
    """An emulator factory: each one served on loopback with its clock fixed at START."""
    servers = []

    def make(**options):
        app = create_emulator_app(seed=7, start=START, **options)
        emulator = app.extensions["emulator"]
        emulator.clock.set(START)
        server = serve_in_thread(app)
        servers.append(server)
        emulator.base_url = server.url
        return emulator

    yield make
    for server in servers:
        server.stop()


def open_services(settings, emulator):
    """Services whose clock is the emulator's, so that what feedhub dates by its own
    clock (moves, removals) falls in step with the script."""
    services = build_services(settings)
    services.now = emulator.clock.now
    return services


def add(services, emulator, index: int, name: str):
    url = emulator.feeds_list_url(emulator.base_url, index)
    return add_url(services.store, services.fetcher, url, name, services.settings.poll_interval, services.now())


def poll(services, kinds: set[Kind] | None = None, on_page=None):
    poller = Poller(services, on_page=on_page)
    try:
        todo = [s for s in services.store.sources() if s.state == "active" and (kinds is None or s.kind in kinds)]
        reports = poller.poll_many(todo)
    finally:
        poller.close()
    assert all(r.outcome.healthy for r in reports), [r.message for r in reports]
    return reports


def atom(services, **query) -> bytes:
    """The republished ``all`` channel, read through the web app as a reader does."""
    token = services.store.channel("all").token
    response = create_app(services=services).test_client().get("/feeds/all.atom", query_string={"token": token, **query})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data


def entries_of(feed: bytes) -> list[tuple[str, str]]:
    """(id, title) of every entry, in feed order."""
    root = etree.fromstring(feed)
    return [(e.findtext(f"{{{ATOM}}}id"), e.findtext(f"{{{ATOM}}}title")) for e in root.iter(f"{{{ATOM}}}entry")]


def count(services, table, *where) -> int:
    with services.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def fresh_movies(emulator, index: int, n: int):
    """``n`` available movies that user ``index`` has nothing to do with yet."""
    state = emulator.state(index)
    used = {item.title.id for items in (state.queue, state.watched, state.ratings, state.recommendations) for item in items}
    found = [t for t in emulator.catalog.titles if t.is_movie and t.available and t.id not in used]
    return found[:n]


# --- the scripted sequence -------------------------------------------------------------


def test_every_change_is_one_activity_with_an_id_that_never_changes(emulated, settings):
    # Sixty days of simulated history, then nothing but the script (no live activity).
    emulator = emulated(users=1, pace_seconds=1e9)
    a, b, c, d, e, f = fresh_movies(emulator, 0, 6)
    before = emulator.state(0)
    assert len(before.recommendations) < 50  # so recommending F pushes nothing out
    queue_length = len(before.queue) - sum(item.position is None for item in before.queue)
    steps = [
        ScriptedEvent(at(1), "queue_add", a.id),
        ScriptedEvent(at(2), "queue_add", b.id),
        ScriptedEvent(at(3), "queue_move", b.id, position=1),
        ScriptedEvent(at(4), "queue_remove", a.id),
        ScriptedEvent(at(5), "rate", c.id, rating=3),
        ScriptedEvent(at(6), "rate", c.id, rating=5),
        ScriptedEvent(at(7), "rate", d.id, rating="not_interested"),
        ScriptedEvent(at(8), "watch", e.id),
        ScriptedEvent(at(24 + 8), "watch", e.id),  # the next day
        ScriptedEvent(at(24 + 9), "recommend", f.id, predicted=3.0),
        ScriptedEvent(at(24 + 10), "predict", f.id, predicted=4.5),
    ]
    emulator.script(0, steps)

    services = open_services(settings, emulator)
    try:
        add(services, emulator, 0, "home")
        poll(services)  # the backfill: history dated by the source's own times, none of it "now"
        history = entries_of(atom(services, limit=500))
        assert history and not entries_of(atom(services, since="2026-01-15T12:00:00Z"))
        for step in steps:
            emulator.clock.set(step.at)
            poll(services)
        feed = atom(services, since="2026-01-15T12:00:00Z", limit=500)
    finally:
        services.close()

    n = queue_length
    expected = [
        f"{f.name} ({f.year}): predicted rating for home changed from 3.0 to 4.5 ★★★★★",
        f"{f.name} ({f.year}) recommended for home (predicted ★★★☆☆)",
        f"home watched {e.name} ({e.year})",
        f"home watched {e.name} ({e.year})",
        f"home marked {d.name} ({d.year}) as not interested",
        f"home re-rated {c.name} ({c.year}) from ★★★☆☆ to ★★★★★",
        f"home rated {c.name} ({c.year}) ★★★☆☆",
        f"home removed {a.name} ({a.year}) from the queue",
        f"home moved {b.name} ({b.year}) from #{n + 2} to #1 in the queue",
        f"home added {b.name} ({b.year}) to the queue at #{n + 2}",
        f"home added {a.name} ({a.year}) to the queue at #{n + 1}",
    ]
    got = entries_of(feed)
    assert [title for _, title in got] == expected
    assert len({id_ for id_, _ in got}) == len(expected)  # each once, E's two viewings apart
    root = etree.fromstring(feed)
    published = [e.findtext(f"{{{ATOM}}}published") for e in root.iter(f"{{{ATOM}}}entry")]
    assert published == [
        "2026-01-16T22:00:00Z", "2026-01-16T21:00:00Z", "2026-01-16T20:00:00Z", "2026-01-15T20:00:00Z",
        "2026-01-15T19:00:00Z", "2026-01-15T18:00:00Z", "2026-01-15T17:00:00Z", "2026-01-15T16:00:00Z",
        "2026-01-15T15:00:00Z", "2026-01-15T14:00:00Z", "2026-01-15T13:00:00Z",
    ]
    # The structured data beside the words (docs/activity-data.md).
    data = [e.find(f"{{{NAMESPACE}}}activity") for e in root.iter(f"{{{ATOM}}}entry")]
    assert [x.findtext(f"{{{NAMESPACE}}}verb") for x in data] == [
        "prediction_changed", "recommended", "watched", "watched", "not_interested", "rerated", "rated",
        "unqueued", "moved", "queued", "queued",
    ]
    assert (data[0].findtext(f"{{{NAMESPACE}}}rating"), data[0].findtext(f"{{{NAMESPACE}}}previous_rating")) == ("4.5", "3")
    assert (data[8].findtext(f"{{{NAMESPACE}}}position"), data[8].findtext(f"{{{NAMESPACE}}}previous_position")) == ("1", str(n + 2))
    assert data[4].find(f"{{{NAMESPACE}}}rating") is None  # "not interested" is no rating

    # Re-polling, later, changes nothing: same bytes.
    emulator.clock.set(at(24 + 12))
    services = open_services(settings, emulator)
    try:
        poll(services)
        assert atom(services, since="2026-01-15T12:00:00Z", limit=500) == feed
    finally:
        services.close()
    # A restart (new services and app on the same data) serves the same bytes.
    services = open_services(settings, emulator)
    try:
        assert atom(services, since="2026-01-15T12:00:00Z", limit=500) == feed
        everything = entries_of(atom(services, limit=500))
        # Removing and re-adding the source: what the source still shows comes back
        # under the ids it had, and nothing comes twice.
        services.store.remove_account("home")
        add(services, emulator, 0, "home")
        poll(services)
        again = entries_of(atom(services, limit=500))
        recent = entries_of(atom(services, since="2026-01-15T12:00:00Z", limit=500))
    finally:
        services.close()
    assert {id_ for id_, _ in again} <= {id_ for id_, _ in everything}
    assert len(again) == len({id_ for id_, _ in again})
    # Moves, removals, the first viewing (the feed shows the latest only), the first
    # rating and the prediction's change were seen between snapshots: they do not come
    # back. C's rating of 5 comes back as "rated", under the id of the re-rating.
    by_id = dict(got)
    assert [by_id[id_] for id_, _ in recent] == [expected[1], expected[2], expected[4], expected[5], expected[9]]
    assert [title for _, title in recent][3] == f"home rated {c.name} ({c.year}) ★★★★★"


def test_queue_and_recent_additions_are_one_activity_and_a_title_can_come_back(emulated, settings):
    emulator = emulated(users=1, simulated=False)
    (a,) = fresh_movies(emulator, 0, 1)
    emulator.script(0, [
        ScriptedEvent(at(1), "queue_add", a.id),
        ScriptedEvent(at(2), "queue_remove", a.id),
        ScriptedEvent(at(3), "queue_add", a.id),
        ScriptedEvent(at(4), "queue_remove", a.id),
    ])
    services = open_services(settings, emulator)
    try:
        add(services, emulator, 0, "home")
        for hour in (0, 1, 2, 3, 4):
            emulator.clock.set(at(hour))
            reports = poll(services)
        titles = [title for _, title in entries_of(atom(services))]
        queue = next(s for s in services.store.sources() if s.kind is Kind.QUEUE)
        assert count(services, entries, entries.c.source_id == queue.id) == 1  # one title, archived
    finally:
        services.close()
    # Both feeds saw each addition; each is one activity. The second removal is seen
    # too: the title came back to the list, so its leaving again is noticed.
    assert titles == [
        f"home removed {a.name} ({a.year}) from the queue",
        f"home added {a.name} ({a.year}) to the queue at #1",
        f"home removed {a.name} ({a.year}) from the queue",
        f"home added {a.name} ({a.year}) to the queue at #1",
    ]
    assert sum(r.new_activities for r in reports) == 1


# --- backfill and increments -----------------------------------------------------------


def test_a_watched_history_of_2000_titles_backfills_through_paging_then_polls_increments(emulated, settings):
    emulator = emulated(users=1, history_watched=2000, simulated=False)
    assert len(emulator.state(0).watched) == 2000
    services = open_services(settings, emulator)
    requested: list[str] = []
    fetch = services.fetcher.fetch
    services.fetcher.fetch = lambda url, *args, **kw: (requested.append(url), fetch(url, *args, **kw))[1]
    pages: list[tuple[int, int | None]] = []
    try:
        add(services, emulator, 0, "home")
        requested.clear()  # the feeds list
        started = perf_counter()
        (report,) = poll(services, {Kind.WATCHED}, on_page=lambda source, read, total: pages.append((read, total)))
        elapsed = perf_counter() - started
        print(f"\nbackfill of 2,000 watched titles: {elapsed:.2f} s, {len(pages)} pages")  # measured, not asserted
        watched = next(s for s in services.store.sources() if s.kind is Kind.WATCHED)
        assert pages == [(500, 2000), (1000, 2000), (1500, 2000), (2000, 2000)]
        assert [u.count("start_index=") for u in requested] == [1, 1, 1, 1]
        assert [u.split("start_index=")[1].split("&")[0] for u in requested] == ["0", "500", "1000", "1500"]
        assert all(f"max_results={PAGE_SIZE}" in u and "updated_min" not in u for u in requested)
        assert watched.entry_count == 2000 and report.new_entries == 2000
        assert report.new_activities == 2000 == count(services, activities)
        # The newest of the history is where increments start.
        assert watched.updated_min == max(item.watched_at for item in emulator.state(0).watched)

        # Nothing new: the source answers 304.
        requested.clear()
        emulator.clock.set(at(1))
        (again,) = poll(services, {Kind.WATCHED})
        assert again.outcome.value == "not_modified" and len(requested) == 1
        assert "updated_min=" in requested[0]

        # One more viewing: one page of what is new, one activity.
        (title,) = fresh_movies(emulator, 0, 1)
        emulator.script(0, [ScriptedEvent(at(2), "watch", title.id)])
        emulator.clock.set(at(3))
        requested.clear()
        (increment,) = poll(services, {Kind.WATCHED})
        assert len(requested) == 1 and "updated_min=" in requested[0]
        assert increment.new_activities == 1 and increment.new_entries == 1
        assert "updated since" in increment.message
        assert count(services, entries) == 2001
        assert services.store.source(watched.id).updated_min == at(2)
    finally:
        services.close()


def test_feedhub_poll_shows_backfill_progress(emulated, tmp_path):
    emulator = emulated(users=1, history_watched=600, simulated=False)
    env = {"FEEDHUB_DATA_DIR": str(tmp_path), "FEEDHUB_ALLOW_PRIVATE_NETWORKS": "on"}
    runner = CliRunner()
    added = runner.invoke(main, ["add", emulator.feeds_list_url(emulator.base_url, 0)], env=env, catch_exceptions=False)
    assert added.exit_code == 0, added.output
    result = runner.invoke(main, ["poll", "--all"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    progress = [line.strip() for line in result.stderr.splitlines()]
    assert [line.split(": ", 1)[1] for line in progress] == [
        "backfill, 500 of 600 entries read",
        "backfill, 600 of 600 entries read",
    ]
    assert "/watched #" in progress[0]
    assert emulator.users[0].tokens.watched not in result.output and "600 new activities" in result.stdout


# --- the archive -----------------------------------------------------------------------


def _diary_app(window: list[int]) -> Flask:
    """A generic watched feed (a diary on another site) showing the entries ``window``
    names, newest first; the test changes ``window`` to shrink it."""
    app = Flask("diary")

    @app.get("/diary/rental_history/watched.atom")
    def diary() -> Response:
        items = "".join(
            f"<entry><id>urn:diary:{n}</id><title>Film {n}</title>"
            f"<link href='https://films.example/{n}'/><updated>2026-01-{1 + n // 24:02d}T{n % 24:02d}:00:00Z</updated></entry>"
            for n in sorted(window, reverse=True)
        )
        body = (
            "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            "<id>urn:diary</id><title>Diary</title><updated>2026-01-15T00:00:00Z</updated>"
            f"<author><name>me</name></author>{items}</feed>"
        )
        return Response(body, content_type="application/atom+xml")

    return app


def test_a_source_whose_window_shrinks_loses_nothing(settings):
    window = list(range(1, 31))
    server = serve_in_thread(_diary_app(window))
    services = build_services(settings)
    try:
        added = add_url(services.store, services.fetcher, server.url + "diary/rental_history/watched.atom", "diary", 60, services.now())
        assert [s.kind for s in added.sources] == [Kind.WATCHED]
        poll(services)
        first = entries_of(atom(services, limit=500))
        window[:] = range(26, 31)  # the source now shows only its five newest
        poll(services)
        window[:] = range(26, 32)  # and then one more
        poll(services)
        after = entries_of(atom(services, limit=500))
        assert services.store.sources()[0].entry_count == 31
    finally:
        services.close()
        server.stop()
    assert len(first) == 30 and after[1:] == first
    assert after[0][1] == "diary watched Film 31"


# --- retention -------------------------------------------------------------------------


def retaining(tmp_path, emulator, **retention):
    settings = load_settings({"data_dir": tmp_path, "allow_private_networks": True, **retention}, environ={})
    return open_services(settings, emulator)


def test_retention_by_count_prunes_history_but_never_what_a_list_shows(emulated, tmp_path):
    emulator = emulated(users=1, simulated=False)
    queued, watched = fresh_movies(emulator, 0, 3), fresh_movies(emulator, 0, 9)[3:]
    script = [ScriptedEvent(at(1 + i), "queue_add", t.id) for i, t in enumerate(queued)]
    script += [ScriptedEvent(at(4 + i), "watch", t.id) for i, t in enumerate(watched[:4])]
    script += [ScriptedEvent(at(9 + i), "watch", t.id) for i, t in enumerate(watched[4:])]
    emulator.script(0, script)
    services = retaining(tmp_path, emulator, retention_entries=2)
    try:
        add(services, emulator, 0, "home")
        for hour in (8, 11):
            emulator.clock.set(at(hour))
            poll(services)
        by_kind = {s.kind: s for s in services.store.sources()}
        # The queue lists three titles: more than two, all kept.
        assert count(services, entries, entries.c.source_id == by_kind[Kind.QUEUE].id) == 3
        # Watched: the increment's three (the newest of the backfill and two new ones)
        # and the two most recent of the rest; the oldest viewing is gone.
        kept = {entry.title.name for _, entry in services.store.listed_entries(Kind.WATCHED)}
        assert kept == {t.name for t in watched[1:]}
        titles = [title for _, title in entries_of(atom(services))]
    finally:
        services.close()
    assert titles == [f"home watched {t.name} ({t.year})" for t in reversed(watched[4:])]


def test_retention_by_age_keeps_the_present_list(emulated, tmp_path):
    emulator = emulated(users=1, simulated=False)
    kept, dropped, later = fresh_movies(emulator, 0, 3)
    emulator.script(0, [
        ScriptedEvent(at(1), "queue_add", kept.id),
        ScriptedEvent(at(1), "queue_add", dropped.id),
        ScriptedEvent(at(2), "queue_remove", dropped.id),
        ScriptedEvent(at(24 * 5), "queue_add", later.id),
    ])
    services = retaining(tmp_path, emulator, retention_days=2)
    try:
        add(services, emulator, 0, "home")
        for hour in (1, 2):
            emulator.clock.set(at(hour))
            poll(services, {Kind.QUEUE})
        assert count(services, entries) == 2 and count(services, activities) == 3
        emulator.clock.set(at(24 * 4))  # nothing new: 304, yet old activities go
        (report,) = poll(services, {Kind.QUEUE})
        assert report.outcome.value == "not_modified"
        assert count(services, activities) == 0 and count(services, entries) == 2
        emulator.clock.set(at(24 * 5))  # the list changes: the title that left long ago goes
        poll(services, {Kind.QUEUE})
        names = {entry.title.name for _, entry in services.store.listed_entries(Kind.QUEUE)}
        assert names == {kept.name, later.name} and count(services, entries) == 2
        titles = [title for _, title in entries_of(atom(services))]
    finally:
        services.close()
    assert titles == [f"home added {later.name} ({later.year}) to the queue at #2"]


def test_retention_is_off_by_default(settings):
    assert (settings.retention_days, settings.retention_entries) == (0, 0)
    services = build_services(settings)
    try:
        assert not services.store.retention.enabled
    finally:
        services.close()


@pytest.mark.parametrize("name", ["retention_days", "retention_entries"])
@pytest.mark.parametrize("value", ["-1", "many"])
def test_retention_settings_refuse_bad_values(tmp_path, name: str, value: str):
    with pytest.raises(ConfigError, match=f"FEEDHUB_{name.upper()}"):
        load_settings({"data_dir": tmp_path, name: value}, environ={})


# --- one title is one title ------------------------------------------------------------


def test_two_accounts_watching_the_same_title_are_one_title(emulated, settings):
    emulator = emulated(users=2, simulated=False)
    (title,) = fresh_movies(emulator, 0, 1)
    emulator.script(0, [ScriptedEvent(at(1), "watch", title.id)])
    emulator.script(1, [ScriptedEvent(at(2), "watch", title.id)])
    emulator.clock.set(at(3))
    services = open_services(settings, emulator)
    try:
        add(services, emulator, 0, "home")
        add(services, emulator, 1, "alex")
        poll(services)
        titles = [title for _, title in entries_of(atom(services))]
        keys = {a.title.key for _, a in services.store.activities(limit=10)}
    finally:
        services.close()
    assert titles == [
        f"alex watched {title.name} ({title.year}) (also watched by home)",
        f"home watched {title.name} ({title.year}) (also watched by alex)",
    ]
    assert keys == {f"catalog:{title.id}"}


def _one_title_three_ways(base: str, title) -> dict[str, bytes]:
    """The same title as the emulator's Atom gives it (catalog link), as an RSS view
    of it would (its title page only) and as JSON Feed (its title page only)."""
    page = f"{base}{title.web_path}"
    return {
        "atom": (
            "<feed xmlns='http://www.w3.org/2005/Atom'><id>urn:x</id><title>Watched</title>"
            "<updated>2026-01-15T00:00:00Z</updated><author><name>x</name></author>"
            f"<entry><id>urn:x:1</id><title>{escape(title.name)}</title><updated>2026-01-15T00:00:00Z</updated>"
            f"<link rel='alternate' href='{page}'/>"
            f"<link rel='http://schemas.netflix.com/id' href='{base}{title.catalog_path}'/></entry></feed>"
        ).encode(),
        "rss": (
            "<rss version='2.0'><channel><title>Watched</title><link>http://x/</link><description>x</description>"
            f"<item><guid>urn:x:1</guid><title>{escape(title.name)}</title><link>{page}</link></item></channel></rss>"
        ).encode(),
        "json": json.dumps({
            "version": "https://jsonfeed.org/version/1.1", "title": "Watched",
            "items": [{"id": "urn:x:1", "title": title.name, "url": page}],
        }).encode(),
    }


def test_one_title_through_every_format_is_one_title(emulated):
    emulator = emulated(users=1, simulated=False)
    season = next(t for t in emulator.catalog.titles if t.is_season)
    movie = fresh_movies(emulator, 0, 1)[0]
    for title in (movie, season):
        keys = {
            fmt: normalize(parse_feed(body), Kind.WATCHED)[0].title.key
            for fmt, body in _one_title_three_ways(emulator.base_url, title).items()
        }
        assert keys == {"atom": f"catalog:{title.id}", "rss": f"catalog:{title.id}", "json": f"catalog:{title.id}"}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param((None, "https://films.example/heat", "Heat", 1995), (None, "https://films.example/heat", "HEAT", None), id="same-link"),
        pytest.param((None, None, "Crème Brûlée", 2001), (None, None, "creme  brulee!", 2001), id="name-and-year"),
    ],
)
def test_title_identity_without_a_catalog_id(first, second):
    assert title_key(*first) == title_key(*second)


def test_titles_that_differ_are_different():
    assert title_key(None, None, "Heat", 1995) != title_key(None, None, "Heat", 1986)
    assert title_key(None, "https://films.example/heat", "Heat", 1995) != title_key(None, None, "Heat", 1995)
