"""Unit tests of feedhub.decide: snapshots in, entry changes and activities out."""
from __future__ import annotations

import hashlib
import json
import random
import re
from datetime import datetime, timedelta, timezone

import pytest

from feedhub.decide import Decision, activity_id, decide, entry_key
from feedhub.models import Activity, Entry, Kind, Snapshot, Title, Verb

ACCOUNT = "acct-1"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
NOW_ISO = "2026-03-01T12:00:00Z"
DAY1 = datetime(2026, 1, 10, 20, 30, 15, tzinfo=timezone.utc)
DAY2 = datetime(2026, 1, 11, 21, 0, 0, tzinfo=timezone.utc)
TAG = re.compile(r"tag:feedhub,2026:activity:[0-9a-f]{32}")


def title(n: int | str) -> Title:
    return Title(key=f"catalog:movies/{n}", name=f"Movie {n}")


def entry(kind: Kind, n: int | str, **fields) -> Entry:
    fields.setdefault("entry_id", f"http://api.example/entries/{n}")
    return Entry(kind=kind, title=title(n), **fields)


def queue(*titles: str, dated: bool = False) -> tuple[Entry, ...]:
    """A queue in order; with ``dated`` each title's date added depends on its name only."""
    return tuple(
        entry(Kind.QUEUE, t, position=i, updated=_added(t) if dated else None)
        for i, t in enumerate(titles, start=1)
    )


def _added(name: str) -> datetime:
    return datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(days=sum(map(ord, name)))


def state(entries: tuple[Entry, ...]) -> dict[str, Entry]:
    return {entry_key(e): e for e in entries}


def run(kind: Kind, entries, previous=None, complete=True, now=NOW, account=ACCOUNT) -> Decision:
    snap = Snapshot(kind=kind, entries=tuple(entries), complete=complete)
    return decide(account, snap, previous, now)


def verbs(decision: Decision) -> list[tuple[Verb, str]]:
    return sorted((a.verb, a.title.name.removeprefix("Movie ")) for a in decision.activities)


def moves(decision: Decision) -> dict[str, tuple[int | None, int | None]]:
    return {
        a.title.name.removeprefix("Movie "): (a.previous_position, a.position)
        for a in decision.activities
        if a.verb is Verb.MOVED
    }


# ---------------------------------------------------------------- entry_key


@pytest.mark.parametrize(
    ("e", "expected"),
    [
        pytest.param(entry(Kind.QUEUE, 1, position=3), "catalog:movies/1", id="queue"),
        pytest.param(entry(Kind.QUEUE_RECENT, 1, updated=DAY1), "catalog:movies/1", id="queue_recent"),
        pytest.param(entry(Kind.RATINGS, 1, user_rating=4), "catalog:movies/1", id="ratings"),
        pytest.param(entry(Kind.RECOMMENDATIONS, 1), "catalog:movies/1", id="recommendations"),
        pytest.param(
            entry(Kind.WATCHED, 1, watched_at=DAY1, updated=DAY2),
            "catalog:movies/1@2026-01-10T20:30:15Z",
            id="watched-prefers-watched_at",
        ),
        pytest.param(
            entry(Kind.WATCHED, 1, updated=DAY2), "catalog:movies/1@2026-01-11T21:00:00Z", id="watched-updated"
        ),
        pytest.param(entry(Kind.WATCHED, 1), "catalog:movies/1@undated", id="watched-undated"),
        pytest.param(
            entry(Kind.WATCHED, 1, watched_at=datetime(2026, 1, 10, 22, 30, 15, 999, timezone(timedelta(hours=2)))),
            "catalog:movies/1@2026-01-10T20:30:15Z",
            id="watched-utc-seconds",
        ),
        pytest.param(entry(Kind.OTHER, 1, entry_id="urn:x:7"), "urn:x:7", id="other-entry-id"),
    ],
)
def test_entry_key(e: Entry, expected: str) -> None:
    assert entry_key(e) == expected


def test_entry_key_tells_two_viewings_apart_despite_one_entry_id() -> None:
    first = entry(Kind.WATCHED, 1, entry_id="same", watched_at=DAY1)
    second = entry(Kind.WATCHED, 1, entry_id="same", watched_at=DAY2)
    assert entry_key(first) != entry_key(second)


# ---------------------------------------------------------------- activity_id

BASE_ID_ARGS = (ACCOUNT, Verb.WATCHED, "catalog:movies/1", "", "2026-01-02T03:04:05Z")


