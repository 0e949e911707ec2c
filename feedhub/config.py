"""Configuration: defaults, then an optional file, then ``FEEDHUB_*`` variables, then
explicit overrides (tests, the demo).

Every setting is documented in ``SETTINGS``; a test fails when a setting is added
without a description, and the README's table is generated from the same place.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "FEEDHUB_"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    admin_password: str | None
    base_url: str | None
    poll_interval: int  # seconds between polls of one source
    max_concurrency: int
    max_per_host: int  # sources of one host polled at once
    poll_processes: int  # processes that poll (1: the polling process alone)
    allow_private_networks: bool
    allowed_hosts: frozenset[str]  # hosts exempt from the address policy, as written in URLs
    user_agent: str
    connect_timeout: float
    read_timeout: float  # the longest silence while a source answers
    total_timeout: float  # one whole fetch, redirects included
    max_body_bytes: int
    retention_days: int  # 0: keep the archive for ever
    retention_entries: int  # 0: no limit
    start_scheduler: bool  # only one process should run the scheduler
    websub_hub: str | None  # the WebSub hub public channels name and ping


SETTINGS: dict[str, str] = {
    "DATA_DIR": "Directory for the SQLite database and generated keys (default: ./feedhub-data).",
    "DATABASE_URL": "SQLAlchemy URL; default SQLite at DATA_DIR/feedhub.db. PostgreSQL: postgresql+psycopg://user:pass@host/db.",
    "SECRET_KEY": "Key for sessions and tokens; generated and kept in DATA_DIR/secret_key when unset.",
    "ADMIN_PASSWORD": "Password of the dashboard's admin login; without it nothing can be changed from the web.",
    "BASE_URL": "Public base URL used in self links and OPML (default: from the request).",
    "POLL_INTERVAL": "Seconds between two polls of one source (default 900, at least 10).",
    "MAX_CONCURRENCY": "How many sources are polled at once (default 8).",
    "MAX_PER_HOST": "How many sources on one host are polled at once, so many feeds of one service do not hit it together (default 2).",
    "POLL_PROCESSES": "How many worker processes poll when many sources are due at once (default 1: the scheduler's own process). Set it to the number of cores to poll thousands of sources on all of them; MAX_CONCURRENCY and MAX_PER_HOST stay limits for all processes together.",
    "ALLOW_PRIVATE_NETWORKS": "Allow sources on private, loopback, link-local and other non-public addresses (default off; the demo turns it on).",
    "ALLOWED_HOSTS": "Comma-separated hosts that may be fetched even on private addresses, exactly as their URLs write them, e.g. `feeds.intranet.example,10.0.0.5` (default none).",
    "USER_AGENT": "User-Agent sent to sources; keep a contact URL in it.",
    "CONNECT_TIMEOUT": "Seconds to wait for a connection (default 10).",
    "READ_TIMEOUT": "Seconds a source may stay silent while it answers (default 30).",
    "TOTAL_TIMEOUT": "Seconds one fetch may take in all, redirects included, however slowly the source sends (default 60).",
    "MAX_BODY_BYTES": "Largest response body accepted, after decompression (default 10 MiB).",
    "RETENTION_DAYS": "Delete archived entries last seen, and activities that happened, more than this many days ago (default 0: keep everything). What a list shows now is always kept.",
    "RETENTION_ENTRIES": "Keep at most this many archived entries per source and activities per account, the newest (default 0: no limit). What a list shows now is always kept.",
    "START_SCHEDULER": "Run the poll scheduler inside `feedhub serve` (default on; `wsgi.py` leaves it off).",
    "WEBSUB_HUB": "URL of a WebSub hub: public channels link it (rel=hub) and feedhub pings it when they get new activities. Needs BASE_URL.",
    "CONFIG_FILE": "Optional TOML file with the same settings in lower case (read before the environment).",
}

_DEFAULTS: dict[str, Any] = {
    "data_dir": "feedhub-data",
    "database_url": "",
    "secret_key": "",
    "admin_password": None,
    "base_url": None,
    "poll_interval": 900,
    "max_concurrency": 8,
    "max_per_host": 2,
    "poll_processes": 1,
    "allow_private_networks": False,
    "allowed_hosts": "",
    "user_agent": "feedhub/0.1 (+https://github.com/feedhub/feedhub)",
    "connect_timeout": 10.0,
    "read_timeout": 30.0,
    "total_timeout": 60.0,
    "max_body_bytes": 10 * 1024 * 1024,
    "retention_days": 0,
    "retention_entries": 0,
    "start_scheduler": True,
    "websub_hub": None,
}


class ConfigError(ValueError):
    """A setting has a value feedhub cannot use."""


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from defaults, file, environment and ``overrides``."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = dict(_DEFAULTS)
    config_file = environ.get(ENV_PREFIX + "CONFIG_FILE")
    if config_file:
        raw.update(_read_file(Path(config_file)))
    for name in _DEFAULTS:
        value = environ.get(ENV_PREFIX + name.upper())
        if value is not None and value != "":
            raw[name] = value
    raw.update({k.lower(): v for k, v in (overrides or {}).items()})
    return _validate(raw)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc}") from exc
    unknown = set(data) - set(_DEFAULTS)
    if unknown:
        raise ConfigError(f"unknown settings in {path}: {', '.join(sorted(unknown))}")
    return data


def _validate(raw: dict[str, Any]) -> Settings:
    unknown = set(raw) - set(_DEFAULTS)
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    data_dir = Path(raw["data_dir"]).expanduser()
    values = {
        "data_dir": data_dir,
        "database_url": raw["database_url"] or f"sqlite:///{(data_dir / 'feedhub.db').resolve()}",
        "secret_key": str(raw["secret_key"] or ""),
        "admin_password": str(raw["admin_password"]) if raw["admin_password"] else None,
        "base_url": (str(raw["base_url"]).rstrip("/") + "/") if raw["base_url"] else None,
        "poll_interval": _number(raw, "poll_interval", int, minimum=10),
        "max_concurrency": _number(raw, "max_concurrency", int, minimum=1),
        "max_per_host": _number(raw, "max_per_host", int, minimum=1),
        "poll_processes": _number(raw, "poll_processes", int, minimum=1),
        "allow_private_networks": _boolean(raw, "allow_private_networks"),
        "allowed_hosts": _hosts(raw, "allowed_hosts"),
        "user_agent": str(raw["user_agent"]),
        "connect_timeout": _number(raw, "connect_timeout", float, minimum=0.1),
        "read_timeout": _number(raw, "read_timeout", float, minimum=0.1),
        "total_timeout": _number(raw, "total_timeout", float, minimum=0.1),
        "max_body_bytes": _number(raw, "max_body_bytes", int, minimum=1024),
        "retention_days": _number(raw, "retention_days", int, minimum=0),
        "retention_entries": _number(raw, "retention_entries", int, minimum=0),
        "start_scheduler": _boolean(raw, "start_scheduler"),
        "websub_hub": _websub_hub(raw),
    }
    return Settings(**values)


def _hosts(raw: Mapping[str, Any], name: str) -> frozenset[str]:
    """A comma-separated list (or, in the TOML file, a list) of host names or addresses."""
    value = raw[name]
    items = value if isinstance(value, (list, tuple, frozenset, set)) else str(value or "").split(",")
    hosts = frozenset(str(item).strip().strip("[]").lower() for item in items if str(item).strip())
    bad = sorted(h for h in hosts if not re.fullmatch(r"[a-z0-9._:\-]+", h))
    if bad:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} lists hosts as their URLs write them (e.g. feeds.example.org), not {bad[0]!r}")
    return hosts


def _websub_hub(raw: Mapping[str, Any]) -> str | None:
    hub = str(raw["websub_hub"] or "").strip()
    if not hub:
        return None
    if not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", hub):
        raise ConfigError(f"{ENV_PREFIX}WEBSUB_HUB must be an http(s) URL, not {hub!r}")
    if not raw["base_url"]:
        # A ping names the feeds by their public URLs, which only BASE_URL gives outside a request.
        raise ConfigError(f"{ENV_PREFIX}WEBSUB_HUB needs {ENV_PREFIX}BASE_URL, the public URL that feeds are read at")
    return hub


def _number(raw: Mapping[str, Any], name: str, kind: type, minimum: float) -> Any:
    try:
        value = kind(raw[name])
    except (TypeError, ValueError):
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be a number, not {raw[name]!r}") from None
    if value < minimum:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be at least {minimum}")
    return value


def _boolean(raw: Mapping[str, Any], name: str) -> bool:
    value = raw[name]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be on or off, not {value!r}")


def ensure_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key, generating and keeping one in the data dir."""
    if settings.secret_key:
        return settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_file = settings.data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        key_file.chmod(0o600)
    return replace(settings, secret_key=key_file.read_text(encoding="utf-8").strip())


def describe(settings: Settings) -> str:
    """Settings as JSON for `feedhub config`, secrets hidden."""
    shown = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name in ("secret_key", "admin_password") and value:
            value = "(set)"
        elif f.name == "database_url":
            from .urls import redact

            value = redact(value) if "://" in value and "@" in value else value
        if isinstance(value, frozenset):
            value = sorted(value)
        shown[f.name] = str(value) if isinstance(value, Path) else value
    return json.dumps(shown, indent=2)
