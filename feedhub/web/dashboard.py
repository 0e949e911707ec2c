"""The dashboard (SPEC §7), read-only for now: the accounts and the health of their
sources, the merged timeline, and the URL of every channel in every format.

Server-rendered; the page needs no JavaScript. Sources are shown only by their
redacted ``url_display``.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, render_template, request

from feedhub import channels
from feedhub.merge import MAX_LIMIT, TimelineFilter
from feedhub.publish.document import MEDIA_TYPES
from feedhub.web.context import absolute_url, services
from feedhub.web.feeds import feed_urls
from feedhub.web.timeline import read_timeline

bp = Blueprint("dashboard", __name__)

PAGE_SIZE = 50
MAX_PAGE = MAX_LIMIT // PAGE_SIZE  # a timeline is read at most MAX_LIMIT items deep


@bp.get("/")
def index() -> str:
    page = _page()
    store = services().store
    accounts = store.accounts()
    sources = store.sources()
    end = page * PAGE_SIZE
    # One item more than the page shows tells whether there is an older page.
    items = read_timeline(store, TimelineFilter(limit=end + 1), None)
    return render_template(
        "dashboard.html",
        accounts=[(account, [s for s in sources if s.account_id == account.id]) for account in accounts],
        timeline=items[end - PAGE_SIZE : end],
        page=page,
        older=len(items) > end and page < MAX_PAGE,
        feeds=[(name, feed_urls(name)) for name in channels.channel_names(a.name for a in accounts)],
        opml_url=absolute_url("feeds.opml"),
        media_types=MEDIA_TYPES,
        now=services().now(),
    )


def _page() -> int:
    value = request.args.get("page", "1").strip()
    if not re.fullmatch(r"[0-9]+", value) or not 1 <= int(value) <= MAX_PAGE:
        abort(400, description=f"page: expected a whole number from 1 to {MAX_PAGE}, got {value!r}")
    return int(value)