def test_activity_id_is_a_tag_uri_and_pinned() -> None:
    # Pinned: published ids must never change (SPEC §6), so neither may the encoding.
    assert activity_id(*BASE_ID_ARGS) == "tag:feedhub,2026:activity:226d1f5ddab30e97cc4f529361e830fb"
    assert TAG.fullmatch(activity_id(*BASE_ID_ARGS))


@pytest.mark.parametrize(
    "text",
    ["Amélie ★ 😀", 'a "quoted" \\ back\\slash', "tab\tnew\nline\x00\x1f", "line\u2028sep\u2029", "café".encode().decode("latin-1")],
    ids=["non-ascii", "quotes-backslashes", "control", "line-separators", "mojibake"],
)
def test_activity_id_hashes_the_json_list_of_its_arguments(text: str) -> None:
    # The encoding is written out for speed; it must stay what json.dumps writes.
    parts = [f"acct {text}", Verb.POSTED.value, f"name:{text}|", text, f"{text}Z"]
    encoded = json.dumps(parts, ensure_ascii=False).encode("utf-8")
    expected = "tag:feedhub,2026:activity:" + hashlib.sha256(encoded).hexdigest()[:32]
    assert activity_id(parts[0], Verb.POSTED, *parts[2:]) == expected


def test_activity_id_is_stable() -> None:
    assert activity_id(*BASE_ID_ARGS) == activity_id(*BASE_ID_ARGS)


@pytest.mark.parametrize(
    "position,value",
    [
        pytest.param(0, "acct-2", id="account"),
        pytest.param(1, Verb.QUEUED, id="verb"),
        pytest.param(2, "catalog:movies/2", id="title"),
        pytest.param(3, "1->2", id="detail"),
        pytest.param(4, "2026-01-02T03:04:06Z", id="occurrence"),
    ],
)
def test_activity_id_depends_on_every_argument(position: int, value) -> None:
    args = list(BASE_ID_ARGS)
    args[position] = value
    assert activity_id(*args) != activity_id(*BASE_ID_ARGS)


def test_activity_id_encoding_is_unambiguous() -> None:
    # Plain concatenation with a separator would make these two equal.
    assert activity_id("a|b", Verb.POSTED, "c", "", "") != activity_id("a", Verb.POSTED, "b|c", "", "")
    assert activity_id("a", Verb.POSTED, "b", "c", "") != activity_id("a", Verb.POSTED, "b", "", "c")


# ---------------------------------------------------------------- watched


def test_watched_new_entries_become_activities_dated_when_watched() -> None:
    e = entry(Kind.WATCHED, 1, watched_at=DAY1, updated=DAY2)
    d = run(Kind.WATCHED, [e], previous={})
    assert d.new == (e,) and d.changed == () and d.gone == ()
    (a,) = d.activities
    assert a == Activity(
        id=activity_id(ACCOUNT, Verb.WATCHED, "catalog:movies/1", "", "2026-01-10T20:30:15Z"),
        account_key=ACCOUNT,
        verb=Verb.WATCHED,
        title=title(1),
        occurred_at=DAY1,
    )


def test_watched_already_seen_gives_nothing() -> None:
    e = entry(Kind.WATCHED, 1, watched_at=DAY1)
    d = run(Kind.WATCHED, [e], previous=state((e,)))
    assert d == Decision(new=(), changed=(), gone=(), activities=())


def test_watched_seen_entry_with_new_content_is_changed_but_no_activity() -> None:
    old = entry(Kind.WATCHED, 1, watched_at=DAY1)
    new = entry(Kind.WATCHED, 1, watched_at=DAY1, summary="now with a synopsis")
    d = run(Kind.WATCHED, [new], previous=state((old,)))
    assert d.changed == (new,) and d.new == () and d.activities == ()


def test_rewatch_on_another_day_is_another_activity() -> None:
    first = entry(Kind.WATCHED, 1, entry_id="same", watched_at=DAY1)
    second = entry(Kind.WATCHED, 1, entry_id="same", watched_at=DAY2)
    # Storage passes only the stored entries whose keys are in the snapshot.
    d = run(Kind.WATCHED, [second, first], previous=state((first,)))
    assert d.new == (second,)
    (a,) = d.activities
    assert a.occurred_at == DAY2
    assert a.id == activity_id(ACCOUNT, Verb.WATCHED, "catalog:movies/1", "", "2026-01-11T21:00:00Z")
    assert a.id != run(Kind.WATCHED, [first], previous=None).activities[0].id


