"""The web app for a WSGI server, e.g. ``gunicorn -w 4 wsgi:app``.

Settings come from the ``FEEDHUB_*`` environment. WSGI workers never start the poll
scheduler: run one ``feedhub worker`` beside them.
"""
from __future__ import annotations

from feedhub.web import create_app

app = create_app()
