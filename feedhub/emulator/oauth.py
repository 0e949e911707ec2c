"""OAuth 1.0a for the emulator: the reference's *Security Resources* and the resources
that need a signed request (RFC 5849; the reference is OAuth Core 1.0, with 1.0a's
``oauth_callback``/``oauth_verifier`` added so a callback cannot be swapped).

- ``oauth/request_token`` (signed with the consumer key and secret) answers
  ``oauth_token``, ``oauth_token_secret``, ``oauth_callback_confirmed``,
  ``application_name`` and ``login_url``.
- ``oauth/login`` is the page where a subscriber signs in (name, password, accept_tos,
  application_name, oauth_consumer_key, oauth_token, oauth_callback) and allows the
  application; it redirects to the callback with ``oauth_token`` and ``oauth_verifier``,
  or shows the verifier when there is no callback.
- ``oauth/access_token`` (signed with the request token) answers ``oauth_token``,
  ``oauth_token_secret`` and ``user_id``. A request token is good for one such request,
  whatever its outcome (the reference says so).
- ``users/current``, ``users/<id>`` and ``users/<id>/feeds`` accept a request signed with
  an access token.

Every signed request is checked the same way: HMAC-SHA1 only (the reference allows no
other method), the signature (oauthlib's RFC 5849 implementation), a timestamp within
``TIMESTAMP_WINDOW`` seconds of the real clock (clients sign with their own clock, not
the emulator's simulated one), and a nonce never seen before from that consumer.

Revoking an application's access for a user invalidates its access tokens and re-issues
the user's feed tokens (and feeds-list token); rotating re-issues the feed tokens alone.
"""
from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from lxml import etree
from lxml import html as lxml_html
from lxml.html import builder as E
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature

from .refusal import Refusal
from .world import User, World

TIMESTAMP_WINDOW = 300  # seconds either side of the real clock
REQUEST_TOKEN_LIFETIME = 3600  # seconds of real time to sign in and exchange a request token
HMAC_SHA1 = "HMAC-SHA1"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
_REQUIRED = ("oauth_consumer_key", "oauth_signature_method", "oauth_signature", "oauth_timestamp", "oauth_nonce")

oauth_routes = Blueprint("emulator_oauth", __name__)


@dataclass(frozen=True)
class Consumer:
    """A registered application."""

    key: str
    secret: str = field(repr=False)
    application_name: str


@dataclass
class RequestToken:
    """A request token: issued, then allowed by a subscriber, then used up."""

    consumer_key: str
    secret: str = field(repr=False)
    callback: str | None
    issued: float
    user_index: int | None = None  # set when the subscriber allows the application
    verifier: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AccessToken:
    token: str = field(repr=False)
    secret: str = field(repr=False)
    consumer_key: str
    user_index: int


@dataclass(frozen=True)
class Signed:
    """A request whose signature, timestamp and nonce were accepted."""

    consumer: Consumer
    params: dict[str, str] = field(repr=False)  # its oauth_* parameters
    request_token: RequestToken | None = field(default=None, repr=False)  # for oauth/access_token
    access: AccessToken | None = field(default=None, repr=False)  # for the resources


