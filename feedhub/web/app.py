"""The Flask app factory: settings → services → app with its blueprints.

The app only reads storage and renders; it never fetches and never starts the poll
scheduler: ``feedhub serve`` and ``feedhub worker`` do, so that any number of WSGI
workers can serve the same data directory.
"""
from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Flask, Response

from feedhub.config import load_settings
from feedhub.services import Services, build_services
from feedhub.web import admin, api, auth, channels_page, connect, dashboard, embed, errors, feeds
from feedhub.web.context import EXTENSION
from feedhub.web.format import FILTERS

# Pages load nothing but the stylesheet, pictures and the one script file under /static
# (copy buttons, poll-now progress), which may call back only to this site.
# Never 'unsafe-inline': no inline script, no style attribute.
_PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' http: https: data:; "
    "script-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# No request to feedhub carries more than a form or an uploaded OPML file.
MAX_REQUEST_BYTES = 2 * 1024 * 1024


def create_app(config: Mapping[str, Any] | None = None, services: Services | None = None) -> Flask:
    """The web app.

    ``config`` overrides settings (lower-case ``Settings`` field names, e.g.
    ``data_dir``) on top of the ``FEEDHUB_*`` environment; it is used to build the
    services when ``services`` is not given.
    """
    if services is None:
        services = build_services(load_settings(overrides=config))
    app = Flask("feedhub", static_folder="static", template_folder=str(_template_folder()))
    app.config["SECRET_KEY"] = services.settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.extensions[EXTENSION] = services
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    register_blueprints(app)
    auth.register(app, services.settings.base_url)
    errors.register(app)
    app.after_request(_security_headers)
    return app


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(connect.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(channels_page.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(api.bp)


def _template_folder() -> Path:
    """The Jinja templates: installed as package ``feedhub.templates`` (pyproject's
    package-dir); in a checkout they are the top-level ``templates`` directory."""
    try:
        return Path(str(resources.files("feedhub.templates")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "templates"


def _security_headers(response: Response) -> Response:
    # A reader's or a page's URL can carry a private token: never send it onwards.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", _PAGE_POLICY)
    return response
