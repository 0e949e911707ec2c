"""The JSON of the ``data`` columns: what ``dump`` writes loads back to the same value,
and rows written before (keys sorted) still load exactly as they did."""
from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from feedhub.models import Activity, BoxArt, Entry, Kind, Title, Verb
from feedhub.storage.codec import _plain, dump, load_activity, load_entry

FULL_TITLE = Title("catalog:1", 'Amélie "x" ★ 😀', 2001, "https://a.example/", BoxArt("https://s", None, "https://l"), "R", 3.5, 5400)
BARE_TITLE = Title("name:x|", "x")
WHEN = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)

ENTRIES = [Entry("id", kind, FULL_TITLE, WHEN, 3, 4.5, True, 2.5, WHEN - timedelta(days=1), "sum\u2028mary") for kind in Kind]
ENTRIES += [Entry("bare", Kind.OTHER, BARE_TITLE)]
ACTIVITIES = [Activity(f"tag:{verb.value}", "acct", verb, FULL_TITLE, WHEN, 4.0, 3.5, 2, 7, "s") for verb in Verb]
ACTIVITIES += [Activity("tag:bare", "acct", Verb.POSTED, BARE_TITLE, datetime(2026, 1, 1, 5, tzinfo=timezone(timedelta(hours=2))))]


def _written_before(value) -> str:
    """What ``dump`` wrote before it left its keys unsorted."""
    def plain(item):
        return {k: plain(v) if dataclasses.is_dataclass(v) else v for k, v in item.__dict__.items()}

    return json.dumps(plain(value), default=lambda v: v.isoformat(), sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("entry", ENTRIES)
def test_entries_load_back_the_same(entry):
    assert load_entry(dump(entry)) == entry
    assert load_entry(_written_before(entry)) == entry
    assert json.loads(dump(entry)) == json.loads(_written_before(entry))


@pytest.mark.parametrize("activity", ACTIVITIES)
def test_activities_load_back_the_same(activity):
    assert load_activity(dump(activity)) == activity
    assert load_activity(_written_before(activity)) == activity
    assert json.loads(dump(activity)) == json.loads(_written_before(activity))


def test_every_field_is_written():
    data = json.loads(dump(ENTRIES[0]))
    assert list(data) == [f.name for f in dataclasses.fields(Entry)]
    assert list(data["title"]) == [f.name for f in dataclasses.fields(Title)]
    assert list(data["title"]["box_art"]) == [f.name for f in dataclasses.fields(BoxArt)]
    assert list(json.loads(dump(ACTIVITIES[0]))) == [f.name for f in dataclasses.fields(Activity)]


@pytest.mark.parametrize(
    "entry",
    [
        dataclasses.replace(ENTRIES[-1], summary="half a pair: \ud83d"),  # a lone surrogate
        dataclasses.replace(ENTRIES[-1], position=2**70),  # past 64 bits
    ],
    ids=["lone-surrogate", "huge-number"],
)
def test_what_the_fast_encoder_refuses_is_written_and_read_back_all_the_same(entry):
    assert load_entry(dump(entry)) == entry


@pytest.mark.parametrize("value", ENTRIES + ACTIVITIES, ids=lambda v: f"{type(v).__name__}-{getattr(v, 'kind', None) or v.verb}")
def test_the_dataclass_is_written_as_its_plain_dict_is(value):
    # dump hands orjson the dataclass itself where it can: the text must not change.
    assert dump(value) == orjson.dumps(_plain(value)).decode()
