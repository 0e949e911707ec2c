"""HTTP for sources: one session, time and size limits, conditional GET, an address
policy enforced where the connection is made, and one classifier that turns every way
a request can end into a stable ``Outcome`` code.

What it guarantees (SPEC §4, §9):

- **Where it connects.** Only http and https. Each hop's host is resolved once, the
  addresses are judged by ``addresses.AddressPolicy``, and the connection is pinned to
  the first of them (``_PinnedAdapter``), so a DNS answer cannot change between the
  check and the connection. Redirects are followed by hand, at most ``MAX_REDIRECTS``,
  each hop going through the same check; a loop ends at once.
- **How long.** A connect timeout, a read timeout (the longest silence), and a total
  deadline per fetch, redirects included. The deadline is enforced by shutting the
  fetch's sockets down when it passes (``_Deadline``), because a server that sends one
  byte every few seconds never trips a read timeout.
- **How much.** A ``Content-Length`` above the cap is refused before reading; the body
  is read in chunks and refused once it passes the cap *after* gzip/deflate
  decompression (urllib3 inflates a bounded amount per read).
- **What it leaks.** Nothing: proxies and ``.netrc`` from the environment are ignored
  (``trust_env``), cookies are never kept (a source's cookie would otherwise go to the
  next source on its host), and messages never hold the URL's secrets (they go through
  ``urls.scrub``; requests' own messages, which quote the full URL, are never shown).

It does not parse feeds and does not touch storage.
"""
from __future__ import annotations

import enum
import heapq
import http.cookiejar
import itertools
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .addresses import AddressPolicy, host_key
from .urls import scrub

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
    read_timeout: float = 30.0  # the longest silence between two reads
    total_timeout: float = 60.0  # the whole fetch, redirects included
    max_body_bytes: int = 10 * 1024 * 1024
    allow_private_networks: bool = False
    allowed_hosts: frozenset[str] = frozenset()  # hosts exempt from the address policy


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
    headers: Mapping[str, str] = field(default_factory=dict)  # those in KEPT_HEADERS, lower-case names
    permanent_redirect: str | None = field(default=None, repr=False)  # secret: where a chain of 301/308 ended


class FetchError(Exception):
    def __init__(self, outcome: Outcome, message: str | None = None):
        super().__init__(message or MESSAGES[outcome])
        self.outcome = outcome


# The response headers a result keeps: the body's type, validators, and what scheduling
# reads (RFC 9111 freshness, RFC 9110 §10.2.3 Retry-After, read against Date).
KEPT_HEADERS = frozenset({"content-type", "etag", "last-modified", "retry-after", "cache-control", "expires", "date"})

Resolver = Callable[[str, int], list[str]]


def _system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


