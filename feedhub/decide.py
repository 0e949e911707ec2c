"""Turn what a source showed into what happened: previous state + new snapshot → changes.

This module is pure: it touches no network, database, clock or randomness. The poll time
is the ``now`` argument, and the same arguments always give the same ``Decision``.
It does not store anything; storage writes the ``Decision`` in one transaction.

Entries and their keys (``entry_key``):

- list kinds (queue, ratings, recommendations) and queue_recent hold a title once, so an
  entry is keyed by its title key;
- watched is a log: the same title watched on two days is two entries, keyed
  ``<title key>@<when>``;
- other (generic) feeds are keyed by the source's own entry id.

Activities (``decide``):

- watched: each new entry is WATCHED, dated when it was watched.
- queue: a new title is QUEUED, a title gone from a complete snapshot is UNQUEUED, and a
  title whose order relative to the others changed is MOVED. Titles that only shift
  because something above them was added or removed are not moves: the titles kept in
  place are a longest increasing subsequence of new positions taken in old order, and
  only the rest moved (see ``_moved``). A swap of two neighbours is thus one move; which
  of the two is reported follows from the algorithm (the upper one, moving down).
- queue_recent: a new title is QUEUED with exactly the id the queue feed gives the same
  addition, so seeing it through both feeds is one activity. Titles leave this window
  without leaving the queue, so it never yields UNQUEUED or MOVED.
- ratings: a title rated for the first time is RATED, a changed rating is RERATED (from
  the old value to the new), and a title marked "not interested" (the API's
  ``not_interested`` rating) is NOT_INTERESTED, whatever it was before; a rating after
  "not interested" is RATED. A rating that is cleared (``no_opinion``) or leaves the
  list yields nothing: the person did not say anything new about the title.
- recommendations: a new title is RECOMMENDED (with the predicted rating), a title gone
  from a complete snapshot is UNRECOMMENDED, and a predicted rating that moved by at
  least ``PREDICTION_STEP`` (half a star) is PREDICTION_CHANGED. Smaller moves are not
  news: the entry handed to storage keeps the prediction last published (or first
  seen), so small moves add up until they make half a star, and are then published
  once, from the last published value to the new one.
- other: each new entry is POSTED.

First poll (``previous is None``): the timeline must not fill up with "just now"
noise. Events (watched, queue_recent, other) become their activities dated by their own
timestamps. List entries that carry their own timestamp (``updated``) become
QUEUED/RATED/NOT_INTERESTED/RECOMMENDED dated by it: that is what the source itself says
happened, and when (a backfill is a first poll too). List entries without one are the baseline and yield nothing, and there is no
UNQUEUED or MOVED: there is nothing earlier to compare with.

Incomplete snapshots (a page was missing): additions and changes are still reported,
but an absent title may just be on the missing page, and positions may be off, so there
are no removals and no moves.

Activity ids (``activity_id``) are a function of what happened only, so re-polls,
restarts, re-adding a source and migrations reproduce them. The ``occurrence`` that tells
two like activities apart is, per verb:

- WATCHED: when it was watched (ISO, UTC, seconds), or ``"undated"``;
- QUEUED, RATED (and RERATED, NOT_INTERESTED: see below), RECOMMENDED: the entry's own
  timestamp (for the queue, the date added; for a rating, when it was given), or
  ``"undated"``. An undated re-add therefore reuses the first add's id; that is
  acceptable because a feed without dates cannot tell the two apart either;
- UNQUEUED, UNRECOMMENDED: the removed entry's timestamp (or ``"undated"``), so one
  membership ends once;
- MOVED, PREDICTION_CHANGED, and a rating change with an unchanged timestamp: the poll
  time. A move, or a change the source does not date, is only observable between two
  snapshots, so it is computed once, when those two snapshots meet; storage keeps the
  result;
- POSTED: ``""``, the source's entry id (in ``detail``) being unique already.

The three rating verbs share one identity: a rating given at a moment is one event,
``(account, "rated", title, "", when)``, whether feedhub saw the value before it (RERATED
from 3 to 5) or not (RATED 5, after re-adding the source: the ratings feed shows only the
latest value). So re-adding a source republishes a re-rating under the id it had, never
as a second item about the same act.
"""
from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from json.encoder import encode_basestring

from feedhub.dates import rfc3339
from feedhub.models import Activity, Entry, Kind, Snapshot, Verb

UNDATED = "undated"
PREDICTION_STEP = 0.5  # half a star: a smaller move of a predicted rating is not news
TAG_PREFIX = "tag:feedhub,2026:activity:"  # every activity id: this, then 32 hex digits


@dataclass(frozen=True)
class Decision:
    """What one poll of one source changed, for storage to write at once."""

    new: tuple[Entry, ...]  # keys not seen before
    changed: tuple[Entry, ...]  # same key, different content (as storage is to keep it)
    gone: tuple[str, ...]  # keys of list entries no longer present (complete lists only)
    activities: tuple[Activity, ...]


