"""New tokens for an account: its person gives a new feeds-list URL (or OPML, or feed
URL) after the old tokens were revoked, and the account resumes with nothing lost.

The new list's feeds replace the URLs of the account's sources in place, so the sources
keep their ids and with them every entry and activity; activity ids never depended on
a URL's secrets. A list that belongs to another account is refused. Nothing is written
unless everything checks out (SPEC §9).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .fetch import Fetcher
from .storage import Store
from .storage.rows import AccountRow, NewSource, SourceRow
from .subscribe import AddError, account_key, new_sources_of, read_url


@dataclass(frozen=True)
class Match:
    """How a new list's feeds line up with an account's sources."""

    replaced: tuple[tuple[SourceRow, NewSource], ...]  # the source, its new URL
    added: tuple[NewSource, ...]  # feeds the account did not have
    untouched: tuple[SourceRow, ...]  # sources the new list does not offer


@dataclass(frozen=True)
class Renewal:
    sources: tuple[SourceRow, ...]  # replaced and added, due now
    replaced: int
    added: int
    untouched: tuple[SourceRow, ...]


def match_feeds(sources: Sequence[SourceRow], feeds: Sequence[NewSource]) -> Match:
    """Pair each source with the new feed of the same kind and the same URL but for its
    secrets (the redacted URLs are equal); then, of what is left, a kind that occurs
    once on both sides pairs up (the host or the path moved too). Pure."""
    left_sources, left_feeds = list(sources), list(feeds)
    pairs: list[tuple[SourceRow, NewSource]] = []
    for source in list(left_sources):
        same = next((f for f in left_feeds if f.kind is source.kind and f.url_display == source.url_display), None)
        if same is not None:
            pairs.append((source, same))
            left_sources.remove(source)
            left_feeds.remove(same)
    for source in list(left_sources):
        of_kind = [f for f in left_feeds if f.kind is source.kind]
        if len(of_kind) == 1 and sum(1 for s in left_sources if s.kind is source.kind) == 1:
            pairs.append((source, of_kind[0]))
            left_sources.remove(source)
            left_feeds.remove(of_kind[0])
    return Match(tuple(pairs), tuple(left_feeds), tuple(left_sources))


def renew_account(store: Store, fetcher: Fetcher, account: AccountRow, url: str, interval: int, now: datetime) -> Renewal:
    """Read ``url`` and give ``account``'s sources its feeds' URLs; raise ``AddError``
    with a message for the person (and no secret) when that cannot be done."""
    document, feeds_url = read_url(fetcher, url)
    feeds = new_sources_of(document)
    if account_key(feeds_url, [f.url for f in document.feeds]) != account.key:
        raise AddError(f"these feeds belong to another account, not to {account.name!r}; nothing was changed")
    match = match_feeds(store.sources(account.id), feeds)
    if not match.replaced:
        raise AddError(f"none of these feeds matches a source of {account.name!r}; nothing was changed")
    try:
        renewed = store.renew_account(
            account.id, feeds_url, [(s.id, new) for s, new in match.replaced], match.added, interval, now
        )
    except ValueError as exc:  # DuplicateError: a feed belongs to another account
        raise AddError(f"cannot renew: {exc}") from None
    return Renewal(tuple(renewed), len(match.replaced), len(match.added), match.untouched)
