"""The poll pipeline for one source, top to bottom:

    fetch → parse → normalize → decide → store

``read_source`` runs every step but the last and returns what to write; ``poll_source``
commits it at once, the scheduler's ``Poller`` through its group commit. Each step is a
call with plain data in between; the only side effects are the HTTP requests and the
one commit of the write.

Netflix-style sources are read in pages of ``PAGE_SIZE``; the first poll of one is its
backfill (``on_page`` hears of each page). Event feeds (``INCREMENTAL_KINDS``) then
remember their newest entry's time and later polls send it as ``updated_min``, so they
read only what is new.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .dates import rfc3339
from .decide import decide, entry_key
from .fetch import FetchError, FetchResult, Fetcher, Outcome, Validators
from .models import Activity, Entry, Kind, Snapshot
from .normalize import normalize
from .parse import ParsedFeed, parse_feed
from .schedule import plan, plan_move
from .storage import Store
from .storage.rows import PollRow, PollWrite, SourceRow
from .urls import netflix_user_id, redact

log = logging.getLogger(__name__)

SAME_BYTES = "not modified since the last poll (the same content again)"
PAGE_SIZE = 500  # the API's own limit for max_results
MAX_PAGES = 20  # 10,000 entries: bounded backfill
# Event feeds: once backfilled, later polls ask only for what is new (updated_min).
# Lists are read whole, since only a whole list shows what left it.
INCREMENTAL_KINDS = frozenset({Kind.WATCHED, Kind.QUEUE_RECENT})


@dataclass(frozen=True)
class PollReport:
    source_id: int
    outcome: Outcome
    message: str
    new_entries: int = 0
    changed_entries: int = 0
    new_activities: int = 0
    duration: float = 0.0
    # What this poll decided happened (the new ones among them were committed); WebSub
    # pings ask which channels show them.
    activities: tuple[Activity, ...] = field(default=(), repr=False)


def is_netflix_style(url: str, kind: Kind) -> bool:
    """Feeds that speak the API's paging parameters (``start_index``/``max_results``)."""
    return kind is not Kind.OTHER and netflix_user_id(url) is not None


def with_params(url: str, **params: object) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


# Told after each page of a paged read: (source, entries read so far, total announced).
PageProgress = Callable[[SourceRow, int, int | None], None]


def poll_source(
    store: Store, fetcher: Fetcher, source: SourceRow, now: Callable[[], datetime], on_page: PageProgress | None = None
) -> PollReport:
    """Poll one source and commit what it showed; never raises for a bad source."""
    write, report = read_source(store, fetcher, source, now, on_page)
    return committed(source, report, store.save_poll(write))


def committed(source: SourceRow, report: PollReport, added: int) -> PollReport:
    """The report of a poll once its write is committed, ``added`` activities of it new."""
    log.info("polled %s (%s): %s, %d new activities", source.url_display, source.kind.value, report.outcome.value, added)
    return report if report.new_activities == added else replace(report, new_activities=added)


