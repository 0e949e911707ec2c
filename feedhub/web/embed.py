"""Widgets (SPEC §6): a channel drawn into someone else's page.

- ``/embed/<channel>``: a small page made for an ``<iframe>``, server-rendered, no script.
- ``/embed/<channel>.js``: one ``<script>`` tag draws the widget into a host page of any
  origin. The script (``static/embed.js``) has no dependencies, reads its options from
  its own URL, fetches ``/embed/<channel>.json`` (CORS) and builds the DOM from text
  nodes in a shadow root, never ``innerHTML`` of feed data.
- ``/embed/<channel>.json``: the items as the widget shows them.

Options, the same for all three: ``count`` (1–50, default 5), ``layout`` (``list``,
``grid`` of box art, ``compact``), ``theme`` (``light``, ``dark``, ``auto``: the
reader's preference), ``ratings`` (``show``, ``hide``) and the feeds' ``kind=``.
A private channel needs its ``token`` here as everywhere.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import escape

from feedhub import channels
from feedhub.channels import Channel
from feedhub.dates import rfc3339
from feedhub.merge import parse_filter
from feedhub.models import TimelineItem
from feedhub.publish.text import headline, http_url, stars
from feedhub.storage.changes import ChangeMarker
from feedhub.web.access import links, readable_channel
from feedhub.web.cache import Rendering, render_cache, rendering, respond
from feedhub.web.context import services
from feedhub.web.timeline import read_timeline, request_filter

bp = Blueprint("embed", __name__)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_COUNT = 50
LAYOUTS = ("list", "grid", "compact")
THEMES = ("auto", "light", "dark")
RATINGS = ("show", "hide")

# The iframe page may be framed by any site; it runs no script and loads only its
# stylesheet and box art.
FRAME_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' http: https: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors *"
)
_CROSS_ORIGIN = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"}


@dataclass(frozen=True)
class WidgetOptions:
    count: int = 5
    layout: str = "list"
    theme: str = "auto"
    ratings: str = "show"
    kind: str = ""  # the feeds' kind= filter, as given

    def query(self) -> dict[str, Any]:
        """The options as query parameters, defaults left out."""
        defaults = WidgetOptions()
        return {key: value for key, value in self.__dict__.items() if value != getattr(defaults, key)}


def parse_options(args: Any) -> WidgetOptions:
    """The widget options of a query; ``ValueError`` naming a bad one."""
    count = args.get("count", "").strip() or str(WidgetOptions.count)
    if not count.isascii() or not count.isdigit() or not 1 <= int(count) <= MAX_COUNT:
        raise ValueError(f"count: expected a whole number from 1 to {MAX_COUNT}, got {count!r}")
    chosen = {"count": int(count), "kind": args.get("kind", "").strip()}
    parse_filter({"kind": chosen["kind"]})  # the feeds' own check of kind=
    for key, allowed in (("layout", LAYOUTS), ("theme", THEMES), ("ratings", RATINGS)):
        value = args.get(key, "").strip() or allowed[0]
        if value not in allowed:
            raise ValueError(f"{key}: expected one of {', '.join(allowed)}, got {value!r}")
        chosen[key] = value
    return WidgetOptions(**chosen)


def request_options() -> WidgetOptions:
    try:
        return parse_options(request.args)
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.get("/embed/<name>")
def frame(name: str) -> Response:
    channel, marker = readable_channel(name)
    options = request_options()
    made = _cached("frame", channel, marker, lambda: _render_frame(channel, options, marker))
    response = respond(made, public=channel.spec.public)
    response.headers["Content-Security-Policy"] = FRAME_POLICY
    return response


@bp.get("/embed/<name>.json")
def data(name: str) -> Response:
    channel, marker = readable_channel(name)
    options = request_options()
    made = _cached("data", channel, marker, lambda: _render_data(channel, options, marker))
    return respond(made, public=channel.spec.public, headers=_CROSS_ORIGIN)


@bp.get("/embed/<name>.js")
def script(name: str) -> Response:
    channel, marker = readable_channel(name)
    request_options()  # a bad option is said here, where the snippet's author looks
    made = _cached("script", channel, marker, _render_script)
    return respond(made, public=channel.spec.public, headers=_CROSS_ORIGIN)


def _cached(what: str, channel: Channel, marker: ChangeMarker, render: Any) -> Rendering:
    key = (what, channel.name, request.query_string, request.url_root, request.host_url)
    return render_cache().rendering(marker.counter, key, render)


def widget_items(channel: Channel, options: WidgetOptions) -> list[TimelineItem]:
    flt = replace(request_filter(), limit=options.count)
    return read_timeline(services().store, channels.narrow(channel.spec, flt), channel.spec.accounts)


def widget_item(item: TimelineItem, options: WidgetOptions) -> dict[str, Any]:
    """What the widget shows of one item: its words (without stars when ratings are
    hidden), the title's page and box art, when, and the stars on their own."""
    activity = item.activity
    shown = options.ratings == "show"
    unrated = replace(item, activity=replace(activity, rating=None, previous_rating=None))
    return {
        "id": activity.id,
        "text": headline(item if shown else unrated),
        "url": http_url(activity.title.web_url),
        "image": http_url(activity.title.box_art.best),
        "title": activity.title.display_name,
        "stars": stars(activity.rating) if shown and activity.rating is not None else None,
        "rating": activity.rating if shown else None,
        "occurred_at": rfc3339(activity.occurred_at),
        "date": f"{activity.occurred_at.day} {activity.occurred_at:%b %Y}",
        "verb": activity.verb.value,
        "account": item.account_name,
    }


def _render_frame(channel: Channel, options: WidgetOptions, marker: ChangeMarker) -> Rendering:
    items = [widget_item(item, options) for item in widget_items(channel, options)]
    page = links(channel, kind=options.kind).page
    body = render_template("embed.html", channel=channel, items=items, options=options, page_url=page)
    return rendering(body.encode("utf-8"), "text/html; charset=utf-8", marker.changed_at or EPOCH)


def _render_data(channel: Channel, options: WidgetOptions, marker: ChangeMarker) -> Rendering:
    document = {
        "channel": channel.name,
        "title": channel.spec.title,
        "page_url": links(channel, kind=options.kind).page,
        "options": options.__dict__,
        "items": [widget_item(item, options) for item in widget_items(channel, options)],
    }
    body = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
    return rendering(body, "application/json; charset=utf-8", marker.changed_at or EPOCH)


def _render_script() -> Rendering:
    with current_app.open_resource("static/embed.js") as file:
        body = file.read()
    return rendering(body, "text/javascript; charset=utf-8", EPOCH)


def snippets(channel: Channel, options: WidgetOptions) -> dict[str, str]:
    """Copy-paste HTML for a page: the script widget (with its no-script link) and the
    iframe, for these options."""
    urls = links(channel, **options.query())
    page = links(channel, kind=options.kind).page
    title = escape(channel.spec.title)
    # One line each, so that a copy field holds the whole snippet.
    script_tag = f'<script src="{escape(urls.script)}" async></script><noscript><a href="{escape(page)}">{title}</a></noscript>'
    iframe = (
        f'<iframe src="{escape(urls.embed)}" title="{title}" loading="lazy" referrerpolicy="no-referrer" '
        f'style="border:0;width:100%;max-width:420px;height:{_frame_height(options)}px"></iframe>'
    )
    return {"script": script_tag, "iframe": iframe}


def _frame_height(options: WidgetOptions) -> int:
    per_item = {"list": 96, "grid": 250, "compact": 32}[options.layout]
    rows = (options.count + 2) // 3 if options.layout == "grid" else options.count
    return 72 + per_item * rows
