"""How an activity is said: the words, plain text and HTML every renderer shows.

Everything here returns text that is safe to put in any output: characters that XML 1.0
forbids are stripped (``clean``) and HTML is built only from escaped pieces, with links
and pictures kept to absolute http(s) URLs. It also holds the small writers the XML
renderers share (``add``, ``rfc822``, ``rfc3339``). It does not choose, order or filter
activities; the merge step has done that.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from html import escape
from urllib.parse import urlsplit

from lxml import etree

from feedhub.models import TimelineItem, Title, Verb

# XML 1.0 §2.2 Char: anything else (C0 controls, lone surrogates, U+FFFE/U+FFFF) makes
# the document not well-formed, and lone surrogates cannot even be encoded as UTF-8.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_FULL_STAR = "★"
_EMPTY_STAR = "☆"

# How the other accounts of ``TimelineItem.also`` are said, per verb.
_ALSO = {
    Verb.WATCHED: "also watched by",
    Verb.RATED: "also rated by",
    Verb.RERATED: "also re-rated by",
    Verb.NOT_INTERESTED: "also marked by",
    Verb.QUEUED: "also queued by",
    Verb.UNQUEUED: "also removed by",
    Verb.MOVED: "also moved by",
    Verb.RECOMMENDED: "also for",
    Verb.UNRECOMMENDED: "also for",
    Verb.PREDICTION_CHANGED: "also for",
    Verb.POSTED: "also posted by",
}


def clean(value: str) -> str:
    """``value`` without the characters XML 1.0 does not allow."""
    return _NOT_XML_CHAR.sub("", value)


def http_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None.

    Links and pictures come from polled feeds; anything else (``javascript:``,
    relative paths) has no place in a republished feed.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def stars(rating: float) -> str:
    """A rating out of 5 as whole stars, e.g. 3.6 → ``★★★★☆``."""
    # Half up (3.5 → 4), not Python's round-half-even; clamped to the 0..5 scale.
    whole = min(5, max(0, math.floor(rating + 0.5)))
    return _FULL_STAR * whole + _EMPTY_STAR * (5 - whole)


def headline(item: TimelineItem) -> str:
    """One line saying what happened, e.g. ``home rated Platoon (1986) ★★★★☆``."""
    activity = item.activity
    who = item.account_name
    name = activity.title.display_name
    rating = stars(activity.rating) if activity.rating is not None else None
    match activity.verb:
        case Verb.WATCHED:
            line = _words(who, "watched", name)
        case Verb.RATED:
            line = _words(who, "rated", name, rating)
        case Verb.RERATED if rating and activity.previous_rating is not None:
            previous = stars(activity.previous_rating)
            line = _words(who, "re-rated", name, "from", previous, "to", rating)
        case Verb.RERATED:
            line = _words(who, "re-rated", name, rating)
        case Verb.NOT_INTERESTED:
            # Said in words, never as stars: it is no rating at all (docs/decisions.md).
            line = _words(who, "marked", name, "as not interested")
        case Verb.QUEUED:
            line = _words(who, "added", name, "to the queue", _position("at", activity.position))
        case Verb.UNQUEUED:
            line = _words(who, "removed", name, "from the queue")
        case Verb.MOVED:
            line = _words(
                who,
                "moved",
                name,
                _position("from", activity.previous_position),
                _position("to", activity.position),
                "in the queue",
            )
        case Verb.RECOMMENDED:
            line = _words(name, "recommended for", who, rating and f"(predicted {rating})")
        case Verb.UNRECOMMENDED:
            line = _words(name, "no longer recommended for", who)
        case Verb.PREDICTION_CHANGED:
            # Numbers as well as stars: a move of half a star may not change the stars.
            change = _change(activity.previous_rating, activity.rating)
            line = _words(f"{name}: predicted rating for", who, change, rating)
        case Verb.POSTED:
            line = _words(who, "posted", name)
    if item.also:
        line = _words(line, f"({_ALSO[activity.verb]} {names_in_words(item.also)})")
    return clean(line)


def tags(item: TimelineItem) -> tuple[str, ...]:
    """The item's categories: its verb, its kind and the account, without repeats."""
    words = (item.activity.verb.value, item.activity.verb.kind.value, item.account_name)
    return tuple(dict.fromkeys(clean(word) for word in words if word))


def plain_summary(item: TimelineItem) -> str:
    """A few lines of plain text: the headline, the feed's own summary, the details."""
    details = " · ".join(_details(item.activity.title))
    lines = (headline(item), item.activity.summary, details)
    return clean("\n".join(line for line in lines if line))


def content_html(item: TimelineItem) -> str:
    """An HTML fragment for the item: box art, headline, details and a link.

    Every piece of data is escaped here; the result is only ever escaped again as a
    whole by the serializer, never parsed.
    """
    title = item.activity.title
    name = escape(title.display_name)
    web = http_url(title.web_url)
    art = http_url(title.box_art.best)
    parts: list[str] = []
    if art:
        img = f'<img src="{escape(art)}" alt="{name}">'
        parts.append(f'<p><a href="{escape(web)}">{img}</a></p>' if web else f"<p>{img}</p>")
    parts.append(f"<p>{escape(headline(item))}</p>")
    if item.activity.summary:
        parts.append(f"<p>{escape(item.activity.summary)}</p>")
    details = _details(title)
    if details:
        parts.append(f"<p>{' · '.join(escape(detail) for detail in details)}</p>")
    if web:
        parts.append(f'<p><a href="{escape(web)}">{name}</a></p>')
    return clean("\n".join(parts))


def add(
    parent: etree._Element, tag: str, text: str | None = None, /, **attrib: str
) -> etree._Element:
    """Append a child element, with every string cleaned so the XML stays well-formed.

    ``text`` is positional only, so an attribute may be called ``text`` (OPML's is).
    """
    child = etree.SubElement(parent, tag, {key: clean(value) for key, value in attrib.items()})
    if text is not None:
        child.text = clean(text)
    return child


def _words(*words: str | None) -> str:
    """The words that are there, separated by spaces."""
    return " ".join(word for word in words if word)


def _change(before: float | None, after: float | None) -> str | None:
    """``changed from 3.5 to 4.0``, or ``changed to 4.0`` when the old value is unknown."""
    if after is None:
        return "changed"
    return f"changed from {before:.1f} to {after:.1f}" if before is not None else f"changed to {after:.1f}"


def _position(preposition: str, position: int | None) -> str | None:
    return f"{preposition} #{position}" if position is not None else None


def names_in_words(names: Iterable[str]) -> str:
    """``alex``, ``alex and sam``, ``alex, sam and kim``."""
    *rest, last = names
    return f"{', '.join(rest)} and {last}" if rest else last


def _details(title: Title) -> list[str]:
    details = []
    if title.maturity_rating:
        details.append(f"Rated {title.maturity_rating}")
    if title.runtime_seconds:
        details.append(f"{round(title.runtime_seconds / 60)} min")
    if title.average_rating is not None:
        details.append(f"average {stars(title.average_rating)}")
    return details
