"""The republished feeds (SPEC §6): ``/feeds/<channel>.<rss|atom|json>`` and the OPML
lists: ``/opml`` (the channels) and ``/opml/sources`` (the polled sources, admin only).

A feed is the channel's merged timeline under the query's filters, rendered by the
format's renderer and kept by ``web.cache`` until the store changes. Each answer
carries an ``ETag`` and a ``Last-Modified`` (``304`` for a conditional request that
matches), gzip on request, CORS for pages that read the feed, and for a public channel
when ``FEEDHUB_WEBSUB_HUB`` is set, the WebSub ``hub`` and ``self`` links (WebSub §4:
in the feed and as HTTP ``Link`` headers).
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, request

from feedhub import channels
from feedhub.channels import Channel
from feedhub.merge import TimelineFilter
from feedhub.publish import RENDERERS, FeedDocument
from feedhub.publish.opml import MEDIA_TYPE as OPML_MEDIA_TYPE
from feedhub.publish.opml import OpmlOutline, render_opml
from feedhub.storage.changes import ChangeMarker
from feedhub.web.access import current_channels, links, readable_channel, request_query, visible_channels
from feedhub.web.auth import admin_required, is_admin
from feedhub.web.cache import Rendering, render_cache, rendering, respond
from feedhub.web.context import absolute_url, services
from feedhub.web.timeline import read_timeline, request_filter

bp = Blueprint("feeds", __name__)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

SECRETS_WARNING = (
    "This file holds the secret URLs of your sources (feed tokens, keys): whoever has it "
    "can read those feeds. Keep it like a password."
)


@bp.get(f"/feeds/<name>.<any({', '.join(RENDERERS)}):fmt>")
def feed(name: str, fmt: str) -> Response:
    channel, marker = readable_channel(name)
    flt = channels.narrow(channel.spec, request_filter())
    key = ("feed", fmt, name, request.query_string, request.url_root, request.host_url)
    made = render_cache().rendering(marker.counter, key, lambda: _render_feed(channel, flt, fmt, marker))
    hub = hub_url(channel)
    headers = {"Access-Control-Allow-Origin": "*"}
    if hub:
        self_url = absolute_url("feeds.feed", name=name, fmt=fmt, query=request_query())
        headers["Link"] = f'<{hub}>; rel="hub", <{self_url}>; rel="self"'
    return respond(made, public=channel.spec.public, headers=headers)


def _render_feed(channel: Channel, flt: TimelineFilter, fmt: str, marker: ChangeMarker) -> Rendering:
    items = read_timeline(services().store, flt, channel.spec.accounts)
    page = links(channel).page
    doc = FeedDocument(
        title=channel.spec.title,
        description=channel.spec.description,
        feed_id=channels.feed_id(channel.name),
        home_url=page,
        self_urls={f: absolute_url("feeds.feed", name=channel.name, fmt=f, query=request_query()) for f in RENDERERS},
        updated=max((item.activity.occurred_at for item in items), default=EPOCH),
        items=tuple(items),
        hub_url=hub_url(channel),
    )
    renderer = RENDERERS[fmt]
    # An activity can arrive after newer ones (a new account's history, a backfill), so
    # the newest activity alone would answer 304 to a changed feed; the store's last
    # change is a safe bound.
    return rendering(renderer.render(doc), renderer.media_type, max(doc.updated, marker.changed_at or EPOCH))


def hub_url(channel: Channel) -> str | None:
    """The WebSub hub a channel names: only public channels, whose URL is no secret to
    hand to a hub (``websub`` pings the same ones)."""
    return services().settings.websub_hub if channel.spec.public else None


@bp.get("/opml")
def opml() -> Response:
    """The channels this requester may read, as RSS subscriptions: the public ones, and
    every one (with its token) for the admin."""
    marker, _ = current_channels()
    made = rendering(channels_document(visible_channels(), marker), OPML_MEDIA_TYPE, marker.changed_at or EPOCH)
    response = respond(made, public=not is_admin())
    response.vary.add("Cookie")
    if is_admin():
        response.cache_control.no_store = True  # it holds the private channels' tokens
    return response


def channels_document(shown: list[Channel], marker: ChangeMarker) -> bytes:
    """OPML 2.0 of ``shown``: each channel's RSS URL (its token in it when private) and page."""
    outlines = []
    for channel in shown:
        urls = links(channel)
        outlines.append(OpmlOutline(text=channel.spec.title, xml_url=urls.feeds["rss"], html_url=urls.page))
    # Dated by the last change, so the same channels give the same bytes (and ETag).
    return render_opml("feedhub channels", outlines, date_created=marker.changed_at or EPOCH)


@bp.route("/opml/sources", methods=["GET", "POST"])
@admin_required
def sources_opml() -> Response:
    """Every source as OPML, by account. Secrets are left out (the display form of each
    URL) unless a POST asks for them with ``secrets=yes``; then the file says so."""
    with_secrets = request.method == "POST" and request.form.get("secrets") == "yes"
    body = sources_document(with_secrets)
    response = Response(body, content_type=OPML_MEDIA_TYPE)
    name = "feedhub-sources-with-secrets.opml" if with_secrets else "feedhub-sources.opml"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.cache_control.no_store = True
    return response


def sources_document(with_secrets: bool) -> bytes:
    """The OPML of every source, grouped by account; real URLs only ``with_secrets``."""
    store = services().store
    sources = store.sources()
    folders = []
    for account in store.accounts():
        feeds = tuple(
            OpmlOutline(
                text=source.title,
                xml_url=source.url if with_secrets else source.url_display,
                category=source.kind.value,
            )
            for source in sources
            if source.account_id == account.id
        )
        folders.append(OpmlOutline(text=account.name, children=feeds))
    return render_opml(
        "feedhub sources",
        folders,
        date_created=services().now(),
        warning=SECRETS_WARNING if with_secrets else None,
    )


def dashboard_channels() -> list[tuple[str, dict[str, str]]]:
    """(name, feed URL by format) of the channels this requester may read, for the
    dashboard's list."""
    return [(channel.name, dict(links(channel).feeds)) for channel in visible_channels()]

