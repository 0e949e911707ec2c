"""Unit tests of feedhub.merge: many accounts' activities → one timeline."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from feedhub.merge import DEFAULT_LIMIT, MAX_LIMIT, TimelineFilter, merge, parse_filter
from feedhub.models import Activity, Kind, Title, Verb

T0 = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


def act(
    id: str,
    verb: Verb = Verb.WATCHED,
    *,
    title: str = "Heat",
    hours: float = 0,
    rating: float | None = None,
    account_key: str = "k",
) -> Activity:
    return Activity(
        id=id,
        account_key=account_key,
        verb=verb,
        title=Title(key=f"name:{title.casefold()}", name=title),
        occurred_at=T0 + timedelta(hours=hours),
        rating=rating,
    )


def ids(items) -> list[str]:
    return [item.activity.id for item in items]


# ---------------------------------------------------------------- merge


def test_newest_first_then_id_for_ties() -> None:
    rows = [
        ("ann", act("b", hours=1)),
        ("ann", act("c", hours=3)),
        ("bob", act("a", hours=1)),
        ("bob", act("d", hours=2)),
    ]
    assert ids(merge(rows, TimelineFilter())) == ["c", "d", "a", "b"]


def test_order_compares_instants_not_offsets() -> None:
    later_in_tokyo = (T0 + timedelta(hours=1)).astimezone(timezone(timedelta(hours=9)))
    east = replace(act("east"), occurred_at=later_in_tokyo)
    assert ids(merge([("ann", act("utc")), ("ann", east)], TimelineFilter())) == ["east", "utc"]


def test_duplicate_ids_count_once_and_the_first_wins() -> None:
    first = act("same", hours=1)
    second = act("same", hours=5, title="Other")
    items = merge([("ann", first), ("bob", act("x")), ("carl", second)], TimelineFilter())
    assert ids(items) == ["same", "x"]
    assert (items[0].account_name, items[0].activity) == ("ann", first)


def test_merge_accepts_any_iterable_once() -> None:
    rows = (row for row in [("ann", act("a")), ("bob", act("b", title="Alien"))])
    assert {i.account_name for i in merge(rows, TimelineFilter())} == {"ann", "bob"}


def test_also_names_the_other_accounts_with_the_same_verb_and_title() -> None:
    rows = [
        ("carl", act("c1", hours=1)),
        ("ann", act("a1", hours=3)),
        ("bob", act("b1", hours=2)),
        ("bob", act("b2", Verb.RATED, rating=4)),  # another verb on the same title
        ("dora", act("d1", title="Alien")),  # the same verb on another title
    ]
    also = {i.activity.id: i.also for i in merge(rows, TimelineFilter())}
    assert also == {"a1": ("bob", "carl"), "b1": ("ann", "carl"), "c1": ("ann", "bob"), "b2": (), "d1": ()}


def test_also_is_counted_once_per_account_and_excludes_the_own_account() -> None:
    rows = [("ann", act("a1", hours=1)), ("ann", act("a2", hours=2)), ("bob", act("b1"))]
    also = {i.activity.id: i.also for i in merge(rows, TimelineFilter())}
    assert also == {"a1": ("bob",), "a2": ("bob",), "b1": ("ann",)}


def test_also_is_computed_over_all_rows_before_filter_and_limit() -> None:
    rows = [("ann", act("a1", hours=2)), ("bob", act("b1", hours=1)), ("carl", act("c1"))]
    items = merge(rows, TimelineFilter(accounts=frozenset({"ann"}), limit=1))
    assert [(i.activity.id, i.also) for i in items] == [("a1", ("bob", "carl"))]


def test_also_counts_the_doers_storage_knows_of_but_lists_none_of_them() -> None:
    rows = [("ann", act("a1", hours=2))]
    doers = [("bob", Verb.WATCHED, "name:heat"), ("ann", Verb.WATCHED, "name:heat"), ("carl", Verb.RATED, "name:heat")]
    items = merge(rows, TimelineFilter(), doers)
    assert [(i.activity.id, i.also) for i in items] == [("a1", ("bob",))]


def test_limit_cuts_the_newest() -> None:
    rows = [("ann", act(f"a{h}", hours=h)) for h in range(10)]
    assert ids(merge(rows, TimelineFilter(limit=3))) == ["a9", "a8", "a7"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(0, 1, id="zero"),
        pytest.param(-7, 1, id="negative"),
        pytest.param(1, 1, id="one"),
        pytest.param(MAX_LIMIT, MAX_LIMIT, id="max"),
        pytest.param(MAX_LIMIT + 1, MAX_LIMIT, id="above-max"),
        pytest.param(10**9, MAX_LIMIT, id="huge"),
    ],
)
def test_limit_is_clamped(given: int, expected: int) -> None:
    assert TimelineFilter(limit=given).limit == expected


def test_default_limit_and_max_limit() -> None:
    assert (TimelineFilter().limit, MAX_LIMIT) == (50, 500)
    rows = [("ann", act(f"a{i:04}", hours=i)) for i in range(MAX_LIMIT + 20)]
    assert len(merge(rows, TimelineFilter())) == DEFAULT_LIMIT
    assert len(merge(rows, TimelineFilter(limit=10_000))) == MAX_LIMIT


# ---------------------------------------------------------------- filters

ROWS = [
    ("Ann", act("w-heat", Verb.WATCHED, title="Heat", hours=1)),
    ("Ann", act("r-heat", Verb.RATED, title="Heat", rating=4.5, hours=2)),
    ("Ann", act("w-gross", Verb.WATCHED, title="GROSS", hours=2.5)),
    ("Bob", act("q-alien", Verb.QUEUED, title="Alien", hours=3)),
    ("Bob", act("m-alien", Verb.MOVED, title="Alien", hours=4)),
    ("Bob", act("rr-strasse", Verb.RERATED, title="Die Straße", rating=3.0, hours=5)),
    ("Ćiro", act("rec-ran", Verb.RECOMMENDED, title="Ran", rating=4.0, hours=6)),
    ("Ćiro", act("p-blog", Verb.POSTED, title="A blog post", hours=7)),
]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        pytest.param(TimelineFilter(), {r[1].id for r in ROWS}, id="none"),
        pytest.param(TimelineFilter(kinds=frozenset({Kind.WATCHED})), {"w-heat", "w-gross"}, id="kind-watched"),
        pytest.param(
            TimelineFilter(kinds=frozenset({Kind.RATINGS})), {"r-heat", "rr-strasse"}, id="kind-ratings-both-verbs"
        ),
        pytest.param(TimelineFilter(kinds=frozenset({Kind.QUEUE})), {"q-alien", "m-alien"}, id="kind-queue"),
        pytest.param(
            TimelineFilter(kinds=frozenset({Kind.QUEUE_RECENT})), {"q-alien"}, id="kind-queue-recent-is-additions"
        ),
        pytest.param(
            TimelineFilter(kinds=frozenset({Kind.OTHER, Kind.RECOMMENDATIONS})),
            {"p-blog", "rec-ran"},
            id="kind-several",
        ),
        pytest.param(TimelineFilter(accounts=frozenset({"Bob"})), {"q-alien", "m-alien", "rr-strasse"}, id="account"),
        pytest.param(TimelineFilter(accounts=frozenset({"Nobody"})), set(), id="account-unknown"),
        pytest.param(TimelineFilter(min_rating=4.0), {"r-heat", "rec-ran"}, id="min-rating-inclusive"),
        pytest.param(TimelineFilter(min_rating=0.0), {"r-heat", "rr-strasse", "rec-ran"}, id="min-rating-drops-unrated"),
        pytest.param(TimelineFilter(text="heat"), {"w-heat", "r-heat"}, id="text-title"),
        pytest.param(TimelineFilter(text="HEA"), {"w-heat", "r-heat"}, id="text-case-insensitive"),
        pytest.param(TimelineFilter(text="STRASSE"), {"rr-strasse"}, id="text-casefolds-the-title"),
        pytest.param(TimelineFilter(text="groß"), {"w-gross"}, id="text-casefolds-the-query"),
        pytest.param(TimelineFilter(text="ćir"), {"rec-ran", "p-blog"}, id="text-account-name"),
        pytest.param(TimelineFilter(text="zzz"), set(), id="text-no-match"),
        pytest.param(TimelineFilter(since=T0 + timedelta(hours=6)), {"rec-ran", "p-blog"}, id="since-inclusive"),
        pytest.param(
            TimelineFilter(kinds=frozenset({Kind.RATINGS}), accounts=frozenset({"Ann"}), min_rating=4, text="heat"),
            {"r-heat"},
            id="all-conditions-together",
        ),
    ],
)
def test_filter(flt: TimelineFilter, expected: set[str]) -> None:
    assert set(ids(merge(ROWS, flt))) == expected


def test_filter_refuses_a_naive_since() -> None:
    with pytest.raises(ValueError, match="aware"):
        TimelineFilter(since=datetime(2026, 1, 1))


# ---------------------------------------------------------------- parse_filter


def test_parse_filter_defaults() -> None:
    assert parse_filter({}) == TimelineFilter()
    empty = {"kind": "", "account": " , ", "min_rating": "", "q": "  ", "since": "", "limit": ""}
    assert parse_filter(empty) == TimelineFilter()


def test_parse_filter_everything() -> None:
    flt = parse_filter(
        {
            "kind": "watched, Ratings,,queue_recent",
            "account": "ann, bob",
            "min_rating": "3.5",
            "q": "  the Wire ",
            "since": "2026-01-02",
            "limit": "20",
            "format": "rss",  # not a filter: ignored
        }
    )
    assert flt == TimelineFilter(
        kinds=frozenset({Kind.WATCHED, Kind.RATINGS, Kind.QUEUE_RECENT}),
        accounts=frozenset({"ann", "bob"}),
        min_rating=3.5,
        text="the Wire",
        since=datetime(2026, 1, 2, tzinfo=timezone.utc),
        limit=20,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-01-02", datetime(2026, 1, 2, tzinfo=timezone.utc), id="date-is-utc-midnight"),
        pytest.param("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), id="zulu"),
        pytest.param("2026-01-02t03:04:05z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), id="lowercase"),
        pytest.param("2026-01-02T03:04:05+02:00", datetime(2026, 1, 2, 1, 4, 5, tzinfo=timezone.utc), id="offset"),
        pytest.param("2026-01-02T03:04:05-05:30", datetime(2026, 1, 2, 8, 34, 5, tzinfo=timezone.utc), id="neg-offset"),
        pytest.param(
            "2026-01-02T03:04:05 02:00", datetime(2026, 1, 2, 1, 4, 5, tzinfo=timezone.utc), id="plus-decoded-as-space"
        ),
        pytest.param(
            "2026-01-02T03:04:05.250Z", datetime(2026, 1, 2, 3, 4, 5, 250000, tzinfo=timezone.utc), id="fraction"
        ),
        pytest.param("2026-01-02 03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), id="no-offset-is-utc"),
    ],
)
def test_parse_filter_since(value: str, expected: datetime) -> None:
    since = parse_filter({"since": value}).since
    assert since == expected and since.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("value", "expected"), [("7", 7), ("0", 1), ("-3", 1), ("900", MAX_LIMIT), (" 12 ", 12)])
def test_parse_filter_limit_is_clamped(value: str, expected: int) -> None:
    assert parse_filter({"limit": value}).limit == expected


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        pytest.param({"kind": "watched,movies"}, "kind", id="unknown-kind"),
        pytest.param({"kind": "rated"}, "kind", id="verb-is-not-a-kind"),
        pytest.param({"min_rating": "four"}, "min_rating", id="rating-not-a-number"),
        pytest.param({"min_rating": "nan"}, "min_rating", id="rating-nan"),
        pytest.param({"min_rating": "inf"}, "min_rating", id="rating-infinite"),
        pytest.param({"since": "yesterday"}, "since", id="since-words"),
        pytest.param({"since": "2026-02-30"}, "since", id="since-impossible-date"),
        pytest.param({"since": "2026-1-2"}, "since", id="since-short-fields"),
        pytest.param({"since": "2026-01-02T25:00:00Z"}, "since", id="since-impossible-hour"),
        pytest.param({"since": "1767312000"}, "since", id="since-unix-time"),
        pytest.param({"limit": "ten"}, "limit", id="limit-words"),
        pytest.param({"limit": "2.5"}, "limit", id="limit-fraction"),
        pytest.param({"limit": "1_000"}, "limit", id="limit-underscore"),
    ],
)
def test_parse_filter_errors_name_the_parameter(args: dict[str, str], parameter: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_filter(args)
    message = str(caught.value)
    assert message.startswith(f"{parameter}: ")
    assert repr(next(iter(args.values())).split(",")[-1]) in message  # shows what was wrong


def test_parse_filter_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="queue, queue_recent, watched, ratings, recommendations, other"):
        parse_filter({"kind": "movies"})
