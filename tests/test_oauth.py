"""The emulator's OAuth 1.0a provider (reference: Security Resources; RFC 5849), driven
over loopback by an independent client (requests-oauthlib), and feedhub's own client
(``oauth_client``) against it."""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests_oauthlib import OAuth1, OAuth1Session
from requests_oauthlib.oauth1_session import TokenRequestDenied

from feedhub.fetch import FetchPolicy, Fetcher
from feedhub.oauth_client import ConnectError, Consumer, OAuthClient


def _session(emulator, **extra) -> OAuth1Session:
    return OAuth1Session(emulator.consumer_key, client_secret=emulator.consumer_secret, callback_uri="oob", **extra)


def _allow(emulator, login_url: str, user_index: int = 0, **form) -> requests.Response:
    """The subscriber signs in on the login page and allows the application."""
    user = emulator.users[user_index]
    token = parse_qs(urlsplit(login_url).query)["oauth_token"][0]
    data = {"oauth_token": token, "name": user.login, "password": user.password, "accept_tos": "TRUE"} | form
    return requests.post(emulator.base_url + "oauth/login", data=data, allow_redirects=False, timeout=10)


def _verifier(page: requests.Response) -> str:
    return re.search(r'<code id="verifier">([^<]+)</code>', page.text).group(1)


def _access(emulator, user_index: int = 0) -> OAuth1Session:
    session = _session(emulator)
    answer = session.fetch_request_token(emulator.base_url + "oauth/request_token")
    session.fetch_access_token(emulator.base_url + "oauth/access_token", verifier=_verifier(_allow(emulator, answer["login_url"], user_index)))
    return session


def test_three_legged_flow_in_the_reference_shapes(emulator):
    session = _session(emulator)
    answer = session.fetch_request_token(emulator.base_url + "oauth/request_token")
    assert set(answer) == {"oauth_token", "oauth_token_secret", "oauth_callback_confirmed", "application_name", "login_url"}
    assert answer["application_name"] == "feedhub" and answer["login_url"].startswith(emulator.base_url + "oauth/login?oauth_token=")
    login = requests.get(answer["login_url"], timeout=10)
    assert login.status_code == 200
    for field in ("name", "password", "accept_tos", "application_name", "oauth_consumer_key", "oauth_token"):
        assert f'name="{field}"' in login.text
    token = session.fetch_access_token(emulator.base_url + "oauth/access_token", verifier=_verifier(_allow(emulator, answer["login_url"], 1)))
    assert set(token) == {"oauth_token", "oauth_token_secret", "user_id"}
    user = emulator.users[1]
    assert token["user_id"] == user.id

    current = session.get(emulator.base_url + "users/current")
    assert current.status_code == 200
    assert f'href="{emulator.base_url}users/{user.id}" rel="http://schemas.netflix.com/user.current"' in current.text
    record = session.get(emulator.base_url + f"users/{user.id}").text
    assert f"<first_name>{user.first_name}</first_name>" in record and "<can_instant_watch>true</can_instant_watch>" in record
    feeds = session.get(emulator.base_url + f"users/{user.id}/feeds")
    assert feeds.status_code == 200 and feeds.text.count("<link ") == 5 and user.tokens.watched in feeds.text
    assert "<opml" in session.get(emulator.base_url + f"users/{user.id}/feeds", params={"output": "opml"}).text
    # Someone else's feeds: the token is this user's only.
    assert session.get(emulator.base_url + f"users/{emulator.users[0].id}/feeds").status_code == 403


def test_callback_gets_the_token_and_verifier(emulator):
    session = OAuth1Session(emulator.consumer_key, client_secret=emulator.consumer_secret, callback_uri="http://127.0.0.1:9/back?x=1")
    answer = session.fetch_request_token(emulator.base_url + "oauth/request_token")
    assert answer["oauth_callback_confirmed"] == "true"
    allowed = _allow(emulator, answer["login_url"])
    assert allowed.status_code == 302
    back = urlsplit(allowed.headers["Location"])
    assert (back.hostname, back.port, back.path) == ("127.0.0.1", 9, "/back")
    query = parse_qs(back.query)
    assert query["x"] == ["1"] and query["oauth_token"] == [answer["oauth_token"]]
    session.fetch_access_token(emulator.base_url + "oauth/access_token", verifier=query["oauth_verifier"][0])
    assert session.get(emulator.base_url + "users/current").status_code == 200


