"""HTTP for sources: libcurl (through pycurl) driven by one loop per caller, time and
size limits, conditional GET, an address policy enforced where the connection is made,
and one classifier that turns every way a request can end into a stable ``Outcome`` code.

What it guarantees (SPEC §4, §9):

- **Where it connects.** Only http and https. Each hop's host is resolved once (the
  answer is used again for ``_RESOLVED_SECONDS``), the addresses are judged by
  ``addresses.AddressPolicy``, and the connection is pinned to the first of them (curl's
  ``CONNECT_TO``), so a DNS answer cannot change between the check and the connection; the host stays in ``Host`` and, for https, in SNI and the
  certificate check. Every socket curl opens is checked once more against that address
  (``_Transfer._open_socket``): curl never resolves a name itself. Redirects are followed
  by hand, at most ``MAX_REDIRECTS``, each hop going through the same check; a loop ends
  at once.
- **How long.** A connect timeout, a read timeout (the longest silence), and a total
  deadline per fetch, redirects included. The loop checks both limits of every transfer
  it runs (``_Run._sweep``), so a server that sends one byte every few seconds, never
  tripping the read timeout, still ends at the deadline.
- **How much.** A ``Content-Length`` above the cap is refused before reading; the body
  is counted as curl hands it over *after* gzip/deflate decompression and refused once
  it passes the cap.
- **What it leaks.** Nothing: curl is told to use no proxy (whatever the environment
  says), reads no ``.netrc`` and keeps no cookies (a source's cookie would otherwise go
  to the next source on its host); the CA bundle is chosen here (certifi's). Messages
  never hold the URL's secrets (they go through ``urls.scrub``; curl's own messages,
  which may quote the URL, are never shown).
- **Many at once.** ``fetch_many`` keeps up to ``max_concurrency`` transfers going in one
  thread and hands each result over as it ends; ``fetch`` is a run of one. Threads do
  not wait on each other for the interpreter lock between the reads of a response
  (curl does the I/O), which made polling through many threads cost twice the CPU.
- **Sharing.** A ``Fetcher`` is safe to share between threads: each run takes a curl
  multi handle (with its own keep-alive connections) from a small pool and gives it back.

It does not parse feeds and does not touch storage.
"""
from __future__ import annotations

import base64
import enum
import functools
import ipaddress
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Generic, Iterable, Iterator, Mapping, TypeVar
from urllib.parse import unquote, urljoin, urlsplit

import pycurl
from urllib3.util import parse_url

from .addresses import AddressPolicy, host_key
from .urls import scrub

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_CONNECTIONS = 64  # keep-alive connections a multi handle keeps (the least recently used closed first)
_MAX_IDLE_RUNS = 16  # multi handles kept between runs (one per thread fetching at once)
# A body not wanted (a redirect's, an error page's) is waited for this long after the
# headers; then the transfer ends without it (and its connection closes).
_DRAIN_WAIT = 0.05
_SWEEP_EVERY = 0.05
# Requests waiting for slots are tried again once a transfer of the loop has ended, and
# at least this often for slots that other callers hold (seconds).
_RETRY_EVERY = 0.005
# What a name resolved to is used again for this long: a loop of thousands of sources on
# a few hosts would otherwise wait on DNS for each. Each use is judged again.
_RESOLVED_SECONDS = 30.0
_MAX_RESOLVED = 4096  # how often the loop checks deadlines and silences
_ACCEPT_ENCODING = "gzip, deflate"
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
    seconds: float = 0.0  # how long the fetch took, redirects included


class FetchError(Exception):
    def __init__(self, outcome: Outcome, message: str | None = None):
        super().__init__(message or MESSAGES[outcome])
        self.outcome = outcome


# The response headers a result keeps: the body's type, validators, and what scheduling
# reads (RFC 9111 freshness, RFC 9110 §10.2.3 Retry-After, read against Date).
KEPT_HEADERS = frozenset({"content-type", "etag", "last-modified", "retry-after", "cache-control", "expires", "date"})

Resolver = Callable[[str, int], list[str]]


def _system_resolver(host: str, port: int) -> list[str]:
    try:  # an address written out in full is its own answer
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:  # a name, or another spelling of an address (127.1): the system says
        return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    return [host]


K = TypeVar("K")


@dataclass(frozen=True)
class Request(Generic[K]):
    """One fetch of ``fetch_many``: its result comes back with ``key``. Its ``slots``
    (semaphores shared with other callers: limits per host, in all) are all held while it
    runs; it waits until it can take them all."""

    key: K
    url: str
    validators: Validators = Validators()
    slots: tuple[threading.Semaphore, ...] = ()


class Fetcher:
    """Fetches source URLs over keep-alive connections; safe to share between threads."""

    def __init__(self, policy: FetchPolicy, resolver: Resolver = _system_resolver, ca_file: str | None = None):
        self.policy = policy
        self._addresses = AddressPolicy(policy.allow_private_networks, frozenset(host_key(h) for h in policy.allowed_hosts))
        self._resolver = resolver
        self._ca_file = ca_file or _default_ca_file()
        self._headers = [f"User-Agent: {policy.user_agent}", f"Accept: {_ACCEPT}"]
        self._resolved: dict[tuple[str, int], tuple[float, list[str]]] = {}  # (host, port): (until, addresses)
        self._idle: list[_Multi] = []
        self._lock = threading.Lock()
        self._generation = 0  # bumped by close(): multis taken before are not kept

    def close(self) -> None:
        """Close every kept connection. The fetcher can still be used: it connects anew."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for multi in idle:
            multi.close()

    def fetch(self, url: str, validators: Validators = Validators()) -> FetchResult:
        """GET ``url`` conditionally, following redirects by hand; never raises."""
        for _, result in self.fetch_many([Request(None, url, validators)], 1):
            return result
        raise AssertionError("unreachable")

    def fetch_many(
        self, requests: Iterable[Request[K]], max_concurrency: int, on_idle: Callable[[], None] | None = None
    ) -> Iterator[tuple[K, FetchResult]]:
        """Fetch ``requests``, at most ``max_concurrency`` at a time, each holding its
        ``slots``; give each result, with its key, as soon as it is there. Never raises for
        a bad source. The transfers wait while the caller handles a result; ``on_idle`` is
        called whenever the loop is about to wait for the network."""
        multi = self._take()
        try:
            yield from _Run(self, multi, requests, max_concurrency, on_idle).results()
        finally:
            self._give_back(multi)

    def _take(self) -> _Multi:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            generation = self._generation
        return _Multi(self, generation)

    def _give_back(self, multi: _Multi) -> None:
        with self._lock:
            if multi.healthy and multi.generation == self._generation and len(self._idle) < _MAX_IDLE_RUNS:
                self._idle.append(multi)
                return
        multi.close()

    def _pin(self, host: str, port: int) -> str:
        """Resolve ``host`` (once per ``_RESOLVED_SECONDS``), judge every address, and
        give the first to connect to."""
        now = time.monotonic()
        until, addresses = self._resolved.get((host, port), (0.0, []))
        if until <= now:
            try:
                addresses = self._resolver(host, port)
            except (OSError, UnicodeError):
                raise FetchError(Outcome.CONNECTION_ERROR, f"cannot resolve {host}") from None
            if len(self._resolved) >= _MAX_RESOLVED:
                self._resolved.clear()
            self._resolved[(host, port)] = (now + _RESOLVED_SECONDS, addresses)
        reason = self._addresses.refusal(host, addresses)
        if reason is not None:
            raise FetchError(Outcome.BLOCKED_ADDRESS, f"refused: {reason}")
        if not addresses:
            raise FetchError(Outcome.CONNECTION_ERROR, f"cannot resolve {host}")
        return addresses[0].split("%", 1)[0]

    def _new_handle(self) -> pycurl.Curl:
        """An easy handle with what every transfer shares set once."""
        handle = pycurl.Curl()
        handle.setopt(pycurl.NOSIGNAL, 1)
        handle.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        handle.setopt(pycurl.PROXY, "")  # no proxy, whatever the environment says
        handle.setopt(pycurl.FOLLOWLOCATION, 0)  # redirects are ours to judge
        handle.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        handle.setopt(pycurl.PATH_AS_IS, 1)  # the request target as prepared here
        handle.setopt(pycurl.ACCEPT_ENCODING, _ACCEPT_ENCODING)  # and curl inflates what comes
        handle.setopt(pycurl.SSL_VERIFYPEER, 1)
        handle.setopt(pycurl.SSL_VERIFYHOST, 2)
        handle.setopt(pycurl.CAINFO, self._ca_file)
        handle.setopt(pycurl.MAXFILESIZE_LARGE, self.policy.max_body_bytes)  # a larger Content-Length is refused up front
        handle.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(self.policy.connect_timeout * 1000)))
        return handle


def _default_ca_file() -> str:
    """The bundle requests used (certifi's), so the same servers are trusted as before."""
    import certifi

    return certifi.where()


class _Multi:
    """A curl multi handle, its keep-alive connections and its idle easy handles; used by
    one run at a time."""

    def __init__(self, fetcher: Fetcher, generation: int):
        self.generation = generation
        self.healthy = True
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_MAXCONNECTS, _MAX_CONNECTIONS)
        self._fetcher = fetcher
        self._handles: list[pycurl.Curl] = []

    def handle(self) -> pycurl.Curl:
        return self._handles.pop() if self._handles else self._fetcher._new_handle()

    def release(self, handle: pycurl.Curl) -> None:
        self._handles.append(handle)

    def close(self) -> None:
        for handle in self._handles:
            handle.close()
        self._handles.clear()
        self.multi.close()


