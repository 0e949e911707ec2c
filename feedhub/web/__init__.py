"""The web layer: Flask blueprints for the dashboard, the republished feeds and the
JSON API, wired together by ``create_app``. It reads storage and renders; it never
fetches."""
from __future__ import annotations

from feedhub.web.app import create_app

__all__ = ["create_app"]
