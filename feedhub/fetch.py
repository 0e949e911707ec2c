"""HTTP for sources: urllib3 used directly, time and size limits, conditional GET, an
address policy enforced where the connection is made, and one classifier that turns every
way a request can end into a stable ``Outcome`` code.

What it guarantees (SPEC §4, §9):

- **Where it connects.** Only http and https. Each hop's host is resolved once, the
  addresses are judged by ``addresses.AddressPolicy``, and the connection is pinned to
  the first of them (``Fetcher._open``), so a DNS answer cannot change between the check
  and the connection; the host stays in ``Host`` and, for https, in SNI and the
  certificate check. Redirects are followed by hand, at most ``MAX_REDIRECTS``, each hop
  going through the same check; a loop ends at once.
- **How long.** A connect timeout, a read timeout (the longest silence), and a total
  deadline per fetch, redirects included. The deadline is enforced by shutting the
  fetch's sockets down when it passes (``_Deadline``), because a server that sends one
  byte every few seconds never trips a read timeout.
- **How much.** A ``Content-Length`` above the cap is refused before reading; the body
  is read in chunks and refused once it passes the cap *after* gzip/deflate
  decompression (urllib3 inflates a bounded amount per read).
- **What it leaks.** Nothing: urllib3 reads no proxy or ``.netrc`` from the environment
  (and the CA bundle is chosen here, ``Fetcher._tls``), keeps no cookies (a source's
  cookie would otherwise go to the next source on its host), and messages never hold
  the URL's secrets (they go through ``urls.scrub``; urllib3's own messages, which quote
  the URL, are never shown).
- **Sharing.** One ``Fetcher`` serves every polling thread: keep-alive pools, one per
  pinned address (and, for https, host name), the most recently used ``_MAX_POOLS`` kept.

It does not parse feeds and does not touch storage.
"""
from __future__ import annotations

import base64
import enum
import heapq
import itertools
import math
import re
import socket
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping
from urllib.parse import unquote, urljoin, urlsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    LocationValueError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util import Timeout, make_headers, parse_url
from urllib3.util.ssl_ import create_urllib3_context

