"""Dates in and out: every datetime inside feedhub is aware and in UTC."""
from __future__ import annotations

import calendar
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC to the second, as Atom (RFC 4287 §3.3), JSON Feed and activity
    ids write it. Naive datetimes are a bug and raise."""
    if moment.tzinfo is None:
        raise ValueError("feedhub datetimes must be aware (UTC)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc822(moment: datetime) -> str:
    """A date as RSS 2.0 and OPML 2.0 write it (RFC 822, four-digit year), in GMT."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def parse_datetime(value: Any) -> datetime | None:
    """RFC 3339 text or Unix seconds → aware UTC datetime; None if unreadable."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text), tz=UTC)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def struct_to_datetime(value: Any) -> datetime | None:
    """feedparser's UTC ``time.struct_time`` → aware datetime."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None