@pytest.mark.parametrize(
    ("fields", "occurred_at", "occurrence"),
    [
        pytest.param({"updated": DAY2}, DAY2, "2026-01-11T21:00:00Z", id="falls-back-to-updated"),
        pytest.param({}, NOW, "undated", id="undated-is-seen-now"),
    ],
)
def test_watched_date_fallbacks(fields, occurred_at, occurrence) -> None:
    (a,) = run(Kind.WATCHED, [entry(Kind.WATCHED, 1, **fields)], previous={}).activities
    assert a.occurred_at == occurred_at
    assert a.id == activity_id(ACCOUNT, Verb.WATCHED, "catalog:movies/1", "", occurrence)


def test_watched_first_poll_publishes_every_entry_by_its_own_date() -> None:
    entries = [entry(Kind.WATCHED, 1, watched_at=DAY1), entry(Kind.WATCHED, 2, watched_at=DAY2)]
    d = run(Kind.WATCHED, entries, previous=None)
    assert [(a.verb, a.occurred_at) for a in d.activities] == [(Verb.WATCHED, DAY1), (Verb.WATCHED, DAY2)]


def test_watched_occurred_at_is_utc() -> None:
    local = DAY1.astimezone(timezone(timedelta(hours=-5)))
    (a,) = run(Kind.WATCHED, [entry(Kind.WATCHED, 1, watched_at=local)], previous={}).activities
    assert a.occurred_at == DAY1 and a.occurred_at.utcoffset() == timedelta(0)


# ---------------------------------------------------------------- queue


def test_queue_addition_at_the_end() -> None:
    old = queue("A", "B", dated=True)
    new = queue("A", "B", "C", dated=True)
    d = run(Kind.QUEUE, new, previous=state(old))
    assert d.new == (new[2],) and d.changed == () and d.gone == ()
    (a,) = d.activities
    assert (a.verb, a.position, a.occurred_at) == (Verb.QUEUED, 3, _added("C"))
    assert a.id == activity_id(ACCOUNT, Verb.QUEUED, "catalog:movies/C", "", _added("C").strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_queue_undated_addition_is_seen_now_and_reuses_its_id_when_readded() -> None:
    d = run(Kind.QUEUE, queue("A", "B"), previous=state(queue("A")))
    (a,) = d.activities
    assert (a.verb, a.occurred_at, a.position) == (Verb.QUEUED, NOW, 2)
    assert a.id == activity_id(ACCOUNT, Verb.QUEUED, "catalog:movies/B", "", "undated")
    later = run(Kind.QUEUE, queue("A", "B"), previous=state(queue("A")), now=NOW + timedelta(days=3))
    assert later.activities[0].id == a.id


def test_queue_insert_at_top_shifts_everything_but_moves_nothing() -> None:
    old = queue("A", "B", "C", "D")
    new = queue("X", "A", "B", "C", "D")
    d = run(Kind.QUEUE, new, previous=state(old))
    assert verbs(d) == [(Verb.QUEUED, "X")]
    assert d.activities[0].position == 1
    # Shifted entries did change (their position) and storage must update them.
    assert [e.title.name for e in d.changed] == ["Movie A", "Movie B", "Movie C", "Movie D"]


def test_queue_removal_in_the_middle_moves_nothing() -> None:
    old = queue("A", "B", "C", "D", dated=True)
    new = queue("A", "C", "D", dated=True)
    d = run(Kind.QUEUE, new, previous=state(old))
    assert d.gone == ("catalog:movies/B",)
    assert verbs(d) == [(Verb.UNQUEUED, "B")]
    (a,) = d.activities
    assert (a.occurred_at, a.previous_position, a.position) == (NOW, 2, None)
    # One membership (identified by its date added) ends once, whenever it is seen.
    added = _added("B").strftime("%Y-%m-%dT%H:%M:%SZ")
    assert a.id == activity_id(ACCOUNT, Verb.UNQUEUED, "catalog:movies/B", "", added)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("ABCDE", "EABCD", {"E": (5, 1)}, id="move-to-top"),
        pytest.param("ABCDE", "ACDBE", {"B": (2, 4)}, id="move-down"),
        pytest.param("ABCDE", "ADBCE", {"D": (4, 2)}, id="move-up"),
        pytest.param("ABCDE", "BCDEA", {"A": (1, 5)}, id="move-to-bottom"),
        pytest.param("ABCDE", "BACDE", {"A": (1, 2)}, id="swap-neighbours-one-move"),
        pytest.param("ABCDE", "EBCDA", {"A": (1, 5), "E": (5, 1)}, id="swap-ends-two-moves"),
        pytest.param("ABCDE", "XACDBE", {"B": (2, 5)}, id="move-plus-insert"),
        pytest.param("ABCDE", "ACEDX", {"D": (4, 4)}, id="move-plus-removal-same-absolute-position"),
        pytest.param("ABCDE", "ABCDE", {}, id="unchanged"),
        pytest.param("ABCDE", "XYBCDE", {}, id="insert-and-remove-shift-only"),
        pytest.param("ABCD", "DCBA", {"A": (1, 4), "B": (2, 3), "C": (3, 2)}, id="reversal"),
    ],
)
def test_queue_moves_are_changes_of_relative_order(old: str, new: str, expected) -> None:
    d = run(Kind.QUEUE, queue(*new), previous=state(queue(*old)))
    assert moves(d) == expected
    for a in d.activities:
        if a.verb is Verb.MOVED:
            detail = f"{a.previous_position}->{a.position}"
            assert a.id == activity_id(ACCOUNT, Verb.MOVED, a.title.key, detail, NOW_ISO)
            assert a.occurred_at == NOW


