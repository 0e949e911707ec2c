"""An activity as data for programs and widgets, beside the words every reader shows.

JSON Feed carries it as the extension object ``_feedhub`` (JSON Feed 1.1, "Extensions":
a key starting with an underscore, with an ``about`` URL); Atom and RSS carry the same
fields as one ``feedhub:activity`` element in the namespace ``NAMESPACE`` (an Atom
extension element, RFC 4287 §6.4; in RSS 2.0 any namespaced element, "Extending RSS").
docs/activity-data.md describes every field. Only public data goes in: never the
account's key, the title's internal key or anything from a source's URL.
"""
from __future__ import annotations

from typing import Any

from lxml import etree

from feedhub.models import TimelineItem
from feedhub.publish.text import add, clean, http_url

NAMESPACE = "tag:feedhub,2026:ns:activity"
PREFIX = "feedhub"
ABOUT = "https://github.com/feedhub/feedhub/blob/main/docs/activity-data.md"


def activity_data(item: TimelineItem) -> dict[str, Any]:
    """The item's fields in a fixed order; absent values are left out, never null."""
    activity, title = item.activity, item.activity.title
    fields: dict[str, Any] = {
        "verb": activity.verb.value,
        "kind": activity.verb.kind.value,
        "account": item.account_name,
        "title": title.name,
        "year": title.year,
        "rating": activity.rating,
        "previous_rating": activity.previous_rating,
        "position": activity.position,
        "previous_position": activity.previous_position,
        "box_art": http_url(title.box_art.best),
        "web_url": http_url(title.web_url),
        "also": list(item.also) or None,
    }
    return {
        name: (clean(value) if isinstance(value, str) else [clean(v) for v in value] if isinstance(value, list) else value)
        for name, value in fields.items()
        if value is not None
    }


def json_extension(item: TimelineItem) -> dict[str, Any]:
    """The ``_feedhub`` object of a JSON Feed item."""
    return {"about": ABOUT, **activity_data(item)}


def add_element(parent: etree._Element, item: TimelineItem) -> None:
    """Append the ``feedhub:activity`` element to an Atom entry or an RSS item: one child
    per field, ``also`` repeated once per other account."""
    element = add(parent, _qualified("activity"))
    for name, value in activity_data(item).items():
        for one in value if isinstance(value, list) else [value]:
            add(element, _qualified(name), _text(one))


def _text(value: Any) -> str:
    # Ratings as written in the sources: 4 for a whole star, 3.7 otherwise.
    return f"{value:g}" if isinstance(value, float) else str(value)


def _qualified(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"
