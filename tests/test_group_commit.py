"""Group commit: polls that finish together share one transaction, yet each poll's write
stays its own — counted on its own, and failing on its own."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from feedhub.group_commit import GroupCommit
from feedhub.models import Verb
from tests.test_web import BRAVEHEART, HEAT, PLATOON, T0, activity, poll, seed


class HeldStore:
    """The real store, whose first commit waits until the test lets it go: the writes
    submitted meanwhile queue up and are committed together."""

    def __init__(self, store):
        self.store = store
        self.entered = threading.Event()
        self.go = threading.Event()
        self.batches: list[int] = []

    def save_polls(self, writes):
        self.batches.append(len(writes))
        if len(self.batches) == 1:
            self.entered.set()
            assert self.go.wait(10)
        return self.store.save_polls(writes)

    def save_poll(self, write):
        self.batches.append(1)
        return self.store.save_poll(write)


@pytest.fixture
def seeded(services):
    seed(services.store)
    return services.store


def _sources(store):
    return {s.account_name + "/" + s.kind.value: s for s in store.sources()}


def test_writes_queued_together_are_committed_in_one_batch_with_their_own_counts(seeded):
    sources = _sources(seeded)
    watched, ratings = sources["home/watched"], sources["home/ratings"]
    first = activity("user-home", Verb.WATCHED, BRAVEHEART, T0 + timedelta(hours=1))
    second = activity("user-home", Verb.WATCHED, PLATOON, T0 + timedelta(hours=2))
    rated = activity("user-home", Verb.RATED, HEAT, T0 + timedelta(hours=3), rating=5.0)
    held = HeldStore(seeded)
    commits = GroupCommit(held)
    try:
        opening = commits.submit(poll(watched.id, watched.account_id, (first,), at=T0 + timedelta(hours=1)))
        assert held.entered.wait(10)
        # The same activity twice in one batch (a queue and its recent additions both
        # show an addition): the first write adds it, the second finds it there.
        queued = [
            commits.submit(poll(watched.id, watched.account_id, (second,), at=T0 + timedelta(hours=2))),
            commits.submit(poll(ratings.id, ratings.account_id, (rated, second), at=T0 + timedelta(hours=3))),
        ]
        held.go.set()
        assert opening.result(10) == 1
        assert [f.result(10) for f in queued] == [1, 1]
    finally:
        commits.close()
    assert held.batches == [1, 2]
    ids = {a.id for _, a in seeded.activities(limit=100)}
    assert {first.id, second.id, rated.id} <= ids
    assert [p.new_activities for p in seeded.recent_polls(ratings.id, 1)] == [1]


def test_a_failing_write_fails_alone_and_leaves_nothing_behind(seeded):
    sources = _sources(seeded)
    watched, alex = sources["home/watched"], sources["alex/watched"]
    good = activity("user-home", Verb.WATCHED, PLATOON, T0 + timedelta(hours=1))
    also_good = activity("user-alex", Verb.WATCHED, HEAT, T0 + timedelta(hours=1))
    doomed = activity("user-home", Verb.WATCHED, HEAT, T0 + timedelta(hours=2))
    polls_before = len(seeded.recent_polls(watched.id, 100))
    held = HeldStore(seeded)
    commits = GroupCommit(held)
    try:
        opening = commits.submit(poll(watched.id, watched.account_id, (), at=T0 + timedelta(minutes=1)))
        assert held.entered.wait(10)
        results = [
            commits.submit(poll(watched.id, watched.account_id, (good,), at=T0 + timedelta(hours=1))),
            # An account that does not exist: the foreign key refuses its activity.
            commits.submit(poll(watched.id, 9999, (doomed,), at=T0 + timedelta(hours=2))),
            commits.submit(poll(alex.id, alex.account_id, (also_good,), at=T0 + timedelta(hours=1))),
        ]
        held.go.set()
        assert opening.result(10) == 0
        assert results[0].result(10) == 1
        with pytest.raises(IntegrityError):
            results[1].result(10)
        assert results[2].result(10) == 1
    finally:
        commits.close()
    # The batch of three failed as a whole, then each was committed on its own.
    assert held.batches == [1, 3, 1, 1, 1]
    ids = {a.id for _, a in seeded.activities(limit=100)}
    assert good.id in ids and also_good.id in ids and doomed.id not in ids
    # Nothing of the failed write stayed: not its poll-log row either.
    assert len(seeded.recent_polls(watched.id, 100)) == polls_before + 2


def test_close_commits_what_is_queued(seeded):
    watched = _sources(seeded)["home/watched"]
    made = [activity("user-home", Verb.WATCHED, BRAVEHEART, T0 + timedelta(hours=n)) for n in range(1, 6)]
    commits = GroupCommit(seeded)
    results = [commits.submit(poll(watched.id, watched.account_id, (a,), at=T0 + timedelta(hours=n))) for n, a in enumerate(made, 1)]
    commits.close()
    assert [r.result(0) for r in results] == [1] * 5
