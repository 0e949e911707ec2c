"""Render a list of feeds as OPML 2.0 (http://opml.org/spec2.opml).

Used for the channels feedhub republishes and for exported sources; the caller decides
which URLs go in (a source's URL is a secret, so only what it passes here is written).
Outlines nest: an outline without ``xml_url`` is a folder for its children.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from feedhub.dates import rfc822
from feedhub.publish.text import add, clean

MEDIA_TYPE = "text/x-opml; charset=utf-8"
EXTENSION = "opml"

_DOCS = "http://opml.org/spec2.opml"


@dataclass(frozen=True)
class OpmlOutline:
    """One outline: a feed when ``xml_url`` is set, else a folder of ``children``.

    ``category`` is OPML's comma-separated list of slash-delimited categories.
    """

    text: str
    xml_url: str | None = None
    html_url: str | None = None
    type: str = "rss"
    category: str | None = None
    children: tuple[OpmlOutline, ...] = ()


def render_opml(
    title: str,
    outlines: Sequence[OpmlOutline],
    *,
    date_created: datetime,
    owner_name: str | None = None,
    warning: str | None = None,
) -> bytes:
    """An OPML 2.0 document listing ``outlines``, UTF-8; ``warning`` is written as a
    comment at its top, where a person who opens the file reads it first."""
    opml = etree.Element("opml", {"version": "2.0"})
    if warning:
        # "--" may not appear inside an XML comment (XML 1.0 §2.5).
        opml.addprevious(etree.Comment(" " + clean(warning).replace("--", "- -") + " "))
    head = add(opml, "head")
    add(head, "title", title)
    add(head, "dateCreated", rfc822(date_created))
    if owner_name:
        add(head, "ownerName", owner_name)
    add(head, "docs", _DOCS)
    body = add(opml, "body")
    for outline in outlines:
        _add_outline(body, outline)
    return etree.tostring(opml.getroottree(), xml_declaration=True, encoding="utf-8", pretty_print=True)


def _add_outline(parent: etree._Element, outline: OpmlOutline) -> None:
    attrib = {"text": outline.text}
    if outline.xml_url:
        # OPML 2.0 "Subscription lists": type="rss" (for any feed format) with xmlUrl;
        # title repeats text, as readers that import it expect.
        attrib |= {"type": outline.type, "title": outline.text, "xmlUrl": outline.xml_url}
        if outline.html_url:
            attrib["htmlUrl"] = outline.html_url
    if outline.category:
        attrib["category"] = outline.category
    element = add(parent, "outline", **attrib)
    for child in outline.children:
        _add_outline(element, child)
