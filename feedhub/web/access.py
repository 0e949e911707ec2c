"""Who may read which channel, and the URLs to read it with (SPEC §6).

A private channel is read through its secret token, given as the ``token`` query
parameter: ``/feeds/home.rss?token=…``. (A query parameter rather than a path segment
because feedhub's redaction already hides any ``token=`` value in logs and messages.)
Without the right token a private channel answers 404 exactly like a channel that does
not exist, so that its existence is not revealed either.

Every URL here is absolute (``context.absolute_url``): feeds, OPML and copied snippets
are read far from this site.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import abort, request

from feedhub.channels import Channel, ordered
from feedhub.publish import RENDERERS
from feedhub.storage.changes import ChangeMarker
from feedhub.web.auth import is_admin
from feedhub.web.cache import render_cache
from feedhub.web.context import absolute_url, services

TOKEN = "token"


@dataclass(frozen=True)
class ChannelLinks:
    """A channel's absolute URLs, its token included when it is private."""

    feeds: Mapping[str, str]  # by format: rss, atom, json
    page: str  # /c/<name>
    embed: str  # /embed/<name>: the iframe widget
    script: str  # /embed/<name>.js: the script widget
    data: str  # /embed/<name>.json: what the script draws


def current_channels() -> tuple[ChangeMarker, Mapping[str, Channel]]:
    """The store's change marker and every channel by name (from the cache when current)."""
    store = services().store
    marker = store.change_marker()
    return marker, render_cache().channels(marker.counter, store.channels)


def readable_channel(name: str) -> tuple[Channel, ChangeMarker]:
    """The channel ``name`` if this request may read it, with the change marker; else 404."""
    marker, known = current_channels()
    channel = known.get(name)
    if channel is None or not channel.readable_with(request.args.get(TOKEN)):
        public = [c.name for c in ordered(known.values()) if c.spec.public]
        listed = ", ".join(public) if public else "none"
        # The same answer whether the channel is missing or private (its existence is secret).
        abort(404, description=f"no channel named {name!r} that can be read without a token; the public channels are: {listed}")
    return channel, marker


def visible_channels() -> list[Channel]:
    """The channels this requester may list: every one for the admin, else the public ones."""
    _, known = current_channels()
    admin = is_admin()
    return [channel for channel in ordered(known.values()) if admin or channel.spec.public]


def access_query(channel: Channel, **params: object) -> str:
    """The query string that reads ``channel`` with ``params`` (token first if private)."""
    pairs = [(TOKEN, channel.token)] if not channel.spec.public else []
    pairs += [(key, str(value)) for key, value in params.items() if value not in (None, "")]
    return urlencode(pairs)


def links(channel: Channel, **params: object) -> ChannelLinks:
    """The channel's URLs in every form, with ``params`` (filters, widget options)."""
    query = access_query(channel, **params)
    name = channel.name
    return ChannelLinks(
        feeds={fmt: absolute_url("feeds.feed", name=name, fmt=fmt, query=query) for fmt in RENDERERS},
        page=absolute_url("channels_page.page", name=name, query=query),
        embed=absolute_url("embed.frame", name=name, query=query),
        script=absolute_url("embed.script", name=name, query=query),
        data=absolute_url("embed.data", name=name, query=query),
    )


def request_query() -> str:
    """This request's query string as sent (the token included), for ``self`` links."""
    return request.query_string.decode("utf-8", "replace")
