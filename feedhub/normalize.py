"""Parsed feed entries → typed ``Entry`` values, per kind.

Knows the emulator's / Netflix API's Atom vocabulary (the ``netflix:`` elements, the
catalog ``rel``, the rating schemes) and falls back to what generic Atom, RSS and JSON
feeds offer (alternate link, Media RSS thumbnails). Pure: no I/O.

Tolerance rules for what feeds in the wild send (SPEC §9):

- an entry without an id is known by its link, else by a hash of its title and
  content; an id longer than ``MAX_ID_CHARS`` is replaced by its hash;
- text is cut at ``MAX_TEXT_CHARS`` (summaries at ``MAX_SUMMARY_CHARS``) and URLs longer
  than ``MAX_URL_CHARS`` are dropped, so one source cannot bloat storage or a page;
- characters that XML 1.0 forbids are stripped here, before anything is stored, so
  one bad source cannot make a merged feed ill-formed;
- links and pictures are kept only as absolute http(s) URLs; an HTML title, like a
  summary, keeps only its text (nh3);
- an entry without a title is skipped: nothing could be said about it.
"""
from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from typing import Any, Mapping
from urllib.parse import urlsplit

import nh3

from .models import BoxArt, Entry, Kind, Title
from .dates import parse_datetime, struct_to_datetime
from .parse import ParsedFeed
from .publish.text import clean as xml_chars_only

NETFLIX_NS = "http://schemas.netflix.com/atom"
CATALOG_REL = "http://schemas.netflix.com/id"
NOT_INTERESTED = "not_interested"  # a user_rating value (reference, User Title Ratings)
_RATING_SCHEMES = (
    "http://api.netflix.com/catalog/titles/mpaa_ratings",
    "http://api.netflix.com/categories/tv_ratings",
)
# The API's catalog URLs end with the title's id, whatever its type:
# /catalog/titles/movies/<id>, /catalog/titles/series/<id>/seasons/<id>, /programs/<id>.
_CATALOG_PATH = re.compile(r"/catalog/titles/(?:[^/]+/)*?(\d+)/?$")
# Netflix's public title pages, which an entry without the catalog link may still give
# (an RSS view of the same feed): /Movie/<slug>/<id>, the same id as the catalog's.
_TITLE_PAGE = re.compile(r"/Movie/[^/]+/(\d+)/?$")
_YEAR_IN_NAME = re.compile(r"\s*\((\d{4})\)\s*$")
MAX_TEXT_CHARS = 500  # a title name
MAX_SUMMARY_CHARS = 500
MAX_ID_CHARS = 500
MAX_URL_CHARS = 2048


def normalize(parsed: ParsedFeed, kind: Kind) -> tuple[Entry, ...]:
    """Turn every entry of ``parsed`` into an ``Entry`` of ``kind`` (entries without a
    usable id or title are skipped)."""
    prefix = next((p for p, uri in parsed.namespaces.items() if uri == NETFLIX_NS), "netflix")
    entries = []
    for raw in parsed.entries:
        entry = _entry(raw, kind, _Fields(raw, prefix))
        if entry is not None:
            entries.append(entry)
    return tuple(entries)


class _Fields:
    """Reads ``netflix:`` extension elements whatever prefix the document used."""

    def __init__(self, raw: Mapping[str, Any], prefix: str):
        self._raw, self._prefix = raw, prefix

    def text(self, name: str) -> str | None:
        value = self._raw.get(f"{self._prefix}_{name}")
        return str(value).strip() if value not in (None, "") else None

    def attrs(self, name: str) -> Mapping[str, str]:
        value = self._raw.get(f"{self._prefix}_{name}")
        return value if isinstance(value, Mapping) else {}


