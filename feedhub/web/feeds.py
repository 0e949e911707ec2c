"""The republished feeds (SPEC §6): ``/feeds/<channel>.<rss|atom|json>`` and ``/opml``.

A feed is the channel's merged timeline under the query's filters, rendered by the
format's renderer. Feeds are read by machines over and over, so each answer carries an
``ETag`` (a hash of the bytes: renderers are deterministic) and a ``Last-Modified``,
and a conditional request that matches gets ``304 Not Modified``.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from flask import Blueprint, Response, request

from feedhub import channels
from feedhub.publish import RENDERERS, FeedDocument
from feedhub.publish.opml import MEDIA_TYPE as OPML_MEDIA_TYPE
from feedhub.publish.opml import OpmlOutline, render_opml
from feedhub.web.context import absolute_url, services
from feedhub.web.timeline import channel_accounts, channel_names, read_timeline, request_filter

bp = Blueprint("feeds", __name__)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_AGE = 60  # seconds a reader or proxy may reuse a feed without asking again


@bp.get(f"/feeds/<path:channel>.<any({', '.join(RENDERERS)}):fmt>")
def feed(channel: str, fmt: str) -> Response:
    members = channel_accounts(channel)
    flt = request_filter()
    store = services().store
    items = read_timeline(store, flt, members)
    doc = FeedDocument(
        title=channels.title(channel),
        description=channels.description(channel),
        feed_id=channels.feed_id(channel),
        home_url=absolute_url("dashboard.index"),
        self_urls=feed_urls(channel, query=request.query_string.decode("utf-8", "replace")),
        updated=max((item.activity.occurred_at for item in items), default=EPOCH),
        items=tuple(items),
    )
    renderer = RENDERERS[fmt]
    # An activity can arrive after newer ones (a new account's history, a backfill), so
    # the newest activity alone would answer 304 to a changed feed; the newest write
    # anywhere in storage is a safe bound.
    changed = max(doc.updated, store.last_change() or EPOCH)
    return _conditional(renderer.render(doc), renderer.media_type, changed)


@bp.get("/opml")
def opml() -> Response:
    """Every channel as an RSS subscription, for importing into a reader."""
    dashboard = absolute_url("dashboard.index")
    outlines = [
        OpmlOutline(text=channels.title(name), xml_url=feed_urls(name)["rss"], html_url=dashboard)
        for name in channel_names()
    ]
    body = render_opml("feedhub channels", outlines, date_created=services().now())
    return Response(body, content_type=OPML_MEDIA_TYPE)


def feed_urls(channel: str, query: str = "") -> dict[str, str]:
    """The absolute URL of the channel in every feed format, by format."""
    return {fmt: absolute_url("feeds.feed", channel=channel, fmt=fmt, query=query) for fmt in RENDERERS}


def _conditional(body: bytes, content_type: str, last_modified: datetime) -> Response:
    response = Response(body, content_type=content_type)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.last_modified = last_modified
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    # Werkzeug follows RFC 9110 §13.2.2: If-None-Match, when sent, decides alone.
    return response.make_conditional(request)
