"""The structured data of every published activity: ``_feedhub`` in JSON Feed, the
``feedhub:activity`` element in Atom and RSS (docs/activity-data.md)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import feedparser
import pytest
from lxml import etree

from feedhub.models import Activity, BoxArt, TimelineItem, Title, Verb
from feedhub.publish import RENDERERS, FeedDocument
from feedhub.publish.structured import ABOUT, NAMESPACE, activity_data

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TITLE = Title(
    key="catalog:movies/60000001",
    name="Heat & Dust",
    year=1983,
    web_url="https://films.example/heat",
    box_art=BoxArt(small="https://img.example/s.jpg", large="https://img.example/l.jpg"),
)


def item(verb: Verb, also: tuple[str, ...] = (), **fields) -> TimelineItem:
    activity = Activity(id=f"tag:x,2026:{verb.value}", account_key="netflix:SECRETKEY", verb=verb, title=TITLE, occurred_at=NOW, **fields)
    return TimelineItem(activity, "home", also)


ITEMS = {
    "rerated": item(Verb.RERATED, rating=5.0, previous_rating=3.0),
    "moved": item(Verb.MOVED, position=1, previous_position=7, also=("alex", "sam")),
    "not_interested": item(Verb.NOT_INTERESTED),
    "prediction_changed": item(Verb.PREDICTION_CHANGED, rating=4.5, previous_rating=3.7),
}


def document(*items: TimelineItem) -> FeedDocument:
    urls = {fmt: f"https://hub.example/feeds/all.{fmt}" for fmt in RENDERERS}
    return FeedDocument("all", "everything", "tag:x,2026:all", "https://hub.example/", urls, NOW, items)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rerated", {"verb": "rerated", "kind": "ratings", "rating": 5.0, "previous_rating": 3.0}),
        ("moved", {"verb": "moved", "kind": "queue", "position": 1, "previous_position": 7, "also": ["alex", "sam"]}),
        ("not_interested", {"verb": "not_interested", "kind": "ratings"}),
        ("prediction_changed", {"verb": "prediction_changed", "kind": "recommendations", "rating": 4.5, "previous_rating": 3.7}),
    ],
)
def test_activity_data(name: str, expected: dict) -> None:
    common = {
        "account": "home",
        "title": "Heat & Dust",
        "year": 1983,
        "box_art": "https://img.example/l.jpg",
        "web_url": "https://films.example/heat",
    }
    assert activity_data(ITEMS[name]) == {**expected, **common}
    assert list(activity_data(ITEMS[name]))[:2] == ["verb", "kind"]


def test_json_feed_carries_the_extension_object() -> None:
    feed = json.loads(RENDERERS["json"].render(document(*ITEMS.values())))
    extensions = [entry["_feedhub"] for entry in feed["items"]]
    assert all(ext["about"] == ABOUT for ext in extensions)
    assert [ext["verb"] for ext in extensions] == list(ITEMS)
    assert extensions[2].get("rating") is None and "rating" not in extensions[2]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_xml_feeds_carry_one_activity_element_per_item(fmt: str) -> None:
    root = etree.fromstring(RENDERERS[fmt].render(document(*ITEMS.values())))
    elements = root.findall(f".//{{{NAMESPACE}}}activity")
    assert len(elements) == len(ITEMS)
    moved = elements[1]
    assert [child.tag.split("}")[1] for child in moved] == [
        "verb", "kind", "account", "title", "year", "position", "previous_position", "box_art", "web_url", "also", "also",
    ]
    assert [child.text for child in moved.findall(f"{{{NAMESPACE}}}also")] == ["alex", "sam"]
    assert elements[0].findtext(f"{{{NAMESPACE}}}previous_rating") == "3"
    assert elements[3].findtext(f"{{{NAMESPACE}}}previous_rating") == "3.7"
    assert root.nsmap.get("feedhub") == NAMESPACE  # declared once, on the root


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feed_readers_still_read_the_items(fmt: str) -> None:
    parsed = feedparser.parse(RENDERERS[fmt].render(document(*ITEMS.values())))
    assert not parsed.bozo
    assert [entry.title for entry in parsed.entries][2] == "home marked Heat & Dust (1983) as not interested"


@pytest.mark.parametrize("fmt", list(RENDERERS))
def test_no_internal_key_is_published(fmt: str) -> None:
    data = RENDERERS[fmt].render(document(*ITEMS.values())).decode("utf-8")
    assert "SECRETKEY" not in data and "catalog:movies" not in data
