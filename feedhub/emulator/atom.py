"""Renders what the emulator serves: Atom feeds above all, the feeds list (XML and
OPML), and a title's catalog record, web page and box art.

Pure: plain data in, bytes out, always through lxml's serializer so that every name is
escaped once and correctly. URLs arrive absolute or as paths below ``base_url``.
"""
from __future__ import annotations

import colorsys
import hashlib
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from lxml import etree
from lxml import html as lxml_html
from lxml.html import builder as E

from ..dates import rfc3339, rfc822
from .catalog import BOX_ART_SIZES, CatalogTitle
from .world import FeedItem, NOT_INTERESTED, QueueItem, RatingItem, Recommendation, WatchedItem

ATOM = "http://www.w3.org/2005/Atom"
NETFLIX = "http://schemas.netflix.com/atom"
MEDIA = "http://search.yahoo.com/mrss/"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
SVG = "http://www.w3.org/2000/svg"
CATALOG_REL = "http://schemas.netflix.com/id"
AVAILABILITY_SCHEME = "http://api.netflix.com/categories/queue_availability"
RENTAL_STATES_SCHEME = "http://api.netflix.com/categories/rental_states"
FORMAT_SCHEME = "http://api.netflix.com/catalog/titles/format"

_NSMAP = {None: ATOM, "netflix": NETFLIX, "media": MEDIA, "opensearch": OPENSEARCH}
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)
# The box art sizes as the feeds name them (the reference's small/medium/large).
_BOX_ART_NAMES = dict(zip(("small", "medium", "large"), BOX_ART_SIZES))
_BOX_ART_PIXELS = {"tiny": (64, 90), "small": (110, 154), "large": (150, 210)}


@dataclass(frozen=True)
class FeedPage:
    """One response of one feed: what it shows and where it lives."""

    base_url: str  # the emulator's root, ending with "/"
    feed_id: str  # the resource URL without query
    title: str
    user_id: str
    user_name: str
    updated: datetime  # the feed's last change
    self_url: str
    next_url: str | None
    total: int
    start_index: int
    max_results: int
    items: tuple[FeedItem, ...]
    # Set for the queue, whose Atom updated "always equals the time that the queue data
    # was requested" (reference, Managing Queues); it then shows instead of ``updated``.
    requested_at: datetime | None = None


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str  # a hash of the document as it reads without the request time


@dataclass(frozen=True)
class FeedLink:
    """One feed of a user's feeds list."""

    href: str
    rel: str
    title: str


def content_etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def render_feed(page: FeedPage) -> RenderedFeed:
    """An Atom 1.0 document with OpenSearch paging and ``netflix:`` details per entry."""
    feed = etree.Element(_atom("feed"), nsmap=_NSMAP)
    _add(feed, _atom("id"), page.feed_id)
    _add(feed, _atom("title"), page.title)
    updated = _add(feed, _atom("updated"), rfc3339(page.updated))
    _add(etree.SubElement(feed, _atom("author")), _atom("name"), page.user_name)
    _link(feed, "self", page.self_url, "application/atom+xml")
    _link(feed, "alternate", page.base_url, "text/html")
    if page.next_url:
        _link(feed, "next", page.next_url, "application/atom+xml")
    _add(feed, _opensearch("totalResults"), str(page.total))
    _add(feed, _opensearch("startIndex"), str(page.start_index))
    _add(feed, _opensearch("itemsPerPage"), str(page.max_results))
    for item in page.items:
        _entry(feed, page, item)
    stable = _serialize(feed)
    if page.requested_at is None:
        return RenderedFeed(stable, content_etag(stable))
    updated.text = rfc3339(page.requested_at)
    return RenderedFeed(_serialize(feed), content_etag(stable))


def render_feeds_list(links: Iterable[FeedLink]) -> bytes:
    """The reference's ``users/<id>/feeds`` XML: ``<resource><link href rel title></link>…``."""
    resource = etree.Element("resource")
    for link in links:
        element = etree.SubElement(resource, "link", href=link.href, rel=link.rel, title=link.title)
        element.text = ""  # written as <link …></link>, like the reference
    return _serialize(resource)