from .addresses import AddressPolicy, host_key
from .urls import scrub

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_POOLS = 64  # pools kept (one per pinned address and host); the least recently used is closed
_POOL_SIZE = 10  # idle connections kept per pool; more are opened when needed (block=False)
# A body not wanted (a redirect's, an error page) this small, and there within this many
# seconds, is read and dropped so that its connection serves again.
_DRAIN_LIMIT = 64 * 1024
_DRAIN_WAIT = 0.05
# What requests asked for, so that origins see the same request as before.
_ACCEPT_ENCODING = ", ".join(re.split(r",\s*", make_headers(accept_encoding=True)["accept-encoding"]))
_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)


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
    """Fetches source URLs over keep-alive connections; safe to share between threads."""

    def __init__(self, policy: FetchPolicy, resolver: Resolver = _system_resolver):
        self.policy = policy
        self._addresses = AddressPolicy(policy.allow_private_networks, frozenset(host_key(h) for h in policy.allowed_hosts))
        self._resolver = resolver
        self._headers = {
            "User-Agent": policy.user_agent,
            "Accept-Encoding": _ACCEPT_ENCODING,
            "Accept": _ACCEPT,
            "Connection": "keep-alive",
        }
        self._pools = _Pools(self._new_pool)

    @cached_property
    def _tls(self) -> ssl.SSLContext:
        """One context for every https pool: the CA bundle is loaded once, not per connection.

        The bundle requests used (certifi's, when installed), so the same servers are
        trusted as before; the host name is checked by urllib3 against the pinned
        connection's host (``assert_hostname``), hence ``check_hostname`` off here.
        """
        context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
        context.check_hostname = False
        try:
            import certifi
        except ImportError:
            context.load_default_certs()
        else:
            context.load_verify_locations(cafile=certifi.where())
        return context

    def close(self) -> None:
        """Close every kept connection. The fetcher can still be used: it connects anew."""
        self._pools.clear()

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
        except (ValueError, UnicodeError):  # a URL urllib3 cannot even parse
            result = FetchResult(Outcome.INVALID_URL, MESSAGES[Outcome.INVALID_URL])
        finally:
            _current.deadline = None
            expired = deadline.finish()
        if expired:
            result = FetchResult(Outcome.TIMEOUT, f"the response took longer than the {self.policy.total_timeout:g} s allowed")
        return result

    def _fetch(self, url: str, validators: Validators, deadline: _Deadline) -> FetchResult:
        headers = dict(self._headers)
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        current, permanent, seen = url, True, {url}
        for _ in range(MAX_REDIRECTS + 1):
            _check_scheme(current, first=current == url)
            response = self._open(current, headers, deadline)
            location = response.headers.get("Location") if response.status in _REDIRECTS else None
            if not location:
                try:
                    moved_to = current if permanent and current != url else None
                    return self._finish(response, moved_to, deadline)
                except BaseException:
                    response.close()  # the body was not read to its end: the connection cannot serve again
                    raise
            permanent = permanent and response.status in (301, 308)
            _discard(response)
            current = urljoin(current, location.strip())
            if current in seen:
                raise FetchError(Outcome.TOO_MANY_REDIRECTS, "the source's redirects go round in a loop")
            seen.add(current)
        raise FetchError(Outcome.TOO_MANY_REDIRECTS, f"more than {MAX_REDIRECTS} redirects")

    def _open(self, url: str, headers: dict[str, str], deadline: _Deadline) -> BaseHTTPResponse:
        """Send the GET for one hop to the checked address; the response's body is left unread."""
        scheme, host, port, target, auth = _request_parts(url)
        address = self._pin(host, port or _DEFAULT_PORTS[scheme])
        shown = f"[{host}]" if ":" in host else host
        headers = {**headers, "Host": f"{shown}:{port}" if port is not None else shown}
        if auth is not None:
            headers["Authorization"] = auth
        read_timeout = min(self.policy.read_timeout, max(deadline.remaining(), 0.001))
        timeout = Timeout(connect=self.policy.connect_timeout, read=read_timeout)
        # An https pool is one host name's (SNI, certificate); a plain connection to an
        # address serves every name checked to it, as requests' pools did.
        key = (scheme, address, port or _DEFAULT_PORTS[scheme], host if scheme == "https" else None)
        for attempt in (1, 2):
            try:
                return self._pools.get(key).urlopen(
                    "GET",
                    target,
                    headers=headers,
                    retries=False,  # no retry, no redirect: both are ours to decide
                    redirect=False,
                    assert_same_host=False,
                    timeout=timeout,
                    preload_content=False,
                    decode_content=True,
                    release_conn=False,
                )
            except ClosedPoolError:
                # Closed by close() or evicted between get() and use; nothing was sent.
                if attempt == 2:
                    raise FetchError(Outcome.CONNECTION_ERROR, _connection_message("ConnectionError")) from None
            except NewConnectionError:  # a ConnectTimeoutError to urllib3: refused, unreachable
                raise FetchError(Outcome.CONNECTION_ERROR, _connection_message("ConnectionError")) from None
            except ConnectTimeoutError:
                raise FetchError(Outcome.TIMEOUT, f"could not connect within {self.policy.connect_timeout:g} s") from None
            except ReadTimeoutError:
                raise FetchError(Outcome.TIMEOUT, f"the source sent nothing for {read_timeout:g} s") from None
            except LocationValueError:
                raise FetchError(Outcome.INVALID_URL) from None
            except (HTTPError, OSError) as exc:
                raise FetchError(Outcome.CONNECTION_ERROR, _connection_message(_failure(exc))) from None
        raise AssertionError("unreachable")

    def _pin(self, host: str, port: int) -> str:
        """Resolve ``host`` once, judge every address, and give the first to connect to."""
        try:
            addresses = self._resolver(host, port)
        except (OSError, UnicodeError):
            raise FetchError(Outcome.CONNECTION_ERROR, f"cannot resolve {host}") from None
        reason = self._addresses.refusal(host, addresses)
        if reason is not None:
            raise FetchError(Outcome.BLOCKED_ADDRESS, f"refused: {reason}")
        if not addresses:
            raise FetchError(Outcome.CONNECTION_ERROR, f"cannot resolve {host}")
        return addresses[0].split("%", 1)[0]

    def _new_pool(self, key: tuple[str, str, int, str | None]) -> HTTPConnectionPool:
        scheme, address, port, host = key
        if scheme == "http":
            return _WatchedHTTPPool(address, port, maxsize=_POOL_SIZE, block=False, retries=False)
        return _WatchedHTTPSPool(
            address,
            port,
            maxsize=_POOL_SIZE,
            block=False,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ssl_context=self._tls,
            server_hostname=host,  # SNI
            assert_hostname=host,  # the certificate names the host, not the address
        )

    def _finish(self, response: BaseHTTPResponse, moved_to: str | None, deadline: _Deadline) -> FetchResult:
        status = response.status
        outcome = classify_status(status)
        if outcome is Outcome.OK:
            body = self._read_body(response, deadline)
        else:
            body = b""
            _discard(response)
        message = MESSAGES[outcome] if outcome is not Outcome.CLIENT_ERROR else f"the source answered HTTP {status}"
        if outcome in (Outcome.SERVER_ERROR, Outcome.RATE_LIMITED):
            message = f"{message} (HTTP {status})"
        headers = response.headers
        return FetchResult(
            outcome=outcome,
            message=message,
            status=status,
            body=body,
            content_type=headers.get("Content-Type", ""),
            validators=Validators(headers.get("ETag"), headers.get("Last-Modified")),
            # Repeated headers joined with ", ", as one value.
            headers={k.lower(): v for k, v in headers.itermerged() if k.lower() in KEPT_HEADERS},
            permanent_redirect=moved_to,
        )

    def _read_body(self, response: BaseHTTPResponse, deadline: _Deadline) -> bytes:
        limit = self.policy.max_body_bytes
        declared = response.headers.get("Content-Length", "").strip()
        # Refused before reading. Compressed or not: a compressed body this large would
        # inflate to more still.
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise FetchError(Outcome.TOO_LARGE, f"the response declares {int(declared):,} bytes, more than the {limit:,} allowed")
        chunks, size = [], 0
        try:
            for chunk in response.stream(_CHUNK, decode_content=True):  # decompressed, a bounded amount at a time
                size += len(chunk)
                if size > limit:
                    raise FetchError(Outcome.TOO_LARGE, f"the response is larger than the {limit:,} bytes allowed (after decompression)")
                if deadline.remaining() <= 0:
                    raise FetchError(Outcome.TIMEOUT)
                chunks.append(chunk)
        except ReadTimeoutError:
            raise FetchError(Outcome.TIMEOUT, f"the source stopped sending for {self.policy.read_timeout:g} s") from None
        except (HTTPError, OSError) as exc:
            raise FetchError(Outcome.CONNECTION_ERROR, _connection_message(_failure(exc, reading=True))) from None
        response.release_conn()  # read to its end: the connection serves the next request
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


