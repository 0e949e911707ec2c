from __future__ import annotations

from pathlib import Path

import pytest

from feedhub.discover import DiscoveryError, kind_of, read_feeds_document, read_opml
from feedhub.models import Kind

DATA = Path(__file__).parent / "data"
FIVE = [Kind.QUEUE, Kind.QUEUE_RECENT, Kind.WATCHED, Kind.RECOMMENDATIONS, Kind.RATINGS]


@pytest.mark.parametrize("name, form", [("reference-feeds.xml", "feeds_list"), ("reference-feeds.opml", "opml")])
def test_reference_examples_give_the_five_feeds_and_kinds(name, form):
    document = read_feeds_document((DATA / name).read_bytes())
    assert document.form == form
    assert [f.kind for f in document.feeds] == FIVE
    assert all(f.url.startswith("http://api.netflix.com/users/") for f in document.feeds)
    assert all("&amp;" not in f.url for f in document.feeds)


def test_reference_xml_keeps_the_recent_view_distinct():
    feeds = read_feeds_document((DATA / "reference-feeds.xml").read_bytes()).feeds
    assert feeds[1].url == feeds[0].url + "&sort=date_added"


@pytest.mark.parametrize(
    "url, rel, title, kind",
    [
        ("http://h/users/u/queues/instant?output=atom", None, None, Kind.QUEUE),
        ("http://h/users/u/queues/instant?sort=date_added", None, None, Kind.QUEUE_RECENT),
        ("http://h/users/u/rental_history/watched", None, None, Kind.WATCHED),
        ("http://h/users/u/ratings/title/actual", None, None, Kind.RATINGS),
        ("http://h/users/u/recommendations", None, None, Kind.RECOMMENDATIONS),
        ("http://h/x", "http://schemas.netflix.com/feed.ratings", None, Kind.RATINGS),
        ("http://h/diary.rss", None, "My film diary", Kind.WATCHED),
        ("http://h/blog.rss", None, "A blog", Kind.OTHER),
    ],
)
def test_kind_of(url, rel, title, kind):
    assert kind_of(url, rel, title) is kind


def test_nested_opml_1_without_type():
    body = b"""<?xml version="1.0"?><opml version="1.0"><head><title>Mine</title></head><body>
      <outline text="Films"><outline text="Diary" xmlUrl="https://a.example/diary.rss" htmlUrl="https://a.example/"/>
        <outline text="Deep"><outline title="Watchlist" xmlUrl="https://a.example/watchlist/queue.json" category="/films"/></outline>
      </outline><outline text="A link" type="link" url="https://a.example/page"/></body></opml>"""
    document = read_opml(body)
    assert [(f.url, f.kind) for f in document.feeds] == [
        ("https://a.example/diary.rss", Kind.WATCHED),
        ("https://a.example/watchlist/queue.json", Kind.QUEUE),
    ]
    assert document.title == "Mine"


@pytest.mark.parametrize(
    "body",
    [b"<opml version='2.0'><head/><body><outline text='no url'/></body></opml>", b"<resource></resource>"],
    ids=["opml-without-feeds", "empty-feeds-list"],
)
def test_documents_without_feeds_are_refused(body):
    with pytest.raises(DiscoveryError):
        read_feeds_document(body)


def test_other_documents_are_not_feeds_lists():
    assert read_feeds_document(b"<feed xmlns='http://www.w3.org/2005/Atom'/>") is None
    assert read_feeds_document(b"<html><body>hi</body></html>") is None
    assert read_feeds_document(b'{"version": "https://jsonfeed.org/version/1.1"}') is None
    with pytest.raises(DiscoveryError):
        read_opml(b"<html/>")
