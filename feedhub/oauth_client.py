"""The client side of OAuth 1.0a for a Netflix-style API (SPEC §3; the reference's
*Security Resources*, ``users/current`` and ``users/<id>/feeds``).

The three legs: ``start`` gets a request token and the login URL the person opens;
the provider sends them back with a verifier; ``finish`` trades both for an access
token. ``current_user_id`` and ``feeds_list`` are then signed with the access token.

Requests are signed by oauthlib (HMAC-SHA1, the only method the API allows), with the
OAuth parameters in the query string, which the API accepts, and sent through
``fetch.Fetcher`` like every source request: the same address policy, time and size
limits, and messages that never hold a secret. This module stores nothing.
"""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_QUERY, Client

from .fetch import FetchResult, Fetcher, Outcome, Validators
from .urls import netflix_user_id

CURRENT_USER_REL = "http://schemas.netflix.com/user.current"

# oauthlib's debug lines print OAuth parameters and signature base strings (tokens
# included) as Python reprs, which log redaction cannot recognise: in whatever process
# signs (the command line, a WSGI worker), they never reach a log.
logging.getLogger("oauthlib").setLevel(logging.WARNING)


class ConnectError(ValueError):
    """Connecting failed; the message is for the person and holds no secret."""


@dataclass(frozen=True)
class Consumer:
    """An application's credentials with the API (its "API key" and shared secret)."""

    key: str = field(repr=False)
    secret: str = field(repr=False)


@dataclass(frozen=True)
class AccessToken:
    token: str = field(repr=False)
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Authorization:
    """A request token waiting for the person to allow the application."""

    token: str = field(repr=False)
    secret: str = field(repr=False)
    login_url: str = field(repr=False)  # where the person signs in (holds the request token)
    application_name: str


def api_root(url: str) -> str:
    """The API's root URL (``http://api.netflix.com/``), checked; ``ConnectError`` if it
    is not a plain http(s) URL."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConnectError("the API base URL is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ConnectError("the API base URL must be a plain http(s) URL such as http://api.netflix.com/")
    return url if url.endswith("/") else url + "/"


class OAuthClient:
    """Signs and sends the API requests of one application."""

    def __init__(self, fetcher: Fetcher, api_base: str, consumer: Consumer) -> None:
        self.fetcher = fetcher
        self.root = api_root(api_base)
        self.consumer = consumer

    def start(self, callback: str | None = None) -> Authorization:
        """Get a request token (``oauth/request_token``) and the URL of the login page
        that the person opens; ``callback`` is where the provider then sends them (None:
        the provider shows a verifier to copy, "oob")."""
        result = self._get("oauth/request_token", callback=callback or "oob")
        _check(result, "oauth/request_token", "the API refused the consumer key or secret")
        answer = _form(result, "oauth/request_token", "oauth_token", "oauth_token_secret")
        token = answer["oauth_token"]
        application = answer.get("application_name", "")
        login = answer.get("login_url") or f"{self.root}oauth/login?{urlencode({'oauth_token': token})}"
        # The reference's login page also takes these; the consumer key is left out so the
        # URL that is shown to the person holds nothing but the one-time request token.
        extra = [("application_name", application)] if application else []
        extra += [("oauth_callback", callback)] if callback else []
        if extra:
            login += ("&" if urlsplit(login).query else "?") + urlencode(extra)
        return Authorization(token, answer["oauth_token_secret"], login, application)

    def finish(self, authorization: Authorization, verifier: str) -> AccessToken:
        """Trade the allowed request token and its verifier for an access token
        (``oauth/access_token``); a request token is good for one try."""
        verifier = verifier.strip()
        if not verifier:
            raise ConnectError("no verifier given: copy the one the API showed after allowing access")
        result = self._get("oauth/access_token", AccessToken(authorization.token, authorization.secret), verifier=verifier)
        _check(result, "oauth/access_token", "the API refused the verifier or the request token (each is good for one try): start again")
        answer = _form(result, "oauth/access_token", "oauth_token", "oauth_token_secret")
        return AccessToken(answer["oauth_token"], answer["oauth_token_secret"])

    def current_user_id(self, access: AccessToken) -> str:
        """The id of the person the access token is for (``users/current``)."""
        result = self._get("users/current", access)
        _check(result, "users/current", "the API refused the access token (access may have been revoked): connect again")
        try:
            root = ET.fromstring(result.body)
        except ET.ParseError:
            raise ConnectError("the API's answer to users/current is not XML") from None
        for link in root.iter("link"):
            if link.get("rel") == CURRENT_USER_REL and (user_id := netflix_user_id(link.get("href", ""))):
                return user_id
        raise ConnectError("the API's answer to users/current names no user")

    def feeds_list_url(self, user_id: str) -> str:
        """The unsigned URL of the person's feeds list (``users/<id>/feeds``)."""
        return f"{self.root}users/{user_id}/feeds"

    def feeds_list(self, access: AccessToken, user_id: str, validators: Validators = Validators()) -> FetchResult:
        """Fetch the person's feeds list with a signed request; the caller reads the outcome."""
        return self.fetcher.fetch(self.signed_url(self.feeds_list_url(user_id), access), validators)

    def signed_url(self, url: str, access: AccessToken | None = None, **oauth: str) -> str:
        """``url`` with OAuth parameters and an HMAC-SHA1 signature in its query.
        Good for one request: its nonce must not be used twice."""
        client = Client(
            self.consumer.key,
            client_secret=self.consumer.secret,
            resource_owner_key=access.token if access else None,
            resource_owner_secret=access.secret if access else None,
            signature_method=SIGNATURE_HMAC_SHA1,
            signature_type=SIGNATURE_TYPE_QUERY,
            callback_uri=oauth.get("callback"),
            verifier=oauth.get("verifier"),
        )
        signed, _, _ = client.sign(url, http_method="GET")
        return signed

    def _get(self, path: str, access: AccessToken | None = None, **oauth: str) -> FetchResult:
        return self.fetcher.fetch(self.signed_url(self.root + path, access, **oauth))


def _check(result: FetchResult, what: str, refused: str) -> None:
    if result.outcome is Outcome.OK:
        return
    if result.outcome is Outcome.TOKEN_REJECTED:
        raise ConnectError(f"{refused} (HTTP {result.status} from {what})")
    raise ConnectError(f"{what}: {result.message}")


def _form(result: FetchResult, what: str, *required: str) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` answer (RFC 5849 §2.1, §2.3)."""
    try:
        answer = {k: v[0] for k, v in parse_qs(result.body.decode("utf-8"), strict_parsing=True).items()}
    except (UnicodeDecodeError, ValueError):
        answer = {}
    missing = [name for name in required if not answer.get(name)]
    if missing:
        raise ConnectError(f"the API's answer to {what} lacks {', '.join(missing)}")
    return answer