def test_queue_reports_all_three_changes_together() -> None:
    d = run(Kind.QUEUE, queue("X", "C", "A", "D"), previous=state(queue("A", "B", "C", "D")))
    assert verbs(d) == [(Verb.MOVED, "A"), (Verb.QUEUED, "X"), (Verb.UNQUEUED, "B")]
    assert moves(d) == {"A": (1, 3)}


def test_queue_move_is_computed_once_per_pair_of_snapshots() -> None:
    # A move is only observable between two snapshots, so its id carries the poll time.
    old, new = state(queue("A", "B", "C")), queue("C", "A", "B")
    first = run(Kind.QUEUE, new, previous=old).activities
    again = run(Kind.QUEUE, new, previous=old).activities
    later = run(Kind.QUEUE, new, previous=old, now=NOW + timedelta(hours=1)).activities
    assert first == again
    assert first[0].id != later[0].id


def test_queue_titles_without_positions_are_never_moves() -> None:
    old = (entry(Kind.QUEUE, "A", position=1), entry(Kind.QUEUE, "B"), entry(Kind.QUEUE, "C", position=3))
    new = (entry(Kind.QUEUE, "B", position=1), entry(Kind.QUEUE, "C", position=2), entry(Kind.QUEUE, "A"))
    assert moves(run(Kind.QUEUE, new, previous=state(old))) == {}


def test_queue_moves_match_a_brute_force_longest_increasing_subsequence() -> None:
    rng = random.Random(20260301)
    for _ in range(200):
        n = rng.randint(0, 12)
        names = [f"t{i}" for i in range(n)]
        shuffled = rng.sample(names, n)
        d = run(Kind.QUEUE, queue(*shuffled), previous=state(queue(*names)))
        moved = set(moves(d))
        kept = [shuffled.index(t) for t in names if t not in moved]
        # What stayed is increasing, and as long as any increasing run can be.
        assert kept == sorted(kept)
        assert len(kept) == _lis_length([shuffled.index(t) for t in names])


def _lis_length(values: list[int]) -> int:
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


def test_queue_moves_scale_to_a_long_queue() -> None:
    names = [f"t{i}" for i in range(20000)]
    new = names[1:10000] + [names[0]] + names[10000:]  # one title moved down half the queue
    d = run(Kind.QUEUE, queue(*new), previous=state(queue(*names)))
    assert moves(d) == {"t0": (1, 10000)}


@pytest.mark.parametrize(
    ("dated", "expected"),
    [
        pytest.param(True, [(Verb.QUEUED, "A"), (Verb.QUEUED, "B")], id="dated-entries-are-published"),
        pytest.param(False, [], id="undated-entries-are-the-baseline"),
    ],
)
def test_queue_first_poll(dated: bool, expected) -> None:
    d = run(Kind.QUEUE, queue("A", "B", dated=dated), previous=None)
    assert verbs(d) == expected
    assert len(d.new) == 2 and d.changed == () and d.gone == ()
    assert all(a.occurred_at == _added(a.title.name[-1]) for a in d.activities)


def test_queue_first_poll_mixed_dates_publishes_only_the_dated() -> None:
    entries = (entry(Kind.QUEUE, "A", position=1, updated=DAY1), entry(Kind.QUEUE, "B", position=2))
    d = run(Kind.QUEUE, entries, previous=None)
    assert verbs(d) == [(Verb.QUEUED, "A")]