class OAuthProvider:
    """Consumers, tokens and nonces of one emulator. Thread-safe."""

    def __init__(self, world: World, consumers: Iterable[Consumer], wall_clock: Callable[[], float] = time.time) -> None:
        self.world = world
        self.wall_clock = wall_clock  # tests may move it to check the timestamp window
        self._consumers = {consumer.key: consumer for consumer in consumers}
        self._request_tokens: dict[str, RequestToken] = {}
        self._access_tokens: dict[str, AccessToken] = {}
        self._nonces: dict[tuple[str, str], int] = {}  # (consumer key, nonce) -> its timestamp
        self._lock = threading.Lock()

    @classmethod
    def seeded(cls, world: World) -> OAuthProvider:
        """The emulator's own application (its feed URLs' consumer key) and a second one,
        named after the reference's example, with secrets derived from the seed."""
        own = Consumer(world.consumer_key, _code(world.secret("consumer_secret"), 12), "feedhub")
        other = Consumer(_code(world.secret("consumer_key:myfilmclub"), 24), _code(world.secret("consumer_secret:myfilmclub"), 12), "myfilmclub")
        return cls(world, (own, other))

    @property
    def consumers(self) -> tuple[Consumer, ...]:
        return tuple(self._consumers.values())

    def access_tokens(self, user_index: int | None = None) -> tuple[AccessToken, ...]:
        with self._lock:
            return tuple(t for t in self._access_tokens.values() if user_index is None or t.user_index == user_index)

    # checking signed requests ---------------------------------------------------------

    def verify(self, method: str, url: str, headers: dict[str, str], body: str, token: str = "none") -> Signed:
        """Check a signed request; ``token`` is which token it must be signed with:
        ``none`` (request_token), ``request`` (access_token) or ``access`` (resources)."""
        params = _collect(url, headers, body)
        oauth = {k: v for k, v in params if k.startswith("oauth_")}
        if len(oauth) != len([k for k, _ in params if k.startswith("oauth_")]):
            raise Refusal(400, "an OAuth parameter was given twice")
        missing = [name for name in _REQUIRED if not oauth.get(name)]
        if token != "none" and not oauth.get("oauth_token"):
            missing.append("oauth_token")
        if missing:
            raise Refusal(400, f"missing OAuth parameters: {', '.join(missing)}")
        if oauth["oauth_signature_method"] != HMAC_SHA1:
            raise Refusal(400, "the only signature method allowed is HMAC-SHA1")
        if oauth.get("oauth_version", "1.0") != "1.0":
            raise Refusal(400, "oauth_version must be 1.0")
        if not oauth["oauth_timestamp"].isdigit():
            raise Refusal(400, "oauth_timestamp must be a positive whole number of seconds")
        timestamp = int(oauth["oauth_timestamp"])
        if abs(self.wall_clock() - timestamp) > TIMESTAMP_WINDOW:
            raise Refusal(401, f"oauth_timestamp is more than {TIMESTAMP_WINDOW} seconds away from the server's clock")
        consumer = self._consumers.get(oauth["oauth_consumer_key"])
        if consumer is None:
            raise Refusal(401, "unknown consumer key")
        request_token = self._take_request_token(consumer, oauth["oauth_token"]) if token == "request" else None
        access = self._access_token(consumer, oauth["oauth_token"]) if token == "access" else None
        held = request_token or access
        token_secret = held.secret if held else ""  # "&" + empty for request_token (RFC 5849 §3.4.2)
        checked = OAuthRequest(url, method, body, headers)
        checked.params = [(k, v) for k, v in params if k != "oauth_signature"]
        checked.signature = oauth["oauth_signature"]
        if not signature.verify_hmac_sha1(checked, consumer.secret, token_secret):
            raise Refusal(401, "invalid signature")
        self._use_nonce(consumer.key, oauth["oauth_nonce"], timestamp)
        return Signed(consumer, oauth, request_token, access)

    def _use_nonce(self, consumer_key: str, nonce: str, timestamp: int) -> None:
        now = self.wall_clock()
        with self._lock:
            # Past the window a replay is refused by its timestamp: forget older nonces.
            for key, seen in list(self._nonces.items()):
                if now - seen > 2 * TIMESTAMP_WINDOW:
                    del self._nonces[key]
            if (consumer_key, nonce) in self._nonces:
                raise Refusal(401, "this oauth_nonce was used before")
            self._nonces[(consumer_key, nonce)] = timestamp

    # tokens -----------------------------------------------------------------------------

    def issue_request_token(self, consumer: Consumer, callback: str | None) -> tuple[str, str]:
        token, secret = _code(secrets.token_bytes(18), 24), _code(secrets.token_bytes(12), 12)
        now = self.wall_clock()
        with self._lock:
            for key, old in list(self._request_tokens.items()):
                if now - old.issued > REQUEST_TOKEN_LIFETIME:
                    del self._request_tokens[key]
            self._request_tokens[token] = RequestToken(consumer.key, secret, callback, now)
        return token, secret

    def pending(self, token: str) -> RequestToken | None:
        """A request token that the subscriber has not yet allowed."""
        with self._lock:
            found = self._request_tokens.get(token)
        if found is None or found.user_index is not None or self.wall_clock() - found.issued > REQUEST_TOKEN_LIFETIME:
            return None
        return found

    def authorise(self, token: str, user: User) -> str:
        """The subscriber allowed the application: the request token's verifier."""
        with self._lock:
            found = self._request_tokens.get(token)
            if found is None or found.user_index is not None:
                raise Refusal(400, "this request token is unknown, expired or already used")
            found.user_index, found.verifier = user.index, _code(secrets.token_bytes(12), 16)
            return found.verifier

    def _take_request_token(self, consumer: Consumer, token: str) -> RequestToken:
        with self._lock:
            found = self._request_tokens.get(token)
            if found is None or found.consumer_key != consumer.key:
                raise Refusal(401, "unknown, expired or already used request token")
            del self._request_tokens[token]  # usable in one request, whatever its outcome
        if found.user_index is None:
            raise Refusal(401, "the subscriber has not allowed this request token")
        if self.wall_clock() - found.issued > REQUEST_TOKEN_LIFETIME:
            raise Refusal(401, "unknown, expired or already used request token")
        return found

    def exchange(self, signed: Signed) -> AccessToken:
        """An access token for the request token the subscriber allowed, given its verifier."""
        request_token = signed.request_token
        if request_token is None or request_token.user_index is None:
            raise Refusal(401, "the request is not signed with an allowed request token")
        if not hmac.compare_digest(signed.params.get("oauth_verifier", "").encode(), (request_token.verifier or "").encode()):
            raise Refusal(401, "missing or wrong oauth_verifier")
        access = AccessToken(_code(secrets.token_bytes(18), 24), _code(secrets.token_bytes(12), 12), signed.consumer.key, request_token.user_index)
        with self._lock:
            self._access_tokens[access.token] = access
        return access

    def _access_token(self, consumer: Consumer, token: str) -> AccessToken:
        with self._lock:
            found = self._access_tokens.get(token)
        if found is None or found.consumer_key != consumer.key:
            raise Refusal(401, "invalid or revoked access token")
        return found

    def user_of(self, signed: Signed) -> User:
        if signed.access is None:
            raise Refusal(401, "this resource needs a request signed with an access token")
        return self.world.users[signed.access.user_index]

    def revoke(self, user_index: int, consumer_key: str, at: datetime) -> int:
        """End ``consumer_key``'s access to user ``user_index``: its access tokens stop
        working and the user's feed tokens and feeds-list token are re-issued. Returns how
        many access tokens were revoked."""
        if consumer_key not in self._consumers:
            raise ValueError("unknown consumer key")
        with self._lock:
            gone = [k for k, t in self._access_tokens.items() if t.user_index == user_index and t.consumer_key == consumer_key]
            for key in gone:
                del self._access_tokens[key]
        self.world.reissue_tokens(user_index, at, feeds_list=True)
        return len(gone)


