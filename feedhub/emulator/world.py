"""The deterministic simulation behind the emulator: sample users, their secret tokens,
and what each of them does over time.

A user's activity is a stream of events that is a pure function of (seed, user index,
``start``, ``pace_seconds``): a history phase over the 60 days before ``start``, then a
live phase with one event every ``pace_seconds`` on average, for ever. Events are made
lazily, in order, from one random stream per user, so the same inputs always give the
same events whenever they are asked for. ``state_at`` replays them up to a time, from
cached checkpoints. Scripted events (``World.script``, see ``script.py``) happen too, in
time order with the simulated ones; a world made with ``simulated=False`` has only those.
Knows nothing of HTTP or XML.
"""
from __future__ import annotations

import base64
import bisect
import copy
import enum
import hashlib
import hmac
import math
import random
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import Callable, Mapping, Sequence

from .catalog import Catalog, CatalogTitle

HISTORY = timedelta(days=60)
HISTORY_MEAN_GAP = 2.5 * 3600  # seconds between two history events of one user, on average
MAX_RECOMMENDATIONS = 50  # beyond this the oldest recommendation drops off
NOT_INTERESTED = "not_interested"  # the API's rating value for "not for me"
_CHECKPOINT_EVERY = 32  # events between two cached replay states
# A title watched or rated among a user's latest ones is not offered to them again.
_RECENT_WATCHED = 100
_RECENT_RATED = 60

_FIRST_NAMES = (
    "Mara", "Theo", "Iris", "Jonas", "Lena", "Omar", "Priya", "Felix", "Nora", "Tomas",
    "Ines", "Ravi", "Hana", "Milo", "Zara", "Emil", "Talia", "Bruno", "Yara", "Odile",
)
_LAST_NAMES = (
    "Ashdown", "Brightley", "Calloway", "Dunmere", "Everly", "Fairholm", "Garrow",
    "Hollis", "Ivers", "Kestrel", "Lindqvist", "Marlow", "Northcote", "Penhale", "Quill",
    "Rowan", "Thorne", "Whitlock", "Yarrow", "Ostrander",
)


class Feed(str, enum.Enum):
    """The five feeds of a user's feeds list."""

    QUEUE = "queue"
    QUEUE_RECENT = "queue_recent"
    WATCHED = "watched"
    RECOMMENDATIONS = "recommendations"
    RATINGS = "ratings"


@dataclass(frozen=True)
class FeedTokens:
    """A user's secrets. The instant queue and its recent-additions view share one token,
    as in the reference's feeds list."""

    queue: str
    watched: str
    recommendations: str
    ratings: str
    feeds_list: str  # emulator extension: authorises users/<id>/feeds without OAuth

    def for_feed(self, feed: Feed) -> str:
        if feed in (Feed.QUEUE, Feed.QUEUE_RECENT):
            return self.queue
        return getattr(self, feed.value)


@dataclass(frozen=True)
class User:
    index: int
    id: str  # "T1" + 40 url-safe characters, like the reference's user ids
    first_name: str
    last_name: str
    tokens: FeedTokens = field(repr=False)
    password: str = field(default="", repr=False)  # for the OAuth login page

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def login(self) -> str:
        """What the OAuth login page takes as the subscriber's name."""
        return f"{self.first_name}.{self.last_name}".lower()


@dataclass(frozen=True)
class QueueItem:
    title: CatalogTitle
    added_at: datetime
    position: int | None  # 1-based; None for a saved (not yet available) title

    @property
    def updated(self) -> datetime:
        return self.added_at


@dataclass(frozen=True)
class WatchedItem:
    title: CatalogTitle
    watched_at: datetime
    viewed_seconds: int

    @property
    def updated(self) -> datetime:
        return self.watched_at


@dataclass(frozen=True)
class RatingItem:
    title: CatalogTitle
    user_rating: int | str  # 1–5, or NOT_INTERESTED
    rated_at: datetime
    predicted_rating: float

    @property
    def updated(self) -> datetime:
        return self.rated_at


@dataclass(frozen=True)
class Recommendation:
    title: CatalogTitle
    predicted_rating: float
    recommended_at: datetime

    @property
    def updated(self) -> datetime:
        return self.recommended_at


FeedItem = QueueItem | WatchedItem | RatingItem | Recommendation