def test_queue_incomplete_snapshot_reports_additions_and_changes_only() -> None:
    old = queue("A", "B", "C", "D")
    new = queue("X", "C", "A")  # page 2 (with D) missing; C moved; B absent
    d = run(Kind.QUEUE, new, previous=state(old), complete=False)
    assert d.gone == ()
    assert verbs(d) == [(Verb.QUEUED, "X")]
    assert {e.title.name for e in d.changed} == {"Movie A", "Movie C"}


def test_queue_empty_previous_list_is_not_a_first_poll() -> None:
    # An empty queue seen before: everything now in it was added since.
    d = run(Kind.QUEUE, queue("A"), previous={})
    assert verbs(d) == [(Verb.QUEUED, "A")]
    assert d.activities[0].occurred_at == NOW


# ---------------------------------------------------------------- queue_recent


def test_queue_recent_and_queue_give_one_addition_one_id() -> None:
    added = DAY1
    in_queue = entry(Kind.QUEUE, "A", position=7, updated=added, entry_id="q/7/A")
    in_recent = entry(Kind.QUEUE_RECENT, "A", position=1, updated=added, entry_id="recent/A")
    (from_queue,) = run(Kind.QUEUE, [in_queue], previous={}).activities
    (from_recent,) = run(Kind.QUEUE_RECENT, [in_recent], previous={}).activities
    assert from_recent.verb is Verb.QUEUED
    assert from_recent.id == from_queue.id
    assert from_recent.occurred_at == from_queue.occurred_at == added


def test_queue_recent_never_unqueues_or_moves() -> None:
    old = (
        entry(Kind.QUEUE_RECENT, "A", position=1, updated=DAY2),
        entry(Kind.QUEUE_RECENT, "B", position=2, updated=DAY1),
    )
    new = (entry(Kind.QUEUE_RECENT, "B", position=1, updated=DAY1),)  # A left the window
    d = run(Kind.QUEUE_RECENT, new, previous=state(old))
    assert d.gone == () and d.activities == ()
    assert d.changed == (new[0],)


def test_queue_recent_first_poll_publishes_every_addition() -> None:
    # An event feed: even an undated addition is an event (seen now), not a baseline.
    entries = [entry(Kind.QUEUE_RECENT, "A", updated=DAY1), entry(Kind.QUEUE_RECENT, "B")]
    d = run(Kind.QUEUE_RECENT, entries, previous=None)
    assert [(a.verb, a.occurred_at) for a in d.activities] == [(Verb.QUEUED, DAY1), (Verb.QUEUED, NOW)]


# ---------------------------------------------------------------- ratings


def rating(n: int | str, value: float | None, updated: datetime | None = DAY1) -> Entry:
    return entry(Kind.RATINGS, n, user_rating=value, updated=updated)


def test_rated_new_title() -> None:
    d = run(Kind.RATINGS, [rating(1, 4.0)], previous={})
    (a,) = d.activities
    assert (a.verb, a.rating, a.previous_rating, a.occurred_at) == (Verb.RATED, 4.0, None, DAY1)
    assert a.id == activity_id(ACCOUNT, Verb.RATED, "catalog:movies/1", "", "2026-01-10T20:30:15Z")


def test_rated_undated_title_is_seen_now_with_an_undated_id() -> None:
    (a,) = run(Kind.RATINGS, [rating(1, 3.0, updated=None)], previous={}).activities
    assert a.occurred_at == NOW
    assert a.id == activity_id(ACCOUNT, Verb.RATED, "catalog:movies/1", "", "undated")


def test_rerated_with_a_new_date() -> None:
    d = run(Kind.RATINGS, [rating(1, 5.0, updated=DAY2)], previous=state((rating(1, 3.0),)))
    (a,) = d.activities
    assert (a.verb, a.rating, a.previous_rating, a.occurred_at) == (Verb.RERATED, 5.0, 3.0, DAY2)
    # One rating given at one moment is one event, under the rated verb's id.
    assert a.id == activity_id(ACCOUNT, Verb.RATED, "catalog:movies/1", "", "2026-01-11T21:00:00Z")