def _code(raw: bytes, length: int) -> str:
    """Letters and digits, like the reference's tokens and secrets."""
    return base64.b32encode(raw).decode("ascii").lower().replace("=", "")[:length]


def _collect(url: str, headers: dict[str, str], body: str) -> list[tuple[str, str]]:
    """Every parameter of a request: Authorization header, form body and query (RFC 5849 §3.4.1.3)."""
    try:
        return signature.collect_parameters(
            uri_query=urlsplit(url).query, body=body or None, headers=headers, exclude_oauth_signature=False
        )
    except ValueError as exc:
        raise Refusal(400, f"malformed OAuth parameters ({exc})") from None


def provider() -> OAuthProvider:
    return current_app.extensions["emulator"].oauth


def verified(token: str) -> Signed:
    """Check the current request's signature (see ``OAuthProvider.verify``)."""
    headers = {"Authorization": request.headers["Authorization"]} if "Authorization" in request.headers else {}
    form = request.mimetype == "application/x-www-form-urlencoded"
    body = request.get_data(as_text=True) if form else ""
    return provider().verify(request.method, request.url, headers, body, token)


def is_signed() -> bool:
    """Whether the current request carries an OAuth signature (else a feed_token may do)."""
    return "oauth_signature" in request.args or request.headers.get("Authorization", "").startswith("OAuth ") or (
        request.method == "POST" and "oauth_signature" in request.form
    )


