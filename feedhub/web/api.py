"""The JSON API (SPEC §6): ``/api/accounts``, ``/api/activities`` and ``/api/channels``.

``/api/activities`` takes the feeds' query filters and ``channel=`` (default ``all``;
a private channel needs its ``token=``) and answers the same merged timeline as the
feeds. ``/api/channels`` lists the channels the requester may see (the admin: all, with
their tokens and URLs); the admin creates (POST), edits (PATCH: only the fields given),
removes (DELETE) them and gives one a new token (POST ``…/token``), with the CSRF token
in ``X-CSRF-Token``. Times are RFC 3339 in UTC. Sources are shown only by their
redacted ``url_display``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, request

from feedhub import channels
from feedhub.channels import Channel, ChannelError, parse_spec
from feedhub.dates import rfc3339
from feedhub.models import TimelineItem
from feedhub.publish.text import headline, http_url
from feedhub.storage import DuplicateError, NotFoundError
from feedhub.storage.rows import SourceRow
from feedhub.web.access import links, readable_channel, visible_channels
from feedhub.web.auth import admin_required, is_admin
from feedhub.web.context import services
from feedhub.web.format import poll_message
from feedhub.web.timeline import read_timeline, request_filter

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
    name = request.args.get("channel", channels.ALL)
    channel, _ = readable_channel(name)
    items = read_timeline(services().store, channels.narrow(channel.spec, request_filter()), channel.spec.accounts)
    return {"channel": name, "activities": [_activity(item) for item in items]}


@bp.get("/channels")
def channel_list() -> dict[str, Any]:
    return {"channels": [_channel(channel) for channel in visible_channels()]}


@bp.get("/channels/<name>")
def channel_detail(name: str) -> dict[str, Any]:
    if is_admin():
        return _channel(_stored_channel(name))
    channel, _ = readable_channel(name)
    return _channel(channel)


@bp.post("/channels")
@admin_required
def channel_create() -> tuple[dict[str, Any], int]:
    try:
        spec = parse_spec(_json_object())
        return _channel(services().store.add_channel(spec, services().now())), 201
    except ChannelError as exc:
        abort(400, description=str(exc))
    except DuplicateError as exc:
        abort(409, description=str(exc))


@bp.patch("/channels/<name>")
@admin_required
def channel_edit(name: str) -> dict[str, Any]:
    store = services().store
    try:
        spec = parse_spec(_json_object(), _stored_channel(name).spec)
        return _channel(store.replace_channel(name, spec, services().now()))
    except ChannelError as exc:
        abort(400, description=str(exc))
    except DuplicateError as exc:
        abort(409, description=str(exc))


@bp.delete("/channels/<name>")
@admin_required
def channel_remove(name: str) -> Response:
    _stored_channel(name)
    services().store.remove_channel(name, services().now())
    return Response(status=204)


@bp.post("/channels/<name>/token")
@admin_required
def channel_rotate(name: str) -> dict[str, Any]:
    _stored_channel(name)
    return _channel(services().store.rotate_channel_token(name, services().now()))


def _stored_channel(name: str) -> Channel:
    try:
        return services().store.channel(name)
    except NotFoundError as exc:
        abort(404, description=str(exc))


def _json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="expected a JSON object with the channel's fields")
    return body


def _channel(channel: Channel) -> dict[str, Any]:
    """A channel as JSON; its token only for the admin (who may hand it out)."""
    spec = channel.spec
    urls = links(channel)
    shown: dict[str, Any] = {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "public": spec.public,
        "accounts": sorted(spec.accounts) if spec.accounts is not None else None,
        "kinds": sorted(kind.value for kind in spec.kinds) if spec.kinds is not None else None,
        "min_rating": spec.min_rating,
        "text": spec.text,
        "since": _time(spec.since),
        "owner": channel.owner,
        "urls": {**urls.feeds, "page": urls.page, "embed": urls.embed, "script": urls.script},
    }
    if is_admin():
        shown["token"] = channel.token
    return shown


def _source(source: SourceRow) -> dict[str, Any]:
    return {
        "id": source.id,
        "kind": source.kind.value,
        "title": source.title,
        "url_display": source.url_display,
        "state": source.state,
        "backing_off": source.backing_off,
        "error_count": source.error_count,
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
