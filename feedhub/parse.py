"""Bytes and headers of a fetched document → a parsed feed.

Atom, RSS 0.9x/1.0/2.0 go through feedparser (from bytes, never from a URL, so it
cannot fetch anything itself); JSON Feed 1.0/1.1 is read with the stdlib json module
into the same shape. This module knows nothing about kinds or titles (see
``normalize``). Every failure is a ``FetchError`` (``not_a_feed`` or ``malformed``)
with a message for people; nothing else escapes, whatever the bytes.

How one hostile document is kept from doing harm (SPEC §4, §9):

- **No entity tricks.** feedparser is pinned to the stdlib expat driver
  (``PREFERRED_XML_PARSERS``): with libxml2's Python bindings installed it would prefer
  libxml2, which expands external entities. And before any parser builds anything,
  ``_screen`` reads the document once with expat and refuses every entity declaration
  that is external (a file, a URL), a parameter entity, or more than a few characters
  of plain text — so billion laughs, quadratic blowup, XXE and external DTD tricks end
  there, without anything being read, fetched or expanded. An external DTD may be
  named (RSS 0.91 does) but is never read.
- **Bounded work.** The same pass (C, linear) refuses documents that are not
  well-formed, deeper than ``MAX_DEPTH``, with more than ``MAX_ELEMENTS`` elements,
  ``MAX_ATTRIBUTES`` attributes on one element or ``MAX_NAMESPACES`` namespace
  declarations. feedparser spends tens of microseconds per element and is quadratic in
  the attributes of one element (a 1 MiB element with 100,000 attributes kept it busy
  for six minutes), so these limits, with the body-size cap of ``fetch``, bound the
  time one document can take (``benchmarks/worst_input.py`` measures it). Refusing
  what is not well-formed also keeps feedparser's loose parser, slow and able to
  raise on character references such as ``&#xD800;``, from ever running on the
  documents that need it most.
- **No HTML trusted.** feedparser's own HTML sanitizer is turned off: it is slow and
  lets ``javascript:`` through in places; ``normalize`` keeps only the text of entry
  HTML (through nh3), and links are checked for http(s) where they are used.

Those properties are the contract for every XML reader in feedhub. The fast reader for
well-formed Atom and RSS 2.0 (``fastparse``, lxml) runs only after ``_screen`` and keeps
it: no DOCTYPE, no entity resolution, no DTD, no network, linear work; anything unusual
goes to feedparser.
"""
from __future__ import annotations

import io
import json
import pyexpat
import re
from dataclasses import dataclass
from typing import Any, Mapping

import feedparser
import feedparser.api
from feedparser.encodings import convert_to_utf8

from .dates import parse_datetime
from .fastparse import parse_fast
from .fetch import FetchError, Outcome

MAX_ENTRIES = 5000  # per document; a longer one is cut, not refused
MAX_ELEMENTS = 50_000
MAX_DEPTH = 64
MAX_ATTRIBUTES = 64  # on one element
MAX_NAMESPACES = 100  # declarations in one document (feedparser slows with each one in scope)
MAX_ENTITY_CHARS = 4  # the longest replacement text an entity may declare
_TOLERATED = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)

# The stdlib expat driver, first and only: feedparser would otherwise try libxml2's
# driver first (feedparser.api.PREFERRED_XML_PARSERS is its documented switch).
feedparser.api.PREFERRED_XML_PARSERS[:] = ["xml.sax.expatreader"]


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: tuple[Mapping[str, Any], ...]  # feedparser-shaped entry dicts
    namespaces: Mapping[str, str]  # prefix → namespace URI, as feedparser reports them
    feed: Mapping[str, Any]  # feed-level fields (feedparser-shaped)
    format: str  # e.g. "atom10", "rss20", "json11"


def parse_feed(body: bytes, content_type: str = "") -> ParsedFeed:
    """Parse a feed document; raise ``FetchError`` (not_a_feed / malformed) if it is not one."""
    if not body.strip():
        raise FetchError(Outcome.NOT_A_FEED, "the response was empty")
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body)
    headers = {"content-type": content_type} if content_type else {}
    _screen(convert_to_utf8(headers, body, {}))
    fast = parse_fast(body)  # well-formed Atom/RSS 2.0 without a DOCTYPE: lxml, 100× faster
    if fast is not None:
        version, feed, entries, namespaces = fast
        return ParsedFeed(str(feed.get("title", "")), tuple(entries[:MAX_ENTRIES]), namespaces, feed, version)
    try:
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # feedparser raises on some broken input instead of flagging it
        raise FetchError(Outcome.MALFORMED, f"the feed is malformed ({type(exc).__name__})") from None
    if not parsed.get("version"):
        raise FetchError(Outcome.NOT_A_FEED, "the document is XML but not an Atom or RSS feed")
    if parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), _TOLERATED):
        # feedparser's loose parser guesses at broken XML; a guess is not a feed we
        # republish. Only a wrong declared encoding or content type is forgiven.
        raise FetchError(Outcome.MALFORMED, "the feed is malformed XML")
    return ParsedFeed(
        title=str(parsed.feed.get("title", "")),
        entries=tuple(parsed.entries[:MAX_ENTRIES]),
        namespaces=dict(parsed.get("namespaces", {})),
        feed=parsed.feed,
        format=parsed.version,
    )