@dataclass(frozen=True)
class UserState:
    """What one user's feeds show at one moment."""

    queue: tuple[QueueItem, ...]  # queue order: available titles by position, then saved ones
    watched: tuple[WatchedItem, ...]  # newest first; one entry per title (a re-watch moves it up)
    ratings: tuple[RatingItem, ...]  # most recently rated first
    recommendations: tuple[Recommendation, ...]  # newest first
    last_changed: Mapping[Feed, datetime]


# Events: what a user does. Titles are the catalog's objects, so replay needs no lookups.
@dataclass(frozen=True)
class QueueAdd:
    at: datetime
    title: CatalogTitle
    position: int | None = None  # 1-based; None: at the end


@dataclass(frozen=True)
class QueueRemove:
    at: datetime
    title: CatalogTitle


@dataclass(frozen=True)
class QueueMove:
    at: datetime
    title: CatalogTitle
    position: int


@dataclass(frozen=True)
class Watch:
    at: datetime
    title: CatalogTitle  # a movie or an episode
    viewed_seconds: int


@dataclass(frozen=True)
class Rate:
    at: datetime
    title: CatalogTitle
    rating: int | str
    predicted_rating: float


@dataclass(frozen=True)
class Recommend:
    at: datetime
    title: CatalogTitle
    predicted_rating: float


@dataclass(frozen=True)
class Repredict:
    """A recommendation's predicted rating changes (only scripted: the simulation's
    predictions depend on the user and the title alone)."""

    at: datetime
    title: CatalogTitle
    predicted_rating: float


Event = QueueAdd | QueueRemove | QueueMove | Watch | Rate | Recommend | Repredict


class World:
    """The sample users of one seed and their activity."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        seed: int,
        users: int,
        start: datetime,
        pace_seconds: float = 20.0,
        simulated: bool = True,
    ) -> None:
        if users < 1:
            raise ValueError("the emulator needs at least one user")
        if pace_seconds <= 0:
            raise ValueError("pace_seconds must be positive")
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        self.catalog = catalog
        self.seed = seed
        self.start = _whole_second(start)
        self.history_start = self.start - HISTORY
        self.pace_seconds = pace_seconds
        self.simulated = simulated  # False: users do only what is scripted (``script``)
        self.consumer_key = base64.b32encode(_secret(seed, "consumer_key")).decode("ascii").lower()[:24]
        self.users = _make_users(seed, users)
        self._by_id = {user.id: user for user in self.users}
        # Per user: how often its feed tokens and its feeds-list token were re-issued, and when.
        self._issues: list[tuple[int, int, datetime]] = [(0, 0, self.history_start)] * users
        self._issue_lock = threading.Lock()
        self._timelines = tuple(_Timeline(self, index) for index in range(users))

    def user(self, user_id: str) -> User | None:
        return self._by_id.get(user_id)

    def secret(self, purpose: str) -> bytes:
        """Bytes derived from the seed for ``purpose``: the same for the same seed."""
        return _secret(self.seed, purpose)

    def state_at(self, user: User | int, at: datetime) -> UserState:
        index = user.index if isinstance(user, User) else user
        return self._timelines[index].state_at(at)

    def script(self, index: int, events: Sequence[Event]) -> None:
        """Make user ``index`` do ``events`` too, each at its time, after any simulated
        event of the same second. All or nothing: every event must be later than the
        latest moment already served for this user, since that past has been shown."""
        self._timelines[index].script(events)

    def predicted_rating(self, index: int, title: CatalogTitle) -> float:
        """User ``index``'s predicted rating of ``title``, as recommendations show it."""
        return self._timelines[index].predicted_rating(title)

    def reissue_tokens(self, index: int, at: datetime, *, feeds_list: bool = False) -> User:
        """Give user ``index`` new feed tokens (and a new feeds-list token with
        ``feeds_list``), as the API does when access is revoked; the old ones stop working."""
        with self._issue_lock:
            feeds, lists, _ = self._issues[index]
            self._issues[index] = (feeds + 1, lists + int(feeds_list), _whole_second(at))
            old = self.users[index]
            user = replace(old, tokens=_make_tokens(self.seed, index, feeds + 1, lists + int(feeds_list)))
            self.users = self.users[:index] + (user,) + self.users[index + 1 :]
            self._by_id = {**self._by_id, user.id: user}
        return user

    def tokens_issued_at(self, index: int) -> datetime:
        """When user ``index``'s current tokens were issued (the start of the history at first)."""
        return self._issues[index][2]


