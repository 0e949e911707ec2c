"""Render a ``FeedDocument`` as Atom 1.0 (RFC 4287).

Built with lxml rather than feedgen: feedgen 1.0 prepends entries unless told otherwise,
stamps ``updated`` with the clock when not set, and drops ``rel``, ``type`` and
``title`` from every entry link (its link loop rebinds the dict it reads to the new
element), so an entry's links would all become alternates, which RFC 4287 §4.1.1
forbids when they share a type. Writing the elements directly is shorter than working
around that.

Each entry carries its own author (the account), so the feed needs none (§4.1.1). The box
art is a Media RSS ``media:thumbnail``, an extension element (§6.4).
"""
from __future__ import annotations

from lxml import etree

from feedhub.models import TimelineItem
from feedhub.publish import structured
from feedhub.publish.document import HTML_MEDIA_TYPE, MEDIA_TYPES, FeedDocument
from feedhub.dates import rfc3339
from feedhub.publish.text import add, content_html, headline, http_url, plain_summary, tags

FORMAT = "atom"

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
_NSMAP = {None: ATOM_NS, "media": MEDIA_NS, structured.PREFIX: structured.NAMESPACE}


def render(doc: FeedDocument) -> bytes:
    """The document as an Atom feed document, UTF-8."""
    feed = etree.Element(_atom("feed"), nsmap=_NSMAP)
    add(feed, _atom("id"), doc.feed_id)
    add(feed, _atom("title"), doc.title)
    if doc.description:
        add(feed, _atom("subtitle"), doc.description)
    add(feed, _atom("updated"), rfc3339(doc.updated))
    add(feed, _atom("link"), rel="self", type=MEDIA_TYPES[FORMAT], href=doc.self_url(FORMAT))
    add(feed, _atom("link"), rel="alternate", type=HTML_MEDIA_TYPE, href=doc.home_url)
    for media_type, url in doc.alternates(FORMAT):
        add(feed, _atom("link"), rel="alternate", type=media_type, href=url)
    if doc.hub_url:
        # WebSub §4 (Discovery): in an XML feed the hub is an atom:link rel="hub".
        add(feed, _atom("link"), rel="hub", href=doc.hub_url)
    generator = doc.generator
    attrib = {"version": generator.version, "uri": generator.uri}
    add(feed, _atom("generator"), generator.name, **{k: v for k, v in attrib.items() if v})
    for item in doc.items:
        _add_entry(feed, doc, item)
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _add_entry(feed: etree._Element, doc: FeedDocument, item: TimelineItem) -> None:
    activity = item.activity
    entry = add(feed, _atom("entry"))
    add(entry, _atom("id"), activity.id)
    add(entry, _atom("title"), headline(item), type="text")
    # An activity never changes once it happened, so it was last updated when published.
    add(entry, _atom("updated"), rfc3339(activity.occurred_at))
    add(entry, _atom("published"), rfc3339(activity.occurred_at))
    add(entry, _atom("link"), rel="alternate", type=HTML_MEDIA_TYPE, href=doc.item_url(item))
    author = add(entry, _atom("author"))
    add(author, _atom("name"), item.account_name)
    for tag in tags(item):
        add(entry, _atom("category"), term=tag)
    add(entry, _atom("summary"), plain_summary(item), type="text")
    add(entry, _atom("content"), content_html(item), type="html")
    art = http_url(activity.title.box_art.best)
    if art:
        add(entry, f"{{{MEDIA_NS}}}thumbnail", url=art)
    structured.add_element(entry, item)


def _atom(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"