class Fetcher:
    """Fetches source URLs with one keep-alive session; safe to share between threads."""

    def __init__(self, policy: FetchPolicy, resolver: Resolver = _system_resolver):
        self.policy = policy
        self._session = requests.Session()
        # Proxies, .netrc and CA bundles from the environment are not ours to follow.
        self._session.trust_env = False
        self._session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        addresses = AddressPolicy(policy.allow_private_networks, frozenset(host_key(h) for h in policy.allowed_hosts))
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, _PinnedAdapter(addresses, resolver))
        self._session.headers["User-Agent"] = policy.user_agent
        self._session.headers["Accept"] = (
            "application/atom+xml, application/rss+xml, application/feed+json, "
            "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
        )

    def close(self) -> None:
        self._session.close()

    def fetch(self, url: str, validators: Validators = Validators()) -> FetchResult:
        """GET ``url`` conditionally, following redirects by hand; never raises.

        Any fetch that outlives its deadline ends as ``timeout``, whatever it was doing
        when the deadline passed (a close-delimited body cut short looks complete).
        """
        deadline = _Deadline(self.policy.total_timeout)
        _current.deadline = deadline
        try:
            result = self._fetch(url, validators, deadline)
        except FetchError as exc:
            result = FetchResult(exc.outcome, scrub(str(exc), url))
        except (ValueError, UnicodeError):  # a URL requests or urllib3 cannot even prepare
            result = FetchResult(Outcome.INVALID_URL, MESSAGES[Outcome.INVALID_URL])
        finally:
            _current.deadline = None
            expired = deadline.finish()
        if expired:
            result = FetchResult(Outcome.TIMEOUT, f"the response took longer than the {self.policy.total_timeout:g} s allowed")
        return result

    def _fetch(self, url: str, validators: Validators, deadline: _Deadline) -> FetchResult:
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        current, permanent, seen = url, True, {url}
        for _ in range(MAX_REDIRECTS + 1):
            _check_scheme(current, first=current == url)
            response = self._get(current, headers, deadline)
            if not (response.is_redirect and response.headers.get("Location")):
                with response:
                    moved_to = current if permanent and current != url else None
                    return self._finish(response, moved_to, deadline)
            permanent = permanent and response.status_code in (301, 308)
            current = urljoin(current, response.headers["Location"].strip())
            response.close()
            if current in seen:
                raise FetchError(Outcome.TOO_MANY_REDIRECTS, "the source's redirects go round in a loop")
            seen.add(current)
        raise FetchError(Outcome.TOO_MANY_REDIRECTS, f"more than {MAX_REDIRECTS} redirects")

    def _get(self, url: str, headers: dict[str, str], deadline: _Deadline) -> requests.Response:
        read_timeout = min(self.policy.read_timeout, max(deadline.remaining(), 0.001))
        try:
            return self._session.get(
                url,
                headers=headers,
                timeout=(self.policy.connect_timeout, read_timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.ConnectTimeout:
            raise FetchError(Outcome.TIMEOUT, f"could not connect within {self.policy.connect_timeout:g} s") from None
        except requests.Timeout:
            raise FetchError(Outcome.TIMEOUT, f"the source sent nothing for {read_timeout:g} s") from None
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema):
            raise FetchError(Outcome.INVALID_URL) from None
        except requests.RequestException as exc:
            raise FetchError(Outcome.CONNECTION_ERROR, _connection_message(exc)) from None

    def _finish(self, response: requests.Response, moved_to: str | None, deadline: _Deadline) -> FetchResult:
        status = response.status_code
        outcome = classify_status(status)
        body = self._read_body(response, deadline) if outcome is Outcome.OK else b""
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
            headers={k.lower(): v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS},
            permanent_redirect=moved_to,
        )

    def _read_body(self, response: requests.Response, deadline: _Deadline) -> bytes:
        limit = self.policy.max_body_bytes
        declared = response.headers.get("Content-Length", "").strip()
        # Refused before reading. Compressed or not: a compressed body this large would
        # inflate to more still.
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise FetchError(Outcome.TOO_LARGE, f"the response declares {int(declared):,} bytes, more than the {limit:,} allowed")
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(_CHUNK):  # decompressed, a bounded amount at a time
                size += len(chunk)
                if size > limit:
                    raise FetchError(Outcome.TOO_LARGE, f"the response is larger than the {limit:,} bytes allowed (after decompression)")
                if deadline.remaining() <= 0:
                    raise FetchError(Outcome.TIMEOUT)
                chunks.append(chunk)
        except requests.RequestException as exc:
            if isinstance(exc, requests.Timeout):
                raise FetchError(Outcome.TIMEOUT, f"the source stopped sending for {self.policy.read_timeout:g} s") from None
            raise FetchError(Outcome.CONNECTION_ERROR, _connection_message(exc)) from None
        return b"".join(chunks)


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


