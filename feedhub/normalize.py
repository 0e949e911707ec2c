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
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
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
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_TEXT_CHARS = 500  # a title name
MAX_SUMMARY_CHARS = 500
MAX_ID_CHARS = 500
MAX_URL_CHARS = 2048
# The netflix: elements an entry may hold, by their names after the prefix.
_NETFLIX_FIELDS = (
    "release_year", "average_rating", "runtime", "position",
    "user_rating", "predicted_rating", "watched_date", "box_art",
)


def normalize(parsed: ParsedFeed, kind: Kind) -> tuple[Entry, ...]:
    """Turn every entry of ``parsed`` into an ``Entry`` of ``kind`` (entries without a
    usable id or title are skipped)."""
    prefix = next((p for p, uri in parsed.namespaces.items() if uri == NETFLIX_NS), "netflix")
    keys = {name: f"{prefix}_{name}" for name in _NETFLIX_FIELDS}  # once per feed, not per entry
    entries = []
    for raw in parsed.entries:
        entry = _entry(raw, kind, _Fields(raw, keys))
        if entry is not None:
            entries.append(entry)
    return tuple(entries)


class _Fields:
    """Reads ``netflix:`` extension elements whatever prefix the document used (``keys``:
    each field's name → its key in the entry)."""

    __slots__ = ("_raw", "_keys")

    def __init__(self, raw: Mapping[str, Any], keys: Mapping[str, str]):
        self._raw, self._keys = raw, keys

    def text(self, name: str) -> str | None:
        value = self._raw.get(self._keys[name])
        return str(value).strip() if value not in (None, "") else None

    def attrs(self, name: str) -> Mapping[str, str]:
        value = self._raw.get(self._keys[name])
        return value if _is_mapping(value) else {}


def _is_mapping(value: Any) -> bool:
    # dict first: feedparser's and fastparse's dicts are dicts, and the ABC check is slow.
    return isinstance(value, dict) or isinstance(value, Mapping)


def _entry(raw: Mapping[str, Any], kind: Kind, fields: _Fields) -> Entry | None:
    name = _title_text(raw)[:MAX_TEXT_CHARS]
    if not name:
        return None
    entry_id = _entry_id(raw, name)
    year = _int(fields.text("release_year"))
    if year is None and ")" in name and (match := _YEAR_IN_NAME.search(name)):
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
    updated = _utc(dict.get(raw, "updated_parsed") or dict.get(raw, "published_parsed"))
    user_rating = fields.text("user_rating")
    return Entry(
        entry_id=entry_id,
        kind=kind,
        title=title,
        updated=updated,
        position=_int(fields.text("position")),
        user_rating=_float(user_rating),
        not_interested=user_rating == NOT_INTERESTED,
        predicted_rating=_float(fields.text("predicted_rating")),
        watched_at=parse_datetime(fields.text("watched_date")) or (updated if kind is Kind.WATCHED else None),
        summary=_plain_text(raw.get("summary", ""))[:MAX_SUMMARY_CHARS] or None if kind is Kind.OTHER else None,
    )


def _title_text(raw: Mapping[str, Any]) -> str:
    """The entry's title as text: an HTML or XHTML title (Atom ``type="html"``) keeps only
    its text, like a summary; a plain one is taken as it is."""
    detail = raw.get("title_detail")
    if _is_mapping(detail) and detail.get("type") in ("text/html", "application/xhtml+xml"):
        return _plain_text(raw.get("title", ""))
    return _clean(raw.get("title", ""))


def _entry_id(raw: Mapping[str, Any], name: str) -> str:
    """The source's id for the entry, else its link, else a hash of its title and
    content (the same entry gets the same id on the next poll)."""
    entry_id = _clean(raw.get("id") or raw.get("link") or "")
    if not entry_id:
        content = " ".join(str(part.get("value", "")) for part in raw.get("content", ()) or () if _is_mapping(part))
        entry_id = "hash:" + hashlib.sha256(f"{name}\n{raw.get('summary', '')}\n{content}".encode("utf-8", "replace")).hexdigest()
    if len(entry_id) > MAX_ID_CHARS:
        entry_id = "hash:" + hashlib.sha256(entry_id.encode("utf-8", "replace")).hexdigest()
    return entry_id


