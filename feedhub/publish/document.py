"""What a renderer is given: one channel's metadata and its items, format-free.

The web layer and the ``export`` command build a ``FeedDocument``; every renderer turns
the same document into its own format. Nothing here reads storage, the clock or the
request: the caller supplies every URL and date, so rendering is deterministic.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from feedhub.models import TimelineItem
from feedhub.publish.text import http_url

# The feed formats a document is published in, and their media types (RFC 4287 §7 for
# Atom; RSS and JSON Feed by convention and the JSON Feed 1.1 spec). ``text/html`` is
# the channel's home page.
MEDIA_TYPES: Mapping[str, str] = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
HTML_MEDIA_TYPE = "text/html"


@dataclass(frozen=True)
class Generator:
    """The software named in the feed's ``generator`` element."""

    name: str = "feedhub"
    version: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class FeedDocument:
    """One channel, ready to render in any format.

    ``feed_id`` is a stable ``tag:`` URI for the channel; ``self_urls`` maps each format
    (a key of ``MEDIA_TYPES``) to the absolute URL of this channel in that format: a
    renderer links its own as ``self`` and the others as ``alternate``. ``items`` are
    rendered in the order given (newest first, as merged).
    """

    title: str
    description: str
    feed_id: str
    home_url: str
    self_urls: Mapping[str, str]
    updated: datetime
    items: tuple[TimelineItem, ...]
    hub_url: str | None = None
    generator: Generator = field(default_factory=Generator)

    def __post_init__(self) -> None:
        if self.updated.tzinfo is None:
            raise ValueError("FeedDocument.updated must be an aware datetime")
        unknown = set(self.self_urls) - set(MEDIA_TYPES)
        if unknown:
            raise ValueError(f"unknown feed formats in self_urls: {sorted(unknown)}")

    def self_url(self, fmt: str) -> str:
        """The URL of this channel in ``fmt``."""
        try:
            return self.self_urls[fmt]
        except KeyError:
            raise ValueError(f"FeedDocument has no self URL for {fmt!r}") from None

    def alternates(self, fmt: str) -> tuple[tuple[str, str], ...]:
        """(media type, URL) of the channel in the formats other than ``fmt``.

        Sorted by format, so the output does not depend on the mapping's order.
        """
        others = sorted(self.self_urls.items())
        return tuple((MEDIA_TYPES[other], url) for other, url in others if other != fmt)

    def item_url(self, item: TimelineItem) -> str:
        """Where an item links: the title's public web page, else the channel's page."""
        return http_url(item.activity.title.web_url) or self.home_url