def read_source(
    store: Store,
    fetcher: Fetcher,
    source: SourceRow,
    now: Callable[[], datetime],
    on_page: PageProgress | None = None,
    fetched: FetchResult | None = None,
) -> tuple[PollWrite, PollReport]:
    """Everything of one poll but its commit: what to write, and the report (its count of
    new activities is known once the write is committed: see ``committed``). Storage is
    only read; the caller commits the write, on its own or with others' (``Store.save_polls``).

    ``fetched``: the response to the source's request (``first_request``), fetched by
    the caller with others; for a source that is read in one request."""
    started_at, started = now(), time.monotonic()
    params = _paging(source)
    if fetched is not None and params is None:
        result = fetched
        started_at, started = started_at - timedelta(seconds=fetched.seconds), started - fetched.seconds
    else:
        result = fetcher.fetch(*first_request(source, params))
    snapshot: Snapshot | None = None
    read_all = False
    outcome, message = result.outcome, result.message
    digest = _digest(result) if outcome is Outcome.OK and params is None else None
    if digest is not None and digest == source.body_digest:
        # What the last poll read, byte for byte: nothing to parse, as after a 304 (some
        # servers answer every request in full).
        outcome, message = Outcome.NOT_MODIFIED, SAME_BYTES
    if outcome is Outcome.OK:
        try:
            snapshot, read_all = _snapshot(fetcher, source, result, params, on_page)
        except FetchError as exc:
            outcome, message = exc.outcome, str(exc)
    counts = (0, 0)
    write_args: dict = {}
    if snapshot is not None:
        keyed = {entry_key(e): e for e in snapshot.entries}
        previous = store.previous_entries(source, list(keyed))
        decision = decide(source.account_key, snapshot, previous, started_at)
        write_args = dict(
            new_entries=tuple((entry_key(e), e) for e in decision.new),
            changed_entries=tuple((entry_key(e), e) for e in decision.changed),
            gone_keys=tuple(decision.gone),
            seen_keys=tuple(keyed),
            activities=tuple(_not_after(a, started_at) for a in decision.activities),
        )
        counts = (len(decision.new), len(decision.changed))
        message = f"{len(snapshot.entries)} entries" + ("" if snapshot.complete else " (incomplete: a page failed)")
        if params and "updated_min" in params:
            message += f" updated since {params['updated_min']}"
    duration = time.monotonic() - started
    poll = PollRow(
        source_id=source.id,
        started_at=started_at,
        duration_ms=int(duration * 1000),
        outcome=outcome.value,
        http_status=result.status,
        bytes=len(result.body),
        new_entries=counts[0],
        changed_entries=counts[1],
        new_activities=0,
        message=message,
    )
    values, moved_url, pause_account = _source_values(source, result, outcome, message, started_at, params)
    if snapshot is not None and digest is not None:
        values["body_digest"] = digest
    if snapshot is not None and read_all and params is not None and source.kind in INCREMENTAL_KINDS:
        values["updated_min"] = _newest(snapshot.entries, source.updated_min, started_at)
        if values["updated_min"] != source.updated_min:
            # The next poll asks for another URL, whose ETag cannot be this one; the last
            # change of the feed (If-Modified-Since) still says whether anything is new.
            values["etag"] = None
    write = PollWrite(
        source.id, source.account_id, poll, values, **write_args, moved_url=moved_url, pause_account=pause_account,
        count_present=source.kind.is_list,
    )
    return write, PollReport(source.id, outcome, message, counts[0], counts[1], 0, duration, write_args.get("activities", ()))


def first_request(source: SourceRow, params: dict[str, object] | None = None) -> tuple[str, Validators]:
    """The URL and validators of a poll's first request."""
    url = with_params(source.url, **params, start_index=0) if params is not None else source.url
    return url, Validators(source.etag, source.last_modified)


def reads_in_one_request(source: SourceRow) -> bool:
    """Whether polling ``source`` is one request (not a Netflix-style feed read in pages)."""
    return _paging(source) is None


def _digest(result: FetchResult) -> str:
    """The response as parsing sees it: its type and its bytes."""
    return hashlib.sha256(result.content_type.encode("latin-1", "replace") + b"\n" + result.body).hexdigest()


def _paging(source: SourceRow) -> dict[str, object] | None:
    """The API's parameters for reading this source (None: not a Netflix-style feed):
    the biggest pages, and ``updated_min`` once an event feed has been backfilled."""
    if not is_netflix_style(source.url, source.kind):
        return None
    params: dict[str, object] = {"max_results": PAGE_SIZE}
    if source.kind in INCREMENTAL_KINDS and source.updated_min is not None:
        # RFC 3339, which the reference accepts beside Unix seconds; items updated at
        # that very second come again and are recognised as seen.
        params["updated_min"] = rfc3339(source.updated_min)
    return params


def _newest(entries: tuple[Entry, ...], before: datetime | None, now: datetime) -> datetime | None:
    """Where the next increment starts: the newest entry's time (or where it started),
    never later than now: one entry dated in the future would skip all until then."""
    times = [min(e.updated, now) for e in entries if e.updated is not None]
    if before is not None:
        times.append(before)
    return max(times, default=None)


