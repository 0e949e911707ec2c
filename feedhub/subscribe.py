"""Adding accounts: from a feeds-list URL (XML or OPML form), an OPML document, or a
single feed URL (SPEC §3). Everything is checked before anything is written, and the
account with all its sources is created in one transaction."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from .discover import DiscoveryError, FeedsDocument, FoundFeed, feed_links, kind_of, read_feeds_document, read_opml
from .fetch import FetchError, Fetcher, Outcome
from .models import Kind
from .parse import ParsedFeed, parse_feed
from .storage import Store
from .storage.rows import AccountRow, NewSource, SourceRow
from .urls import netflix_user_id, redact


MAX_LINKED_FEEDS = 3  # an HTML page's feed links tried, in its order


class AddError(ValueError):
    """Adding failed; the message is for the person and holds no secret."""


@dataclass(frozen=True)
class Added:
    account: AccountRow
    sources: list[SourceRow]
    form: str  # "feeds_list", "opml" or "feed"


def add_url(store: Store, fetcher: Fetcher, url: str, name: str | None, interval: int, now: datetime) -> Added:
    """Fetch ``url``, work out what it is, and create the account with its sources."""
    document, feeds_url = read_url(fetcher, url)
    return create(store, document, name, feeds_url, interval, now)


def read_url(fetcher: Fetcher, url: str) -> tuple[FeedsDocument, str | None]:
    """Fetch ``url`` and work out what it is, creating nothing: the feeds it offers, and
    the feeds-list URL to keep with the account (None unless it is a feeds list)."""
    url = url.strip()
    check_http_url(url)
    result = fetcher.fetch(url)
    if result.outcome is not Outcome.OK:
        raise AddError(f"cannot add {redact(url)}: {result.message}")
    try:
        document = read_feeds_document(result.body)
    except DiscoveryError as exc:
        raise AddError(f"cannot add {redact(url)}: {exc}") from None
    if document is not None:
        return document, url if document.form == "feeds_list" else None
    try:
        parsed = parse_feed(result.body, result.content_type)
    except FetchError as exc:
        if exc.outcome is not Outcome.NOT_A_FEED:
            raise AddError(f"cannot add {redact(url)}: {exc}") from None
        url, parsed = _linked_feed(fetcher, url, result.body, str(exc))
    title = parsed.title or urlsplit(url).hostname or "feed"
    feed = FoundFeed(url, title, kind_of(url, None, parsed.title))
    return FeedsDocument("feed", title, (feed,)), None


def _linked_feed(fetcher: Fetcher, page_url: str, page: bytes, why: str) -> tuple[str, ParsedFeed]:
    """The feed an HTML page links (``<link rel="alternate" type="application/rss+xml">``
    and the like), fetched with every check a source gets: its URL and what it holds.
    The first link that is a feed wins; a page linking none is ``not_a_feed``."""
    links = feed_links(page, page_url)
    if not links:
        raise AddError(f"cannot add {redact(page_url)}: {why}, and it links no feed (<link rel=\"alternate\" type=\"application/rss+xml\">)")
    for link in links[:MAX_LINKED_FEEDS]:
        found = fetcher.fetch(link)
        if found.outcome is not Outcome.OK:
            continue
        try:
            return link, parse_feed(found.body, found.content_type)
        except FetchError:
            continue
    raise AddError(f"cannot add {redact(page_url)}: the feeds it links could not be read as feeds ({redact(links[0])})")


def import_opml(store: Store, body: bytes, name: str | None, interval: int, now: datetime) -> Added:
    """Create an account from an OPML file's feeds."""
    try:
        document = read_opml(body)
    except DiscoveryError as exc:
        raise AddError(f"cannot import: {exc}") from None
    return create(store, document, name, None, interval, now)


def create(store: Store, document: FeedsDocument, name: str | None, feeds_url: str | None, interval: int, now: datetime) -> Added:
    """Create the account of ``document`` with its sources, all or nothing."""
    new_sources = new_sources_of(document)
    key = account_key(feeds_url, [f.url for f in document.feeds])
    account_name = (name or default_name(document, key)).strip()
    if not account_name:
        raise AddError("the account name cannot be empty")
    try:
        account, sources = store.add_account(account_name, key, feeds_url, new_sources, interval, now)
    except ValueError as exc:  # DuplicateError
        raise AddError(f"cannot add: {exc}") from None
    return Added(account, sources, document.form)


def new_sources_of(document: FeedsDocument) -> list[NewSource]:
    """The sources ``document`` asks for, each once; ``AddError`` if a URL is not http(s)."""
    for feed in document.feeds:
        check_http_url(feed.url)
    seen: set[tuple[str, Kind]] = set()
    new_sources = []
    for feed in document.feeds:
        if (feed.url, feed.kind) in seen:
            continue  # listed twice in the same document
        seen.add((feed.url, feed.kind))
        new_sources.append(NewSource(feed.url, redact(feed.url), feed.title or feed.kind.value, feed.kind))
    return new_sources


def account_key(feeds_url: str | None, feed_urls: list[str]) -> str:
    """A stable, secret-free identity for the account (used in activity ids)."""
    users = {netflix_user_id(u) for u in ([feeds_url] if feeds_url else []) + feed_urls}
    users.discard(None)
    if len(users) == 1:
        return f"netflix:{users.pop()}"
    digest = hashlib.sha256("\n".join(sorted(redact(u) for u in feed_urls)).encode()).hexdigest()[:20]
    return f"feeds:{digest}"


def default_name(document: FeedsDocument, key: str) -> str:
    """The name an account gets when none is given."""
    if key.startswith("netflix:"):
        return f"netflix-{key.removeprefix('netflix:')[:8]}"
    return document.title[:80]


def check_http_url(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise AddError("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddError(f"not an http(s) URL: {redact(url) if parts.scheme else '<no scheme>'}")
