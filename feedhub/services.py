"""The long-lived objects one process needs, built once from the settings and shared
by the web app, the scheduler and the command line."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from .config import Settings, ensure_secret_key
from .crypto import Cipher
from .fetch import FetchPolicy, Fetcher
from .storage import Store
from .storage.retention import Retention


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    settings: Settings
    store: Store
    fetcher: Fetcher
    now: Callable[[], datetime] = utc_now

    def close(self) -> None:
        self.fetcher.close()
        self.store.close()


def build_services(settings: Settings) -> Services:
    settings = ensure_secret_key(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    policy = FetchPolicy(
        user_agent=settings.user_agent,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        total_timeout=settings.total_timeout,
        max_body_bytes=settings.max_body_bytes,
        allow_private_networks=settings.allow_private_networks,
        allowed_hosts=settings.allowed_hosts,
    )
    retention = Retention(days=settings.retention_days or None, count=settings.retention_entries or None)
    store = Store(settings.database_url, Cipher(settings.secret_key), retention)
    return Services(settings, store, Fetcher(policy))