def entry_key(entry: Entry) -> str:
    """The key of an entry within its source (see the module docstring)."""
    if entry.kind.is_list or entry.kind is Kind.QUEUE_RECENT:
        return entry.title.key
    if entry.kind is Kind.WATCHED:
        # The reference gives both viewings of a title the same entry id, so the date
        # is what tells them apart.
        return f"{entry.title.key}@{_iso_or_undated(entry.watched_at or entry.updated)}"
    return entry.entry_id


def activity_id(account_key: str, verb: Verb, title_key: str, detail: str, occurrence: str) -> str:
    """The stable ``tag:`` URI (RFC 4151) of the activity these arguments describe."""
    # A JSON list cannot be ambiguous the way joining with a separator can. Written as
    # json.dumps(parts, ensure_ascii=False) writes a list of strings, with its string
    # encoder, in a quarter of the time (dumps builds a new encoder at every call).
    parts = (account_key, verb.value, title_key, detail, occurrence)
    encoded = "[" + ", ".join(map(encode_basestring, parts)) + "]"
    digest = hashlib.sha256(encoded.encode("utf-8")).hexdigest()[:32]
    return f"{TAG_PREFIX}{digest}"


def decide(
    account_key: str,
    snapshot: Snapshot,
    previous: Mapping[str, Entry] | None,
    now: datetime,
) -> Decision:
    """Compare a snapshot with the previous state of its source.

    ``previous`` is None on the source's first poll. Otherwise, for list kinds it holds
    every entry present at the last poll; for event kinds, the stored entries whose keys
    appear in this snapshot. Both map ``entry_key`` to the entry.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    current: dict[str, Entry] = {}
    for entry in snapshot.entries:
        current.setdefault(entry_key(entry), entry)  # a key seen twice counts once: the first
    before: Mapping[str, Entry] = previous or {}
    new = tuple(e for k, e in current.items() if k not in before)
    changed = tuple(e for k, e in current.items() if k in before and before[k] != e)
    compare = previous is not None and snapshot.complete
    gone = (
        tuple(sorted(k for k in before if k not in current))
        if compare and snapshot.kind.is_list
        else ()
    )
    make = _Maker(account_key, now)
    first = previous is None
    kind = snapshot.kind
    if kind is Kind.WATCHED:
        activities = [make.watched(e) for e in new]
    elif kind is Kind.QUEUE_RECENT:
        activities = [make.dated(Verb.QUEUED, e, position=e.position) for e in new]
    elif kind is Kind.OTHER:
        activities = [make.posted(e) for e in new]
    elif kind is Kind.QUEUE:
        activities = [make.dated(Verb.QUEUED, e, position=e.position) for e in _listed(new, first)]
        activities += [make.unlisted(Verb.UNQUEUED, before[k]) for k in gone]
        if compare:
            activities += [make.moved(before[k], current[k]) for k in _moved(before, current)]
    elif kind is Kind.RATINGS:
        activities = [a for e in _listed(new, first) if (a := make.first_rating(e))]
        activities += [a for e in changed if (a := make.rating_changed(before[entry_key(e)], e))]
    else:  # Kind.RECOMMENDATIONS
        activities = [
            make.dated(Verb.RECOMMENDED, e, rating=e.predicted_rating) for e in _listed(new, first)
        ]
        activities += [make.unlisted(Verb.UNRECOMMENDED, before[k]) for k in gone]
        moved = [(before[entry_key(e)], e) for e in changed]
        activities += [make.prediction_changed(old, e) for old, e in moved if _prediction_moved(old, e)]
        changed = tuple(kept for old, e in moved if (kept := _baseline(old, e)) != old)
    return Decision(new=new, changed=changed, gone=gone, activities=tuple(activities))


@dataclass(frozen=True)
class _Maker:
    """Builds the activities of one account at one poll time."""

    account_key: str
    now: datetime

    def _activity(
        self,
        verb: Verb,
        entry: Entry,
        occurred_at: datetime,
        occurrence: str,
        detail: str = "",
        id_verb: Verb | None = None,
        **fields: float | int | str | None,
    ) -> Activity:
        return Activity(
            id=activity_id(self.account_key, id_verb or verb, entry.title.key, detail, occurrence),
            account_key=self.account_key,
            verb=verb,
            title=entry.title,
            occurred_at=_utc(occurred_at),
            **fields,
        )

    def watched(self, entry: Entry) -> Activity:
        when = entry.watched_at or entry.updated
        return self._activity(Verb.WATCHED, entry, when or self.now, _iso_or_undated(when))

    def dated(self, verb: Verb, entry: Entry, **fields: float | int | None) -> Activity:
        """An addition dated by the entry's own timestamp (QUEUED, RATED, RECOMMENDED)."""
        when = entry.updated
        return self._activity(verb, entry, when or self.now, _iso_or_undated(when), **fields)

    def unlisted(self, verb: Verb, removed: Entry) -> Activity:
        """A removal (UNQUEUED, UNRECOMMENDED), seen now, identified by what it ends."""
        return self._activity(
            verb, removed, self.now, _iso_or_undated(removed.updated), previous_position=removed.position
        )

    def moved(self, old: Entry, new: Entry) -> Activity:
        return self._activity(
            Verb.MOVED, new, self.now, rfc3339(self.now), f"{old.position}->{new.position}",
            position=new.position, previous_position=old.position,
        )

    def first_rating(self, entry: Entry) -> Activity | None:
        """RATED or NOT_INTERESTED for a title new to the ratings, dated by the entry."""
        when = entry.updated
        if entry.not_interested:
            verb, rating = Verb.NOT_INTERESTED, None
        elif entry.user_rating is not None:
            verb, rating = Verb.RATED, entry.user_rating
        else:
            return None
        return self._activity(
            verb, entry, when or self.now, _iso_or_undated(when), id_verb=Verb.RATED, rating=rating
        )

    def rating_changed(self, old: Entry, new: Entry) -> Activity | None:
        """RATED, RERATED or NOT_INTERESTED for a rating that changed, or None when there
        is nothing to say (unchanged, or cleared)."""
        if _opinion(new) == _opinion(old) or _opinion(new) is None:
            return None
        # A change the source did not date (timestamp unchanged) is dated when seen.
        when = new.updated if new.updated is not None and new.updated != old.updated else self.now
        if new.not_interested:
            verb, fields = Verb.NOT_INTERESTED, {}
        elif old.user_rating is None:  # nothing, or "not interested", before: a first rating
            verb, fields = Verb.RATED, {"rating": new.user_rating}
        else:
            verb, fields = Verb.RERATED, {"rating": new.user_rating, "previous_rating": old.user_rating}
        return self._activity(verb, new, when, rfc3339(when), id_verb=Verb.RATED, **fields)

    def prediction_changed(self, old: Entry, new: Entry) -> Activity:
        """A recommendation's predicted rating moved by half a star or more, seen now."""
        return self._activity(
            Verb.PREDICTION_CHANGED, new, self.now, rfc3339(self.now),
            f"{_number(old.predicted_rating)}->{_number(new.predicted_rating)}",
            rating=new.predicted_rating, previous_rating=old.predicted_rating,
        )

    def posted(self, entry: Entry) -> Activity:
        return self._activity(
            Verb.POSTED, entry, entry.updated or self.now, "", entry.entry_id, summary=entry.summary
        )


