"""The dashboard (SPEC §7): health at a glance, pictures, the merged timeline.

- ``/``: how many sources are in each state of health; the accounts with their sources
  (a badge with the classified code and message, last and next poll, a sparkline of
  recent polls, entry count); pictures of activity per week, ratings and queue length;
  the latest activities; every channel's feed URLs.
- ``/timeline``: the merged timeline, filtered by account, kind and text, in pages.

Readable without logging in: the health of the sources, shown only by their redacted
``url_display`` with scrubbed messages. What people did (the timeline and the pictures)
is for the admin only, because channels are private by default and the dashboard must
not show what their tokens protect; visitors are pointed to the public channels. The
logged-in admin also sees the actions of ``web.admin``. Every page works without JavaScript; ``static/feedhub.js`` adds copy
buttons and poll-now progress.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, abort, current_app, render_template, request, session, url_for
from markupsafe import Markup

from feedhub import charts
from feedhub.fetch import Outcome
from feedhub.merge import MAX_LIMIT, TimelineFilter
from feedhub.models import Kind, Verb
from feedhub.publish.document import MEDIA_TYPES
from feedhub.storage import Store
from feedhub.storage.rows import PollRow, SourceRow
from feedhub.web.auth import admin_required, is_admin
from feedhub.web.context import absolute_url, services
from feedhub.web.feeds import dashboard_channels
from feedhub.web.timeline import read_timeline, request_filter

bp = Blueprint("dashboard", __name__)

PAGE_SIZE = 50
MAX_PAGE = MAX_LIMIT // PAGE_SIZE  # a timeline is read at most MAX_LIMIT items deep
LATEST = 10  # activities on the dashboard itself; the timeline page has the rest
SPARK_POLLS = 20  # polls in a source's sparkline
WEEKS = 12  # weeks of activity pictured
LIST_HISTORY = timedelta(days=30)  # how far back the queue-length picture looks
AUTOPOLL = "autopoll"  # session key: sources the next dashboard view polls at once (web.admin)

# Failures feedhub expects to pass: it keeps retrying with a growing delay. Any other
# failure needs a person to look (a wrong URL, a feed that is no feed…).
_TRANSIENT = frozenset(o.value for o in (Outcome.RATE_LIMITED, Outcome.SERVER_ERROR, Outcome.TIMEOUT, Outcome.CONNECTION_ERROR))

KIND_NAMES = {
    Kind.QUEUE: "Queue",
    Kind.WATCHED: "Watched",
    Kind.RATINGS: "Ratings",
    Kind.RECOMMENDATIONS: "Recommendations",
    Kind.OTHER: "Other",
}


@dataclass(frozen=True)
class Health:
    """A source's health as the dashboard shows it: a badge, with the code behind it."""

    tone: str  # the badge's CSS class: ok, warn, error, token, off, new
    label: str
    code: str | None  # the classified outcome of the last poll (``fetch.Outcome``)


# The order of the summary at the top of the dashboard: worst news last, but visible.
HEALTH_ORDER = ("ok", "not modified", "backing off", "error", "needs new tokens", "retired", "paused", "not polled yet")


def health(source: SourceRow) -> Health:
    """What a source's state and last outcome mean to a person."""
    code = source.last_outcome
    if source.state == "needs_token":
        return Health("token", "needs new tokens", code)
    if source.state in ("retired", "paused"):
        return Health("off", source.state, code)
    if source.state != "active":  # a state this version does not know
        return Health("off", source.state.replace("_", " "), code)
    if code is None:
        return Health("new", "not polled yet", None)
    if code == Outcome.OK.value:
        return Health("ok", "ok", code)
    if code == Outcome.NOT_MODIFIED.value:
        return Health("ok", "not modified", code)
    if code in _TRANSIENT:
        return Health("warn", "backing off", code)
    return Health("error", "error", code)


def poll_tone(outcome: str) -> str:
    """The colour of one poll in a sparkline: ok, warn (will pass) or error."""
    if outcome in (Outcome.OK.value, Outcome.NOT_MODIFIED.value):
        return "ok"
    return "warn" if outcome in _TRANSIENT else "error"


def sparkline(source: SourceRow, polls: Sequence[PollRow]) -> Markup:
    """The sparkline of ``polls`` (newest first, as storage gives them)."""
    marks = [
        charts.SparkMark(p.started_at, p.outcome.replace("_", " "), poll_tone(p.outcome), p.duration_ms)
        for p in reversed(polls)
    ]
    return charts.sparkline(marks, name=f"{source.account_name}'s {source.title}")


