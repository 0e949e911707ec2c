"""The widgets in a real browser: headless Chromium (Debian's ``chromium``, driven by
Playwright; no browser is downloaded) opens a host page on another loopback origin that
embeds a channel with the one-line script and with the iframe.

One activity's title is an HTML injection attempt: it must show as text and run
nothing, in both widgets. Screenshots go to tests/artifacts/ (not kept in git).
"""
from __future__ import annotations

import html
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect

from feedhub.emulator.server import serve_in_thread
from feedhub.models import BoxArt, Title, Verb
from feedhub.web import create_app
from feedhub.web.access import links
from feedhub.web.embed import WidgetOptions, snippets
from tests.chromium import RERUN_IF_THE_BROWSER_DIED, launched_chromium
from tests.test_web import T0, activity, poll, seed

pytestmark = RERUN_IF_THE_BROWSER_DIED

ARTIFACTS = Path(__file__).parent / "artifacts"
NASTY = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture
def feedhub_server(tmp_path):
    app = create_app({"data_dir": tmp_path})
    store = app.extensions["feedhub"].store
    seed(store)
    account = store.account("home")
    nasty = Title(key="catalog:movies/666", name=NASTY, year=2001, web_url="http://www.netflix.com/Movie/666", box_art=BoxArt())
    store.save_poll(poll(store.sources(account.id)[1].id, account.id, (activity("user-home", Verb.WATCHED, nasty, T0 + timedelta(minutes=1)),)))
    server = serve_in_thread(app)
    yield app, server
    server.stop()
    app.extensions["feedhub"].close()


def host_page(app: Flask, server_url: str, channel_name: str, options: WidgetOptions) -> str:
    """A page of another site that pastes the snippets the admin page hands out."""
    store = app.extensions["feedhub"].store
    channel = store.channel(channel_name)
    with app.test_request_context("/", base_url=server_url):
        pasted = snippets(channel, options)
        assert links(channel).script.startswith(server_url)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>A blog</title></head><body>"
        "<h1>My blog</h1><section id='script-widget'>" + pasted["script"] + "</section>"
        "<section id='frame-widget'>" + pasted["iframe"] + "</section></body></html>"
    )


@pytest.fixture
def browser():
    with launched_chromium() as launched:
        yield launched


@pytest.mark.parametrize(
    "options",
    [WidgetOptions(count=3), WidgetOptions(count=5, layout="grid", theme="dark", ratings="hide")],
    ids=["list-auto", "grid-dark-no-ratings"],
)
def test_widgets_draw_a_private_channel_into_another_site(feedhub_server, browser, options):
    app, server = feedhub_server
    host = Flask("host")
    host.add_url_rule("/", "index", lambda: host_page(app, server.url, "home", options))
    # Another origin: the same loopback address under another name and port.
    with serve_in_thread(host) as other:
        page_url = other.url.replace("127.0.0.1", "localhost")
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_url)

        items = page.locator(".feedhub-widget .fh-item")  # Playwright's locators pierce shadow roots
        items.first.wait_for()
        assert items.count() == options.count
        headlines = page.locator(".feedhub-widget .fh-headline").all_inner_texts()
        assert headlines[0] == f"home watched {NASTY} (2001)"  # the injection, as text
        assert "home watched Braveheart (1995)" in headlines
        widget = page.locator(".feedhub-widget .fh")
        assert widget.get_attribute("class") == f"fh layout-{options.layout} theme-{options.theme}"
        stars = page.locator(".feedhub-widget .fh-stars").all_inner_texts()
        assert stars == ([] if options.ratings == "hide" else ["★★★★☆"])
        assert all("★" not in text for text in headlines) if options.ratings == "hide" else True
        # The link to the channel carries its token, and the box art came through.
        head_link = page.locator(".feedhub-widget .fh-head a").get_attribute("href")
        assert head_link.startswith(f"{server.url}c/home?token=")
        assert page.locator(".feedhub-widget img.fh-art").count() >= 1

        frame = page.frame_locator("#frame-widget iframe")
        frame_items = frame.locator(".fh-item")
        frame_items.first.wait_for()
        assert frame_items.count() == options.count
        assert frame.locator(".fh-headline").first.inner_text() == f"home watched {NASTY} (2001)"

        # Nothing ran: no injected element anywhere, no handler fired, no script error.
        assert page.evaluate("window.__pwned") is None
        assert page.evaluate("document.querySelector('.feedhub-widget').shadowRoot.querySelectorAll('img[src=\"x\"]').length") == 0
        assert frame.locator('img[src="x"]').count() == 0
        assert errors == []
        # The script was fetched cross-origin, and its data too.
        assert page.evaluate("location.origin") != server.url.rstrip("/")

        ARTIFACTS.mkdir(exist_ok=True)
        name = f"widget-{options.layout}-{options.theme}.png"
        page.set_viewport_size({"width": 900, "height": 1400})
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        assert (ARTIFACTS / name).stat().st_size > 10_000
        page.close()


def test_the_script_falls_back_to_a_link_when_the_channel_cannot_be_read(feedhub_server, browser):
    app, server = feedhub_server
    store = app.extensions["feedhub"].store
    token = store.channel("home").token
    script_url = f"{server.url}embed/home.js?token={token}"
    host = Flask("host")
    host.add_url_rule("/", "index", lambda: f"<!doctype html><body><script src='{html.escape(script_url)}'></script></body>")
    with serve_in_thread(host) as other:
        page = browser.new_page()
        page.route(f"{server.url}embed/home.json*", lambda route: route.fulfill(status=503, body="down"))
        page.goto(other.url)
        fallback = page.locator(".feedhub-widget .fh-head a")
        fallback.wait_for()
        assert fallback.inner_text() == "See this channel on feedhub"
        assert fallback.get_attribute("href") == f"{server.url}c/home?token={token}"
        page.close()


def test_the_channels_page_previews_the_widget_as_options_change(tmp_path, browser):
    app = create_app({"data_dir": tmp_path, "admin_password": "preview please"})
    store = app.extensions["feedhub"].store
    seed(store)
    token = store.channel("home").token
    with serve_in_thread(app) as server:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url + "login")
        page.fill("#password", "preview please")
        page.click("form[action='/login'] button[type=submit]")
        page.goto(server.url + "channels")
        card = page.locator("#channel-home")
        card.scroll_into_view_if_needed()
        card.locator("select[name=layout]").select_option("grid")
        card.locator("input[name=count]").fill("2")
        script = card.locator(".widget-snippets input").first
        assert script.input_value().startswith(f'<script src="{server.url}embed/home.js?token={token}&amp;count=2&amp;layout=grid" async>')
        assert card.locator("iframe.widget-preview").get_attribute("src") == f"{server.url}embed/home?token={token}&count=2&layout=grid"
        preview = page.frame_locator("#channel-home iframe.widget-preview")
        # Waits: the preview of the layout chosen first (four items) may still be showing.
        expect(preview.locator(".fh.layout-grid .fh-item")).to_have_count(2)
        assert errors == []
        ARTIFACTS.mkdir(exist_ok=True)
        card.screenshot(path=str(ARTIFACTS / "channels-page-preview.png"))
        page.close()
    app.extensions["feedhub"].close()
