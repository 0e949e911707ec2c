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
well-formed Atom and RSS 2.0 (``fastparse``, lxml) keeps it: no DOCTYPE, no entity
resolution, no DTD, no network, linear work; anything unusual goes to feedparser. It
runs after ``_screen``, or — for a plain UTF-8 document without a DOCTYPE, which cannot
declare an entity — without it, once cheap byte counts have shown the document within
the limits (``_direct`` says why that is as safe and answers exactly as the screened
path would).
"""
from __future__ import annotations

import codecs
import io
import json
import pyexpat
import re
import threading
from dataclasses import dataclass
from typing import Any, Mapping

import feedparser
import feedparser.api
from feedparser.encodings import convert_to_utf8, parse_content_type
from lxml import etree

from .dates import parse_datetime
from .fastparse import Result, from_tree, parse_fast, read_utf8
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
    direct = _direct(body, content_type)
    if direct is not None:
        return _fast_feed(direct)
    headers = {"content-type": content_type} if content_type else {}
    _screen(_as_utf8(headers, body))  # a temporary: the re-encoded copy is not kept
    fast = parse_fast(body)  # well-formed Atom/RSS 2.0 without a DOCTYPE: lxml, 100× faster
    if fast is not None:
        return _fast_feed(fast)
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


def _as_utf8(headers: dict[str, str], body: bytes) -> bytes:
    """The document in UTF-8, as feedparser will read it."""
    try:
        return convert_to_utf8(headers, body, {})
    except ValueError:  # e.g. a declared encoding name with bytes that are not UTF-8, or NUL
        raise FetchError(Outcome.MALFORMED, "the feed declares an encoding that cannot be read") from None


def _fast_feed(fast: Result) -> ParsedFeed:
    version, feed, entries, namespaces = fast
    return ParsedFeed(str(feed.get("title", "")), tuple(entries[:MAX_ENTRIES]), namespaces, feed, version)


# -- the direct path: plain UTF-8 documents without a DOCTYPE ----------------------------

# Every attribute of a start tag lies between its "<" and the next "<" (no "<" may stand
# in an attribute value), and each has its "=". Deleting every other byte leaves runs of
# "=" between "<": a run longer than the limit, and some element may have too many.
_ATTRIBUTE_BYTES = bytes(b for b in range(256) if b not in b"<=")
_TOO_MANY_EQUALS = b"=" * (MAX_ATTRIBUTES + 1)
# A non-ASCII character in a tag, outside quoted values, may be part of a name, where
# libxml2 (XML 1.0 fifth edition) allows more than expat does. Searched in the body
# reduced to < > " ' ! and one \x80 per non-ASCII character, which keeps the answer
# and makes the search ten times shorter. Comments and CDATA ("<!") hold text, not names.
_NAME_TABLE = bytes(b if b < 0x80 else 0x80 for b in range(256))
_NAME_BYTES = bytes(b for b in range(0x80) if b not in b"<>\"'!") + bytes(range(0x80, 0xC0))
_TAG_WITH_NON_ASCII = re.compile(rb"<(?:!|(?:\"[^\"<]*+\"|'[^'<]*+')*+\x80)")
# feedparser reads the encoding from the first line of the document with this.
_FEEDPARSER_ENCODING = re.compile(rb'^<\?.*encoding=[\'"](.*?)[\'"].*\?>')
# libxml2 reads it from the whole XML declaration, which may span lines.
_DECLARED_ENCODING = re.compile(rb"<\?xml\s[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']")
# libxml2 refuses a longer text without huge_tree: a body this long may hold one, and is
# left to the screened path rather than read twice.
_LXML_MAX_TEXT = 10_000_000
_DEEPER_THAN_ALLOWED = "boolean(" + "/*" * (MAX_DEPTH + 1) + ")"
_local = threading.local()


def _deeper_than_allowed(root: etree._Element) -> bool:
    # One compiled XPath per thread: each holds a lock while it evaluates, so one shared
    # by the polling threads made them queue for it.
    check = getattr(_local, "deeper", None)
    if check is None:
        check = _local.deeper = etree.XPath(_DEEPER_THAN_ALLOWED)
    return bool(check(root))


def _direct(body: bytes, content_type: str) -> Result | None:
    """The fast reading of a plain document, without the expat screen; None when the
    document must take the screened path (which then decides everything, exactly as
    if this function did not exist).

    Why this keeps every property of the screened path, at a fraction of its cost:

    - Entities: a document without a DOCTYPE has no DTD, so it cannot declare an
      entity of any kind, nor name anything external; any other entity reference
      than the five of XML is an error (libxml2 refuses the document). The
      "<!DOCTYPE" bytes are looked for in the whole body, and the body is read as
      UTF-8 and nothing else (lxml is told so), so bytes and characters agree. No DTD
      loading, no entity resolution and no network in lxml anyway.
    - Limits, before lxml builds anything: no more elements than "<", no more
      namespace declarations than "xmlns", no more attributes on an element than "="
      up to the next "<" (all counted in bytes, over-counted, never under). Depth is
      bounded by libxml2 itself (256, no huge_tree) while parsing and checked on the
      tree. A document that may break a limit takes the screened path, which counts
      exactly and refuses it.
    - Same answers: feedparser (and so the screen) reads the body as UTF-8 too here,
      libxml2 must read it without a word of complaint (a warning sends it to the
      screened path) and names must be ASCII (libxml2 allows names expat refuses), so
      the screen would have let the document through; what is read is then what
      ``parse_fast`` gives for it, by the same code. Anything else — an unusual
      encoding, an unusual document, a feed the fast path leaves to feedparser —
      takes the screened path.
    """
    if len(body) > _LXML_MAX_TEXT or b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return None
    if not _utf8_for_both(body, content_type):
        return None
    tags = body.translate(None, _ATTRIBUTE_BYTES)
    if tags.count(b"<") > MAX_ELEMENTS or _TOO_MANY_EQUALS in tags or body.count(b"xmlns") > MAX_NAMESPACES:
        return None
    if not body.isascii() and _non_ascii_name(body):
        return None
    root = read_utf8(body)
    if root is None or _deeper_than_allowed(root):
        return None
    return from_tree(root, body)


def _non_ascii_name(body: bytes) -> bool:
    reduced = body.translate(_NAME_TABLE, _NAME_BYTES)
    return any(match.group() != b"<!" for match in _TAG_WITH_NON_ASCII.finditer(reduced))


def _utf8_for_both(body: bytes, content_type: str) -> bool:
    """True when feedparser (so the screen) and libxml2 both read ``body`` as UTF-8
    (RFC 3023 as feedparser's ``convert_to_utf8`` applies it, and the XML declaration);
    False for anything else, which the screened path then reads as it always did."""
    data = body[3:] if body.startswith(codecs.BOM_UTF8) else body
    if data[:1] != b"<":  # UTF-16/32 and EBCDIC documents start otherwise
        return False
    found = _FEEDPARSER_ENCODING.match(data)
    declared = _DECLARED_ENCODING.match(data)
    for match in (found, declared):
        if match and match.group(1).lower() != b"utf-8":
            return False
    mime, charset = parse_content_type(content_type)
    if charset.lower() not in ("", "utf-8"):
        return False
    if not charset and mime.startswith("text/") and not (found or data is not body or body.isascii()):
        # feedparser tries US-ASCII for text/* first, then the declared encoding, the
        # byte order mark, and a guess (chardet, if installed) before UTF-8.
        return False
    return True


class _Refused(Exception):
    """Raised from inside expat's handlers to stop reading a document at once."""


def _screen(data: bytes) -> None:
    """Read ``data`` (UTF-8, as feedparser will) once with expat, without building
    anything, and refuse it unless it is a well-formed XML document within the limits
    and with no dangerous entity declarations. See the module docstring."""
    parser = pyexpat.ParserCreate(namespace_separator=" ")  # as feedparser's strict parser reads it
    # Never read an external DTD or parameter entity (the default; said for the reader).
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    # Plain counters and attributes as a list (a dict per element cost more than the
    # counting): this handler runs for every element of the screened documents.
    parser.ordered_attributes = True
    depth = elements = namespaces = 0
    root: str | None = None

    def start(name: str, attributes: list[str]) -> None:
        nonlocal depth, elements, root
        if root is None:
            root = name
            if name.rsplit(" ", 1)[-1].lower() == "html":
                raise _Refused("html")
        depth += 1
        elements += 1
        if depth > MAX_DEPTH:
            raise _Refused(f"the feed nests elements deeper than {MAX_DEPTH} levels")
        if elements > MAX_ELEMENTS:
            raise _Refused(f"the feed has more than {MAX_ELEMENTS:,} elements")
        if len(attributes) > 2 * MAX_ATTRIBUTES:  # name, value, name, value…
            raise _Refused(f"an element of the feed has more than {MAX_ATTRIBUTES} attributes")

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    def namespace(prefix: str | None, uri: str | None) -> None:
        nonlocal namespaces
        namespaces += 1
        if namespaces > MAX_NAMESPACES:
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
        if root is None and _XML_DECLARATION.sub(b"", data, count=1).lstrip()[:1] != b"<":
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