def signed_user(user_id: str) -> User | None:
    """The user of ``users/<user_id>/…`` when the request is signed with an access token
    of that user; None for an unsigned request; refused when the signature is bad or the
    token is another user's."""
    if not is_signed():
        return None
    user = provider().user_of(verified("access"))
    if user.id != user_id:
        raise Refusal(403, "this access token is not for this user")
    return user


# routes ---------------------------------------------------------------------------------


@oauth_routes.route("/oauth/request_token", methods=["GET", "POST"])
def request_token() -> Response:
    signed = verified("none")
    callback = signed.params.get("oauth_callback")
    if callback == "oob":
        callback = None
    if callback is not None and not _is_http_url(callback):
        raise Refusal(400, 'oauth_callback must be an absolute http(s) URL or "oob"')
    token, secret = provider().issue_request_token(signed.consumer, callback)
    login_url = f"{request.host_url}oauth/login?{urlencode({'oauth_token': token})}"
    body = urlencode(
        [
            ("oauth_token", token),
            ("oauth_token_secret", secret),
            ("oauth_callback_confirmed", "true"),
            ("application_name", signed.consumer.application_name),
            ("login_url", login_url),
        ]
    )
    return _no_store(Response(body, content_type=FORM_TYPE))


@oauth_routes.route("/oauth/access_token", methods=["GET", "POST"])
def access_token() -> Response:
    oauth = provider()
    access = oauth.exchange(verified("request"))  # the request token is used up, whatever happens
    user = oauth.world.users[access.user_index]
    body = urlencode([("oauth_token", access.token), ("oauth_token_secret", access.secret), ("user_id", user.id)])
    return _no_store(Response(body, content_type=FORM_TYPE))


@oauth_routes.route("/oauth/login", methods=["GET", "POST"])
def login() -> Response | tuple[Response, int]:
    oauth, values = provider(), request.values
    pending = oauth.pending(values.get("oauth_token", ""))
    if pending is None:
        return _page("This sign-in link is not valid any more", "Start again from the application.", status=400)
    consumer = next(c for c in oauth.consumers if c.key == pending.consumer_key)
    for name, expected in (("oauth_consumer_key", consumer.key), ("application_name", consumer.application_name)):
        if values.get(name) and values[name] != expected:
            return _page("This sign-in link is not valid", f"{name} does not match the application.", status=400)
    callback = pending.callback or values.get("oauth_callback") or None
    if callback is not None and not _is_http_url(callback):
        return _page("This sign-in link is not valid", "oauth_callback must be an absolute http(s) URL.", status=400)
    if request.method == "GET":
        return _login_page(consumer, pending_token=values["oauth_token"], callback=callback)
    user = _subscriber(values.get("name", ""), values.get("password", ""))
    if user is None:
        return _login_page(consumer, values["oauth_token"], callback, error="The name or password is not right.", status=401)
    if values.get("accept_tos", "").upper() != "TRUE":
        return _login_page(consumer, values["oauth_token"], callback, error="Accept the terms of use to allow the application.", status=400)
    verifier = oauth.authorise(values["oauth_token"], user)
    if callback is None:
        return _page(
            f"{consumer.application_name} may now read your feeds",
            f"Go back to {consumer.application_name} and give it this verifier:",
            code=verifier,
        )
    separator = "&" if urlsplit(callback).query else "?"
    return _no_store(redirect(f"{callback}{separator}{urlencode({'oauth_token': values['oauth_token'], 'oauth_verifier': verifier})}"))


@oauth_routes.get("/users/current")
def current_user() -> Response:
    user = provider().user_of(verified("access"))
    root = etree.Element("resource")
    etree.SubElement(root, "status_code").text = "200"
    link = etree.SubElement(
        root, "link", href=f"{request.host_url}users/{user.id}", rel="http://schemas.netflix.com/user.current", title="current user"
    )
    link.text = ""
    return _xml(root)


@oauth_routes.get("/users/<user_id>")
def user_record(user_id: str) -> Response:
    user = signed_user(user_id)
    if user is None:
        raise Refusal(401, "this resource needs a request signed with an access token")
    root = etree.Element("user")
    for name, value in (("user_id", user.id), ("first_name", user.first_name), ("last_name", user.last_name), ("can_instant_watch", "true")):
        etree.SubElement(root, name).text = value
    for path, title in (("queues", "queues"), ("rental_history", "rental history"), ("recommendations", "recommendations"),
                        ("title_states", "title states"), ("ratings", "ratings")):
        link = etree.SubElement(root, "link", href=f"{request.host_url}users/{user.id}/{path}", rel=f"http://schemas.netflix.com/{path}", title=title)
        link.text = ""
    return _xml(root)


