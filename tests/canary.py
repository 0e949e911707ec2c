"""A listener on loopback that nothing may ever reach: every connection to it is
counted, with the first line it was sent. The SSRF and XXE tests point attacks at it
and then assert it stayed alone."""
from __future__ import annotations

import socket
import threading


class Canary:
    """Listens on 127.0.0.1; answers anything with a small document holding ``SECRET``,
    so that if something did reach it, the secret would travel and could be found."""

    SECRET = "CANARY-ON-LOOPBACK-7f3a"

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._lock = threading.Lock()
        self._hits: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def hits(self) -> list[str]:
        with self._lock:
            return list(self._hits)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # stopped
            with connection:
                connection.settimeout(2)
                try:
                    first = connection.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    first = ""
                with self._lock:
                    self._hits.append(first)
                body = f"<!ENTITY xxe '{self.SECRET}'>{self.SECRET}".encode()
                try:
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
                except OSError:
                    pass

    def stop(self) -> None:
        self._socket.close()