def _entry(raw: Mapping[str, Any], kind: Kind, fields: _Fields) -> Entry | None:
    name = _title_text(raw)[:MAX_TEXT_CHARS]
    if not name:
        return None
    entry_id = _entry_id(raw, name)
    year = _int(fields.text("release_year"))
    if year is None and (match := _YEAR_IN_NAME.search(name)):
        year = int(match.group(1))
    web_url = _http_url(raw.get("link"))
    title = Title(
        key=title_key(_catalog_url(raw), web_url, name, year),
        name=name,
        year=year,
        web_url=web_url,
        box_art=_box_art(raw, fields),
        maturity_rating=_maturity(raw),
        average_rating=_float(fields.text("average_rating")),
        runtime_seconds=_int(fields.text("runtime")),
    )
    # dict.get: feedparser maps a missing updated_parsed to published_parsed with a warning.
    updated = struct_to_datetime(dict.get(raw, "updated_parsed") or dict.get(raw, "published_parsed"))
    return Entry(
        entry_id=entry_id,
        kind=kind,
        title=title,
        updated=updated,
        position=_int(fields.text("position")),
        user_rating=_float(fields.text("user_rating")),
        not_interested=fields.text("user_rating") == NOT_INTERESTED,
        predicted_rating=_float(fields.text("predicted_rating")),
        watched_at=parse_datetime(fields.text("watched_date")) or (updated if kind is Kind.WATCHED else None),
        summary=_plain_text(raw.get("summary", ""))[:MAX_SUMMARY_CHARS] or None if kind is Kind.OTHER else None,
    )


def _title_text(raw: Mapping[str, Any]) -> str:
    """The entry's title as text: an HTML or XHTML title (Atom ``type="html"``) keeps only
    its text, like a summary; a plain one is taken as it is."""
    detail = raw.get("title_detail")
    if isinstance(detail, Mapping) and detail.get("type") in ("text/html", "application/xhtml+xml"):
        return _plain_text(raw.get("title", ""))
    return _clean(raw.get("title", ""))


def _entry_id(raw: Mapping[str, Any], name: str) -> str:
    """The source's id for the entry, else its link, else a hash of its title and
    content (the same entry gets the same id on the next poll)."""
    entry_id = _clean(raw.get("id") or raw.get("link") or "")
    if not entry_id:
        content = " ".join(str(part.get("value", "")) for part in raw.get("content", ()) or () if isinstance(part, Mapping))
        entry_id = "hash:" + hashlib.sha256(f"{name}\n{raw.get('summary', '')}\n{content}".encode("utf-8", "replace")).hexdigest()
    if len(entry_id) > MAX_ID_CHARS:
        entry_id = "hash:" + hashlib.sha256(entry_id.encode("utf-8", "replace")).hexdigest()
    return entry_id


def title_key(catalog_url: str | None, web_url: str | None, name: str, year: int | None) -> str:
    """One title is one title: its catalog id (from the catalog URL, else from a title
    page link), else the web link, else the normalised name and year."""
    for url, shape in ((catalog_url, _CATALOG_PATH), (web_url, _TITLE_PAGE)):
        if url and (match := shape.search(urlsplit(url).path)):
            return f"catalog:{match.group(1)}"
    if web_url:
        return f"link:{web_url}"
    # Accents off (NFKD, then drop the combining marks), so "Crème" and "Creme" agree.
    decomposed = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    folded = re.sub(r"[^\w]+", " ", folded).strip()
    return f"name:{folded}|{year or ''}"


def _catalog_url(raw: Mapping[str, Any]) -> str | None:
    for link in raw.get("links", ()):
        if link.get("rel") == CATALOG_REL and link.get("href"):
            return str(link["href"])
    return None


def _box_art(raw: Mapping[str, Any], fields: _Fields) -> BoxArt:
    art = fields.attrs("box_art")
    if art:
        return BoxArt(_http_url(art.get("small")), _http_url(art.get("medium")), _http_url(art.get("large")))
    for key in ("media_thumbnail", "media_content"):
        for media in raw.get(key, ()) or ():
            url = _http_url(media.get("url"))
            if url:
                return BoxArt(large=url)
    for link in raw.get("links", ()):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return BoxArt(large=_http_url(link.get("href")))
    return BoxArt()


def _maturity(raw: Mapping[str, Any]) -> str | None:
    for tag in raw.get("tags", ()) or ():
        if tag.get("scheme") in _RATING_SCHEMES:
            return str(tag.get("label") or tag.get("term") or "") or None
    return None


def _http_url(value: Any) -> str | None:
    text = str(value or "").strip()
    if len(text) > MAX_URL_CHARS or any(c.isspace() or not c.isprintable() for c in text):
        return None
    return text if text.startswith(("http://", "https://")) else None


def _plain_text(value: Any) -> str:
    """Generic feeds' summaries are HTML of unknown quality: keep only their text
    (nh3 drops every tag, script and style contents included)."""
    return _clean(html.unescape(nh3.clean(str(value or ""), tags=set(), clean_content_tags={"script", "style"})))


def _clean(value: Any) -> str:
    """Text with its runs of white space made one space, and no character XML forbids."""
    return " ".join(xml_chars_only(str(value or "")).split())


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number <= 10 else None
