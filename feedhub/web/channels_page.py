"""The channels' pages (SPEC §6, §7).

- ``/c/<channel>``: the channel as a web page, for whoever may read it (its token in the
  URL when it is private), with the query filters of the feeds.
- ``/channels``: the admin's page: every channel with its URLs in every format, the
  widget snippets with a live preview, and forms to create, edit and remove channels
  and to give one a new token. Every change is a POST with the CSRF token.

Both work without JavaScript; ``static/channels.js`` only redraws the widget preview and
snippets as the options change.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, make_response, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from feedhub import channels
from feedhub.channels import ChannelError, parse_spec
from feedhub.models import Kind
from feedhub.publish.document import MEDIA_TYPES
from feedhub.storage import DuplicateError, NotFoundError
from feedhub.web.access import links, readable_channel
from feedhub.web.auth import admin_required
from feedhub.web.context import absolute_url, services
from feedhub.web.embed import LAYOUTS, MAX_COUNT, RATINGS, THEMES, WidgetOptions, parse_options, snippets
from feedhub.web.timeline import read_timeline, request_filter

bp = Blueprint("channels_page", __name__)

FORMATS = (("rss", "RSS 2.0"), ("atom", "Atom 1.0"), ("json", "JSON Feed 1.1"))
KINDS = tuple(kind for kind in Kind if kind is not Kind.QUEUE_RECENT)  # additions: a view of queue

# The admin page frames its own widget preview and loads its one script.
ADMIN_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' http: https: data:; "
    "script-src 'self'; connect-src 'self'; frame-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@bp.get("/c/<name>")
def page(name: str) -> Response:
    channel, _ = readable_channel(name)
    flt = channels.narrow(channel.spec, request_filter())
    items = read_timeline(services().store, flt, channel.spec.accounts)
    filters = {key: request.args[key] for key in ("kind", "account", "min_rating", "q", "since", "limit") if request.args.get(key)}
    body = render_template(
        "channel.html",
        channel=channel,
        items=items,
        urls=links(channel, **filters),
        filters=filters,
        conditions=channels.describe(channel.spec),
        formats=FORMATS,
        media_types=MEDIA_TYPES,
        now=services().now(),
    )
    response = make_response(body)
    if not channel.spec.public:
        response.headers["X-Robots-Tag"] = "noindex"
        response.cache_control.private = True
    return response


@bp.get("/channels")
@admin_required
def index() -> Response:
    return _admin_page()


@bp.post("/channels")
@admin_required
def create() -> Response:
    try:
        spec = parse_spec(_spec_values(request.form))
        created = services().store.add_channel(spec, services().now())
    except (ChannelError, DuplicateError) as exc:
        return _admin_page(error=str(exc), status=400, failed="new", submitted=request.form)
    flash(f"Channel {created.name!r} created. It is {'public' if spec.public else 'private: share its URLs only with people who may read it'}.", "success")
    return redirect(url_for("channels_page.index", _anchor=f"channel-{created.name}"), code=303)


@bp.post("/channels/<name>")
@admin_required
def edit(name: str) -> Response:
    store = services().store
    try:
        spec = parse_spec(_spec_values(request.form), store.channel(name).spec)
        changed = store.replace_channel(name, spec, services().now())
    except NotFoundError as exc:
        return _admin_page(error=str(exc), status=404)
    except (ChannelError, DuplicateError) as exc:
        return _admin_page(error=str(exc), status=400, failed=name, submitted=request.form)
    flash(f"Channel {changed.name!r} saved.", "success")
    return redirect(url_for("channels_page.index", _anchor=f"channel-{changed.name}"), code=303)


@bp.post("/channels/<name>/token")
@admin_required
def rotate(name: str) -> Response:
    try:
        services().store.rotate_channel_token(name, services().now())
    except NotFoundError as exc:
        return _admin_page(error=str(exc), status=404)
    flash(f"Channel {name!r} has a new token: its old URLs stopped working. Give its readers the new ones.", "success")
    return redirect(url_for("channels_page.index", _anchor=f"channel-{name}"), code=303)


@bp.post("/channels/<name>/remove")
@admin_required
def remove(name: str) -> Response:
    try:
        services().store.remove_channel(name, services().now())
    except NotFoundError as exc:
        return _admin_page(error=str(exc), status=404)
    flash(f"Channel {name!r} removed.", "success")
    return redirect(url_for("channels_page.index"), code=303)


def _spec_values(form: MultiDict) -> dict[str, Any]:
    """A channel form's fields as ``parse_spec`` takes them; every field is sent, so an
    unticked box means "no"."""
    return {
        "name": form.get("name", ""),
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "accounts": None if form.get("all_accounts") else form.getlist("accounts"),
        "kinds": form.getlist("kinds"),
        "min_rating": form.get("min_rating", ""),
        "text": form.get("text", ""),
        "since": form.get("since", ""),
        "public": bool(form.get("public")),
    }


def _admin_page(error: str | None = None, status: int = 200, failed: str | None = None, submitted: MultiDict | None = None) -> Response:
    store = services().store
    previewed = request.args.get("widget", "")
    try:
        asked = parse_options(request.args) if previewed else WidgetOptions()
    except ValueError as exc:
        asked, error, status = WidgetOptions(), str(exc), 400
    cards = []
    for channel in channels.ordered(store.channels()):
        options = asked if channel.name == previewed else WidgetOptions()
        cards.append(
            {
                "channel": channel,
                "urls": links(channel),
                "widget": links(channel, **options.query()),
                "options": options,
                "snippets": snippets(channel, options),
                "conditions": channels.describe(channel.spec),
            }
        )
    body = render_template(
        "channels.html",
        cards=cards,
        accounts=[account.name for account in store.accounts()],
        kinds=KINDS,
        formats=FORMATS,
        layouts=LAYOUTS,
        themes=THEMES,
        ratings=RATINGS,
        max_count=MAX_COUNT,
        error=error,
        failed=failed,
        submitted=submitted,
        opml_url=absolute_url("feeds.opml"),
        sources_opml_url=url_for("feeds.sources_opml"),
    )
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = ADMIN_POLICY
    response.cache_control.no_store = True  # it holds every token
    return response
