"""How the emulator refuses a request: a status and one line of plain text, with an
OAuth challenge on a 401 (RFC 5849 §3.2, RFC 9110 §11.6.1)."""
from __future__ import annotations

from flask import Response, request

TEXT_TYPE = "text/plain; charset=utf-8"


class Refusal(Exception):
    """A request the emulator answers with a short plain-text error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def refused(refusal: Refusal) -> Response:
    """The answer to ``refusal`` (registered on the emulator app)."""
    response = Response(refusal.message + "\n", refusal.status, content_type=TEXT_TYPE)
    if refusal.status == 401:
        response.headers["WWW-Authenticate"] = f'OAuth realm="{request.host_url}"'
    return response