def _request_parts(url: str) -> tuple[str, str, int | None, str, str | None]:
    """Scheme, host (lower case, IDNA, no brackets), port as written, request target, and
    the ``Authorization`` that the URL's userinfo asks for, as requests prepared them."""
    parts = parse_url(url.lstrip())  # encodes what a request line cannot carry; LocationParseError is a ValueError
    scheme, host = parts.scheme, parts.host
    if scheme not in _DEFAULT_PORTS or not host or host.startswith(("*", ".")):
        raise FetchError(Outcome.INVALID_URL)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    auth = None
    if parts.auth and ":" in parts.auth:  # user and password; a user alone sent nothing with requests either
        user, _, password = parts.auth.partition(":")
        pair = f"{unquote(user)}:{unquote(password)}".encode("latin-1")  # UnicodeEncodeError: invalid_url
        auth = "Basic " + base64.b64encode(pair).decode("ascii")
    return scheme, host.strip("[]"), parts.port, target, auth


def _discard(response: BaseHTTPResponse) -> None:
    """Done with a response whose body is not wanted: drain a short one that has come
    already, so that its connection serves again (a 304 has no body); close the
    connection otherwise, as requests did for every such response."""
    remaining = response.length_remaining
    sock = response.connection.sock if response.connection is not None else None
    if remaining == 0:
        response.drain_conn()
        response.release_conn()
    elif remaining is not None and remaining <= _DRAIN_LIMIT and not response.chunked and sock is not None:
        # A body held back is not waited for: the drain times out, which closes the
        # connection. The next request on a kept one sets its own timeout again.
        sock.settimeout(_DRAIN_WAIT)
        response.drain_conn()
        response.release_conn()
    else:
        response.close()


