"""The dashboard's "Connect account" flow in headless Chromium (Debian's ``chromium``,
installed by ``.ci/run``): feedhub and the emulator run on loopback; the browser logs
in, starts the flow, signs in on the emulator's login page and comes back connected."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from feedhub.emulator.server import serve_in_thread
from feedhub.web import create_app
from tests.chromium import RERUN_IF_THE_BROWSER_DIED, launched_chromium

pytestmark = RERUN_IF_THE_BROWSER_DIED

ADMIN_PASSWORD = "browser-test-admin-password"


@pytest.fixture
def feedhub(tmp_path):
    app = create_app({"data_dir": tmp_path, "allow_private_networks": True, "admin_password": ADMIN_PASSWORD, "poll_interval": 60})
    with serve_in_thread(app) as server:
        yield server.url, app


@pytest.fixture
def page():
    with launched_chromium() as browser:
        yield browser.new_page()


def _log_in(page: Page, base: str) -> None:
    page.goto(base + "login")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _start(page: Page, emulator, secret: str) -> None:
    page.get_by_role("link", name="Connect account").click()
    page.get_by_label("API URL").fill(emulator.base_url)
    page.get_by_label("Consumer key").fill(emulator.consumer_key)
    page.get_by_label("Consumer secret").fill(secret)
    page.get_by_label("Account name").fill("home")
    page.get_by_role("button", name="Connect account").click()


def test_connect_account_from_the_dashboard(feedhub, page, emulator, tmp_path):
    base, app = feedhub
    page.goto(base)
    expect(page.get_by_role("link", name="Connect account")).to_have_count(0)  # admins only
    _log_in(page, base)

    _start(page, emulator, emulator.consumer_secret)
    # The provider's own login page, with the application's name and the request token.
    expect(page).to_have_url(re.compile(re.escape(emulator.base_url) + r"oauth/login\?oauth_token="))
    expect(page.get_by_role("heading")).to_have_text("Sign in to allow feedhub")
    user = emulator.users[0]
    page.get_by_label("Name").fill(user.login)
    page.get_by_label("Password").fill(user.password)
    page.get_by_label("I accept the terms of use").check()
    page.get_by_role("button", name="Allow").click()

    # Back on feedhub: connected, its five sources listed.
    expect(page).to_have_url(re.compile("^" + re.escape(base)))
    expect(page.get_by_role("status").filter(has_text="Connected home with 5 sources")).to_be_visible()
    page.screenshot(path=str(tmp_path / "connected.png"), full_page=True)
    html = page.content()
    for secret in (emulator.consumer_secret, emulator.consumer_key, user.password, *vars(user.tokens).values()):
        assert secret not in html
    store = app.extensions["feedhub"].store
    account = store.account("home")
    assert len(store.sources(account.id)) == 5 and store.credentials(account.id).user_id == user.id

    # Connected before: one button starts the flow again with the stored credentials.
    page.get_by_role("link", name="Connect account").click()
    page.get_by_role("button", name="Connect home again").click()
    expect(page).to_have_url(re.compile(re.escape(emulator.base_url) + "oauth/login"))


def test_wrong_consumer_secret_is_shown_on_the_form(feedhub, page, emulator):
    base, _ = feedhub
    _log_in(page, base)
    _start(page, emulator, "not-the-consumer-secret")
    expect(page.get_by_role("alert")).to_contain_text("the API refused the consumer key or secret")
    assert "not-the-consumer-secret" not in page.content()


def test_callback_without_a_flow_started_here_is_refused(feedhub, page, emulator):
    base, _ = feedhub
    _log_in(page, base)
    response = page.goto(base + "admin/connect/callback?oauth_token=forged&oauth_verifier=forged")
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("not started here")
