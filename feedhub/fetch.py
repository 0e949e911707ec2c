"""HTTP for sources: one session, time and size limits, conditional GET, an address
policy checked on every hop, and one classifier that turns every way a request can
end into a stable ``Outcome`` code.

This module does not parse feeds and does not touch storage. Messages it produces
never contain the URL's secrets (they go through ``urls.redact``/``urls.scrub``).
"""
from __future__ import annotations

import enum
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping
from urllib.parse import urljoin, urlsplit

import requests

from .urls import redact, scrub

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class Outcome(str, enum.Enum):
    """How a poll ended. The dashboard, CLI, API and backoff use these codes."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    TOKEN_REJECTED = "token_rejected"
    GONE = "gone"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    CLIENT_ERROR = "client_error"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BLOCKED_ADDRESS = "blocked_address"
    INVALID_URL = "invalid_url"
    NOT_A_FEED = "not_a_feed"
    MALFORMED = "malformed"

    @property
    def healthy(self) -> bool:
        return self in (Outcome.OK, Outcome.NOT_MODIFIED)


MESSAGES: dict[Outcome, str] = {
    Outcome.OK: "fetched",
    Outcome.NOT_MODIFIED: "not modified since the last poll",
    Outcome.TOKEN_REJECTED: "the source refused the feed's token (401/403): it needs a new feed URL",
    Outcome.GONE: "the source says this feed is gone for good (410)",
    Outcome.NOT_FOUND: "the source has no such feed (404)",
    Outcome.RATE_LIMITED: "the source asked us to slow down",
    Outcome.SERVER_ERROR: "the source had a server error",
    Outcome.CLIENT_ERROR: "the source rejected the request",
    Outcome.TIMEOUT: "the source did not answer in time",
    Outcome.CONNECTION_ERROR: "could not connect to the source",
    Outcome.TOO_LARGE: "the response was larger than allowed",
    Outcome.TOO_MANY_REDIRECTS: "too many redirects",
    Outcome.BLOCKED_ADDRESS: "the address is in a private or reserved network, which is not allowed",
    Outcome.INVALID_URL: "not a valid http(s) URL",
    Outcome.NOT_A_FEED: "the document is not a feed",
    Outcome.MALFORMED: "the feed is malformed",
}


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str = "feedhub"
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # also the deadline for the whole response
    max_body_bytes: int = 10 * 1024 * 1024
    allow_private_networks: bool = False


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    outcome: Outcome
    message: str  # human and secret-free
    status: int | None = None
    body: bytes = b""
    content_type: str = ""
    validators: Validators = field(default_factory=Validators)
    headers: Mapping[str, str] = field(default_factory=dict)
    permanent_redirect: str | None = None  # where a 301/308 chain ended, if it did
    elapsed: float = 0.0


class FetchError(Exception):
    def __init__(self, outcome: Outcome, message: str | None = None):
        super().__init__(message or MESSAGES[outcome])
        self.outcome = outcome


Resolver = Callable[[str, int], list[str]]


def _system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class Fetcher:
    """Fetches source URLs with one keep-alive session."""

    def __init__(self, policy: FetchPolicy, resolver: Resolver = _system_resolver):
        self.policy = policy
        self._resolver = resolver
        self._session = requests.Session()
        self._session.headers["User-Agent"] = policy.user_agent
        self._session.headers["Accept"] = (
            "application/atom+xml, application/rss+xml, application/feed+json, "
            "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
        )

    def close(self) -> None:
        self._session.close()

    def fetch(self, url: str, validators: Validators = Validators()) -> FetchResult:
        """GET ``url`` conditionally, following redirects by hand (checking each hop)."""
        started = time.monotonic()
        try:
            result = self._fetch(url, validators, started)
        except FetchError as exc:
            return FetchResult(exc.outcome, scrub(str(exc), url), elapsed=time.monotonic() - started)
        return result

    def _fetch(self, url: str, validators: Validators, started: float) -> FetchResult:
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        current, permanent = url, True
        for _ in range(MAX_REDIRECTS + 1):
            self._check_address(current)
            response = self._get(current, headers, started, url)
            if response.is_redirect and response.headers.get("Location"):
                permanent = permanent and response.status_code in (301, 308)
                current = urljoin(current, response.headers["Location"])
                response.close()
                continue
            with response:
                return self._finish(response, current if permanent and current != url else None, started, url)
        raise FetchError(Outcome.TOO_MANY_REDIRECTS)

    def _check_address(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(Outcome.INVALID_URL) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(Outcome.INVALID_URL)
        if self.policy.allow_private_networks:
            return
        try:
            addresses = self._resolver(parts.hostname, port)
        except (OSError, UnicodeError):
            raise FetchError(Outcome.CONNECTION_ERROR, f"cannot resolve {parts.hostname}") from None
        if not addresses or not all(is_public_address(a) for a in addresses):
            raise FetchError(Outcome.BLOCKED_ADDRESS)

    def _get(self, url: str, headers: dict[str, str], started: float, original: str) -> requests.Response:
        try:
            return self._session.get(
                url,
                headers=headers,
                timeout=(self.policy.connect_timeout, self.policy.read_timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout:
            raise FetchError(Outcome.TIMEOUT) from None
        except requests.exceptions.InvalidURL:
            raise FetchError(Outcome.INVALID_URL) from None
        except requests.RequestException as exc:
            # requests' messages hold the full URL, token included: keep only the kind.
            raise FetchError(Outcome.CONNECTION_ERROR, f"{MESSAGES[Outcome.CONNECTION_ERROR]} ({type(exc).__name__})") from None

    def _finish(self, response: requests.Response, moved_to: str | None, started: float, original: str) -> FetchResult:
        status = response.status_code
        outcome = classify_status(status)
        body = b""
        if outcome is Outcome.OK:
            body = self._read_body(response, started)
        headers = {k.lower(): v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
        message = MESSAGES[outcome] if outcome is not Outcome.CLIENT_ERROR else f"the source answered HTTP {status}"
        if outcome in (Outcome.SERVER_ERROR, Outcome.RATE_LIMITED):
            message = f"{message} (HTTP {status})"
        return FetchResult(
            outcome=outcome,
            message=message,
            status=status,
            body=body,
            content_type=response.headers.get("Content-Type", ""),
            validators=Validators(response.headers.get("ETag"), response.headers.get("Last-Modified")),
            headers=headers,
            permanent_redirect=moved_to,
            elapsed=time.monotonic() - started,
        )

    def _read_body(self, response: requests.Response, started: float) -> bytes:
        limit = self.policy.max_body_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit and "gzip" not in response.headers.get("Content-Encoding", ""):
            raise FetchError(Outcome.TOO_LARGE)
        chunks, size = [], 0
        try:
            # iter_content decompresses, so the cap applies to the inflated size.
            for chunk in response.iter_content(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise FetchError(Outcome.TOO_LARGE)
                if time.monotonic() - started > self.policy.read_timeout:
                    raise FetchError(Outcome.TIMEOUT)
                chunks.append(chunk)
        except requests.RequestException as exc:
            outcome = Outcome.TIMEOUT if isinstance(exc, requests.Timeout) else Outcome.CONNECTION_ERROR
            raise FetchError(outcome) from None
        return b"".join(chunks)


_KEPT_HEADERS = {"content-type", "etag", "last-modified", "retry-after", "cache-control", "expires", "date"}


def classify_status(status: int) -> Outcome:
    """Map an HTTP status (after redirects) to an outcome."""
    if status == 304:
        return Outcome.NOT_MODIFIED
    if 200 <= status < 300:
        return Outcome.OK
    if status in (401, 403):
        return Outcome.TOKEN_REJECTED
    if status == 410:
        return Outcome.GONE
    if status == 404:
        return Outcome.NOT_FOUND
    if status in (429, 503):
        return Outcome.RATE_LIMITED
    if status >= 500:
        return Outcome.SERVER_ERROR
    return Outcome.CLIENT_ERROR


def describe_failure(result: FetchResult, url: str) -> str:
    """A one-line, secret-free message for a failed fetch of ``url``."""
    return f"{redact(url)}: {result.message}"