def _opinion(entry: Entry) -> float | str | None:
    """What a ratings entry says: a rating, "not interested", or nothing."""
    return "not interested" if entry.not_interested else entry.user_rating


def _prediction_moved(old: Entry, new: Entry) -> bool:
    if old.predicted_rating is None or new.predicted_rating is None:
        return False
    # Rounded, so that 3.6 → 4.1 (0.4999… in binary) counts as the half star it is.
    return round(abs(new.predicted_rating - old.predicted_rating), 6) >= PREDICTION_STEP


def _baseline(old: Entry, new: Entry) -> Entry:
    """The entry to store for a recommendation: the new one, but with the prediction last
    published while the move is too small to publish (see the module docstring)."""
    if old.predicted_rating is None or new.predicted_rating is None or _prediction_moved(old, new):
        return new
    return replace(new, predicted_rating=old.predicted_rating)


def _listed(new: tuple[Entry, ...], first: bool) -> tuple[Entry, ...]:
    """New list entries that deserve an activity: on a first poll only the dated ones."""
    return tuple(e for e in new if e.updated is not None) if first else new


def _moved(before: Mapping[str, Entry], current: Mapping[str, Entry]) -> list[str]:
    """Keys of the titles that changed order relative to the others, in O(n log n).

    Only titles present, with a position, in both snapshots take part, so additions and
    removals above a title (which shift it) are not moves. Taken in old order, the titles
    whose new positions form a longest increasing subsequence stayed put; the rest moved.
    """
    both = [
        k for k, e in current.items()
        if e.position is not None and k in before and before[k].position is not None
    ]
    both.sort(key=lambda k: (before[k].position, k))
    positions = [current[k].position for k in both]
    # Patience sorting: tails[i] is the index of the smallest last element of an
    # increasing run of length i + 1; parent links rebuild one longest run.
    tails: list[int] = []
    tail_values: list[int] = []
    parent = [-1] * len(positions)
    for i, value in enumerate(positions):
        at = bisect_left(tail_values, value)
        parent[i] = tails[at - 1] if at else -1
        if at == len(tails):
            tails.append(i)
            tail_values.append(value)
        else:
            tails[at] = i
            tail_values[at] = value
    stayed: set[int] = set()
    i = tails[-1] if tails else -1
    while i != -1:
        stayed.add(i)
        i = parent[i]
    return [k for i, k in enumerate(both) if i not in stayed]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("feedhub datetimes must be aware (UTC)")
    return moment.astimezone(timezone.utc)


def _iso_or_undated(moment: datetime | None) -> str:
    return UNDATED if moment is None else rfc3339(moment)


def _number(rating: float) -> str:
    """4 and 4.0 are the same rating, so they must give the same id."""
    return f"{float(rating):g}"
