"""What storage hands back: frozen rows, secrets kept out of ``repr``."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..models import Kind


@dataclass(frozen=True)
class AccountRow:
    id: int
    name: str
    key: str
    feeds_url_display: str | None
    created_at: datetime
    feeds_url: str | None = field(default=None, repr=False)  # secret


@dataclass(frozen=True)
class CredentialsRow:
    """The OAuth 1.0a credentials of an account connected through the API."""

    account_id: int
    api_base: str  # the API's root, e.g. http://api.netflix.com/
    user_id: str
    updated_at: datetime | None
    consumer_key: str = field(repr=False)  # secret
    consumer_secret: str = field(repr=False)  # secret
    access_token: str = field(repr=False)  # secret
    access_secret: str = field(repr=False)  # secret


@dataclass(frozen=True)
class SourceRow:
    id: int
    account_id: int
    account_name: str
    account_key: str
    kind: Kind
    title: str
    url_display: str
    state: str
    etag: str | None
    last_modified: str | None
    last_outcome: str | None
    last_message: str | None
    last_status: int | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_due_at: datetime
    interval_seconds: int
    error_count: int
    entry_count: int
    url: str = field(repr=False)  # secret: only fetch uses it
    updated_min: datetime | None = None  # increments from here on (see poll.py); None: backfill
    moved_to: str | None = field(default=None, repr=False)  # secret: a 301/308 target waiting to be seen again
    moved_count: int = 0  # polls in a row that saw ``moved_to``
    body_digest: str | None = None  # SHA-256 of the last body read (one-request feeds)

    @property
    def backing_off(self) -> bool:
        """Active, but its last polls failed: polled less often until one succeeds."""
        return self.state == "active" and self.error_count > 0


@dataclass(frozen=True)
class NewSource:
    url: str = field(repr=False)
    url_display: str
    title: str
    kind: Kind


@dataclass(frozen=True)
class PollRow:
    source_id: int
    started_at: datetime
    duration_ms: int
    outcome: str
    http_status: int | None
    bytes: int
    new_entries: int
    changed_entries: int
    new_activities: int
    message: str | None
    present_entries: int | None = None  # entries listed after the poll; set by storage


@dataclass(frozen=True)
class PollWrite:
    """Everything one poll of one source writes, committed in one transaction."""

    source_id: int
    account_id: int
    poll: PollRow
    source_values: dict  # columns of ``sources`` to update (validators, health, next due)
    new_entries: tuple = ()  # (key, Entry) pairs
    changed_entries: tuple = ()
    gone_keys: tuple = ()
    seen_keys: tuple = ()  # every key of the snapshot: seen now, and never pruned by this poll
    activities: tuple = ()
    moved_url: str | None = field(default=None, repr=False)  # secret: the source's URL from now on (a confirmed 301/308)
    pause_account: bool = False  # the source refused its token: every active source of the account waits for new ones
    count_present: bool = False  # a list: the poll log records how many entries it lists (the length pictures)
