"""Rendered channels kept until the store changes, and served the way HTTP caches like.

A popular feed is asked for over and over while nothing changes, so its bytes (and
their gzip form) are kept in memory under the store's change counter
(``storage.changes``): any write that changes what a channel shows moves the counter
on, and the next request renders again. Each process (each WSGI worker) keeps its own
renderings; the counter lives in the database, so they all agree on what is current.
The channels themselves are kept the same way, so a warm request reads one row.

``respond`` answers with a ``Rendering``: ``ETag`` and ``Last-Modified``, ``304`` for
a matching conditional request (RFC 9110 §13), gzip when the client takes it, and a
``Cache-Control`` that keeps shared caches away from private channels.
"""
from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import Response, current_app, request

from feedhub.channels import Channel

EXTENSION = "feedhub.render_cache"
MAX_AGE = 60  # seconds a reader or proxy may reuse a feed without asking again
MAX_ENTRIES = 256
MAX_BYTES = 64 * 1024 * 1024  # the identity and gzip bytes of every kept rendering
MIN_GZIP_BYTES = 512  # smaller bodies gain nothing from compression


@dataclass(frozen=True)
class Rendering:
    """One representation's bytes, ready to serve; ``gzipped`` is None when too small."""

    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str  # of the identity body; the gzip form's is this with "-gzip"
    last_modified: datetime

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


def rendering(body: bytes, content_type: str, last_modified: datetime) -> Rendering:
    """A ``Rendering`` of ``body``: its ETag (a hash of the bytes: renderers are
    deterministic, so the same content gets the same tag) and its gzip form."""
    # mtime=0: the same body always compresses to the same bytes.
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= MIN_GZIP_BYTES else None
    return Rendering(body, gzipped, content_type, hashlib.sha256(body).hexdigest()[:32], last_modified)


class RenderCache:
    """Renderings and channels of the current change counter, least recently used out.

    Thread-safe. Two requests that miss at once may both render; the result is the same.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._lock = threading.Lock()
        self._counter: int | None = None
        self._renderings: OrderedDict[Hashable, Rendering] = OrderedDict()
        self._bytes = 0
        self._channels: dict[str, Channel] | None = None
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self.hits = 0
        self.misses = 0

    def channels(self, counter: int, load: Callable[[], list[Channel]]) -> Mapping[str, Channel]:
        """Every channel by name, loaded again only when ``counter`` moved."""
        with self._lock:
            self._start(counter)
            known = self._channels
        if known is None:
            known = {channel.name: channel for channel in load()}
            with self._lock:
                if self._counter == counter:
                    self._channels = known
        return known

    def rendering(self, counter: int, key: Hashable, render: Callable[[], Rendering]) -> Rendering:
        """The rendering kept under ``key`` for ``counter``, or ``render()``'s, kept."""
        with self._lock:
            self._start(counter)
            kept = self._renderings.get(key)
            if kept is not None:
                self._renderings.move_to_end(key)
                self.hits += 1
                return kept
            self.misses += 1
        made = render()
        with self._lock:
            if self._counter == counter and key not in self._renderings and made.size <= self._max_bytes:
                self._renderings[key] = made
                self._bytes += made.size
                while len(self._renderings) > self._max_entries or self._bytes > self._max_bytes:
                    _, dropped = self._renderings.popitem(last=False)
                    self._bytes -= dropped.size
        return made

    def _start(self, counter: int) -> None:
        """Forget everything made before ``counter`` (call with the lock held)."""
        if counter != self._counter:
            self._counter = counter
            self._renderings.clear()
            self._bytes = 0
            self._channels = None


def render_cache() -> RenderCache:
    """The app's cache (one per process)."""
    return current_app.extensions.setdefault(EXTENSION, RenderCache())


def respond(made: Rendering, *, public: bool, headers: Mapping[str, str] | None = None) -> Response:
    """Serve ``made`` for the current request: gzip if accepted, 304 if the client's copy
    is current. ``public``: shared caches may keep it (never a private channel's)."""
    use_gzip = made.gzipped is not None and request.accept_encodings["gzip"] > 0
    etag = made.etag + ("-gzip" if use_gzip else "")
    # Either form's tag names the same content: a client that switched encodings still
    # has a current copy.
    if request.if_none_match:
        fresh = request.if_none_match.contains(made.etag) or request.if_none_match.contains(made.etag + "-gzip") or request.if_none_match.star_tag
    else:
        since = request.if_modified_since
        fresh = since is not None and made.last_modified.replace(microsecond=0) <= since
    response = Response(status=304) if fresh and request.method in ("GET", "HEAD") else Response(made.gzipped if use_gzip else made.body)
    response.headers["Content-Type"] = made.content_type
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(etag)
    response.last_modified = made.last_modified
    response.cache_control.max_age = MAX_AGE
    if public:
        response.cache_control.public = True
    else:
        response.cache_control.private = True
    response.headers.extend(headers or {})
    return response