@pytest.mark.parametrize("updated", [pytest.param(DAY1, id="same-date"), pytest.param(None, id="undated")])
def test_rerated_without_a_new_date_is_dated_when_seen(updated) -> None:
    d = run(Kind.RATINGS, [rating(1, 2.5, updated=updated)], previous=state((rating(1, 4, updated=updated),)))
    (a,) = d.activities
    assert (a.verb, a.occurred_at) == (Verb.RERATED, NOW)
    assert a.id == activity_id(ACCOUNT, Verb.RATED, "catalog:movies/1", "", NOW_ISO)


def test_rating_detail_does_not_depend_on_int_or_float() -> None:
    as_int = run(Kind.RATINGS, [rating(1, 5, DAY2)], previous=state((rating(1, 3),))).activities
    as_float = run(Kind.RATINGS, [rating(1, 5.0, DAY2)], previous=state((rating(1, 3.0),))).activities
    assert as_int[0].id == as_float[0].id


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(4.0, 4.0, [], id="no-change"),
        pytest.param(None, None, [], id="not-interested-new"),
        pytest.param(4.0, None, [], id="cleared-to-not-interested"),
        pytest.param(None, 4.0, [Verb.RATED], id="not-interested-then-rated"),
        pytest.param(4.0, 2.0, [Verb.RERATED], id="changed"),
    ],
)
def test_rating_changes(old, new, expected) -> None:
    d = run(Kind.RATINGS, [rating(1, new, DAY2)], previous=state((rating(1, old),)))
    assert [a.verb for a in d.activities] == expected


def not_interested(n: int | str, updated: datetime | None = DAY1) -> Entry:
    return entry(Kind.RATINGS, n, not_interested=True, updated=updated)


def test_not_interested_new_title() -> None:
    (a,) = run(Kind.RATINGS, [not_interested(1)], previous={}).activities
    assert (a.verb, a.rating, a.previous_rating, a.occurred_at) == (Verb.NOT_INTERESTED, None, None, DAY1)
    assert a.verb.kind is Kind.RATINGS
    assert a.id == activity_id(ACCOUNT, Verb.RATED, "catalog:movies/1", "", "2026-01-10T20:30:15Z")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(rating(1, 4.0), not_interested(1, DAY2), (Verb.NOT_INTERESTED, None, None, DAY2), id="rated-then-not-interested"),
        pytest.param(not_interested(1), rating(1, 4.0, DAY2), (Verb.RATED, 4.0, None, DAY2), id="not-interested-then-rated"),
        pytest.param(rating(1, None), not_interested(1, DAY2), (Verb.NOT_INTERESTED, None, None, DAY2), id="cleared-then-not-interested"),
        pytest.param(not_interested(1), not_interested(1, DAY2), None, id="still-not-interested"),
        pytest.param(not_interested(1), rating(1, None, DAY2), None, id="not-interested-cleared"),
        pytest.param(rating(1, 4.0), not_interested(1, DAY1), (Verb.NOT_INTERESTED, None, None, NOW), id="undated-change-seen-now"),
    ],
)
def test_not_interested_changes(old: Entry, new: Entry, expected) -> None:
    d = run(Kind.RATINGS, [new], previous=state((old,)))
    got = [(a.verb, a.rating, a.previous_rating, a.occurred_at) for a in d.activities]
    assert got == ([expected] if expected else [])


def test_first_poll_publishes_dated_not_interested() -> None:
    d = run(Kind.RATINGS, [not_interested(1), not_interested(2, updated=None)], previous=None)
    assert verbs(d) == [(Verb.NOT_INTERESTED, "1")]


def test_a_rating_event_keeps_its_id_when_the_previous_value_is_unknown() -> None:
    # Re-adding a source: the ratings feed shows only the latest value, so what was a
    # re-rating (3 → 5) is now seen as a first rating of 5. Same moment, same id.
    (rerated,) = run(Kind.RATINGS, [rating(1, 5.0, DAY2)], previous=state((rating(1, 3.0),))).activities
    (readded,) = run(Kind.RATINGS, [rating(1, 5.0, DAY2)], previous=None, now=NOW + timedelta(days=9)).activities
    assert (rerated.verb, readded.verb) == (Verb.RERATED, Verb.RATED)
    assert rerated.id == readded.id
    # A rating given at another moment is another event.
    (first,) = run(Kind.RATINGS, [rating(1, 3.0)], previous=None).activities
    assert first.id != rerated.id


def test_rating_none_for_a_new_title_gives_no_activity() -> None:
    d = run(Kind.RATINGS, [rating(1, None)], previous={})
    assert d.new == (rating(1, None),) and d.activities == ()