def _check_scheme(url: str, first: bool) -> None:
    """Only http(s) URLs with a host (and a port that is a number) are fetched."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # e.g. an unclosed IPv6 bracket, a port out of range
        valid = False
    if not valid:
        raise FetchError(Outcome.INVALID_URL, None if first else "the source redirected to a URL that is not a valid http(s) URL")


def _connection_message(exc: requests.RequestException) -> str:
    # requests' messages hold the full URL, token included: keep only the kind of failure.
    return f"{MESSAGES[Outcome.CONNECTION_ERROR]} ({type(exc).__name__})"


# -- connecting to the checked address ------------------------------------------------


class _PinnedAdapter(HTTPAdapter):
    """Resolves each request's host once, checks the addresses, and makes urllib3 connect
    to the first of them, with the original host in ``Host`` and, for https, in SNI and
    the certificate check.

    The same hook and header handling as requests-hardened (``IPFilterAdapter``), whose
    own filter feedhub cannot use: it judges only the first address, with the running
    Python's ``is_private`` (which lets ``::7f00:1`` and ``fec0::/10`` through), and has
    no per-host allow-list or "allow private networks" switch.
    """

    def __init__(self, policy: AddressPolicy, resolver: Resolver):
        self._policy = policy
        self._resolver = resolver
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):  # noqa: ANN001 — requests' signature
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host, port, scheme = host_params["host"], host_params["port"], host_params["scheme"]
        address = self._pin(host, port or (443 if scheme == "https" else 80))
        # A copy: the headers may be shared with other requests.
        request.headers = CaseInsensitiveDict(request.headers or {})
        shown = f"[{host}]" if ":" in host else host
        request.headers["Host"] = f"{shown}:{port}" if port is not None else shown
        if scheme == "https":
            pool_kwargs["server_hostname"] = host  # SNI
            pool_kwargs["assert_hostname"] = host  # the certificate names the host, not the address
        host_params["host"] = f"[{address}]" if ":" in address else address
        return host_params, pool_kwargs

    def _pin(self, host: str, port: int) -> str:
        try:
            addresses = self._resolver(host, port)
        except (OSError, UnicodeError):
            raise FetchError(Outcome.CONNECTION_ERROR, f"cannot resolve {host}") from None
        reason = self._policy.refusal(host, addresses)
        if reason is not None:
            raise FetchError(Outcome.BLOCKED_ADDRESS, f"refused: {reason}")
        if not addresses:
            raise FetchError(Outcome.CONNECTION_ERROR, f"cannot resolve {host}")
        return addresses[0].split("%", 1)[0]


# -- the deadline -----------------------------------------------------------------------


class _Deadline:
    """The time limit of one fetch. When it passes, the sockets the fetch uses are shut
    down, which wakes a read blocked on a server that trickles its answer."""

    def __init__(self, seconds: float):
        self.expires_at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._expired = False
        self._finished = False
        _WATCHDOG.add(self)

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if self._finished:
                return
            self._sockets.append(sock)
            if self._expired:
                _shut(sock)

    def expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._expired = True
            for sock in self._sockets:
                _shut(sock)

    def finish(self) -> bool:
        """End the fetch; True if the deadline passed first."""
        with self._lock:
            self._finished = True
            self._sockets.clear()
            return self._expired


def _shut(sock: socket.socket) -> None:
    try:
        # The plain socket's shutdown, also for an SSLSocket: it acts on the descriptor
        # without touching the TLS state that the reading thread is using.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # closed already


class _Watchdog:
    """One thread that expires deadlines when they pass (one timer per fetch would start
    a thread per fetch)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: _Deadline) -> None:
        with self._wakeup:
            heapq.heappush(self._heap, (deadline.expires_at, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="feedhub-fetch-deadlines", daemon=True)
                self._thread.start()
            self._wakeup.notify()

    def _run(self) -> None:
        with self._wakeup:
            while True:
                if not self._heap:
                    self._wakeup.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._wakeup.wait(wait)
                    continue
                heapq.heappop(self._heap)[2].expire()


_WATCHDOG = _Watchdog()
_current = threading.local()  # the deadline of the fetch running on this thread


class _WatchedConnection:
    """Registers its socket with the deadline of the fetch on the current thread: when
    the socket is made (before a TLS handshake, which can trickle too) and when a kept-
    alive connection is used again."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # type: ignore[attr-defined]
        return super().request(*args, **kwargs)  # type: ignore[misc]


def _watch(sock: socket.socket | None) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(sock)


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection
