"""The living feeds list: an account made from a feeds list keeps its sources in step
with that list (SPEC §3, §4).

The list is read again every day, and at once when one of the account's feeds was
refused (401/403) — the API re-issues feed tokens, and the list then names the new
ones. An account connected through OAuth reads it with a signed request; one added by
a feeds-list URL reads that URL. What a read finds:

- a feed whose URL differs only in its secrets (new tokens) → the source takes the new
  URL in place (``renew.match_feeds``, ``Store.renew_account``): same id, same entries,
  and activity ids never depended on a URL, so nothing is duplicated;
- a feed the account lacks → a new source;
- a source the list no longer names → retired (it comes back if the list names it again);
- the list itself refused → access was revoked: every active source of the account
  waits for new tokens (``needs_token``) until the person connects again.

A source whose URL the list still names unchanged stays as it is, even if it was
refused: the list has nothing new for it, and resuming it would only be refused again.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from .discover import DiscoveryError, read_feeds_document
from .fetch import FetchResult, Outcome
from .oauth_client import AccessToken, Consumer, OAuthClient
from .renew import match_feeds
from .services import Services
from .storage.rows import AccountRow, SourceRow
from .subscribe import AddError, account_key, new_sources_of

log = logging.getLogger(__name__)

FEEDS_LIST_INTERVAL = timedelta(days=1)
RETRY_AFTER_FAILURE = timedelta(hours=1)
DELISTED = "no longer in the account's feeds list"
REVOKED = "the API refused the account's feeds list (access revoked?): connect the account again"


@dataclass(frozen=True)
class Refresh:
    """What one read of an account's feeds list did."""

    account: AccountRow
    outcome: Outcome
    message: str  # for people; no secret
    renewed: int = 0  # sources that took a new URL (or were resumed)
    added: int = 0
    retired: int = 0
    paused: int = 0


def refresh_account(services: Services, account: AccountRow, *, resume: bool = False) -> Refresh:
    """Read ``account``'s feeds list now and bring its sources in step with it.

    ``resume`` (after the person connected again): also resume the sources that wait
    for new tokens although the list names them unchanged. Never raises for a bad list.
    """
    store, now = services.store, services.now()
    result = _read(services, account)
    if result is None:
        return Refresh(account, Outcome.INVALID_URL, "the account has no feeds list")
    sources = store.sources(account.id)
    if result.outcome is not Outcome.OK:
        paused: list[SourceRow] = []
        if result.outcome is Outcome.TOKEN_REJECTED:
            paused = [s for s in sources if s.state == "active"]
        message = REVOKED if result.outcome is Outcome.TOKEN_REJECTED else f"the feeds list could not be read: {result.message}"
        due = now + (FEEDS_LIST_INTERVAL if result.outcome is Outcome.TOKEN_REJECTED else RETRY_AFTER_FAILURE)
        store.record_feeds_check(account.id, result.outcome.value, message, due, now, [(s.id, "needs_token", REVOKED) for s in paused])
        return _logged(Refresh(account, result.outcome, message, paused=len(paused)))
    try:
        document = read_feeds_document(result.body)
        if document is None or document.form != "feeds_list":
            raise DiscoveryError("the answer is not a feeds list")
        feeds = new_sources_of(document)
        if account_key(None, [f.url for f in feeds]) != account.key:
            raise DiscoveryError("the feeds list now names another user's feeds")
    except (DiscoveryError, AddError) as exc:
        message = f"the feeds list could not be used: {exc}"
        store.record_feeds_check(account.id, Outcome.NOT_A_FEED.value, message, now + RETRY_AFTER_FAILURE, now)
        return _logged(Refresh(account, Outcome.NOT_A_FEED, message))
    match = match_feeds(sources, feeds)
    renewed = [(s, new) for s, new in match.replaced if _takes_up(s, new.url, resume)]
    if renewed or match.added:
        try:
            store.renew_account(account.id, None, [(s.id, new) for s, new in renewed], match.added, services.settings.poll_interval, now)
        except ValueError as exc:  # a feed of the list belongs to another account
            message = f"the feeds list could not be used: {exc}"
            store.record_feeds_check(account.id, Outcome.CLIENT_ERROR.value, message, now + RETRY_AFTER_FAILURE, now)
            return _logged(Refresh(account, Outcome.CLIENT_ERROR, message))
    retired = [s for s in match.untouched if s.state != "retired"]
    stopped = [(s.id, "retired", DELISTED) for s in retired]
    new_urls = sum(s.url != new.url for s, new in renewed)
    parts = [f"{new_urls} sources took new URLs"] if new_urls else []
    parts += [f"{len(renewed) - new_urls} sources resumed"] if len(renewed) > new_urls else []
    parts += [f"{len(match.added)} new feeds added"] if match.added else []
    parts += [f"{len(retired)} sources retired"] if retired else []
    message = "; ".join(parts) or "no change"
    store.record_feeds_check(account.id, Outcome.OK.value, message, now + FEEDS_LIST_INTERVAL, now, stopped)
    return _logged(Refresh(account, Outcome.OK, message, len(renewed), len(match.added), len(retired)))


def refresh_due(services: Services) -> list[Refresh]:
    """Read the feeds lists that are due (daily)."""
    now = services.now()
    return _each(services, services.store.accounts_with_feeds_due(now, now - FEEDS_LIST_INTERVAL))


def refresh_after_rejection(services: Services, account_ids: Iterable[int]) -> list[Refresh]:
    """Read the feeds lists of accounts one of whose feeds was just refused (401/403):
    the API may have re-issued the feed tokens."""
    store = services.store
    accounts = [a for a in store.accounts() if a.id in set(account_ids)]
    return _each(services, [a for a in accounts if a.feeds_url or store.credentials(a.id)])


def _each(services: Services, accounts: list[AccountRow]) -> list[Refresh]:
    """Refresh each account; one that fails unexpectedly never stops the others, nor the
    polls of the scheduler's tick that runs this."""
    done = []
    for account in accounts:
        try:
            done.append(refresh_account(services, account))
        except Exception as exc:  # noqa: BLE001 — the account is tried again when next due
            # Only the kind of error: a library's message or traceback may quote a secret.
            log.error("reading the feeds list of %s failed (%s)", account.name, type(exc).__name__)
    return done


def _takes_up(source: SourceRow, url: str, resume: bool) -> bool:
    if source.url != url:
        return True  # new tokens
    if source.state == "retired":
        return source.last_message == DELISTED  # listed again
    return resume and source.state == "needs_token"


def _read(services: Services, account: AccountRow) -> FetchResult | None:
    found = services.store.credentials(account.id)
    if found is not None:
        client = OAuthClient(services.fetcher, found.api_base, Consumer(found.consumer_key, found.consumer_secret))
        return client.feeds_list(AccessToken(found.access_token, found.access_secret), found.user_id)
    if account.feeds_url:
        return services.fetcher.fetch(account.feeds_url)
    return None


def _logged(refresh: Refresh) -> Refresh:
    log.info("feeds list of %s: %s (%s)", refresh.account.name, refresh.outcome.value, refresh.message)
    return refresh