def test_wrong_consumer_secret_is_refused_clearly(emulator):
    bad = OAuth1Session(emulator.consumer_key, client_secret="not-the-secret", callback_uri="oob")
    with pytest.raises(TokenRequestDenied) as refused:
        bad.fetch_request_token(emulator.base_url + "oauth/request_token")
    assert refused.value.status_code == 401 and "invalid signature" in refused.value.response.text
    unknown = OAuth1Session("nosuchconsumerkey1234567", client_secret="x", callback_uri="oob")
    with pytest.raises(TokenRequestDenied, match="unknown consumer key"):
        unknown.fetch_request_token(emulator.base_url + "oauth/request_token")
    # feedhub's client says what to check, and never the secret.
    fetcher = Fetcher(FetchPolicy(allow_private_networks=True))
    with pytest.raises(ConnectError) as error:
        OAuthClient(fetcher, emulator.base_url, Consumer(emulator.consumer_key, "not-the-secret")).start()
    assert "refused the consumer key or secret" in str(error.value) and "not-the-secret" not in str(error.value)
    fetcher.close()


def test_replayed_nonce_is_refused(emulator):
    session = _access(emulator)
    auth = session.auth
    fixed = OAuth1(
        emulator.consumer_key, emulator.consumer_secret, auth.client.resource_owner_key, auth.client.resource_owner_secret,
        nonce="the-same-nonce-each-time-00000000", timestamp=str(int(time.time())),
    )
    first = requests.get(emulator.base_url + "users/current", auth=fixed, timeout=10)
    replay = requests.get(emulator.base_url + "users/current", auth=fixed, timeout=10)
    assert first.status_code == 200
    assert replay.status_code == 401 and "nonce" in replay.text
    assert replay.headers["WWW-Authenticate"].startswith("OAuth realm=")


def test_request_token_is_good_for_one_request(emulator):
    session = _session(emulator)
    answer = session.fetch_request_token(emulator.base_url + "oauth/request_token")
    verifier = _verifier(_allow(emulator, answer["login_url"]))
    token_secret = answer["oauth_token_secret"]
    # A first try with a wrong verifier uses the request token up (the reference: "regardless of the outcome").
    with pytest.raises(TokenRequestDenied, match="verifier"):
        session.fetch_access_token(emulator.base_url + "oauth/access_token", verifier="wrong")
    again = OAuth1(emulator.consumer_key, emulator.consumer_secret, answer["oauth_token"], token_secret, verifier=verifier)
    refused = requests.get(emulator.base_url + "oauth/access_token", auth=again, timeout=10)
    assert refused.status_code == 401 and "already used" in refused.text
    # Nor can the login page be used twice with it.
    assert _allow(emulator, answer["login_url"]).status_code == 400


def test_request_token_not_yet_allowed_is_refused(emulator):
    session = _session(emulator)
    session.fetch_request_token(emulator.base_url + "oauth/request_token")
    with pytest.raises(TokenRequestDenied, match="not allowed"):
        session.fetch_access_token(emulator.base_url + "oauth/access_token", verifier="anything")


@pytest.mark.parametrize("skew", [-301, 301, -3600], ids=["5-minutes-old", "5-minutes-ahead", "an-hour-old"])
def test_timestamp_outside_the_window_is_refused(emulator, skew):
    auth = OAuth1(emulator.consumer_key, emulator.consumer_secret, callback_uri="oob", timestamp=str(int(time.time()) + skew))
    response = requests.post(emulator.base_url + "oauth/request_token", auth=auth, timeout=10)
    assert response.status_code == 401 and "oauth_timestamp" in response.text


def test_timestamp_inside_the_window_is_accepted(emulator):
    auth = OAuth1(emulator.consumer_key, emulator.consumer_secret, callback_uri="oob", timestamp=str(int(time.time()) - 250))
    assert requests.post(emulator.base_url + "oauth/request_token", auth=auth, timeout=10).status_code == 200


@pytest.mark.parametrize(
    "params, status, says",
    [
        ({"oauth_signature_method": "PLAINTEXT"}, 400, "HMAC-SHA1"),
        ({"oauth_version": "2.0"}, 400, "oauth_version"),
        ({"oauth_timestamp": "soon"}, 400, "oauth_timestamp"),
        ({"oauth_nonce": ""}, 400, "oauth_nonce"),
    ],
    ids=["plaintext", "version", "timestamp-not-a-number", "no-nonce"],
)
def test_malformed_oauth_requests_are_refused(emulator, params, status, says):
    auth = OAuth1(emulator.consumer_key, emulator.consumer_secret, callback_uri="oob", signature_type="query")
    prepared = requests.Request("GET", emulator.base_url + "oauth/request_token", auth=auth).prepare()
    query = {k: v[0] for k, v in parse_qs(urlsplit(prepared.url).query, keep_blank_values=True).items()} | params
    response = requests.get(emulator.base_url + "oauth/request_token", params=query, timeout=10)
    assert response.status_code == status and says in response.text