def _secret(seed: int, purpose: str) -> bytes:
    return hmac.new(f"feedhub-emulator:{seed}".encode(), purpose.encode(), hashlib.sha384).digest()


def _make_users(seed: int, count: int) -> tuple[User, ...]:
    names = random.Random(f"feedhub-emulator-users:{seed}")
    first_names = names.sample(_FIRST_NAMES, len(_FIRST_NAMES))
    last_names = names.sample(_LAST_NAMES, len(_LAST_NAMES))
    # Shifting the last name once per round of first names keeps every pair distinct.
    return tuple(
        _make_user(
            seed,
            index,
            first_names[index % len(first_names)],
            last_names[(index + index // len(first_names)) % len(last_names)],
        )
        for index in range(count)
    )


def _make_user(seed: int, index: int, first_name: str, last_name: str) -> User:
    user_id = "T1" + base64.urlsafe_b64encode(_secret(seed, f"user:{index}:id")).decode("ascii")[:40]
    return User(
        index=index,
        id=user_id,
        first_name=first_name,
        last_name=last_name,
        tokens=_make_tokens(seed, index, 0, 0),
        password=base64.urlsafe_b64encode(_secret(seed, f"user:{index}:password")).decode("ascii")[:16],
    )


def _make_tokens(seed: int, index: int, feeds_issue: int, list_issue: int) -> FeedTokens:
    """The tokens of one issue; the first issue's are those of every earlier version."""

    def token(purpose: str, issue: int) -> str:
        # Like the reference's tokens: "T1" and 64 characters from [A-Za-z0-9._].
        label = f"user:{index}:{purpose}" + (f":{issue}" if issue else "")
        return "T1" + base64.urlsafe_b64encode(_secret(seed, label)).decode("ascii").replace("-", ".")

    return FeedTokens(
        queue=token("queue", feeds_issue),
        watched=token("watched", feeds_issue),
        recommendations=token("recommendations", feeds_issue),
        ratings=token("ratings", feeds_issue),
        feeds_list=token("feeds_list", list_issue),
    )


def _whole_second(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(microsecond=0)


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


class _Replay:
    """Mutable state that events are applied to, in order."""

    def __init__(self, catalog: Catalog, since: datetime) -> None:
        self.catalog = catalog
        self.queue: list[QueueItem] = []  # available titles in queue order, positions unset
        self.saved: list[QueueItem] = []
        self.watched: dict[int, WatchedItem] = {}  # oldest first
        self.ratings: dict[int, RatingItem] = {}  # oldest first
        self.recommendations: dict[int, Recommendation] = {}  # oldest first
        self.progress: dict[int, int] = {}  # season id → number of its latest watched episode
        self.last_changed = {feed: since for feed in Feed}

    def copy(self) -> _Replay:
        twin = copy.copy(self)
        twin.queue, twin.saved = list(self.queue), list(self.saved)
        twin.watched, twin.ratings = dict(self.watched), dict(self.ratings)
        twin.recommendations, twin.progress = dict(self.recommendations), dict(self.progress)
        twin.last_changed = dict(self.last_changed)
        return twin

    def freeze(self) -> UserState:
        return UserState(
            queue=tuple(replace(item, position=n) for n, item in enumerate(self.queue, 1)) + tuple(self.saved),
            watched=tuple(reversed(self.watched.values())),
            ratings=tuple(reversed(self.ratings.values())),
            recommendations=tuple(reversed(self.recommendations.values())),
            last_changed=dict(self.last_changed),
        )

    def apply(self, event: Event) -> None:
        at = event.at
        match event:
            case QueueAdd(title=title) if self._queued_title(title.id) is not None:
                pass  # already queued (only a scripted event can ask): nothing changes
            case QueueAdd(title=title, position=position):
                item = QueueItem(title, at, None)
                if not title.available:
                    self.saved.append(item)
                elif position is None:
                    self.queue.append(item)
                else:
                    self.queue.insert(position - 1, item)
                self._touch(Feed.QUEUE, at)
                self._unrecommend(title, at)  # nobody is recommended what they already queued
            case QueueRemove(title=title):
                self._unqueue(title, at)
            case QueueMove(title=title, position=position):
                index = next((i for i, item in enumerate(self.queue) if item.title.id == title.id), None)
                if index is not None:  # a scripted move of a title not in the queue changes nothing
                    self.queue.insert(position - 1, self.queue.pop(index))
                    self._touch(Feed.QUEUE, at)
            case Watch(title=title, viewed_seconds=viewed):
                self.watched.pop(title.id, None)  # a re-watch moves the title to the top
                self.watched[title.id] = WatchedItem(title, at, viewed)
                self._touch(Feed.WATCHED, at)
                listed_id, finished = title.id, True
                if title.season_id is not None:
                    listed_id = title.season_id
                    episodes = self.catalog.by_id[listed_id].episode_ids
                    self.progress[listed_id] = episodes.index(title.id) + 1  # episodes go in order
                    finished = self.progress[listed_id] == len(episodes)
                listed = self._queued_title(listed_id)
                if finished and listed is not None:
                    self._unqueue(listed, at)
                if listed_id in self.recommendations:
                    self._unrecommend(self.recommendations[listed_id].title, at)
            case Rate(title=title, rating=rating, predicted_rating=predicted):
                self.ratings.pop(title.id, None)
                self.ratings[title.id] = RatingItem(title, rating, at, predicted)
                self._touch(Feed.RATINGS, at)
                self._unrecommend(title, at)
            case Recommend(title=title, predicted_rating=predicted):
                self.recommendations[title.id] = Recommendation(title, predicted, at)
                if len(self.recommendations) > MAX_RECOMMENDATIONS:
                    del self.recommendations[next(iter(self.recommendations))]
                self._touch(Feed.RECOMMENDATIONS, at)
            case Repredict(title=title, predicted_rating=predicted):
                if (held := self.recommendations.get(title.id)) is not None:
                    # Keeps its place and its date: only the prediction changes.
                    self.recommendations[title.id] = replace(held, predicted_rating=predicted)
                    self._touch(Feed.RECOMMENDATIONS, at)

    def _queued_title(self, title_id: int) -> CatalogTitle | None:
        return next((i.title for i in (*self.queue, *self.saved) if i.title.id == title_id), None)

    def _unqueue(self, title: CatalogTitle, at: datetime) -> None:
        before = len(self.queue) + len(self.saved)
        self.queue = [item for item in self.queue if item.title.id != title.id]
        self.saved = [item for item in self.saved if item.title.id != title.id]
        if len(self.queue) + len(self.saved) != before:
            self._touch(Feed.QUEUE, at)

    def _unrecommend(self, title: CatalogTitle, at: datetime) -> None:
        if self.recommendations.pop(title.id, None) is not None:
            self._touch(Feed.RECOMMENDATIONS, at)

    def _touch(self, feed: Feed, at: datetime) -> None:
        self.last_changed[feed] = at
        if feed is Feed.QUEUE:  # the recent-additions view shows the same queue
            self.last_changed[Feed.QUEUE_RECENT] = at


class _Timeline:
    """One user's events, made lazily and in order, with cached replay checkpoints."""

    def __init__(self, world: World, index: int) -> None:
        self._catalog = world.catalog
        self._seed, self._index = world.seed, index
        self._start = int(world.start.timestamp())
        self._pace = world.pace_seconds
        self._rng = random.Random(f"feedhub-emulator-activity:{world.seed}:{index}")
        self._taste = self._rng.uniform(-0.4, 0.4)  # this user rates above or below average
        self._predicted: dict[int, float] = {}
        self._head = _Replay(world.catalog, world.history_start)
        self._events: list[Event] = []
        self._times: list[int] = []  # Unix seconds of the events, for bisection
        self._checkpoints = [self._head.copy()]  # [k]: the state after k * _CHECKPOINT_EVERY events
        # When the next simulated event happens; never, for a world without simulation.
        self._pending: float = self._next_time(int(world.history_start.timestamp())) if world.simulated else math.inf
        self._scripted: list[tuple[int, Event]] = []  # (Unix seconds, event), in time order
        self._served = -math.inf  # the latest moment asked for: the past that has been shown
        self._cached: tuple[int, UserState] | None = None
        self._lock = threading.Lock()

    def state_at(self, at: datetime) -> UserState:
        moment = at.timestamp()
        with self._lock:
            self._served = max(self._served, moment)
            while True:
                scripted = self._scripted[0][0] if self._scripted else math.inf
                if min(self._pending, scripted) > moment:
                    break
                if self._pending <= scripted:  # a simulated event first at the same second
                    self._happen(int(self._pending))
                else:
                    self._record(*self._scripted.pop(0))
            count = bisect.bisect_right(self._times, moment)
            if self._cached is None or self._cached[0] != count:
                if count == len(self._events):
                    state = self._head.freeze()
                else:
                    replay = self._checkpoints[count // _CHECKPOINT_EVERY].copy()
                    for event in self._events[count - count % _CHECKPOINT_EVERY : count]:
                        replay.apply(event)
                    state = replay.freeze()
                self._cached = (count, state)
            return self._cached[1]

    def script(self, events: Sequence[Event]) -> None:
        with self._lock:
            for event in events:
                if event.at.timestamp() <= self._served:
                    raise ValueError(
                        f"an event at {event.at.isoformat()} is not later than what the emulator has "
                        "already served for this user; script events in its future"
                    )
            timed = [(int(event.at.timestamp()), event) for event in events]
            # A stable sort: events of the same second happen in the order given.
            self._scripted = sorted(self._scripted + timed, key=lambda pair: pair[0])

    def predicted_rating(self, title: CatalogTitle) -> float:
        with self._lock:
            return self._predicted_rating(title)

    def _happen(self, timestamp: int) -> None:
        self._record(timestamp, self._decide(_at(timestamp)))
        self._pending = self._next_time(timestamp)

    def _record(self, timestamp: int, event: Event) -> None:
        self._head.apply(event)
        self._events.append(event)
        self._times.append(timestamp)
        if len(self._events) % _CHECKPOINT_EVERY == 0:
            self._checkpoints.append(self._head.copy())

    def _next_time(self, last: int) -> int:
        if last < self._start:
            candidate = last + max(60, round(self._rng.expovariate(1 / HISTORY_MEAN_GAP)))
            if candidate < self._start:
                return candidate
            last = self._start
        return last + max(1, round(self._rng.expovariate(1 / self._pace)))

    def _decide(self, at: datetime) -> Event:
        queued = len(self._head.queue) + len(self._head.saved)
        # Adding to the queue leans against its size, which keeps it around 40–70 titles.
        add = 0.4 if queued < 50 else 0.04 if queued > 65 else 0.2
        makers: tuple[Callable[[datetime], Event | None], ...] = (
            self._watch, self._add, self._remove, self._move, self._rate, self._recommend,
        )
        maker = self._rng.choices(makers, (0.32, add, 0.04, 0.06, 0.2, 0.17))[0]
        # When the chosen kind has nothing to act on, the user watches something instead.
        return maker(at) or self._watch(at)

    def _watch(self, at: datetime) -> Watch:
        rng, state = self._rng, self._head
        roll = rng.random()
        started = [season_id for season_id in state.progress if not self._finished(season_id)]
        if started and roll < 0.45:
            return self._next_episode(self._catalog.by_id[rng.choice(started)], at)
        if state.queue and roll < 0.8:
            # Mostly a title near the top of the queue.
            title = state.queue[min(int(rng.expovariate(0.6)), len(state.queue) - 1)].title
            return self._next_episode(title, at) if title.is_season else self._viewing(title, at)
        if roll < 0.9:
            earlier = [w.title for w in state.watched.values() if w.title.is_movie and w.watched_at.date() < at.date()]
            if earlier:
                return self._viewing(rng.choice(earlier), at)  # a re-watch, on a later day
        title = self._pick(self._fresh())
        if title is None:  # nothing new to pick: watch something again
            return self._viewing(rng.choice([w.title for w in state.watched.values()]), at)
        return self._next_episode(title, at) if title.is_season else self._viewing(title, at)

    def _next_episode(self, season: CatalogTitle, at: datetime) -> Watch:
        done = self._head.progress.get(season.id, 0)
        if done == len(season.episode_ids):  # seen it all before: start again
            done = 0
        return self._viewing(self._catalog.by_id[season.episode_ids[done]], at)

    def _viewing(self, title: CatalogTitle, at: datetime) -> Watch:
        full = self._rng.random() < 0.75
        viewed = title.runtime if full else self._rng.randint(title.runtime // 10, title.runtime)
        return Watch(at, title, viewed)

    def _add(self, at: datetime) -> QueueAdd | None:
        rng, state = self._rng, self._head
        title = None
        if state.recommendations and rng.random() < 0.25:
            title = rng.choice(list(state.recommendations.values())).title
        else:
            title = self._pick(self._fresh())
        if title is None:
            return None
        position = None
        if title.available and state.queue and rng.random() < 0.25:
            position = rng.randint(1, len(state.queue))
        return QueueAdd(at, title, position)

    def _remove(self, at: datetime) -> QueueRemove | None:
        items = self._head.queue + self._head.saved
        return QueueRemove(at, self._rng.choice(items).title) if items else None

    def _move(self, at: datetime) -> QueueMove | None:
        queue = self._head.queue
        if len(queue) < 2:
            return None
        index = self._rng.randrange(len(queue))
        position = self._rng.choice([p for p in range(1, len(queue) + 1) if p != index + 1])
        return QueueMove(at, queue[index].title, position)

    def _rate(self, at: datetime) -> Rate | None:
        rng, state = self._rng, self._head
        roll = rng.random()
        if state.ratings and roll < 0.15:  # a change of mind
            old = rng.choice(list(state.ratings.values()))
            stars = rng.choice([r for r in range(1, 6) if r != old.user_rating])
            return Rate(at, old.title, stars, old.predicted_rating)
        if state.recommendations and roll < 0.2:
            rejected = rng.choice(list(state.recommendations.values()))
            return Rate(at, rejected.title, NOT_INTERESTED, rejected.predicted_rating)
        # Mostly something watched lately and not rated since.
        candidates: list[CatalogTitle] = []
        for watched in islice(reversed(state.watched.values()), 15):
            title = watched.title
            if title.season_id is not None:  # episodes are rated through their season
                title = self._catalog.by_id[title.season_id]
            rating = state.ratings.get(title.id)
            if (rating is None or rating.rated_at < watched.watched_at) and title not in candidates:
                candidates.append(title)
        title = rng.choice(candidates) if candidates else self._pick(lambda t: t.id not in state.ratings)
        if title is None:
            return None
        predicted = self._predicted_rating(title)
        stars = min(5, max(1, round(predicted + rng.gauss(0, 0.8))))
        return Rate(at, title, stars, predicted)

    def _recommend(self, at: datetime) -> Recommend | None:
        title = self._pick(self._fresh())
        return Recommend(at, title, self._predicted_rating(title)) if title else None

    def _fresh(self) -> Callable[[CatalogTitle], bool]:
        """Which titles are new to this user: not queued, not recommended, not started,
        not watched or rated lately. Long-ago titles come back, so a user never runs out."""
        state = self._head
        recent = {w.title.season_id or w.title.id for w in islice(reversed(state.watched.values()), _RECENT_WATCHED)}
        recent.update(islice(reversed(state.ratings.keys()), _RECENT_RATED))
        recent.update(state.recommendations)
        recent.update(season_id for season_id in state.progress if not self._finished(season_id))
        recent.update(item.title.id for item in (*state.queue, *state.saved))
        return lambda title: title.id not in recent

    def _finished(self, season_id: int) -> bool:
        return self._head.progress[season_id] == len(self._catalog.by_id[season_id].episode_ids)

    def _pick(self, accept: Callable[[CatalogTitle], bool]) -> CatalogTitle | None:
        """A random movie or season that ``accept``s, or None after a few tries."""
        for _ in range(25):
            title = self._rng.choice(self._catalog.listable)
            if accept(title):
                return title
        return None

    def _predicted_rating(self, title: CatalogTitle) -> float:
        # A function of (seed, user, title) alone, so recommendations and ratings agree.
        if title.id not in self._predicted:
            noise = random.Random(f"feedhub-emulator-predicted:{self._seed}:{self._index}:{title.id}").gauss(0, 0.35)
            self._predicted[title.id] = round(min(5.0, max(1.0, title.average_rating + self._taste + noise)), 1)
        return self._predicted[title.id]
