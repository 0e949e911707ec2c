"""Bytes and headers of a fetched document → a parsed feed.

Atom, RSS 0.9x/1.0/2.0 go through feedparser (from bytes, never from a URL, so it
cannot fetch anything itself); JSON Feed 1.0/1.1 is read with the stdlib json module
into the same shape. This module knows nothing about kinds or titles (see
``normalize``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

import feedparser

from .dates import parse_datetime
from .fetch import FetchError, Outcome

MAX_ENTRIES = 5000  # per document; a longer one is cut, not refused
_TOLERATED = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: tuple[Mapping[str, Any], ...]  # feedparser-shaped entry dicts
    namespaces: Mapping[str, str]  # prefix → namespace URI, as feedparser reports them
    feed: Mapping[str, Any]  # feed-level fields (feedparser-shaped)
    format: str  # e.g. "atom10", "rss20", "json11"


def parse_feed(body: bytes, content_type: str = "") -> ParsedFeed:
    """Parse a feed document; raise ``FetchError`` (not_a_feed / malformed) if it is not one."""
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body)
    try:
        parsed = feedparser.parse(body, response_headers={"content-type": content_type} if content_type else None)
    except Exception as exc:  # feedparser raises on some broken input instead of flagging it
        raise FetchError(Outcome.MALFORMED, f"the feed is malformed ({type(exc).__name__})") from None
    if not parsed.get("version"):
        if parsed.get("bozo") and body.lstrip()[:1] == b"<" and b"<html" not in body[:2048].lower():
            raise FetchError(Outcome.MALFORMED, "the feed is malformed XML")
        raise FetchError(Outcome.NOT_A_FEED)
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


def _looks_like_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip()[:1] == b"{"


def _parse_json_feed(body: bytes) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise FetchError(Outcome.MALFORMED, "the JSON feed is malformed") from None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise FetchError(Outcome.NOT_A_FEED)
    items = doc.get("items")
    if not isinstance(items, list):
        raise FetchError(Outcome.MALFORMED, "the JSON feed has no items list")
    entries = tuple(_json_item(item) for item in items[:MAX_ENTRIES] if isinstance(item, dict))
    version = "json11" if doc["version"].endswith("1.1") else "json10"
    return ParsedFeed(str(doc.get("title", "")), entries, {}, {"title": doc.get("title", "")}, version)


def _json_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Map a JSON Feed item onto the keys feedparser uses for Atom/RSS entries."""
    entry: dict[str, Any] = {
        "id": str(item.get("id", "")),
        "title": str(item.get("title", "") or ""),
        "link": str(item.get("url", "") or ""),
        "summary": str(item.get("summary") or item.get("content_text") or ""),
        "tags": [{"term": str(t)} for t in item.get("tags", []) if isinstance(t, str)],
    }
    image = item.get("image") or item.get("banner_image")
    if isinstance(image, str):
        entry["media_thumbnail"] = [{"url": image}]
    for ours, theirs in (("updated_parsed", "date_modified"), ("published_parsed", "date_published")):
        when = parse_datetime(item.get(theirs))
        if when:
            entry[ours] = when.timetuple()
    return entry
