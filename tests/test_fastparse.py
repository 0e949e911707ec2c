"""The lxml fast path must read every document exactly as feedparser does, and leave
anything unusual to feedparser."""
from __future__ import annotations

from datetime import datetime, timezone

import feedparser
import pytest

from feedhub.emulator import create_emulator_app
from feedhub.fastparse import parse_fast
from feedhub.models import Kind
from feedhub.normalize import normalize
from feedhub.parse import ParsedFeed

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _slow(body: bytes) -> ParsedFeed:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return ParsedFeed(parsed.feed.get("title", ""), tuple(parsed.entries), dict(parsed.namespaces), parsed.feed, parsed.version)


def _fast(body: bytes) -> ParsedFeed:
    result = parse_fast(body)
    assert result is not None
    version, feed, entries, namespaces = result
    return ParsedFeed(feed.get("title", ""), tuple(entries), namespaces, feed, version)


def _emulator_documents():
    app = create_emulator_app(seed=11, users=2, start=START)
    emulated = app.extensions["emulator"]
    emulated.clock.set(START)
    client = app.test_client()
    for user in range(2):
        for kind in ("queue", "queue_recent", "watched", "recommendations", "ratings"):
            url = emulated.feed_url("http://localhost/", user, kind).removeprefix("http://localhost")
            yield f"{kind}-{user}", Kind(kind), client.get(url + "&max_results=500").data


EMULATOR = list(_emulator_documents())

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Diary &amp; notes</title>
<link>https://films.example/</link><description>d</description>
<item><title>Tom &amp; Jerry &lt;3</title><link>https://films.example/1</link><guid isPermaLink="false">urn:1</guid>
<pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate><description>&lt;p&gt;Loved it&lt;/p&gt;</description>
<media:thumbnail url="https://img.example/1.jpg"/></item>
<item><title>A &lt;b&gt;bold&lt;/b&gt; one</title><link>https://films.example/3</link></item>
<item><title>No guid</title><link>https://films.example/2</link><pubDate>Wed, 11 Jun 2025 10:30:00 +0200</pubDate></item>
</channel></rss>"""

ATOM_GENERIC = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:f</id><title type="html">A &lt;b&gt;diary&lt;/b&gt;</title>
<updated>2025-01-01T00:00:00Z</updated>
<entry><id>urn:e1</id><title>Amélie, again</title><link href="https://films.example/a"/>
<published>2024-12-30T20:00:00+01:00</published><summary type="html">&lt;em&gt;so&lt;/em&gt; good</summary></entry>
</feed>""".encode()


@pytest.mark.parametrize("name, kind, body", EMULATOR, ids=[e[0] for e in EMULATOR])
def test_emulator_feeds_read_the_same_both_ways(name, kind, body):
    slow, fast = normalize(_slow(body), kind), normalize(_fast(body), kind)
    assert len(fast) > 0
    assert fast == slow
    assert _fast(body).feed.get("opensearch_totalresults") == _slow(body).feed.get("opensearch_totalresults")


@pytest.mark.parametrize("body", [RSS, ATOM_GENERIC], ids=["rss20", "atom-generic"])
def test_generic_feeds_read_the_same_both_ways(body):
    assert normalize(_fast(body), Kind.OTHER) == normalize(_slow(body), Kind.OTHER)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x "y">]><feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>',
        b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"/>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>broken</entry></feed>',
        b'<rss version="0.92"><channel><title>old</title></channel></rss>',
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">a<b>b</b></div></title></entry></feed>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><title>t</title><updated>yesterday</updated></entry></feed>',
        b"<html><body>not a feed</body></html>",
        b'{"version": "https://jsonfeed.org/version/1.1"}',
    ],
    ids=["entity", "dtd", "malformed", "rss092", "rdf", "xhtml-title", "bad-date", "html", "json"],
)
def test_unusual_documents_are_left_to_feedparser(body):
    assert parse_fast(body) is None
