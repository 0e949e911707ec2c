"""WebSub publishing (W3C WebSub): tell the hub which channels changed.

When a poll commits new activities, every public channel that shows one of them is
named to the hub (``FEEDHUB_WEBSUB_HUB``) in one publish request: form-encoded
``hub.mode=publish`` and one ``hub.url`` per feed URL of those channels, repeated as
PubSubHubbub 0.4 §7 allows and the hubs that follow it accept. Private channels are
never named: their URLs hold their tokens, which no hub should learn (and they carry no
``rel=hub`` link, see ``web.feeds.hub_url``).

Pings leave from one background thread with short timeouts, so a slow or broken hub
never holds up polling; a failed ping is logged and dropped, since the hub still reads
the feed on its own schedule.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import requests

from .channels import Channel, shows
from .config import Settings
from .models import Activity
from .poll import PollReport
from .publish import RENDERERS
from .storage import Store
from .storage.rows import SourceRow
from .urls import redact

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0


def feed_url(base_url: str, name: str, fmt: str) -> str:
    """A channel's feed URL as ``web.feeds`` writes it under ``BASE_URL`` (its ``self``)."""
    return f"{base_url}feeds/{name}.{fmt}"


def changed_topics(channels: Iterable[Channel], account_name: str, activities: Iterable[Activity], base_url: str) -> list[str]:
    """The feed URLs of the public channels that show one of ``activities`` of
    ``account_name``, in every format."""
    activities = list(activities)
    return [
        feed_url(base_url, channel.name, fmt)
        for channel in channels
        if channel.spec.public and any(shows(channel.spec, account_name, a) for a in activities)
        for fmt in RENDERERS
    ]


class Publisher:
    """Pings the configured hub after polls; does nothing when no hub is configured."""

    def __init__(self, settings: Settings, store: Store, session: requests.Session | None = None) -> None:
        self._hub = settings.websub_hub
        self._base_url = settings.base_url
        self._store = store
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = settings.user_agent
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="feedhub-websub")

    @property
    def pings(self) -> bool:
        """Whether a hub is set up to be pinged (pings need the polls' activities)."""
        return bool(self._hub and self._base_url)

    def poll_committed(self, source: SourceRow, report: PollReport) -> Future | None:
        """Queue a ping for the channels the poll's new activities changed (None: none)."""
        if not self.pings or not report.new_activities:
            return None
        try:
            topics = changed_topics(self._store.channels(), source.account_name, report.activities, self._base_url)
        except Exception:  # a ping is worth less than the poll that led to it
            log.exception("cannot tell which channels changed; no WebSub ping")
            return None
        return self._pool.submit(self._ping, topics) if topics else None

    def _ping(self, topics: list[str]) -> None:
        data = [("hub.mode", "publish")] + [("hub.url", topic) for topic in topics]
        try:
            response = self._session.post(self._hub, data=data, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        except requests.RequestException as exc:
            log.warning("WebSub ping to %s failed: %s", redact(self._hub), type(exc).__name__)
            return
        if response.status_code >= 300:
            log.warning("WebSub hub %s answered %d to a ping", redact(self._hub), response.status_code)
        else:
            log.info("WebSub: pinged %s for %d feed URLs", redact(self._hub), len(topics))

    def close(self) -> None:
        """Send what is queued (each ping is bounded by its timeouts), then stop."""
        self._pool.shutdown(wait=True)
        self._session.close()
