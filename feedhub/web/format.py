"""How the pages say things: times, poll outcomes, stars and headlines (Jinja filters).

The words of an activity come from ``publish.text``, so a page and a feed say the same
thing; this module adds what only people looking at a page need.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from feedhub.dates import rfc3339
from feedhub.fetch import Outcome
from feedhub.publish.text import headline, http_url, stars
from feedhub.storage.rows import SourceRow
from feedhub.urls import scrub

_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
)


def relative(moment: datetime | None, now: datetime) -> str:
    """``moment`` seen from ``now``: "3 hours ago", "in 5 minutes", "just now"."""
    if moment is None:
        return "never"
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 60:
        return "just now"
    unit, size = next((unit, size) for unit, size in _UNITS if abs(seconds) >= size)
    count = int(abs(seconds) // size)
    words = f"{count} {unit}" + ("" if count == 1 else "s")
    return f"in {words}" if seconds > 0 else f"{words} ago"


def absolute(moment: datetime) -> str:
    """A date and time for people, in UTC: "2026-01-15 12:00 UTC"."""
    return rfc3339(moment)[:16].replace("T", " ") + " UTC"


def badge(outcome: str | None) -> tuple[str, str]:
    """The CSS class (``ok``, ``error``, ``new``) and the label of a last poll outcome."""
    if outcome is None:
        return "new", "not polled yet"
    try:
        healthy = Outcome(outcome).healthy
    except ValueError:  # a code this version does not know is no reason to look healthy
        healthy = False
    return ("ok" if healthy else "error"), outcome.replace("_", " ")


def poll_message(source: SourceRow) -> str | None:
    """The last poll's message, fit to show.

    Polling scrubs it already; it can quote a library's exception, which quotes the
    URL, so the secrets of the source are scrubbed once more where it leaves feedhub.
    """
    return scrub(source.last_message, source.url) if source.last_message else None


FILTERS: dict[str, Callable[..., Any]] = {
    "relative": relative,
    "absolute": absolute,
    "rfc3339": rfc3339,
    "badge": badge,
    "poll_message": poll_message,
    "stars": stars,
    "headline": headline,
    "http_url": http_url,
}
