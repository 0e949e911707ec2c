"""The whole pipeline against the real emulator over loopback."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from feedhub.fetch import Outcome
from feedhub.models import Kind, Verb
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.storage.schema import activities, entries, polls
from feedhub.subscribe import add_url

ALL_KINDS = {Kind.QUEUE, Kind.QUEUE_RECENT, Kind.WATCHED, Kind.RATINGS, Kind.RECOMMENDATIONS}


def _add(services, emulator, index, name, output="xml"):
    url = emulator.feeds_list_url(emulator.base_url, index, output=output)
    return add_url(services.store, services.fetcher, url, name, services.settings.poll_interval, services.now())


def _poll_all(services):
    poller = Poller(services)
    try:
        return poller.poll_many([s for s in services.store.sources() if s.state == "active"])
    finally:
        poller.close()


def _count(services, table):
    with services.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.parametrize("output", ["xml", "opml"])
def test_feeds_list_in_both_forms_gives_five_sources(services, emulator, output):
    added = _add(services, emulator, 0, "home", output)
    assert {s.kind for s in added.sources} == ALL_KINDS
    assert added.account.key.startswith("netflix:")
    assert all("REDACTED" in s.url_display for s in added.sources)


def test_polling_stores_all_kinds_then_304s_write_nothing_then_new_activity_once(services, emulator):
    _add(services, emulator, 0, "home")
    _add(services, emulator, 1, "alex", "opml")

    first = _poll_all(services)
    assert len(first) == 10 and all(r.outcome is Outcome.OK for r in first), [r.message for r in first]
    per_kind = Counter()
    for source in services.store.sources():
        per_kind[source.kind] += source.entry_count
    assert all(per_kind[k] > 0 for k in ALL_KINDS), per_kind
    # The queue is longer than the API's default window of 25: paging got all of it.
    queue = next(s for s in services.store.sources() if s.kind is Kind.QUEUE)
    assert queue.entry_count > 25
    activities_after_first = _count(services, activities)
    entries_after_first = _count(services, entries)
    assert activities_after_first > 0

    second = _poll_all(services)
    assert all(r.outcome is Outcome.NOT_MODIFIED for r in second)
    assert _count(services, activities) == activities_after_first
    assert _count(services, entries) == entries_after_first

    emulator.clock.advance(15 * 60)
    third = _poll_all(services)
    assert sum(r.outcome is Outcome.OK for r in third) > 0
    new = _count(services, activities) - activities_after_first
    assert new > 0 and new == sum(r.new_activities for r in third)

    fourth = _poll_all(services)
    assert sum(r.new_activities for r in fourth) == 0
    assert _count(services, activities) == activities_after_first + new
    assert _count(services, polls) == 40


def test_queue_and_recent_additions_make_one_activity_per_addition(services, emulator):
    _add(services, emulator, 0, "home")
    _poll_all(services)
    emulator.clock.advance(60 * 60)
    _poll_all(services)
    queued = [a for _, a in services.store.activities(verbs=frozenset({Verb.QUEUED}), limit=500) if a.verb.value == "queued"]
    keys = Counter((a.title.key, a.occurred_at) for a in queued)
    assert queued and max(keys.values()) == 1


def test_activity_ids_survive_a_restart_and_re_adding(settings, emulator):
    first = build_services(settings)
    try:
        _add(first, emulator, 2, "sam")
        _poll_all(first)
        ids = {a.id for _, a in first.store.activities(limit=500)}
        first.store.remove_account("sam")
        assert first.store.activities(limit=500) == []
    finally:
        first.close()
    again = build_services(settings)
    try:
        _add(again, emulator, 2, "sam")
        _poll_all(again)
        assert {a.id for _, a in again.store.activities(limit=500)} == ids
    finally:
        again.close()


def test_republished_ids_and_bytes_are_the_same_after_a_restart(settings, emulator):
    from feedhub.web import create_app

    first = build_services(settings)
    try:
        _add(first, emulator, 0, "home")
        _poll_all(first)
        token = first.store.channel("all").token  # channels are private; the token is kept too
        before = {fmt: create_app(services=first).test_client().get(f"/feeds/all.{fmt}?limit=500&token={token}") for fmt in ("rss", "atom", "json")}
    finally:
        first.close()
    again = build_services(settings)
    try:
        for fmt, old in before.items():
            new = create_app(services=again).test_client().get(f"/feeds/all.{fmt}?limit=500&token={token}")
            assert new.status_code == 200 and new.data == old.data
            assert new.headers["ETag"] == old.headers["ETag"]
    finally:
        again.close()