def test_rating_removed_is_gone_without_activity() -> None:
    d = run(Kind.RATINGS, [rating(2, 3.0)], previous=state((rating(1, 4.0), rating(2, 3.0))))
    assert d.gone == ("catalog:movies/1",) and d.activities == ()


def test_ratings_first_poll_publishes_only_dated_ratings() -> None:
    d = run(Kind.RATINGS, [rating(1, 4.0), rating(2, 5.0, updated=None), rating(3, None)], previous=None)
    assert verbs(d) == [(Verb.RATED, "1")]


def test_rerated_is_reported_from_an_incomplete_snapshot() -> None:
    old = state((rating(1, 3.0), rating(2, 4.0)))
    d = run(Kind.RATINGS, [rating(1, 4.0, DAY2)], previous=old, complete=False)
    assert verbs(d) == [(Verb.RERATED, "1")] and d.gone == ()


# ---------------------------------------------------------------- recommendations


def rec(n: int | str, predicted: float = 4.2, updated: datetime | None = DAY1) -> Entry:
    return entry(Kind.RECOMMENDATIONS, n, predicted_rating=predicted, updated=updated)


def test_recommended_new_title() -> None:
    (a,) = run(Kind.RECOMMENDATIONS, [rec(1, 3.9)], previous={}).activities
    assert (a.verb, a.rating, a.occurred_at) == (Verb.RECOMMENDED, 3.9, DAY1)
    assert a.id == activity_id(ACCOUNT, Verb.RECOMMENDED, "catalog:movies/1", "", "2026-01-10T20:30:15Z")


@pytest.mark.parametrize(
    ("updated", "occurrence"),
    [pytest.param(DAY1, "2026-01-10T20:30:15Z", id="dated"), pytest.param(None, "undated", id="undated")],
)
def test_unrecommended_when_gone(updated, occurrence) -> None:
    d = run(Kind.RECOMMENDATIONS, [rec(2)], previous=state((rec(1, updated=updated), rec(2))))
    assert d.gone == ("catalog:movies/1",)
    (a,) = d.activities
    assert (a.verb, a.occurred_at) == (Verb.UNRECOMMENDED, NOW)
    assert a.id == activity_id(ACCOUNT, Verb.UNRECOMMENDED, "catalog:movies/1", "", occurrence)


def test_prediction_moved_by_half_a_star_is_published_once() -> None:
    d = run(Kind.RECOMMENDATIONS, [rec(1, 4.5)], previous=state((rec(1, 3.5),)))
    assert d.changed == (rec(1, 4.5),)
    (a,) = d.activities
    assert (a.verb, a.rating, a.previous_rating, a.occurred_at) == (Verb.PREDICTION_CHANGED, 4.5, 3.5, NOW)
    assert a.verb.kind is Kind.RECOMMENDATIONS
    assert a.id == activity_id(ACCOUNT, Verb.PREDICTION_CHANGED, "catalog:movies/1", "3.5->4.5", NOW_ISO)
    # The next poll compares with what was stored: nothing more to say.
    assert run(Kind.RECOMMENDATIONS, [rec(1, 4.5)], previous=state(d.changed)).activities == ()


@pytest.mark.parametrize(
    ("old", "new", "published"),
    [
        pytest.param(3.6, 4.1, True, id="exactly-half-a-star-despite-binary-floats"),
        pytest.param(4.1, 3.6, True, id="downwards"),
        pytest.param(3.5, 3.9, False, id="less-than-half-a-star"),
        pytest.param(3.5, 3.5, False, id="unchanged"),
    ],
)
def test_prediction_threshold(old: float, new: float, published: bool) -> None:
    d = run(Kind.RECOMMENDATIONS, [rec(1, new)], previous=state((rec(1, old),)))
    assert [a.verb for a in d.activities] == ([Verb.PREDICTION_CHANGED] if published else [])


def test_small_prediction_moves_add_up_from_the_last_published_value() -> None:
    stored = state((rec(1, 3.5),))
    seen = []
    for step, predicted in enumerate((3.7, 3.9, 4.1, 4.2)):
        d = run(Kind.RECOMMENDATIONS, [rec(1, predicted)], previous=stored, now=NOW + timedelta(hours=step))
        seen += [(a.previous_rating, a.rating) for a in d.activities]
        stored = {**stored, **state(d.changed)}
    # 3.7 and 3.9 are too close to 3.5; 4.1 is not, and becomes the new baseline.
    assert seen == [(3.5, 4.1)]
    assert stored["catalog:movies/1"].predicted_rating == 4.1