def render_feeds_opml(links: Iterable[FeedLink], created: datetime) -> bytes:
    """The same list as OPML 2.0, in the shape of the reference's example."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    _add(head, "title", "Personal Netflix Feeds")
    _add(head, "dateCreated", rfc822(created))
    body = etree.SubElement(opml, "body")
    for link in links:
        etree.SubElement(body, "outline", text=link.title, title=link.title, type="rss", xmlUrl=link.href)
    return _serialize(opml)


def render_catalog_title(title: CatalogTitle, base_url: str) -> bytes:
    """A small POX ``catalog_title`` record, in the reference's shape."""
    record = etree.Element("catalog_title")
    _add(record, "id", base_url + title.catalog_path)
    etree.SubElement(record, "title", short=title.short_name, regular=title.name)
    etree.SubElement(record, "box_art", _box_art(title, base_url))
    _add(record, "release_year", str(title.year))
    etree.SubElement(record, "category", scheme=title.rating_scheme, label=title.rating_label, term=title.rating_label)
    _add(record, "runtime", str(title.runtime))
    _add(record, "average_rating", f"{title.average_rating:.1f}")
    etree.SubElement(record, "link", href=base_url + title.web_path, rel="alternate", title="webpage")
    return _serialize(record)


def render_title_page(title: CatalogTitle, base_url: str) -> bytes:
    """The title's public web page: what the feeds' alternate links point to."""
    page = E.HTML(
        E.HEAD(E.META(charset="utf-8"), E.TITLE(f"{title.name} ({title.year})")),
        E.BODY(
            E.H1(title.name),
            E.P(E.IMG(src=base_url + title.box_art_path("large"), alt=title.name, width="150", height="210")),
            E.P(f"{title.year} · {title.rating_label} · {_duration_words(title.runtime)}"),
            E.P(f"{_stars(title.average_rating)} {title.average_rating:.1f} average rating"),
            E.P(E.A("Catalog record", href=base_url + title.catalog_path)),
        ),
    )
    return lxml_html.tostring(page, doctype="<!DOCTYPE html>", encoding="utf-8")


def render_home_page(users: Iterable[tuple[str, str]]) -> bytes:
    """The emulator's root page, the feeds' alternate link: who is emulated here."""
    page = E.HTML(
        E.HEAD(E.META(charset="utf-8"), E.TITLE("feedhub emulator")),
        E.BODY(
            E.H1("feedhub emulator"),
            E.P("Serves the Netflix API 1.5 feed resources for the following sample users:"),
            E.UL(*(E.LI(f"{name} ({user_id})") for user_id, name in users)),
        ),
    )
    return lxml_html.tostring(page, doctype="<!DOCTYPE html>", encoding="utf-8")


def render_box_art(title: CatalogTitle, size: str) -> bytes:
    """An SVG picture: colours that are the title's own, its name and year."""
    width, height = _BOX_ART_PIXELS[size]
    digest = hashlib.sha256(str(title.box_art_id).encode()).digest()
    hue = digest[0] / 255
    svg = etree.Element(
        _svg("svg"), nsmap={None: SVG}, width=str(width), height=str(height), viewBox="0 0 150 210"
    )
    _add(svg, _svg("title"), title.name)
    etree.SubElement(svg, _svg("rect"), width="150", height="210", fill=_colour(hue, 0.3))
    # A sun on the horizon: the lower band hides half of the circle.
    etree.SubElement(
        svg, _svg("circle"), cx=str(60 + digest[1] % 60), cy="130", r=str(18 + digest[2] % 20),
        fill=_colour(hue + 0.15, 0.6),
    )
    etree.SubElement(svg, _svg("rect"), y="130", width="150", height="80", fill=_colour(hue + 0.5, 0.4))
    for line_number, line in enumerate(textwrap.wrap(title.name, 12)[:4]):
        text = etree.SubElement(
            svg, _svg("text"), x="10", y=str(28 + 20 * line_number),
            fill="#ffffff", style="font: bold 15px sans-serif",
        )
        text.text = line
    year = etree.SubElement(svg, _svg("text"), x="10", y="195", fill="#ffffff", style="font: 14px sans-serif")
    year.text = str(title.year)
    return etree.tostring(svg, xml_declaration=True, encoding="utf-8")