@oauth_routes.get("/_emulator/consumers")
def control_consumers() -> Response:
    return jsonify(
        consumers=[{"key": c.key, "secret": c.secret, "application_name": c.application_name} for c in provider().consumers]
    )


@oauth_routes.post("/_emulator/revoke")
def control_revoke() -> Response | tuple[Response, int]:
    """``{"user": index, "consumer_key": key}`` (key optional: the emulator's own)."""
    emulator = current_app.extensions["emulator"]
    data = request.get_json(silent=True)
    try:
        index = _user_index(data, {"user", "consumer_key"})
        revoked = emulator.revoke(index, data.get("consumer_key"))
    except ValueError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(user=index, revoked_access_tokens=revoked)


@oauth_routes.post("/_emulator/rotate")
def control_rotate() -> Response | tuple[Response, int]:
    """``{"user": index}``: new feed tokens for the user."""
    emulator = current_app.extensions["emulator"]
    data = request.get_json(silent=True)
    try:
        index = _user_index(data, {"user"})
    except ValueError as exc:
        return jsonify(error=str(exc)), 400
    emulator.rotate_feed_tokens(index)
    return jsonify(user=index, tokens_issued_at=provider().world.tokens_issued_at(index).isoformat().replace("+00:00", "Z"))


def _user_index(data: object, allowed: set[str]) -> int:
    if not isinstance(data, dict) or "user" not in data or data.keys() - allowed:
        raise ValueError(f"send a JSON object with {', '.join(sorted(allowed))} (user required)")
    index = data["user"]
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(provider().world.users):
        raise ValueError("user is the index of a user")
    return index


def _subscriber(name: str, password: str) -> User | None:
    for user in provider().world.users:
        # Compare every user's password, so the time taken tells nothing.
        right = hmac.compare_digest(password.encode(), user.password.encode())
        if name.strip().lower() == user.login and right:
            return user
    return None


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _xml(root: etree._Element) -> Response:
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return _no_store(Response(body, content_type=XML_TYPE))


def _no_store(response: Response) -> Response:
    # Tokens and verifiers must not be cached (RFC 5849 §4.1, RFC 9111 §5.2.2.5).
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_page(consumer: Consumer, pending_token: str, callback: str | None, error: str | None = None, status: int = 200) -> tuple[Response, int]:
    hidden = [
        ("application_name", consumer.application_name),
        ("oauth_consumer_key", consumer.key),
        ("oauth_token", pending_token),
    ] + ([("oauth_callback", callback)] if callback else [])
    form = E.FORM(
        {"method": "post", "action": "/oauth/login"},
        *(E.INPUT(type="hidden", name=name, value=value) for name, value in hidden),
        E.P(E.LABEL("Name ", E.INPUT(type="text", name="name", autocomplete="username", required="required"))),
        E.P(E.LABEL("Password ", E.INPUT(type="password", name="password", autocomplete="current-password", required="required"))),
        E.P(E.LABEL(E.INPUT(type="checkbox", name="accept_tos", value="TRUE"), " I accept the terms of use")),
        E.P(E.BUTTON("Allow", type="submit")),
    )
    content = [E.P(f"{consumer.application_name} would like to read your instant queue, ratings, viewing history and recommendations.")]
    if error:
        content.append(E.P({"class": "error", "role": "alert"}, error))
    return _html(f"Sign in to allow {consumer.application_name}", [*content, form]), status


def _page(title: str, text: str, code: str | None = None, status: int = 200) -> tuple[Response, int]:
    content = [E.P(text)] + ([E.P(E.CODE({"id": "verifier"}, code))] if code else [])
    return _html(title, content), status


def _html(title: str, content: list) -> Response:
    page = E.HTML(E.HEAD(E.META(charset="utf-8"), E.TITLE(title)), E.BODY(E.H1(title), *content))
    return _no_store(Response(lxml_html.tostring(page, doctype="<!DOCTYPE html>", encoding="utf-8"), content_type=HTML_TYPE))
