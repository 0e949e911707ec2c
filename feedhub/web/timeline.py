"""A channel's merged timeline, read for a request: the shared step of the feeds, the
API and the dashboard.

Storage narrows the rows in SQL with what it can (accounts, kinds, rating, text, date,
limit); ``merge`` then applies the whole filter exactly, drops the rows storage added
only to say who else did the same, orders and cuts. Bad query parameters end the
request here, with a 400 that says why; which channel a request may read is
``web.access``'s job.
"""
from __future__ import annotations

from dataclasses import replace

from flask import abort, request

from feedhub.merge import TimelineFilter, merge, parse_filter
from feedhub.models import TimelineItem
from feedhub.storage import Store


def request_filter() -> TimelineFilter:
    """The filter given by the request's query parameters, or a 400 naming the bad one."""
    try:
        return parse_filter(request.args)
    except ValueError as exc:
        abort(400, description=str(exc))


def read_timeline(store: Store, flt: TimelineFilter, members: frozenset[str] | None) -> list[TimelineItem]:
    """The timeline of a channel with accounts ``members`` (None: all) under ``flt``."""
    accounts = _both(members, flt.accounts)
    flt = replace(flt, accounts=accounts)
    rows = store.activities(
        accounts_named=accounts,
        verbs=flt.verbs,
        min_rating=flt.min_rating,
        text=flt.text,
        since=flt.since,
        limit=flt.limit,
        channel_text=flt.channel_text,
    )
    # Who else in this channel did the same to these titles (never beyond the channel).
    doers = store.doers(sorted({a.title.key for _, a in rows}), members)
    return merge(rows, flt, doers)


def _both(members: frozenset[str] | None, asked: frozenset[str] | None) -> frozenset[str] | None:
    """The accounts in the channel and in the ``account=`` filter (None: no condition)."""
    if members is None:
        return asked
    if asked is None:
        return members
    return members & asked