@bp.app_template_filter("health")
def _health_filter(source: SourceRow) -> Health:
    return health(source)


@bp.get("/")
def index() -> str:
    store, now = services().store, services().now()
    accounts = store.accounts()
    sources = store.sources()
    polls = store.recent_polls_by_source(SPARK_POLLS)
    counts = Counter(health(s).label for s in sources)
    names = [a.name for a in accounts]
    admin = is_admin()
    autopoll = set(session.pop(AUTOPOLL, [])) if admin else set()
    return render_template(
        "dashboard.html",
        accounts=[(account, [s for s in sources if s.account_id == account.id]) for account in accounts],
        summary=[(label, counts[label]) for label in HEALTH_ORDER if counts[label]],
        sparks={s.id: sparkline(s, polls.get(s.id, [])) for s in sources},
        autopoll=autopoll,
        pictures=_pictures(store, names, now) if admin else None,
        latest=read_timeline(store, TimelineFilter(limit=LATEST), None) if admin else None,
        feeds=dashboard_channels(),
        opml_url=absolute_url("feeds.opml"),
        media_types=MEDIA_TYPES,
        now=now,
    )


@bp.get("/timeline")
@admin_required
def timeline() -> str:
    flt = request_filter()
    page = _page()
    store = services().store
    end = page * PAGE_SIZE
    # One item more than the page shows tells whether there is an older page.
    items = read_timeline(store, replace(flt, limit=end + 1), None)
    shown = {name: request.args.get(name, "").strip() for name in ("account", "kind", "q", "min_rating", "since")}
    return render_template(
        "dashboard_timeline.html",
        timeline=items[end - PAGE_SIZE : end],
        page=page,
        older=len(items) > end and page < MAX_PAGE,
        filters={name: value for name, value in shown.items() if value},
        account_names=[a.name for a in store.accounts()],
        kinds=KIND_NAMES,
        now=services().now(),
    )


def _page() -> int:
    value = request.args.get("page", "1").strip()
    if not re.fullmatch(r"[0-9]+", value) or not 1 <= int(value) <= MAX_PAGE:
        abort(400, description=f"page: expected a whole number from 1 to {MAX_PAGE}, got {value!r}")
    return int(value)


def _pictures(store: Store, names: list[str], now: datetime) -> dict[str, Markup]:
    weeks = charts.week_starts(now.date(), WEEKS)
    since = datetime.combine(weeks[0], time(), tzinfo=timezone.utc)
    weekly = charts.weekly_counts(store.daily_activity_counts(since), weeks)
    ratings = charts.star_counts((name, entry.user_rating) for name, entry in store.listed_entries(Kind.RATINGS))
    lengths = store.list_lengths(Kind.QUEUE, now - LIST_HISTORY)
    # The picture starts at the first measurement (an hour back at least), so a young
    # feedhub still fills it.
    start = min((moment for _, moment, _ in lengths), default=now)
    start = min(start, now - timedelta(hours=1))
    return {
        "activity": charts.weekly_activity("chart-activity", names, weeks, weekly),
        "ratings": charts.rating_distribution("chart-ratings", names, ratings),
        "queue": charts.list_length("chart-queue", names, charts.series_by_account(lengths), start, now),
    }


# Icons of dashboard_icons.html: one per kind of source, and some verbs of their own.
KIND_ICONS = {
    Kind.QUEUE: "queued",
    Kind.QUEUE_RECENT: "queued",
    Kind.WATCHED: "watched",
    Kind.RATINGS: "rated",
    Kind.RECOMMENDATIONS: "recommended",
    Kind.OTHER: "posted",
}
VERB_ICONS = {
    Verb.UNQUEUED: "unqueued",
    Verb.MOVED: "moved",
    Verb.UNRECOMMENDED: "unrecommended",
}


@bp.app_template_filter("icon_name")
def icon_name(value: Verb | Kind) -> str:
    """The icon of a verb (its kind's, unless it has its own) or of a source's kind."""
    if isinstance(value, Verb):
        return VERB_ICONS.get(value) or KIND_ICONS[value.kind]
    return KIND_ICONS[value]


@bp.app_context_processor
def _navigation() -> dict[str, object]:
    # The channels page comes with channel management; link it once it exists.
    endpoint = next((r.endpoint for r in current_app.url_map.iter_rules() if r.rule == "/channels"), None)
    return {"channels_page": url_for(endpoint) if endpoint else None}