def test_small_prediction_move_alone_is_no_change_to_store() -> None:
    d = run(Kind.RECOMMENDATIONS, [rec(1, 3.8)], previous=state((rec(1, 3.5),)))
    assert d.changed == () and d.activities == ()


def test_small_prediction_move_keeps_the_baseline_beside_other_changes() -> None:
    old = rec(1, 3.5)
    new = entry(Kind.RECOMMENDATIONS, 1, predicted_rating=3.8, updated=DAY1, summary="a new synopsis")
    d = run(Kind.RECOMMENDATIONS, [new], previous=state((old,)))
    (stored,) = d.changed
    assert (stored.summary, stored.predicted_rating) == ("a new synopsis", 3.5)
    assert d.activities == ()


def test_prediction_appearing_is_no_change_of_prediction() -> None:
    d = run(Kind.RECOMMENDATIONS, [rec(1, 4.0)], previous=state((rec(1, None),)))
    assert d.activities == () and d.changed == (rec(1, 4.0),)


def test_recommendations_incomplete_snapshot_removes_nothing() -> None:
    d = run(Kind.RECOMMENDATIONS, [rec(2)], previous=state((rec(1), rec(2))), complete=False)
    assert d.gone == () and d.activities == ()


def test_recommendations_first_poll_publishes_only_dated() -> None:
    d = run(Kind.RECOMMENDATIONS, [rec(1), rec(2, updated=None)], previous=None)
    assert verbs(d) == [(Verb.RECOMMENDED, "1")]


# ---------------------------------------------------------------- other


def test_other_new_entry_is_posted() -> None:
    e = entry(Kind.OTHER, 1, entry_id="urn:post:1", updated=DAY1, summary="Watched it twice")
    (a,) = run(Kind.OTHER, [e], previous={}).activities
    assert (a.verb, a.occurred_at, a.summary, a.title) == (Verb.POSTED, DAY1, "Watched it twice", title(1))
    assert a.id == activity_id(ACCOUNT, Verb.POSTED, "catalog:movies/1", "urn:post:1", "")


def test_other_undated_entry_is_seen_now_and_seen_entry_gives_nothing() -> None:
    e = entry(Kind.OTHER, 1, entry_id="urn:post:1")
    assert run(Kind.OTHER, [e], previous=None).activities[0].occurred_at == NOW
    assert run(Kind.OTHER, [e], previous=state((e,))).activities == ()


def test_other_event_kinds_never_report_gone() -> None:
    d = run(Kind.OTHER, [], previous=state((entry(Kind.OTHER, 1),)))
    assert d.gone == ()


# ---------------------------------------------------------------- general


def test_account_key_is_passed_through_and_changes_the_id() -> None:
    e = entry(Kind.WATCHED, 1, watched_at=DAY1)
    (mine,) = run(Kind.WATCHED, [e], previous={}, account="me").activities
    (theirs,) = run(Kind.WATCHED, [e], previous={}, account="you").activities
    assert (mine.account_key, theirs.account_key) == ("me", "you")
    assert mine.id != theirs.id


def test_ids_survive_a_source_being_readded() -> None:
    # Re-adding a source starts again from a first poll: the dated activities keep their ids.
    e = entry(Kind.QUEUE, "A", position=1, updated=DAY1)
    later = run(Kind.QUEUE, [e], previous={}, now=NOW).activities
    readded = run(Kind.QUEUE, [e], previous=None, now=NOW + timedelta(days=30)).activities
    assert [a.id for a in later] == [a.id for a in readded]


def test_a_key_twice_in_one_snapshot_counts_once() -> None:
    e = entry(Kind.QUEUE, "A", position=1)
    d = run(Kind.QUEUE, [e, entry(Kind.QUEUE, "A", position=2)], previous={})
    assert d.new == (e,) and len(d.activities) == 1


def test_decide_is_pure() -> None:
    old = queue("A", "B", "C", "D", dated=True)
    new = queue("D", "A", "X", "C", dated=True)
    previous = state(old)
    first = run(Kind.QUEUE, new, previous=previous)
    second = run(Kind.QUEUE, new, previous=dict(reversed(previous.items())))
    assert first == second
    assert previous == state(old)  # the input is left alone
    assert {a.verb for a in first.activities} == {Verb.QUEUED, Verb.UNQUEUED, Verb.MOVED}


def test_decide_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        run(Kind.WATCHED, [], previous={}, now=NOW.replace(tzinfo=None))