class _Refused(Exception):
    """Raised from inside expat's handlers to stop reading a document at once."""


def _screen(data: bytes) -> None:
    """Read ``data`` (UTF-8, as feedparser will) once with expat, without building
    anything, and refuse it unless it is a well-formed XML document within the limits
    and with no dangerous entity declarations. See the module docstring."""
    parser = pyexpat.ParserCreate(namespace_separator=" ")  # as feedparser's strict parser reads it
    # Never read an external DTD or parameter entity (the default; said for the reader).
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    state = {"depth": 0, "elements": 0, "namespaces": 0, "root": None}

    def start(name: str, attributes: dict[str, str]) -> None:
        if state["root"] is None:
            state["root"] = name
            if name.rsplit(" ", 1)[-1].lower() == "html":
                raise _Refused("html")
        state["depth"] += 1
        state["elements"] += 1
        if state["depth"] > MAX_DEPTH:
            raise _Refused(f"the feed nests elements deeper than {MAX_DEPTH} levels")
        if state["elements"] > MAX_ELEMENTS:
            raise _Refused(f"the feed has more than {MAX_ELEMENTS:,} elements")
        if len(attributes) > MAX_ATTRIBUTES:
            raise _Refused(f"an element of the feed has more than {MAX_ATTRIBUTES} attributes")

    def end(name: str) -> None:
        state["depth"] -= 1

    def namespace(prefix: str | None, uri: str | None) -> None:
        state["namespaces"] += 1
        if state["namespaces"] > MAX_NAMESPACES:
            raise _Refused(f"the feed declares more than {MAX_NAMESPACES} namespaces")

    def entity(name: str, is_parameter: bool, value: str | None, base: str | None, system_id: str | None,
               public_id: str | None, notation: str | None) -> None:
        if is_parameter or value is None:
            raise _Refused("the feed declares an external or parameter entity, which feedhub never reads")
        if len(value) > MAX_ENTITY_CHARS or any(c in value for c in "&%<"):
            # Entities that expand into other entities or long text are how XML bombs work.
            raise _Refused("the feed declares entities that expand into more than a few characters")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartNamespaceDeclHandler = namespace
    parser.EntityDeclHandler = entity
    try:
        parser.Parse(data, True)
    except _Refused as refused:
        if str(refused) == "html":
            raise FetchError(Outcome.NOT_A_FEED, "the document is an HTML page, not a feed") from None
        raise FetchError(Outcome.MALFORMED, str(refused)) from None
    except pyexpat.ExpatError as exc:
        if _looks_like_html(data):
            raise FetchError(Outcome.NOT_A_FEED, "the document is an HTML page, not a feed") from None
        if state["root"] is None and _XML_DECLARATION.sub(b"", data, count=1).lstrip()[:1] != b"<":
            raise FetchError(Outcome.NOT_A_FEED, "the document is neither XML nor JSON") from None
        # No line number: the document was re-encoded first, which can move it.
        raise FetchError(Outcome.MALFORMED, f"the feed is not well-formed XML ({pyexpat.ErrorString(exc.code)})") from None


_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>")


def _looks_like_html(data: bytes) -> bool:
    head = data[:4096].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _looks_like_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip()[:1] == b"{"


def _parse_json_feed(body: bytes) -> ParsedFeed:
    # json is C and linear in the size of the body, which fetch caps; nesting too deep
    # for it ends in RecursionError.
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise FetchError(Outcome.MALFORMED, "the JSON feed is malformed") from None
    declared = _text(doc.get("version")) if isinstance(doc, dict) else ""
    if not declared.startswith("https://jsonfeed.org/version/"):
        raise FetchError(Outcome.NOT_A_FEED, "the document is JSON but not a JSON Feed")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FetchError(Outcome.MALFORMED, "the JSON feed has no items list")
    entries = tuple(_json_item(item) for item in items[:MAX_ENTRIES] if isinstance(item, dict))
    version = "json11" if declared.endswith("1.1") else "json10"
    title = _text(doc.get("title"))
    return ParsedFeed(title, entries, {}, {"title": title}, version)


def _json_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Map a JSON Feed item onto the keys feedparser uses for Atom/RSS entries."""
    entry: dict[str, Any] = {
        "id": _text(item.get("id")),
        "title": _text(item.get("title")),
        "link": _text(item.get("url")),
        "summary": _text(item.get("summary")) or _text(item.get("content_text")),
        "tags": [{"term": t} for t in _list(item.get("tags")) if isinstance(t, str)],
    }
    image = item.get("image") or item.get("banner_image")
    if isinstance(image, str):
        entry["media_thumbnail"] = [{"url": image}]
    for ours, theirs in (("updated_parsed", "date_modified"), ("published_parsed", "date_published")):
        when = parse_datetime(item.get(theirs))
        if when:
            entry[ours] = when.timetuple()
    return entry


def _text(value: Any) -> str:
    """A string field of a JSON Feed: text as given, a number as text (ids in the wild),
    anything else (an object, a list, null) as nothing."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _list(value: Any) -> list[Any]:
    """``value`` if the document gave a list there, else nothing (a JSON Feed from the
    wild may put anything anywhere)."""
    return value if isinstance(value, list) else []
