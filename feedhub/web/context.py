"""What a request handler reaches through the app: the services, and absolute URLs.

Feeds, OPML and copyable links need absolute URLs. They start from ``BASE_URL`` when
it is set (feedhub behind a proxy that rewrites the host), else from the request.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for

from feedhub.services import Services

EXTENSION = "feedhub"


def services() -> Services:
    return current_app.extensions[EXTENSION]


def absolute_url(endpoint: str, *, query: str = "", **values: Any) -> str:
    """The absolute URL of ``endpoint``, with ``query`` (already encoded) appended."""
    path = url_for(endpoint, **values)  # starts with the script root, if any
    base = services().settings.base_url
    if base is None:
        url = request.host_url.rstrip("/") + path
    else:
        # BASE_URL already names where the app is mounted: drop the script root.
        url = base + path.removeprefix(request.script_root).lstrip("/")
    return f"{url}?{query}" if query else url
