"""When a source is polled next, and what a poll's outcome does to it (SPEC §4).

Pure: the outcome, the response's headers, the source's interval and failure count and
``now`` go in; a ``Plan`` comes out. No clock, no storage, no network; randomness (the
jitter) is an argument, so tests can fix it.

The rules:

- **Healthy** (``ok``, ``not_modified``): the source's interval, or longer if the
  response says it stays fresh longer (``Cache-Control: max-age``, else ``Expires``
  read against the response's ``Date``; RFC 9111 §4.2.1), at most ``MAX_FRESHNESS``.
  Never sooner than the interval: a server asking for ``max-age=1`` is not asking to be
  polled every second. ``no-store``, ``no-cache``, ``Expires: 0`` or a date in the past
  mean no freshness; the interval applies. The failure count goes back to zero.
- **Failures**: exponential backoff from the interval (×2 per failure in a row), at most
  ``MAX_BACKOFF``, never giving up. ``Retry-After`` (seconds or an HTTP date, read
  against the response's ``Date`` so a server with a wrong clock is still understood;
  RFC 9110 §10.2.3), when the response has one, sets a floor, at most
  ``MAX_RETRY_AFTER``. Unreadable values are ignored.
- ``gone`` (410) retires the source (``feedhub enable`` brings it back); ``token_rejected``
  (401/403) marks it ``needs_token`` and pauses every source of its account until the
  person gives new tokens (``feedhub resume``, or a new feeds-list URL).
- Every delay gets up to ``JITTER`` more, so sources added together drift apart.

``plan_move`` decides when a permanent redirect (301/308) becomes the source's URL.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping

from .fetch import Outcome
from .urls import carry_secrets

MAX_BACKOFF = timedelta(days=1)
MAX_RETRY_AFTER = timedelta(days=1)
MAX_FRESHNESS = timedelta(days=1)
JITTER = 0.1  # up to 10% later
MOVE_CONFIRMATIONS = 2  # polls in a row that must see the same permanent redirect
_DIGITS = re.compile(r"[0-9]+")  # RFC 9110's delta-seconds: ASCII digits, nothing else


@dataclass(frozen=True)
class Plan:
    """What one poll's outcome means for the source."""

    next_due_at: datetime
    error_count: int  # failures in a row, this one included
    why: str  # how the next time was chosen, for people ("backing off", "Retry-After: 600 s")
    state: str | None = None  # the source's new state, when the outcome changes it
    pause_account: bool = False  # every source of the account waits for new tokens


def plan(
    outcome: Outcome,
    headers: Mapping[str, str],
    interval_seconds: int,
    error_count: int,
    now: datetime,
    jitter: Callable[[], float] = random.random,
) -> Plan:
    """The next poll of a source whose poll at ``now`` ended with ``outcome``.

    ``headers`` are the response's (lower-case names; empty when there was no
    response); ``error_count`` is the failures in a row before this poll.
    """
    interval = timedelta(seconds=interval_seconds)
    if outcome.healthy:
        fresh = freshness(headers, now)
        if fresh is not None and fresh > interval:
            delay = min(fresh, MAX_FRESHNESS)
            return Plan(now + _jittered(delay, jitter), 0, f"fresh for {_seconds(delay)} (Cache-Control/Expires)")
        return Plan(now + _jittered(interval, jitter), 0, "every interval")
    errors = error_count + 1
    # 2 ** 20 intervals exceed any cap; the exponent is bounded so the number stays small.
    delay = min(interval * 2 ** min(errors - 1, 20), MAX_BACKOFF)
    why = f"backing off after {errors} failure{'' if errors == 1 else 's'} in a row"
    wait = retry_after(headers, now)
    if wait is not None and min(wait, MAX_RETRY_AFTER) > delay:
        delay = min(wait, MAX_RETRY_AFTER)
        why = f"Retry-After: {_seconds(delay)}"
    due = now + _jittered(delay, jitter)
    if outcome is Outcome.GONE:
        return Plan(due, errors, "retired: the source is gone (410)", state="retired")
    if outcome is Outcome.TOKEN_REJECTED:
        return Plan(due, errors, "paused until the account has new tokens", state="needs_token", pause_account=True)
    return Plan(due, errors, why)


def retry_after(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long ``Retry-After`` asks to wait; None when absent or unreadable."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if _DIGITS.fullmatch(value):
        return timedelta(seconds=min(int(value), int(MAX_RETRY_AFTER.total_seconds()) + 1))
    when = _http_date(value)
    if when is None:
        return None
    return max(when - _server_now(headers, now), timedelta(0))


def freshness(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long the response stays fresh (RFC 9111 §4.2.1); None when it does not say."""
    directives = _cache_control(headers.get("cache-control", ""))
    if "no-store" in directives or "no-cache" in directives:
        return None
    if "max-age" in directives:
        age = directives["max-age"]
        return timedelta(seconds=min(int(age), int(MAX_FRESHNESS.total_seconds()) + 1)) if _DIGITS.fullmatch(age) else None
    expires = headers.get("expires", "").strip()
    if not expires:
        return None
    when = _http_date(expires)  # "0" and other invalid dates mean "already expired" (§5.3)
    if when is None:
        return None
    left = when - _server_now(headers, now)
    return left if left > timedelta(0) else None


@dataclass(frozen=True)
class Move:
    """What a poll's permanent redirect does to the source's URL."""

    adopt: str | None  # the URL to poll from now on (secret); None: keep the current one
    pending: str | None  # a redirect seen, waiting to be seen again (secret)
    count: int  # how many polls in a row have seen ``pending``


def plan_move(url: str, moved_to: str | None, pending: str | None, count: int) -> Move:
    """Adopt a permanent redirect only when ``MOVE_CONFIRMATIONS`` healthy polls in a row
    ended at the same target: one 301 can be a mistake or an attack, and a URL once
    replaced is gone. ``moved_to`` is where this poll's chain of 301/308 ended (None: no
    permanent redirect, or the poll failed, which starts the count again). The target
    keeps the secrets of ``url`` it lacks (``urls.carry_secrets``)."""
    if moved_to is None:
        return Move(None, None, 0)
    target = carry_secrets(url, moved_to)
    if target == url:
        return Move(None, None, 0)
    seen = count + 1 if target == pending else 1
    if seen >= MOVE_CONFIRMATIONS:
        return Move(target, None, 0)
    return Move(None, target, seen)


def _jittered(delay: timedelta, jitter: Callable[[], float]) -> timedelta:
    return delay * (1 + JITTER * jitter())


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _server_now(headers: Mapping[str, str], now: datetime) -> datetime:
    """The server's idea of now, from its ``Date``: dates it sends are read against its
    own clock, which absorbs a skew between the two clocks."""
    date = _http_date(headers.get("date", ""))
    return date if date is not None else now


def _cache_control(value: str) -> dict[str, str]:
    directives = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        if name:
            directives[name.strip().lower()] = argument.strip().strip('"')
    return directives


def _seconds(delay: timedelta) -> str:
    return f"{int(delay.total_seconds())} s"