def test_resources_need_an_access_token(emulator):
    user = emulator.users[0]
    consumer_only = OAuth1(emulator.consumer_key, emulator.consumer_secret)
    assert requests.get(emulator.base_url + "users/current", auth=consumer_only, timeout=10).status_code == 400
    assert requests.get(emulator.base_url + f"users/{user.id}", timeout=10).status_code == 401
    forged = OAuth1(emulator.consumer_key, emulator.consumer_secret, "madeuptoken0000000000000", "madeupsecret")
    assert requests.get(emulator.base_url + f"users/{user.id}/feeds", auth=forged, timeout=10).status_code == 401
    # The feeds-list token (the emulator's extension) still opens the list without OAuth.
    assert requests.get(emulator.feeds_list_url(emulator.base_url, 0), timeout=10).status_code == 200


def test_login_page_refuses_wrong_password_and_missing_consent(emulator):
    session = _session(emulator)
    answer = session.fetch_request_token(emulator.base_url + "oauth/request_token")
    wrong = _allow(emulator, answer["login_url"], password="not-it")
    assert wrong.status_code == 401 and "not right" in wrong.text and emulator.users[0].password not in wrong.text
    no_consent = _allow(emulator, answer["login_url"], accept_tos="")
    assert no_consent.status_code == 400 and "terms of use" in no_consent.text
    other_app = _allow(emulator, answer["login_url"], application_name="myfilmclub")
    assert other_app.status_code == 400
    # None of these used the request token up.
    assert _allow(emulator, answer["login_url"]).status_code == 200


def test_revoking_ends_the_access_token_and_the_feed_tokens(emulator):
    session = _access(emulator)
    user = emulator.users[0]
    old_feed = emulator.feed_url(emulator.base_url, 0, "watched")
    old_list = emulator.feeds_list_url(emulator.base_url, 0)
    other = _access(emulator, 1)
    revoked = requests.post(emulator.base_url + "_emulator/revoke", json={"user": 0}, timeout=10)
    assert revoked.json() == {"user": 0, "revoked_access_tokens": 1}
    assert session.get(emulator.base_url + "users/current").status_code == 401
    assert requests.get(old_feed, timeout=10).status_code == 401
    assert requests.get(old_list, timeout=10).status_code == 401
    assert emulator.users[0].tokens.watched != user.tokens.watched
    assert requests.get(emulator.feed_url(emulator.base_url, 0, "watched"), timeout=10).status_code == 200
    assert other.get(emulator.base_url + "users/current").status_code == 200  # another user's access stays
    # Signing in again gives a new access token that works.
    assert _access(emulator).get(emulator.base_url + f"users/{user.id}/feeds").status_code == 200


def test_rotating_feed_tokens_keeps_access_and_changes_the_list(emulator):
    session = _access(emulator)
    user = emulator.users[0]
    before = session.get(emulator.base_url + f"users/{user.id}/feeds")
    old_feed = emulator.feed_url(emulator.base_url, 0, "ratings")
    emulator.advance(60)
    rotated = requests.post(emulator.base_url + "_emulator/rotate", json={"user": 0}, timeout=10)
    assert rotated.status_code == 200
    after = session.get(emulator.base_url + f"users/{user.id}/feeds", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert after.headers["Last-Modified"] != before.headers["Last-Modified"]
    assert user.tokens.ratings in before.text and emulator.users[0].tokens.ratings in after.text
    assert requests.get(old_feed, timeout=10).status_code == 401
    assert requests.get(emulator.feeds_list_url(emulator.base_url, 0), timeout=10).status_code == 200  # list token unchanged


@pytest.mark.parametrize("body", [{"user": 9}, {"user": "0"}, {}, {"user": 0, "extra": 1}], ids=["unknown", "text", "empty", "extra-field"])
def test_bad_control_requests_are_refused(emulator, body):
    assert requests.post(emulator.base_url + "_emulator/revoke", json=body, timeout=10).status_code == 400
    assert requests.post(emulator.base_url + "_emulator/rotate", json=body, timeout=10).status_code == 400


def test_controls_expose_what_tests_and_the_demo_need(emulator):
    users = requests.get(emulator.base_url + "_emulator/users", timeout=10).json()["users"]
    assert users[0]["login"] == emulator.users[0].login and users[0]["password"] == emulator.users[0].password
    consumers = requests.get(emulator.base_url + "_emulator/consumers", timeout=10).json()["consumers"]
    assert {"key": emulator.consumer_key, "secret": emulator.consumer_secret, "application_name": "feedhub"} in consumers
