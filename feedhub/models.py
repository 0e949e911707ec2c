"""Plain data passed between the steps of the pipeline.

Everything here is a frozen dataclass holding aware UTC datetimes. Nothing in this
module touches the network, the database or the clock.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Kind(str, enum.Enum):
    """What a source carries (SPEC §1)."""

    QUEUE = "queue"
    QUEUE_RECENT = "queue_recent"
    WATCHED = "watched"
    RATINGS = "ratings"
    RECOMMENDATIONS = "recommendations"
    OTHER = "other"

    @property
    def is_list(self) -> bool:
        """List kinds are snapshots of a list; the others are logs of events."""
        return self in (Kind.QUEUE, Kind.RATINGS, Kind.RECOMMENDATIONS)


class Verb(str, enum.Enum):
    """What happened, as republished."""

    WATCHED = "watched"
    RATED = "rated"
    RERATED = "rerated"
    NOT_INTERESTED = "not_interested"  # the API's rating value for "not for me"
    QUEUED = "queued"
    UNQUEUED = "unqueued"
    MOVED = "moved"
    RECOMMENDED = "recommended"
    UNRECOMMENDED = "unrecommended"
    PREDICTION_CHANGED = "prediction_changed"  # a recommendation's predicted rating moved
    POSTED = "posted"  # an entry of a generic ("other") feed

    @property
    def kind(self) -> Kind:
        """The kind of feed this verb is published under (for ``kind=`` filters)."""
        return _VERB_KIND[self]


_VERB_KIND = {
    Verb.WATCHED: Kind.WATCHED,
    Verb.RATED: Kind.RATINGS,
    Verb.RERATED: Kind.RATINGS,
    Verb.NOT_INTERESTED: Kind.RATINGS,
    Verb.QUEUED: Kind.QUEUE,
    Verb.UNQUEUED: Kind.QUEUE,
    Verb.MOVED: Kind.QUEUE,
    Verb.RECOMMENDED: Kind.RECOMMENDATIONS,
    Verb.UNRECOMMENDED: Kind.RECOMMENDATIONS,
    Verb.PREDICTION_CHANGED: Kind.RECOMMENDATIONS,
    Verb.POSTED: Kind.OTHER,
}


@dataclass(frozen=True)
class BoxArt:
    small: str | None = None
    medium: str | None = None
    large: str | None = None

    @property
    def best(self) -> str | None:
        return self.large or self.medium or self.small


@dataclass(frozen=True)
class Title:
    """A catalog item as seen in a feed entry.

    ``key`` identifies the title across feeds and formats: ``catalog:<id>`` from the
    API's catalog URL or a Netflix title page link where known, else ``link:<web url>``,
    else ``name:<normalised name>|<year>``.
    """

    key: str
    name: str
    year: int | None = None
    web_url: str | None = None
    box_art: BoxArt = field(default_factory=BoxArt)
    maturity_rating: str | None = None  # MPAA or TV rating label, e.g. "R", "TV-14"
    average_rating: float | None = None
    runtime_seconds: int | None = None

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.year})" if self.year else self.name


@dataclass(frozen=True)
class Entry:
    """One normalized entry of one fetched document, as the source showed it."""

    entry_id: str  # the source's own id (atom:id, guid, JSON id); never shown to readers
    kind: Kind
    title: Title
    updated: datetime | None = None  # the source's timestamp for this entry
    position: int | None = None  # queue position (1-based)
    user_rating: float | None = None  # the person's own rating, 1..5
    not_interested: bool = False  # rated "not interested" (then user_rating is None)
    predicted_rating: float | None = None
    watched_at: datetime | None = None
    summary: str | None = None  # plain text, for generic feeds


@dataclass(frozen=True)
class Snapshot:
    """What one poll of one source saw.

    ``complete`` is true when the snapshot holds the whole list (every page was read);
    only then can an item's absence mean it was removed.
    """

    kind: Kind
    entries: tuple[Entry, ...]
    complete: bool = True


@dataclass(frozen=True)
class Activity:
    """One thing that happened, as republished.

    ``id`` is a ``tag:`` URI derived only from what the activity is, so it is the same
    across re-polls, restarts and re-adding a source (see ``decide.activity_id``).
    """

    id: str
    account_key: str  # stable identity of the account (see storage)
    verb: Verb
    title: Title
    occurred_at: datetime
    rating: float | None = None  # the new rating for rated/rerated, predicted for recommended
    previous_rating: float | None = None
    position: int | None = None
    previous_position: int | None = None
    summary: str | None = None


@dataclass(frozen=True)
class TimelineItem:
    """An activity placed in a merged timeline, with who did it."""

    activity: Activity
    account_name: str
    also: tuple[str, ...] = ()  # other accounts that did the same to the same title
