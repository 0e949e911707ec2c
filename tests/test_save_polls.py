"""Storing polls (``Store.save_polls``): a batch is written as if each write were
committed alone, in order, and the poll log keeps the newest polls of each source."""
from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta

from feedhub.models import Entry, Kind
from feedhub.storage import store as store_module
from feedhub.storage.rows import NewSource
from feedhub.storage.store import PAUSED_FOR_TOKENS
from tests.test_web import BRAVEHEART, T0, poll


def _two_sources(store):
    feeds = [f"https://feeds.example/{n}.atom" for n in range(2)]
    _, made = store.add_account("a", "k:a", None, [NewSource(f, f, f, Kind.OTHER) for f in feeds], 60, T0)
    return made


# The sources' updates of a batch are written together; what a later write does to
# the same sources must still come after them.


def test_a_pause_later_in_the_batch_pauses_a_source_updated_before_it(services):
    store = services.store
    one, other = _two_sources(store)
    fine = poll(one.id, one.account_id, (), at=T0, error_count=0, next_due_at=T0 + timedelta(minutes=1))
    refused = dataclasses.replace(
        poll(other.id, other.account_id, (), outcome="token_rejected", message="refused", at=T0, state="needs_token"),
        pause_account=True,
    )
    store.save_polls([fine, refused])
    after = {s.id: s for s in store.sources()}
    assert (after[one.id].state, after[one.id].last_message) == ("needs_token", PAUSED_FOR_TOKENS)
    assert (after[one.id].last_outcome, after[one.id].next_due_at) == ("ok", T0 + timedelta(minutes=1))
    assert (after[other.id].state, after[other.id].last_message) == ("needs_token", "refused")


def test_a_move_is_not_undone_by_its_own_update(services):
    store = services.store
    one, other = _two_sources(store)
    target = "https://feeds.example/moved.atom"
    moved = dataclasses.replace(poll(one.id, one.account_id, (), at=T0, moved_to=target, moved_count=2), moved_url=target)
    store.save_polls([moved, poll(other.id, other.account_id, (), at=T0)])
    source = store.source(one.id)
    assert (source.url, source.moved_to, source.moved_count) == (target, None, 0)


# What a poll compares its snapshot with: the stored entries of the keys it saw.


def test_the_stored_entries_are_found_among_any_number_of_keys(services):
    store = services.store
    one, other = _two_sources(store)
    stored = {f"urn:e:{n}": Entry(f"urn:e:{n}", Kind.OTHER, BRAVEHEART, T0 + timedelta(hours=n)) for n in range(600)}
    first = dataclasses.replace(poll(one.id, one.account_id, (), at=T0, last_success_at=T0), new_entries=tuple(stored.items()))
    # The other source's entries, under the same keys, are not this one's.
    theirs = {"urn:e:1": dataclasses.replace(stored["urn:e:1"], summary="theirs")}
    store.save_polls([first, dataclasses.replace(poll(other.id, other.account_id, (), at=T0, last_success_at=T0), new_entries=tuple(theirs.items()))])
    source = store.source(one.id)
    # Counts that the lookup pads (3 to 4), that it takes as they are (1, 256), and
    # that it splits (1,200 keys: more than SQLite's bound parameters allow at once).
    for asked in (["urn:e:7"], ["urn:e:1", "urn:e:2", "urn:none"], [f"urn:e:{n}" for n in range(256)], [f"urn:e:{n}" for n in range(-600, 600)], []):
        assert store.previous_entries(source, asked) == {key: stored[key] for key in asked if key in stored}
    assert store.previous_entries(store.source(other.id), ["urn:e:1", "urn:e:2"]) == theirs


# The poll log: the oldest polls make room, however the polls are batched, and the
# count kept with each source stays true.


def _logged(settings, source_id: int) -> tuple[int, int]:
    """(the count kept with the source, the rows of its log)."""
    with sqlite3.connect(settings.data_dir / "feedhub.db") as db:
        kept = db.execute("SELECT poll_count FROM sources WHERE id = ?", (source_id,)).fetchone()[0]
        rows = db.execute("SELECT count(*) FROM polls WHERE source_id = ?", (source_id,)).fetchone()[0]
    return kept, rows


def test_each_source_keeps_its_newest_polls(services, settings, monkeypatch):
    monkeypatch.setattr(store_module, "POLL_LOG_SIZE", 3)
    store = services.store
    one, other = _two_sources(store)
    at = [T0 + timedelta(minutes=m) for m in range(8)]
    store.save_poll(poll(one.id, one.account_id, (), at=at[0]))
    store.save_polls([poll(one.id, one.account_id, (), at=at[1]), poll(other.id, other.account_id, (), at=at[1])])
    # Two polls of one source in one batch, and the log full before it.
    store.save_polls([poll(one.id, one.account_id, (), at=at[2]), poll(one.id, one.account_id, (), at=at[3])])
    assert [p.started_at for p in store.recent_polls(one.id)] == [at[3], at[2], at[1]]
    assert _logged(settings, one.id) == (3, 3)
    # More polls of one source in one batch than the log keeps.
    store.save_polls([poll(one.id, one.account_id, (), at=when) for when in at[4:8]])
    assert [p.started_at for p in store.recent_polls(one.id)] == [at[7], at[6], at[5]]
    assert _logged(settings, one.id) == (3, 3)
    assert [p.started_at for p in store.recent_polls(other.id)] == [at[1]]
    assert _logged(settings, other.id) == (1, 1)
