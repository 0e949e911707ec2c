"""Render a ``FeedDocument`` as JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/).

Plain ``json`` from the standard library. Keys are written in a fixed order and every
string goes through ``text.clean`` like the XML formats, so the same document gives the
same bytes and the same text in every format.
"""
from __future__ import annotations

import json
from typing import Any

from feedhub.dates import rfc3339
from feedhub.models import TimelineItem
from feedhub.publish import structured
from feedhub.publish.document import FeedDocument
from feedhub.publish.text import (
    clean,
    content_html,
    headline,
    http_url,
    plain_summary,
    tags,
)

FORMAT = "json"

VERSION = "https://jsonfeed.org/version/1.1"


def render(doc: FeedDocument) -> bytes:
    """The document as a JSON Feed 1.1 object, UTF-8."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": clean(doc.title),
        "home_page_url": clean(doc.home_url),
        "feed_url": clean(doc.self_url(FORMAT)),
    }
    if doc.description:
        feed["description"] = clean(doc.description)
    if doc.hub_url:
        # JSON Feed 1.1 "hubs": endpoints for real-time notification, here WebSub.
        feed["hubs"] = [{"type": "WebSub", "url": clean(doc.hub_url)}]
    feed["items"] = [_item(doc, item) for item in doc.items]
    return json.dumps(feed, ensure_ascii=False, indent=2).encode("utf-8")


def _item(doc: FeedDocument, item: TimelineItem) -> dict[str, Any]:
    activity = item.activity
    box_art = activity.title.box_art
    entry: dict[str, Any] = {
        "id": clean(activity.id),
        "url": clean(doc.item_url(item)),
        "title": headline(item),
        "content_html": content_html(item),
        "summary": plain_summary(item),
    }
    image = http_url(box_art.best)
    if image:
        entry["image"] = clean(image)
    # banner_image is for a large picture shown above the post: only the large box art.
    banner = http_url(box_art.large)
    if banner:
        entry["banner_image"] = clean(banner)
    # An activity never changes once it happened, so it was last modified when published.
    entry["date_published"] = rfc3339(activity.occurred_at)
    entry["date_modified"] = rfc3339(activity.occurred_at)
    entry["authors"] = [{"name": clean(item.account_name)}]
    entry["tags"] = list(tags(item))
    entry["_feedhub"] = structured.json_extension(item)
    return entry