def title_key(catalog_url: str | None, web_url: str | None, name: str, year: int | None) -> str:
    """One title is one title: its catalog id (from the catalog URL, else from a title
    page link), else the web link, else the normalised name and year."""
    for url, shape, marker in ((catalog_url, _CATALOG_PATH, "/catalog/titles/"), (web_url, _TITLE_PAGE, "/Movie/")):
        if url and _may_hold(url, marker) and (match := shape.search(_path(url))):
            return f"catalog:{match.group(1)}"
    if web_url:
        return f"link:{web_url}"
    # Accents off (NFKD, then drop the combining marks), so "Crème" and "Creme" agree.
    decomposed = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    folded = re.sub(r"[^\w]+", " ", folded).strip()
    return f"name:{folded}|{year or ''}"


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:  # e.g. an unclosed IPv6 bracket: a feed's URL, not feedhub's crash
        return ""


def _may_hold(url: str, marker: str) -> bool:
    """False when the path of ``url`` cannot hold ``marker``, known without splitting it:
    the path is part of the URL once urlsplit has taken out tabs and line breaks."""
    return marker in url or "\t" in url or "\r" in url or "\n" in url


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
    return _NO_BOX_ART


_NO_BOX_ART = BoxArt()  # frozen: one shared value serves every entry without a picture


def _maturity(raw: Mapping[str, Any]) -> str | None:
    for tag in raw.get("tags", ()) or ():
        if tag.get("scheme") in _RATING_SCHEMES:
            return str(tag.get("label") or tag.get("term") or "") or None
    return None


def _http_url(value: Any) -> str | None:
    text = str(value or "").strip()
    # No white space and nothing unprintable: every white space character but " " is
    # unprintable, so these two C-speed checks say what a per-character test would.
    if len(text) > MAX_URL_CHARS or " " in text or not text.isprintable():
        return None
    return text if text.startswith(("http://", "https://")) else None


def _plain_text(value: Any) -> str:
    """Generic feeds' summaries are HTML of unknown quality: keep only their text
    (nh3 drops every tag, script and style contents included)."""
    text = str(value or "")
    if "<" not in text and "&" not in text and not text.startswith("\ufeff"):
        # No tag and no reference: nh3 and unescape would only turn CR into LF, drop NUL
        # and drop a leading byte order mark; _clean does the first two anyway (a text
        # that starts with a BOM takes the long way).
        return _clean(text)
    try:
        markup = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
    except UnicodeEncodeError:
        # Lone surrogates (a JSON feed may hold them) cannot reach nh3; XML forbids them.
        markup = nh3.clean(_SURROGATE.sub("", text), tags=set(), clean_content_tags={"script", "style"})
    return _clean(html.unescape(markup))



def _clean(value: Any) -> str:
    """Text with its runs of white space made one space, and no character XML forbids."""
    text = str(value or "")
    if text.isprintable():
        # Nothing XML forbids (all of it is unprintable), and " " is the only white space
        # a printable text can hold: without two in a row, only its ends may need it.
        if "  " not in text:
            return text.strip(" ")
    else:
        text = xml_chars_only(text)
    return " ".join(text.split())


def _utc(value: Any) -> datetime | None:
    """``struct_to_datetime``, without its round trip through a timestamp for the usual
    struct_time of a date since 1970 (the same datetime either way)."""
    if isinstance(value, tuple) and len(value) >= 6 and type(value[0]) is int and 1970 <= value[0] <= 9999:
        try:
            return datetime(*value[:6], tzinfo=UTC)
        except (TypeError, ValueError):
            pass  # e.g. a leap second or a day 31 in June: timegm rolls them over
    return struct_to_datetime(value)


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