def _entry(feed: etree._Element, page: FeedPage, item: FeedItem) -> None:
    title, base = item.title, page.base_url
    user_url = f"{base}users/{page.user_id}/"
    entry = etree.SubElement(feed, _atom("entry"))
    details: list[tuple[str, str]] = []  # feed-specific netflix: elements
    categories = [(title.rating_scheme, title.rating_label)]
    match item:
        case QueueItem(position=None):
            entry_id = f"{user_url}queues/instant/saved/{title.id}"
            categories.append((AVAILABILITY_SCHEME, "saved"))
            sentence = f"Saved in the instant queue until it is available; added {_when(item.added_at)}."
        case QueueItem(position=position):
            entry_id = f"{user_url}queues/instant/available/{position}/{title.id}"
            categories.append((AVAILABILITY_SCHEME, "available_now"))
            details.append(("position", str(position)))
            sentence = f"Number {position} in the instant queue, added {_when(item.added_at)}."
        case WatchedItem():
            entry_id = f"{user_url}rental_history/watched/{title.id}"
            categories.append((RENTAL_STATES_SCHEME, "Watched"))
            details.append(("watched_date", str(int(item.watched_at.timestamp()))))
            details.append(("viewed_time", _clock_time(item.viewed_seconds)))
            sentence = f"Watched {_when(item.watched_at)}, {_duration_words(item.viewed_seconds)} of {_duration_words(title.runtime)}."
        case RatingItem():
            entry_id = f"{user_url}ratings/titles/{title.id}"
            details.append(("user_rating", str(item.user_rating)))
            details.append(("predicted_rating", f"{item.predicted_rating:.1f}"))
            if item.user_rating == NOT_INTERESTED:
                sentence = f"Marked as not interested {_when(item.rated_at)}."
            else:
                sentence = f"Rated {_stars(float(item.user_rating))} ({item.user_rating} of 5) {_when(item.rated_at)}."
        case Recommendation():
            entry_id = f"{user_url}recommendations/{title.id}"
            details.append(("predicted_rating", f"{item.predicted_rating:.1f}"))
            sentence = f"Recommended {_when(item.recommended_at)}, with a predicted rating of {item.predicted_rating:.1f}."
    categories.append((FORMAT_SCHEME, "Instant"))

    _add(entry, _atom("id"), entry_id)
    _add(entry, _atom("title"), title.name)
    _add(entry, _atom("updated"), rfc3339(item.updated))
    _link(entry, "alternate", base + title.web_path, "text/html")
    _link(entry, CATALOG_REL, base + title.catalog_path, "application/xml", title="title")
    for scheme, term in categories:
        etree.SubElement(entry, _atom("category"), scheme=scheme, term=term, label=term)
    box_art = _box_art(title, base)
    etree.SubElement(entry, _media("thumbnail"), url=box_art["large"])
    etree.SubElement(entry, _netflix("box_art"), box_art)
    _add(entry, _netflix("release_year"), str(title.year))
    _add(entry, _netflix("runtime"), str(title.runtime))
    _add(entry, _netflix("average_rating"), f"{title.average_rating:.1f}")
    for name, value in details:
        _add(entry, _netflix(name), value)
    content = etree.SubElement(entry, _atom("content"), type="html")
    content.text = _entry_html(title, box_art["large"], base + title.web_path, sentence)


def _entry_html(title: CatalogTitle, picture: str, web_url: str, sentence: str) -> str:
    block = E.DIV(
        E.A(E.IMG(src=picture, alt=title.name, width="150", height="210"), href=web_url),
        E.P(E.STRONG(title.name), f" ({title.year}) · {title.rating_label} · {_duration_words(title.runtime)}"),
        E.P(f"{_stars(title.average_rating)} {title.average_rating:.1f} average rating"),
        E.P(sentence),
    )
    return lxml_html.tostring(block, encoding="unicode")


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _box_art(title: CatalogTitle, base_url: str) -> dict[str, str]:
    return {name: base_url + title.box_art_path(size) for name, size in _BOX_ART_NAMES.items()}


def _add(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _link(parent: etree._Element, rel: str, href: str, media_type: str, **extra: str) -> None:
    etree.SubElement(parent, _atom("link"), rel=rel, href=href, type=media_type, **extra)


def _atom(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _netflix(name: str) -> str:
    return f"{{{NETFLIX}}}{name}"


def _media(name: str) -> str:
    return f"{{{MEDIA}}}{name}"


def _opensearch(name: str) -> str:
    return f"{{{OPENSEARCH}}}{name}"


def _svg(name: str) -> str:
    return f"{{{SVG}}}{name}"


def _colour(hue: float, lightness: float) -> str:
    red, green, blue = colorsys.hls_to_rgb(hue % 1.0, lightness, 0.55)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def _stars(rating: float) -> str:
    full = max(0, min(5, round(rating)))
    return "★" * full + "☆" * (5 - full)


def _when(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return f"on {moment.day} {_MONTHS[moment.month - 1]} {moment.year} at {moment:%H:%M} UTC"


def _duration_words(seconds: int) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _clock_time(seconds: int) -> str:
    """The reference's viewed_time: "01:23:45"."""
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"

