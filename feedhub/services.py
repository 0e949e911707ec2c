"""The long-lived objects one process needs, built once from the settings and shared
by the web app, the scheduler and the command line."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from .config import Settings, ensure_secret_key
from .fetch import FetchPolicy, Fetcher
from .storage import Store


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
        max_body_bytes=settings.max_body_bytes,
        allow_private_networks=settings.allow_private_networks,
    )
    return Services(settings, Store(settings.database_url), Fetcher(policy))
