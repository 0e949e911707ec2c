"""Runs a WSGI app (the emulator or feedhub's own) on loopback in a background thread,
for the demo, the integration tests and the benchmarks.

Request lines are logged without their query strings: feed URLs carry secrets.
"""
from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler, get_sockaddr, select_address_family

logger = logging.getLogger(__name__)


class _Handler(WSGIRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        logger.debug("%s %s %s", self.command, path, code)


class _Server(ThreadedWSGIServer):
    """Remembers its open connections, so that stopping also ends kept-alive ones."""

    def __init__(self, listening: socket.socket, host: str, app: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        # werkzeug duplicates the descriptor of the socket we bound ourselves.
        super().__init__(host, listening.getsockname()[1], app, handler=_Handler, fd=listening.fileno())

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def drop_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client


@dataclass(frozen=True)
class RunningServer:
    """A server started by ``serve_in_thread``; ``stop`` ends it."""

    url: str  # e.g. "http://127.0.0.1:54321/"
    host: str
    port: int
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end open connections, and wait for the serving thread."""
        self._server.shutdown()
        self._server.drop_connections()
        self._server.server_close()
        self._thread.join(timeout)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve ``app`` (threaded) on ``host``:``port``; port 0 picks a free port.

    Raises OSError when the address cannot be used.
    """
    with _listen(host, port) as listening:
        server = _Server(listening, host, app)
    # A short poll interval keeps stop() quick.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"wsgi-{server.port}", daemon=True
    )
    thread.start()
    shown_host = f"[{host}]" if ":" in host else host
    return RunningServer(f"http://{shown_host}:{server.port}/", host, server.port, server, thread)


def _listen(host: str, port: int) -> socket.socket:
    # Bound here rather than by werkzeug, which prints a bind failure and exits the process.
    family = select_address_family(host, port)
    listening = socket.socket(family, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(get_sockaddr(host, port, family))
        listening.listen(socket.SOMAXCONN)
    except BaseException:
        listening.close()
        raise
    return listening
