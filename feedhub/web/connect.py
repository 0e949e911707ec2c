"""Connecting an account through the API from the dashboard (SPEC §3, §7), for the
logged-in admin only.

``/admin/connect`` asks for the API's root URL and the application's consumer key and
secret (or, for an account connected before, reuses its stored ones). Its POST gets a
request token, with this app's ``/admin/connect/callback`` as the callback, and sends
the browser on to the provider's login page; the provider sends it back to the callback
with the verifier, and the callback finishes the flow (``connect.connect``).

The way on to the provider is a page that forwards at once (``meta refresh``, and a
link): the pages' ``Content-Security-Policy: form-action 'self'`` also covers redirects
that answer a form, so a form here cannot be answered with a redirect to another site.

Between the two steps the request token, its secret and the consumer secret wait in
the session cookie encrypted (``crypto.Cipher``: Flask's cookie is signed, not secret),
and the callback is accepted only for the request token that this session started.
"""
from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from feedhub.connect import connect
from feedhub.crypto import Cipher, SecretKeyError
from feedhub.oauth_client import AccessToken, Authorization, ConnectError, Consumer, OAuthClient, api_root
from feedhub.storage import NotFoundError
from feedhub.web.auth import admin_required
from feedhub.web.context import absolute_url, services
from feedhub.web.dashboard import AUTOPOLL

bp = Blueprint("connect", __name__)

PENDING = "oauth_pending"  # session key of the sealed, half-done flow


@bp.get("/admin/connect")
@admin_required
def start() -> Any:
    return _form()


@bp.post("/admin/connect")
@admin_required
def begin() -> Any:
    form = request.form
    name = form.get("name", "").strip()
    if form.get("account"):
        try:
            account = services().store.account_by_id(int(form["account"]))
        except (ValueError, NotFoundError):
            return _form(error="There is no such account.", status=404)
        stored = services().store.credentials(account.id)
        if stored is None:
            return _form(error=f"{account.name} was not connected through the API: give its consumer key and secret.", status=400)
        api, consumer, name = stored.api_base, Consumer(stored.consumer_key, stored.consumer_secret), account.name
    else:
        api, key, secret = form.get("api", "").strip(), form.get("consumer_key", "").strip(), form.get("consumer_secret", "")
        if not (api and key and secret):
            return _form(error="Give the API's URL, the consumer key and the consumer secret.", api=api, name=name, status=400)
        consumer = Consumer(key, secret)
    try:
        client = OAuthClient(services().fetcher, api, consumer)
        authorization = client.start(callback=absolute_url("connect.callback"))
    except ConnectError as exc:
        return _form(error=f"{exc}.", api=api, name=name, status=400)
    session[PENDING] = _seal(
        {
            "api": client.root,
            "consumer_key": consumer.key,
            "consumer_secret": consumer.secret,
            "token": authorization.token,
            "secret": authorization.secret,
            "application_name": authorization.application_name,
            "login_url": authorization.login_url,
            "name": name,
        }
    )
    return redirect(url_for("connect.onward"), code=303)


@bp.get("/admin/connect/onward")
@admin_required
def onward() -> Any:
    pending = _unseal(session.get(PENDING))
    if pending is None:
        return redirect(url_for("connect.start"))
    provider = urlsplit(pending["login_url"]).netloc
    return render_template("connect_onward.html", login_url=pending["login_url"], provider=provider)


@bp.get("/admin/connect/callback")
@admin_required
def callback() -> Any:
    pending = _unseal(session.pop(PENDING, None))
    token, verifier = request.args.get("oauth_token", ""), request.args.get("oauth_verifier", "")
    if pending is None or not hmac.compare_digest(token.encode(), pending["token"].encode()):
        return _form(error="This sign-in was not started here, or it was finished already: start again.", status=400)
    client = OAuthClient(services().fetcher, pending["api"], Consumer(pending["consumer_key"], pending["consumer_secret"]))
    authorization = Authorization(pending["token"], pending["secret"], "", pending["application_name"])
    try:
        access: AccessToken = client.finish(authorization, verifier)
        connected = connect(services(), client, access, pending["name"] or None)
    except ConnectError as exc:
        return _form(error=f"{exc}.", api=pending["api"], name=pending["name"], status=400)
    account = connected.account
    session[AUTOPOLL] = [s.id for s in connected.sources if s.state == "active"]
    if connected.reconnected:
        flash(f"Connected {account.name} again ({connected.refresh.message}). Polling its sources now; nothing was lost.", "ok")
    else:
        flash(f"Connected {account.name} with {len(connected.sources)} sources. Polling them now.", "ok")
    return redirect(url_for("dashboard.index", _anchor=f"account-{account.id}"))


def _form(error: str | None = None, api: str = "", name: str = "", status: int = 200) -> tuple[str, int]:
    store = services().store
    connected = [(a, c) for a in store.accounts() if (c := store.credentials(a.id)) is not None]
    try:
        api = api_root(api) if api else (connected[-1][1].api_base if connected else "")
    except ConnectError:
        pass  # shown back as typed
    return render_template("connect.html", error=error, api=api, name=name, connected=connected), status


def _cipher() -> Cipher:
    return Cipher(services().settings.secret_key)


def _seal(data: dict[str, str]) -> str:
    return _cipher().encrypt(json.dumps(data))


def _unseal(sealed: str | None) -> dict[str, str] | None:
    if not sealed:
        return None
    try:
        return json.loads(_cipher().decrypt(sealed))
    except (SecretKeyError, ValueError):
        return None