def _failure(exc: BaseException, reading: bool = False) -> str:
    """The name requests gave this failure: the poll logs already hold those names."""
    if isinstance(exc, SSLError):
        return "SSLError"
    if isinstance(exc, DecodeError):
        return "ContentDecodingError"
    if reading and isinstance(exc, ProtocolError):
        return "ChunkedEncodingError"
    if isinstance(exc, (ProtocolError, OSError)):
        return "ConnectionError"
    return type(exc).__name__


def _connection_message(kind: str) -> str:
    # urllib3's messages hold the URL, token included: keep only the kind of failure.
    return f"{MESSAGES[Outcome.CONNECTION_ERROR]} ({kind})"


# -- connections ------------------------------------------------------------------------


class _Pools:
    """The keep-alive pools, by pinned (scheme, address, port, host); at most ``_MAX_POOLS``,
    the least recently used closed first. Safe to share between threads."""

    def __init__(self, new: Callable[[Any], HTTPConnectionPool]):
        self._new = new
        self._pools: OrderedDict[Any, HTTPConnectionPool] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> HTTPConnectionPool:
        evicted = None
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            pool = self._pools[key] = self._new(key)
            if len(self._pools) > _MAX_POOLS:
                _, evicted = self._pools.popitem(last=False)
        if evicted is not None:
            # Its idle connections close now; one in use closes when handed back.
            evicted.close()
        return pool

    def clear(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.close()

    def __len__(self) -> int:
        return len(self._pools)


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

    @property
    def finished(self) -> bool:
        return self._finished

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
        self._sleeping_until = math.inf  # when the thread wakes by itself next

    def add(self, deadline: _Deadline) -> None:
        with self._wakeup:
            heap = self._heap
            # Ended fetches wait in the heap until their time; those on top go now, so the
            # heap holds about the fetches under way, not every fetch of the last minute.
            while heap and heap[0][2].finished:
                heapq.heappop(heap)
            heapq.heappush(heap, (deadline.expires_at, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="feedhub-fetch-deadlines", daemon=True)
                self._thread.start()
            elif deadline.expires_at < self._sleeping_until:
                # Woken only when it would sleep past this deadline: every fetch has the
                # same limit, so a new one almost always comes after the one it waits for
                # (waking it for every fetch cost a thread switch per fetch).
                self._wakeup.notify()

    def _run(self) -> None:
        heap = self._heap
        with self._wakeup:
            while True:
                if not heap:
                    self._sleeping_until = math.inf
                    self._wakeup.wait()
                    continue
                wait = heap[0][0] - time.monotonic()
                if wait > 0:
                    # Possibly for a deadline dropped from the heap since: it then wakes
                    # for nothing, once, and sleeps until the next one.
                    self._sleeping_until = heap[0][0]
                    self._wakeup.wait(wait)
                    continue
                heapq.heappop(heap)[2].expire()


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
