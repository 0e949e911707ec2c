"""The JSON API (SPEC §6), read-only: ``/api/accounts`` and ``/api/activities``.

``/api/activities`` takes the feeds' query filters and ``channel=`` (default ``all``)
and answers the same merged timeline as the feeds. Times are RFC 3339 in UTC. Sources
are shown only by their redacted ``url_display``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from feedhub import channels
from feedhub.dates import rfc3339
from feedhub.models import TimelineItem
from feedhub.publish.text import headline, http_url
from feedhub.storage.rows import SourceRow
from feedhub.web.context import services
from feedhub.web.format import poll_message
from feedhub.web.timeline import channel_accounts, read_timeline, request_filter

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.after_request
def _allow_any_origin(response: Response) -> Response:
    # Public, read-only data without cookies: any page (a widget, say) may read it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/accounts")
def accounts() -> dict[str, Any]:
    store = services().store
    sources = store.sources()
    return {
        "accounts": [
            {
                "name": account.name,
                "created": rfc3339(account.created_at),
                "sources": [_source(s) for s in sources if s.account_id == account.id],
            }
            for account in store.accounts()
        ]
    }


@bp.get("/activities")
def activities() -> dict[str, Any]:
    channel = request.args.get("channel", channels.ALL)
    members = channel_accounts(channel)
    items = read_timeline(services().store, request_filter(), members)
    return {"channel": channel, "activities": [_activity(item) for item in items]}


def _source(source: SourceRow) -> dict[str, Any]:
    return {
        "id": source.id,
        "kind": source.kind.value,
        "title": source.title,
        "url_display": source.url_display,
        "state": source.state,
        "last_outcome": source.last_outcome,
        "last_message": poll_message(source),
        "last_polled_at": _time(source.last_polled_at),
        "next_due_at": _time(source.next_due_at),
        "entry_count": source.entry_count,
    }


def _activity(item: TimelineItem) -> dict[str, Any]:
    activity = item.activity
    title = activity.title
    return {
        "id": activity.id,
        "verb": activity.verb.value,
        "kind": activity.verb.kind.value,
        "account": item.account_name,
        "also": list(item.also),
        "title": {
            "name": title.name,
            "year": title.year,
            "web_url": http_url(title.web_url),
            "box_art": http_url(title.box_art.best),
        },
        "rating": activity.rating,
        "occurred_at": rfc3339(activity.occurred_at),
        "headline": headline(item),
    }


def _time(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment else None
