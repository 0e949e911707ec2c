"""Scripted activity: what a test or a demo makes a user do, at chosen times, on top of
(or instead of) the simulated stream.

A ``ScriptedEvent`` names an action, a catalog title and the action's values; ``to_event``
checks it against the catalog and turns it into one of the world's events, which the
world then replays in time order with the simulated ones (``World.script``).
``watched_history`` makes a long viewing history in bulk. Knows nothing of HTTP.

Actions and their values:

| action | title | values |
|---|---|---|
| ``queue_add`` | movie or season | ``position`` (1-based; default: at the end) |
| ``queue_remove`` | movie or season | — |
| ``queue_move`` | movie or season | ``position`` (required) |
| ``watch`` | movie or episode | ``viewed_seconds`` (default: all of it) |
| ``rate`` | movie or season | ``rating``: 1–5 or ``"not_interested"``; ``predicted`` |
| ``recommend`` | movie or season | ``predicted`` |
| ``predict`` | movie or season | ``predicted`` (required): a recommendation's new predicted rating |

``predicted`` defaults to the user's own predicted rating of the title, as the simulation
has it. An action that does not apply when its time comes (removing or moving a title
that is not in the queue, adding one that is, predicting for a title not recommended)
changes nothing, as the real API would have refused it.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from ..dates import rfc3339
from .catalog import Catalog, CatalogTitle
from .world import NOT_INTERESTED, Event, QueueAdd, QueueMove, QueueRemove, Rate, Recommend, Repredict, Watch

ACTIONS = ("queue_add", "queue_remove", "queue_move", "watch", "rate", "recommend", "predict")
_VALUES = {  # the values each action takes
    "queue_add": {"position"},
    "queue_remove": set(),
    "queue_move": {"position"},
    "watch": {"viewed_seconds"},
    "rate": {"rating", "predicted"},
    "recommend": {"predicted"},
    "predict": {"predicted"},
}
_REQUIRED = {"queue_move": "position", "rate": "rating", "predict": "predicted"}


@dataclass(frozen=True)
class ScriptedEvent:
    """One thing a user does at ``at`` (aware; events happen on whole seconds, so any
    fraction is dropped)."""

    at: datetime
    action: str
    title_id: int
    position: int | None = None
    rating: int | str | None = None  # 1–5 or "not_interested"
    predicted: float | None = None  # 1.0–5.0
    viewed_seconds: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise ValueError("at must be an aware datetime")
        object.__setattr__(self, "at", self.at.astimezone(timezone.utc).replace(microsecond=0))
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {self.action!r}")
        given = {name for name in ("position", "rating", "predicted", "viewed_seconds") if getattr(self, name) is not None}
        if extra := given - _VALUES[self.action]:
            raise ValueError(f"{self.action} takes no {', '.join(sorted(extra))}")
        if (needed := _REQUIRED.get(self.action)) and needed not in given:
            raise ValueError(f"{self.action} needs a {needed}")
        if self.position is not None and (not _whole(self.position) or self.position < 1):
            raise ValueError("position is a whole number, 1 or more")
        if self.rating is not None and self.rating != NOT_INTERESTED and (not _whole(self.rating) or not 1 <= self.rating <= 5):
            raise ValueError(f"rating is a whole number from 1 to 5 or {NOT_INTERESTED!r}")
        if self.predicted is not None and (
            isinstance(self.predicted, bool) or not isinstance(self.predicted, (int, float)) or not 1 <= self.predicted <= 5
        ):
            raise ValueError("predicted is a number from 1.0 to 5.0")
        if self.viewed_seconds is not None and (not _whole(self.viewed_seconds) or self.viewed_seconds < 1):
            raise ValueError("viewed_seconds is a whole number, 1 or more")

    @classmethod
    def from_json(cls, data: Any, parse_moment: Callable[[str], datetime]) -> ScriptedEvent:
        """From the control endpoint's JSON: ``at`` as RFC 3339 or Unix seconds."""
        if not isinstance(data, dict) or not {"at", "action", "title_id"} <= data.keys():
            raise ValueError('an event is a JSON object with "at", "action" and "title_id"')
        if unknown := data.keys() - {f for f in cls.__dataclass_fields__}:
            raise ValueError(f"unknown event fields: {', '.join(sorted(unknown))}")
        if not _whole(data["title_id"]):
            raise ValueError("title_id is a catalog id (a whole number)")
        return cls(**{**data, "at": parse_moment(str(data["at"]))})

    def to_json(self) -> dict[str, Any]:
        fields = asdict(self)
        fields["at"] = rfc3339(self.at)
        return {name: value for name, value in fields.items() if value is not None}


def to_event(scripted: ScriptedEvent, catalog: Catalog, predicted_of: Callable[[CatalogTitle], float]) -> Event:
    """The world's event for ``scripted``; ``ValueError`` when the title does not fit."""
    title = catalog.get(scripted.title_id)
    if title is None:
        raise ValueError(f"no title {scripted.title_id} in the catalog")
    at, action = scripted.at, scripted.action
    if action == "watch":
        if title.is_season:
            raise ValueError(f"{action}: title {title.id} is a season; watch its episodes")
        return Watch(at, title, min(scripted.viewed_seconds or title.runtime, title.runtime))
    if title.is_episode:
        raise ValueError(f"{action}: title {title.id} is an episode; queues, ratings and recommendations hold movies and seasons")
    predicted = round(float(scripted.predicted), 1) if scripted.predicted is not None else predicted_of(title)
    match action:
        case "queue_add":
            return QueueAdd(at, title, scripted.position)
        case "queue_remove":
            return QueueRemove(at, title)
        case "queue_move":
            return QueueMove(at, title, scripted.position)
        case "rate":
            return Rate(at, title, scripted.rating, predicted)
        case "recommend":
            return Recommend(at, title, predicted)
        case _:  # "predict"
            return Repredict(at, title, predicted)


def watched_history(catalog: Catalog, count: int, first: datetime, last: datetime, seed: str) -> tuple[Watch, ...]:
    """``count`` viewings of as many different titles, evenly spread from ``first`` to
    ``last`` (whole seconds), each watched to the end. Movies and whole seasons are
    taken in an order shuffled by ``seed``; a season's episodes are watched in order."""
    units: list[list[CatalogTitle]] = [
        [catalog.by_id[i] for i in title.episode_ids] if title.is_season else [title] for title in catalog.listable
    ]
    random.Random(seed).shuffle(units)
    titles = [title for unit in units for title in unit][:count]
    if len(titles) < count:
        raise ValueError(f"the catalog has only {len(titles)} titles to watch, not {count}")
    span = (last - first).total_seconds()
    if count and span < count:
        raise ValueError("too many viewings for the time given: at most one a second")
    return tuple(
        Watch(first + timedelta(seconds=int(span * (n + 1) / (count + 1))), title, title.runtime)
        for n, title in enumerate(titles)
    )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