class _Transfer:
    """One request, hop after hop, and what its current hop has received so far."""

    def __init__(self, request: Request, fetcher: Fetcher):
        self.request = request
        self.fetcher = fetcher
        self.started = time.monotonic()
        self.expires_at = self.started + fetcher.policy.total_timeout
        self.url = request.url
        self.seen = {request.url}
        self.permanent = True
        self.hops = 0
        self.handle: pycurl.Curl | None = None

    # -- one hop ------------------------------------------------------------------------

    def prepare(self, handle: pycurl.Curl) -> None:
        """Set ``handle`` up for this transfer's current hop; FetchError if it cannot go."""
        fetcher = self.fetcher
        _check_scheme(self.url, first=self.hops == 0)
        scheme, host, port, target, auth = _request_parts(self.url)
        port = port or _DEFAULT_PORTS[scheme]
        self.address = fetcher._pin(host, port)
        shown = f"[{host}]" if ":" in host else host
        address = f"[{self.address}]" if ":" in self.address else self.address
        headers = list(fetcher._headers)
        validators = self.request.validators
        if validators.etag:
            headers.append(f"If-None-Match: {validators.etag}")
        if validators.last_modified:
            headers.append(f"If-Modified-Since: {validators.last_modified}")
        if auth is not None:
            headers.append(f"Authorization: {auth}")
        self.status: int | None = None  # known once the body starts, or the hop ends
        self.lines: list[bytes] = []  # the header lines as curl hands them over
        self.heard_lines = 0  # how many of them the last sweep saw
        self.chunks: list[bytes] = []
        self.size = 0
        self.error: FetchError | None = None
        self.headers_done_at: float | None = None  # when a sweep first saw all headers in
        self.last_heard = time.monotonic()
        self.handle = handle
        handle.setopt(pycurl.URL, f"{scheme}://{shown}:{port}{target}")
        handle.setopt(pycurl.CONNECT_TO, [f"{shown}:{port}:{address}:{port}"])
        handle.setopt(pycurl.HTTPHEADER, headers)
        handle.setopt(pycurl.HEADERFUNCTION, self.lines.append)  # no Python call per line
        handle.setopt(pycurl.WRITEFUNCTION, self._body)
        handle.setopt(pycurl.OPENSOCKETFUNCTION, self._open_socket)
        handle.setopt(pycurl.TIMEOUT_MS, max(1, int(self.remaining() * 1000)))

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()

    def _open_socket(self, _purpose: int, address: tuple) -> socket.socket | int:
        # The pinned address, and only it: a second check, whatever curl made of the URL.
        if not _same_address(address.addr[0], self.address):
            return pycurl.SOCKET_BAD
        return socket.socket(address.family, address.socktype, address.protocol)

    def _body(self, data: bytes) -> int | None:
        self.last_heard = time.monotonic()
        self.size += len(data)
        limit = self.fetcher.policy.max_body_bytes
        if self.size > limit:
            self.error = FetchError(Outcome.TOO_LARGE, f"the response is larger than the {limit:,} bytes allowed (after decompression)")
            return 0  # curl ends the transfer
        if self.status is None:
            self.status = self.head()[0]
        if 200 <= self.status < 300:  # other bodies are not wanted
            self.chunks.append(data)
        return None

    def head(self) -> tuple[int, bool]:
        """The current response's status (that of the last status line: one after a
        ``100 Continue`` replaces it) and whether all its headers are in."""
        lines = self.lines
        for index in range(len(lines) - 1, -1, -1):
            if lines[index].startswith(b"HTTP/"):
                parts = lines[index].split(None, 2)
                status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
                return status, status >= 200 and index < len(lines) - 1 and lines[-1] in (b"\r\n", b"\n")
        return 0, False

    def unwanted_answer(self) -> bool:
        """Whether all headers of an answer whose body is not wanted (not 2xx) are in."""
        status, complete = self.head()
        return complete and not 200 <= status < 300

    def response_headers(self) -> dict[str, str]:
        """The current hop's headers, lower-case names, repeated ones joined with ", "."""
        headers: dict[str, str] = {}
        lines = self.lines
        start = max((i for i, line in enumerate(lines) if line.startswith(b"HTTP/")), default=-1) + 1
        for raw in lines[start:]:
            name, colon, value = raw.decode("latin-1").partition(":")
            if not colon:
                continue
            name, value = name.strip().lower(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return headers


class _Run:
    """One caller's loop: starts transfers up to the limit, drives curl, follows
    redirects, and hands over each result as it ends."""

    def __init__(
        self, fetcher: Fetcher, multi: _Multi, requests: Iterable[Request], max_concurrency: int, on_idle: Callable[[], None] | None
    ):
        self.fetcher = fetcher
        self.on_idle = on_idle
        self.policy = fetcher.policy
        self.multi = multi
        self.requests = iter(requests)
        self.exhausted = False
        self.max_concurrency = max(1, max_concurrency)
        self.waiting: deque[Request] = deque()  # whose slots were taken
        self.slot_freed = False  # one of this loop's transfers ended: its slots are free
        self.next_retry = 0.0
        self.running: dict[pycurl.Curl, _Transfer] = {}
        self.done: deque[tuple[object, FetchResult]] = deque()
        self.next_sweep = 0.0

    def results(self) -> Iterator[tuple[object, FetchResult]]:
        try:
            while True:
                self._start_more()
                while self.done:
                    yield self.done.popleft()
                    self._start_more()
                if not self.running:
                    if self.exhausted and not self.waiting:
                        return
                    if self.on_idle is not None:
                        self.on_idle()
                    time.sleep(0.005)  # every request waits for slots other callers hold
                    continue
                self._perform()
                if not self.done:
                    if self.on_idle is not None:
                        self.on_idle()
                    self.multi.multi.select(min(_SWEEP_EVERY, max(self.next_sweep - time.monotonic(), 0.001)))
                    self._perform()
                if time.monotonic() >= self.next_sweep:
                    self._sweep()
        finally:
            for transfer in list(self.running.values()):  # the caller stopped early
                self._end(transfer)
                _release(transfer.request)

    # -- starting -----------------------------------------------------------------------

    def _start_more(self) -> None:
        # Those waiting for slots first, in order, once a slot may have come free: trying
        # them at every turn of the loop cost more than the polls themselves when one host
        # had fewer slots than the loop had room. Then new requests, while few wait: a
        # host that is full does not make the loop read the caller's whole list.
        if self.waiting and (self.slot_freed or time.monotonic() >= self.next_retry):
            self.slot_freed = False
            self.next_retry = time.monotonic() + _RETRY_EVERY
            for _ in range(len(self.waiting)):
                if len(self.running) >= self.max_concurrency:
                    return
                request = self.waiting.popleft()
                if not self._start(request):
                    self.waiting.append(request)
        while len(self.running) < self.max_concurrency and not self.exhausted and len(self.waiting) < 4 * self.max_concurrency:
            request = next(self.requests, None)
            if request is None:
                self.exhausted = True
            elif not self._start(request):
                self.waiting.append(request)

    def _start(self, request: Request) -> bool:
        """Start ``request`` if its slots are free (False if not)."""
        for taken, slot in enumerate(request.slots):
            if not slot.acquire(blocking=False):
                for held in request.slots[:taken]:
                    held.release()
                return False
        self._hop(_Transfer(request, self.fetcher))
        return True

    def _hop(self, transfer: _Transfer) -> None:
        """Start ``transfer``'s current hop, or end it if it cannot go."""
        handle = self.multi.handle()
        try:
            transfer.prepare(handle)
        except FetchError as exc:
            self.multi.release(handle)
            transfer.handle = None
            self._finish(transfer, FetchResult(exc.outcome, scrub(str(exc), transfer.request.url)))
            return
        except (ValueError, UnicodeError):  # a URL that cannot even be parsed
            self.multi.release(handle)
            transfer.handle = None
            self._finish(transfer, FetchResult(Outcome.INVALID_URL, MESSAGES[Outcome.INVALID_URL]))
            return
        self.running[handle] = transfer
        self.multi.multi.add_handle(handle)

    # -- driving ------------------------------------------------------------------------

    def _perform(self) -> None:
        multi = self.multi.multi
        while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
            pass
        while True:
            queued, ok, failed = multi.info_read()
            for handle in ok:
                self._ended(self.running[handle], None)
            for handle, code, _ in failed:
                self._ended(self.running[handle], code)
            if not queued:
                return

    def _sweep(self) -> None:
        """End the transfers past their deadline or silent too long, and stop waiting for
        bodies nobody wants."""
        now = time.monotonic()
        self.next_sweep = now + _SWEEP_EVERY
        for transfer in list(self.running.values()):
            if len(transfer.lines) != transfer.heard_lines:  # headers came since the last sweep
                transfer.heard_lines = len(transfer.lines)
                transfer.last_heard = now
            if transfer.expires_at <= now:
                self._end(transfer)
                self._finish(transfer, _timeout(self.policy))
            elif now - transfer.last_heard >= self.policy.read_timeout:
                self._end(transfer)
                if transfer.size:
                    message = f"the source stopped sending for {self.policy.read_timeout:g} s"
                else:
                    message = f"the source sent nothing for {self.policy.read_timeout:g} s"
                self._finish(transfer, FetchResult(Outcome.TIMEOUT, message))
            elif transfer.headers_done_at is None:
                if transfer.unwanted_answer():
                    transfer.headers_done_at = now
            elif now - transfer.headers_done_at >= _DRAIN_WAIT:
                self._end(transfer)  # the connection closes: its body is still to come
                self._answered(transfer)

    def _end(self, transfer: _Transfer) -> None:
        """Take ``transfer``'s handle out of curl (a transfer not read to its end closes
        its connection) and keep the handle for another."""
        handle = transfer.handle
        if handle is None:
            return
        transfer.handle = None
        del self.running[handle]
        try:
            self.multi.multi.remove_handle(handle)
        except pycurl.error:
            self.multi.healthy = False
        self.multi.release(handle)

    def _ended(self, transfer: _Transfer, code: int | None) -> None:
        """curl is done with ``transfer``'s hop (``code``: the error it ended with)."""
        handle = transfer.handle
        connected = handle.getinfo(pycurl.CONNECT_TIME) > 0 if code is not None else True
        self._end(transfer)
        if code is None or transfer.unwanted_answer():
            self._answered(transfer)  # a body not wanted may fail: the answer is the headers
        elif transfer.error is not None:
            self._finish(transfer, FetchResult(transfer.error.outcome, str(transfer.error)))
        else:
            self._finish(transfer, _failed(code, transfer, connected, self.policy))

    def _answered(self, transfer: _Transfer) -> None:
        """The hop's response is in: follow its redirect or give the result."""
        transfer.status = transfer.head()[0]
        headers = transfer.response_headers()
        location = headers.get("location") if transfer.status in _REDIRECTS else None
        if not location:
            self._finish(transfer, _result(transfer, headers))
            return
        transfer.permanent = transfer.permanent and transfer.status in (301, 308)
        transfer.url = urljoin(transfer.url, location.strip())
        if transfer.url in transfer.seen:
            self._finish(transfer, FetchResult(Outcome.TOO_MANY_REDIRECTS, "the source's redirects go round in a loop"))
            return
        transfer.seen.add(transfer.url)
        transfer.hops += 1
        if transfer.hops > MAX_REDIRECTS:
            self._finish(transfer, FetchResult(Outcome.TOO_MANY_REDIRECTS, f"more than {MAX_REDIRECTS} redirects"))
            return
        self._hop(transfer)

    def _finish(self, transfer: _Transfer, result: FetchResult) -> None:
        transfer.chunks = transfer.lines = []  # the idle handle's callbacks still point here
        _release(transfer.request)
        self.slot_freed = True
        if transfer.remaining() <= 0 and result.outcome is not Outcome.TIMEOUT:
            # Whatever it was doing when the deadline passed (a close-delimited body cut
            # short looks complete), a fetch that outlived it is a timeout.
            result = _timeout(self.policy)
        self.done.append((transfer.request.key, _with_seconds(result, time.monotonic() - transfer.started)))


def _same_address(connecting: str, pinned: str) -> bool:
    try:
        return ipaddress.ip_address(connecting.split("%", 1)[0]) == ipaddress.ip_address(pinned)
    except ValueError:
        return False


def _release(request: Request) -> None:
    for slot in request.slots:
        slot.release()


def _result(transfer: _Transfer, headers: dict[str, str]) -> FetchResult:
    status = transfer.status
    outcome = classify_status(status)
    message = MESSAGES[outcome] if outcome is not Outcome.CLIENT_ERROR else f"the source answered HTTP {status}"
    if outcome in (Outcome.SERVER_ERROR, Outcome.RATE_LIMITED):
        message = f"{message} (HTTP {status})"
    moved_to = transfer.url if transfer.permanent and transfer.url != transfer.request.url else None
    return FetchResult(
        outcome=outcome,
        message=message,
        status=status,
        body=b"".join(transfer.chunks) if outcome is Outcome.OK else b"",
        content_type=headers.get("content-type", ""),
        validators=Validators(headers.get("etag"), headers.get("last-modified")),
        headers={k: v for k, v in headers.items() if k in KEPT_HEADERS},
        permanent_redirect=moved_to,
    )


def _with_seconds(result: FetchResult, seconds: float) -> FetchResult:
    return FetchResult(**{**result.__dict__, "seconds": seconds})


def _timeout(policy: FetchPolicy) -> FetchResult:
    return FetchResult(Outcome.TIMEOUT, f"the response took longer than the {policy.total_timeout:g} s allowed")


# curl's errors, by what they mean here. The names in messages are those requests gave
# the same failures: the poll logs already hold those names.
_SSL_ERRORS = frozenset(
    getattr(pycurl, name)
    for name in (
        "E_SSL_CONNECT_ERROR", "E_PEER_FAILED_VERIFICATION", "E_SSL_CERTPROBLEM", "E_SSL_CIPHER",
        "E_SSL_CACERT", "E_SSL_CACERT_BADFILE", "E_SSL_ENGINE_NOTFOUND", "E_SSL_ENGINE_SETFAILED",
        "E_SSL_SHUTDOWN_FAILED", "E_SSL_CRL_BADFILE", "E_SSL_ISSUER_ERROR", "E_SSL_PINNEDPUBKEYNOTMATCH",
        "E_SSL_INVALIDCERTSTATUS", "E_USE_SSL_FAILED",
    )
    if hasattr(pycurl, name)
)


def _failed(code: int, transfer: _Transfer, connected: bool, policy: FetchPolicy) -> FetchResult:
    """The result of a hop that curl ended with error ``code``."""
    if code == pycurl.E_OPERATION_TIMEDOUT:
        if not connected:
            return FetchResult(Outcome.TIMEOUT, f"could not connect within {policy.connect_timeout:g} s")
        return _timeout(policy)
    if code == pycurl.E_FILESIZE_EXCEEDED:
        declared = transfer.response_headers().get("content-length", "")
        limit = policy.max_body_bytes
        if declared.isascii() and declared.isdigit():
            return FetchResult(Outcome.TOO_LARGE, f"the response declares {int(declared):,} bytes, more than the {limit:,} allowed")
        return FetchResult(Outcome.TOO_LARGE, f"the response is larger than the {limit:,} bytes allowed")
    if code in (pycurl.E_URL_MALFORMAT, pycurl.E_UNSUPPORTED_PROTOCOL):
        return FetchResult(Outcome.INVALID_URL, MESSAGES[Outcome.INVALID_URL])
    if code in _SSL_ERRORS:
        kind = "SSLError"
    elif code == pycurl.E_BAD_CONTENT_ENCODING:
        kind = "ContentDecodingError"
    elif transfer.head()[1]:  # the body was cut short or garbled
        kind = "ChunkedEncodingError"
    else:
        kind = "ConnectionError"
    return FetchResult(Outcome.CONNECTION_ERROR, _connection_message(kind))


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
    if not _valid(url):
        raise FetchError(Outcome.INVALID_URL, None if first else "the source redirected to a URL that is not a valid http(s) URL")


# The same URLs come back every cycle: what parsing them says is kept (a few thousand).
_PARSED_URLS = 16384


@functools.lru_cache(maxsize=_PARSED_URLS)
def _valid(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # e.g. an unclosed IPv6 bracket, a port out of range
        return False


@functools.lru_cache(maxsize=_PARSED_URLS)
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



def _connection_message(kind: str) -> str:
    # curl's messages may hold the URL, token included: keep only the kind of failure.
    return f"{MESSAGES[Outcome.CONNECTION_ERROR]} ({kind})"
