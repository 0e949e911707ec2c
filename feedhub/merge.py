"""Merge the activities of many accounts into one ordered, filtered, de-duplicated timeline.

Pure: no network, database, clock or app context. Storage reads the rows; the web and
publish layers render the result. ``parse_filter`` turns a channel's query parameters
(SPEC §6: ``kind``, ``account``, ``min_rating``, ``q``, ``since``, ``limit``) into a
``TimelineFilter`` and says clearly which parameter is wrong when one is.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from feedhub.models import Activity, Kind, TimelineItem, Verb

DEFAULT_LIMIT = 50
MAX_LIMIT = 500  # SPEC §6: a channel serves at most 500 items at once

# RFC 3339 date-time, or a bare date; a missing offset means UTC. A space stands for the
# offset's "+" too, because an unencoded "+" in a query string arrives as a space.
_SINCE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?P<offset>[Zz]|[+\- ]\d{2}:\d{2})?)?"
)


@dataclass(frozen=True)
class TimelineFilter:
    """Which activities a timeline shows, and how many.

    ``None`` means "no condition". ``kinds`` matches ``Verb.kind``; ``queue_recent``
    selects additions to the queue (QUEUED), which is what that feed carries.
    ``min_rating`` drops activities without a rating. ``text`` is a case-insensitive
    substring of the title's name or the account's name; ``channel_text`` is a second
    one (a channel's own) that must match as well. ``limit`` is clamped to
    1..``MAX_LIMIT``.
    """

    kinds: frozenset[Kind] | None = None
    accounts: frozenset[str] | None = None
    min_rating: float | None = None
    text: str | None = None
    since: datetime | None = None
    limit: int = DEFAULT_LIMIT
    channel_text: str | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.since.tzinfo is None:
            raise ValueError("since must be an aware datetime")
        # Frozen: clamping is the one adjustment, made once here so every user sees it.
        object.__setattr__(self, "limit", min(max(self.limit, 1), MAX_LIMIT))

    @property
    def verbs(self) -> frozenset[Verb] | None:
        """The verbs ``kinds`` selects (None: all)."""
        if self.kinds is None:
            return None
        return frozenset(
            verb for verb in Verb
            if verb.kind in self.kinds or (verb is Verb.QUEUED and Kind.QUEUE_RECENT in self.kinds)
        )

    def matches(self, account_name: str, activity: Activity) -> bool:
        """Whether the activity of this account passes every condition."""
        verbs = self.verbs
        if verbs is not None and activity.verb not in verbs:
            return False
        if self.accounts is not None and account_name not in self.accounts:
            return False
        if self.min_rating is not None and (activity.rating is None or activity.rating < self.min_rating):
            return False
        for text in filter(None, (self.text, self.channel_text)):
            needle = text.casefold()
            if needle not in activity.title.name.casefold() and needle not in account_name.casefold():
                return False
        return self.since is None or activity.occurred_at >= self.since


def merge(
    rows: Iterable[tuple[str, Activity]],
    flt: TimelineFilter,
    doers: Iterable[tuple[str, Verb, str]] = (),
) -> list[TimelineItem]:
    """One timeline from ``(account_name, activity)`` rows: newest first, at most ``flt.limit``.

    An activity id seen twice counts once (the first row wins). Ties in time are ordered
    by id so the order is stable. ``also`` names the other accounts with an activity of
    the same verb on the same title, among all the rows given (before filtering and the
    limit) and the ``(account name, verb, title key)`` facts in ``doers`` (what storage
    knows of older activities about the same titles).
    """
    unique: dict[str, tuple[str, Activity]] = {}
    for name, activity in rows:
        unique.setdefault(activity.id, (name, activity))
    who: defaultdict[tuple[Verb, str], set[str]] = defaultdict(set)
    for name, activity in unique.values():
        who[activity.verb, activity.title.key].add(name)
    for name, verb, title_key in doers:
        who[verb, title_key].add(name)
    kept = [(name, a) for name, a in unique.values() if flt.matches(name, a)]
    kept.sort(key=lambda row: row[1].id)
    kept.sort(key=lambda row: row[1].occurred_at, reverse=True)  # stable: ids stay ascending
    return [
        TimelineItem(
            activity=a,
            account_name=name,
            also=tuple(sorted(who[a.verb, a.title.key] - {name})),
        )
        for name, a in kept[: flt.limit]
    ]


def parse_filter(args: Mapping[str, str]) -> TimelineFilter:
    """A ``TimelineFilter`` from web query parameters; other parameters are ignored.

    Empty values mean "no condition". Raises ``ValueError`` naming the bad parameter.
    """
    limit = args.get("limit", "").strip()
    text = args.get("q", "").strip()
    return TimelineFilter(
        kinds=_kinds(args.get("kind", "")),
        accounts=frozenset(_items(args.get("account", ""))) or None,
        min_rating=_min_rating(args.get("min_rating", "").strip()),
        text=text or None,
        since=_since(args.get("since", "").strip()),
        limit=_limit(limit) if limit else DEFAULT_LIMIT,
    )


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _kinds(value: str) -> frozenset[Kind] | None:
    kinds = set()
    for item in _items(value):
        try:
            kinds.add(Kind(item.lower()))
        except ValueError:
            known = ", ".join(k.value for k in Kind)
            raise ValueError(f"kind: unknown kind {item!r}; use one of {known}") from None
    return frozenset(kinds) or None


def _min_rating(value: str) -> float | None:
    if not value:
        return None
    try:
        rating = float(value)
    except ValueError:
        rating = math.nan
    if not math.isfinite(rating):
        raise ValueError(f"min_rating: expected a number such as 3.5, got {value!r}")
    return rating


def _since(value: str) -> datetime | None:
    if not value:
        return None
    match = _SINCE.fullmatch(value)
    problem = f"since: expected an RFC 3339 date-time or YYYY-MM-DD, got {value!r}"
    if match is None:
        raise ValueError(problem)
    offset = (match["offset"] or "Z").upper().replace(" ", "+")
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time'] or '00:00:00'}{offset}")
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30
        raise ValueError(problem) from None
    return moment.astimezone(timezone.utc)


def _limit(value: str) -> int:
    # Plain ASCII digits only: int() would also take "1_000" and non-Latin digits.
    if not re.fullmatch(r"[+-]?[0-9]+", value):
        raise ValueError(f"limit: expected a whole number from 1 to {MAX_LIMIT}, got {value!r}")
    return int(value)
