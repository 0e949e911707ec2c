"""The admin login and CSRF protection.

- One admin, whose password is ``FEEDHUB_ADMIN_PASSWORD``; without it, nothing can be
  changed from the web. Pages that show no secret are readable without logging in.
- The session is Flask's signed cookie: HttpOnly, SameSite=Lax, Secure when the app is
  served over https.
- Every state-changing request (POST, PUT, PATCH, DELETE) must carry the session's CSRF
  token, as the form field ``csrf_token`` or the ``X-CSRF-Token`` header; the login
  form included, so a third-party page cannot log a browser in either.
- Wrong passwords are slowed down per client address: after three, each further try
  must wait twice as long as the last (capped at five minutes), answered with 429.
  The count lives in the process's memory: a restart forgets it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for

from feedhub.web.context import services

bp = Blueprint("auth", __name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FREE_TRIES = 3
MAX_WAIT_SECONDS = 300


class _Throttle:
    """Failed logins per client address, and when the next try is allowed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}

    def wait_for(self, client: str, now: float) -> float:
        with self._lock:
            _, allowed_at = self._failures.get(client, (0, 0.0))
        return max(0.0, allowed_at - now)

    def failed(self, client: str, now: float) -> None:
        with self._lock:
            count, _ = self._failures.get(client, (0, 0.0))
            count += 1
            wait = 0 if count < FREE_TRIES else min(2 ** (count - FREE_TRIES), MAX_WAIT_SECONDS)
            self._failures[client] = (count, now + wait)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


def register(app: Flask, base_url: str | None) -> None:
    app.register_blueprint(bp)
    app.extensions["feedhub.throttle"] = _Throttle()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(base_url and base_url.startswith("https://")),
    )
    app.before_request(_check_csrf)
    app.jinja_env.globals.update(csrf_token=csrf_token, is_admin=is_admin)


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def is_admin() -> bool:
    return bool(session.get("admin"))


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only the logged-in admin; others go to the login page (or get 401 from /api)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if is_admin():
            return view(*args, **kwargs)
        if request.path.startswith("/api/"):
            abort(401, description="log in as the admin first")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))

    return wrapped


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or request.routing_exception is not None:
        return  # nothing would change: let routing answer 404/405
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="the form has expired or did not come from this site (CSRF token missing or wrong); reload the page and try again")


def _password_matches(given: str, expected: str) -> bool:
    # Compare digests so the comparison takes the same time whatever the lengths.
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site after logging in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    password = services().settings.admin_password
    error, status = None, 200
    if request.method == "POST":
        throttle: _Throttle = current_app.extensions["feedhub.throttle"]
        client, now = request.remote_addr or "?", time.monotonic()
        wait = throttle.wait_for(client, now)
        if password is None:
            error, status = "No admin password is set (FEEDHUB_ADMIN_PASSWORD), so nobody can log in.", 403
        elif wait > 0:
            error, status = f"Too many wrong passwords. Try again in {int(wait) + 1} seconds.", 429
        elif _password_matches(request.form.get("password", ""), password):
            throttle.succeeded(client)
            session.clear()
            session["admin"] = True
            csrf_token()  # a fresh token for the new session
            return redirect(_safe_next(request.form.get("next")))
        else:
            throttle.failed(client, now)
            error, status = "Wrong password.", 401
    return render_template("login.html", error=error, next=request.values.get("next", ""), configured=password is not None), status


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("dashboard.index"))