def _snapshot(
    fetcher: Fetcher,
    source: SourceRow,
    first: FetchResult,
    params: dict[str, object] | None,
    on_page: PageProgress | None,
) -> tuple[Snapshot, bool]:
    """The snapshot, paging on while ``opensearch:totalResults`` says there is more (at
    most ``MAX_PAGES``), and whether no page failed."""
    parsed = parse_feed(first.body, first.content_type)
    entries: list[Entry] = list(normalize(parsed, source.kind))
    complete = read_all = True
    if params is not None:
        total = _total_results(parsed)
        start = len(parsed.entries)
        pages = 1
        if on_page:
            on_page(source, start, total)
        while total is not None and start < total and pages < MAX_PAGES:
            page = fetcher.fetch(with_params(source.url, **params, start_index=start))
            if page.outcome is not Outcome.OK:
                read_all = False
                break
            page_parsed = parse_feed(page.body, page.content_type)
            if not page_parsed.entries:
                break
            entries.extend(normalize(page_parsed, source.kind))
            start += len(page_parsed.entries)
            pages += 1
            if on_page:
                on_page(source, start, total)
        if total is not None and start < total:
            complete = False
    return Snapshot(source.kind, tuple(entries), complete and read_all), read_all


def _total_results(parsed: ParsedFeed) -> int | None:
    value = parsed.feed.get("opensearch_totalresults")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _source_values(
    source: SourceRow, result: FetchResult, outcome: Outcome, message: str, now: datetime, params: dict[str, object] | None
) -> tuple[dict, str | None, bool]:
    """The source's columns after this poll (health, validators, next due time; see
    ``schedule``), the URL it moves to, if it does, and whether its account pauses."""
    scheduled = plan(outcome, result.headers, source.interval_seconds, source.error_count, now)
    if not outcome.healthy:
        message = f"{message}; {scheduled.why}"
    values: dict = dict(
        last_outcome=outcome.value,
        last_message=message,
        last_status=result.status,
        last_polled_at=now,
        error_count=scheduled.error_count,
        next_due_at=scheduled.next_due_at,
    )
    if scheduled.state:
        values["state"] = scheduled.state
    if outcome.healthy:
        values["last_success_at"] = now
    # Validators advance only with the entries they describe (this same commit); a 304
    # may carry updated ones (RFC 9111 §4.3.4), else the stored ones are kept as they are.
    if outcome is Outcome.OK or (outcome is Outcome.NOT_MODIFIED and (result.validators.etag or result.validators.last_modified)):
        values.update(etag=result.validators.etag, last_modified=result.validators.last_modified)
    moved_to = _without_params(result.permanent_redirect, source.url, params) if outcome.healthy else None
    move = plan_move(source.url, moved_to, source.moved_to, source.moved_count)
    values.update(moved_to=move.pending, moved_count=move.count)
    return values, move.adopt, scheduled.pause_account


def _without_params(url: str | None, original: str, params: dict[str, object] | None) -> str | None:
    """A redirect target without the paging parameters this poll added to the URL."""
    if url is None or not params:
        return url
    own = {k for k, _ in parse_qsl(urlsplit(original).query, keep_blank_values=True)}
    added = {*params, "start_index"} - own
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in added]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _not_after(activity: Activity, now: datetime) -> Activity:
    """An activity the source dates in the future happened, as far as anyone can tell,
    when it was first seen: now. Its id still comes from the source's own date, so the
    next poll finds it stored (with this date) and does not add it again."""
    return replace(activity, occurred_at=now) if activity.occurred_at > now else activity


def describe_report(source: SourceRow, report: PollReport) -> str:
    """One secret-free line for the command line."""
    return (
        f"{source.account_name}/{source.kind.value} #{source.id}: {report.outcome.value} — {report.message}; "
        f"{report.new_activities} new activities ({report.duration * 1000:.0f} ms) [{redact(source.url)}]"
    )
