"""Render a ``FeedDocument`` as RSS 2.0 (https://www.rssboard.org/rss-specification).

Built with lxml rather than feedgen: feedgen 1.0 prepends entries unless told otherwise,
stamps ``lastBuildDate`` with the clock, writes only the first ``atom:link`` (so no
``alternate`` or WebSub ``hub`` link), accepts an item author only as an e-mail address
and turns images into ``<enclosure length="0">``. Each of those would need a workaround;
the document below is shorter to write directly.

Choices: the item author is ``dc:creator`` (RSS ``author`` must be an e-mail address);
the box art is a Media RSS ``media:thumbnail`` (an ``enclosure`` needs a byte length);
the ``description`` carries the HTML from ``text.content_html``, escaped once as RSS
readers expect.
"""
from __future__ import annotations

from lxml import etree

from feedhub.models import TimelineItem
from feedhub.publish import structured
from feedhub.publish.atom import ATOM_NS, MEDIA_NS
from feedhub.publish.document import MEDIA_TYPES, FeedDocument
from feedhub.dates import rfc822
from feedhub.publish.text import add, content_html, headline, http_url, tags

FORMAT = "rss"

DC_NS = "http://purl.org/dc/elements/1.1/"
_NSMAP = {"atom": ATOM_NS, "dc": DC_NS, "media": MEDIA_NS, structured.PREFIX: structured.NAMESPACE}
_ATOM_LINK = f"{{{ATOM_NS}}}link"

_SPEC_URL = "https://www.rssboard.org/rss-specification"


def render(doc: FeedDocument) -> bytes:
    """The document as RSS 2.0, UTF-8."""
    rss = etree.Element("rss", {"version": "2.0"}, nsmap=_NSMAP)
    channel = add(rss, "channel")
    add(channel, "title", doc.title)
    add(channel, "link", doc.home_url)
    # description is required (RSS 2.0 "Required channel elements") and must say something.
    add(channel, "description", doc.description or doc.title)
    # atom:link rel="self" as the RSS Advisory Board's best practices recommend.
    add(channel, _ATOM_LINK, rel="self", type=MEDIA_TYPES[FORMAT], href=doc.self_url(FORMAT))
    for media_type, url in doc.alternates(FORMAT):
        add(channel, _ATOM_LINK, rel="alternate", type=media_type, href=url)
    if doc.hub_url:
        # WebSub §4 (Discovery): in an XML feed the hub is an atom:link rel="hub".
        add(channel, _ATOM_LINK, rel="hub", href=doc.hub_url)
    add(channel, "lastBuildDate", rfc822(doc.updated))
    generator = doc.generator
    add(channel, "generator", " ".join(filter(None, (generator.name, generator.version))))
    add(channel, "docs", _SPEC_URL)
    for item in doc.items:
        _add_item(channel, doc, item)
    return etree.tostring(rss, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _add_item(channel: etree._Element, doc: FeedDocument, item: TimelineItem) -> None:
    activity = item.activity
    element = add(channel, "item")
    add(element, "title", headline(item))
    add(element, "link", doc.item_url(item))
    add(element, "description", content_html(item))
    add(element, "guid", activity.id, isPermaLink="false")
    add(element, "pubDate", rfc822(activity.occurred_at))
    add(element, f"{{{DC_NS}}}creator", item.account_name)
    for tag in tags(item):
        add(element, "category", tag)
    art = http_url(activity.title.box_art.best)
    if art:
        add(element, f"{{{MEDIA_NS}}}thumbnail", url=art)
    structured.add_element(element, item)
