"""The dashboard in a real browser: headless Chromium (Debian's ``chromium``, which
``.ci/run`` installs) driven by Playwright, against feedhub and the emulator running on
loopback. Every step is done as a person would: typing, clicking, uploading.

Screenshots of each page at desktop (1280 px) and phone (390 px) widths are saved in
``tests/artifacts/`` (not kept in git).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from feedhub.config import load_settings
from feedhub.emulator.server import serve_in_thread
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.subscribe import add_url
from feedhub.web import create_app
from tests.chromium import RERUN_IF_THE_BROWSER_DIED, launched_chromium
from tests.conftest import start_emulator

pytestmark = RERUN_IF_THE_BROWSER_DIED

PASSWORD = "a long and correct password"
ARTIFACTS = Path(__file__).parent / "artifacts"
WIDTHS = {"desktop": 1280, "phone": 390}
HOME, ALEX, SAM = 0, 1, 2  # the emulator's users, one per scenario


class World:
    """The emulator and feedhub, both serving on loopback, and what the tests need of them."""

    def __init__(self, data_dir: Path) -> None:
        self.emulator, self._emulator_server = start_emulator(seed=11)
        settings = load_settings(
            {"data_dir": data_dir, "allow_private_networks": True, "poll_interval": 60, "admin_password": PASSWORD},
            environ={},
        )
        self.services = build_services(settings)
        self.services.now = self.emulator.clock.now
        self._server = serve_in_thread(create_app(services=self.services))
        self.url = self._server.url

    @property
    def store(self):
        return self.services.store

    def feeds_list(self, user: int, output: str = "xml") -> str:
        return self.emulator.feeds_list_url(self.emulator.base_url, user, output=output)

    def ensure_account(self, name: str, user: int):
        """The account, added and polled behind the browser's back when it is missing."""
        if name not in {a.name for a in self.store.accounts()}:
            add_url(self.store, self.services.fetcher, self.feeds_list(user), name, 60, self.services.now())
            poller = Poller(self.services)
            poller.poll_many(self.store.sources(self.store.account(name).id))
            poller.close()
        return self.store.account(name)

    def secrets(self) -> list[str]:
        values = [self.emulator.consumer_key]
        for user in self.emulator.users:
            t = user.tokens
            values += [t.queue, t.watched, t.recommendations, t.ratings, t.feeds_list]
        return values

    def close(self) -> None:
        self._server.stop()
        self._emulator_server.stop()
        self.services.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    made = World(tmp_path_factory.mktemp("browser"))
    yield made
    made.close()


@pytest.fixture  # one per test: a test run again (see RERUN_IF_THE_BROWSER_DIED) gets a new browser
def browser():
    with launched_chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, world):
    """A fresh browser tab (no cookies) that records what must never happen: a
    Content-Security-Policy violation, a script error, a request off this machine."""
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" and not _expected_error(m.text) else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))

    def only_loopback(route):
        if re.match(r"https?://127\.0\.0\.1:\d+/", route.request.url):
            route.continue_()
        else:
            problems.append(f"request off the machine: {route.request.url}")
            route.abort()

    tab.route("**/*", only_loopback)
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    assert problems == []


def _expected_error(text: str) -> bool:
    # The browser logs the status of answers that are errors on purpose (401 wrong
    # password, 400 missing CSRF token, 404 page).
    return text.startswith("Failed to load resource: the server responded with a status of")


def log_in(page, world) -> None:
    page.goto(world.url + "login")
    page.get_by_label("Admin password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(world.url)


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def assert_no_secret(page, world) -> None:
    html = page.content()
    for secret in world.secrets():
        assert secret not in html


def account_card(page, world, name: str):
    return page.locator(f"#account-{world.store.account(name).id}")


def wait_until_polled(card, count: int) -> None:
    """Until the card's ``count`` sources show a healthy badge (polled by the page)."""
    card.locator("tr.source .badge.ok").nth(count - 1).wait_for()
    card.page.wait_for_function("() => !document.querySelector('tr.polling')")


# the scenarios -------------------------------------------------------------------------------


def test_a_wrong_password_is_refused_and_the_right_one_logs_in(page, world):
    page.goto(world.url + "login")
    shoot(page, "login")
    page.get_by_label("Admin password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong password."
    assert page.get_by_role("button", name="Log out").count() == 0
    page.get_by_label("Admin password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(world.url)
    assert page.get_by_role("button", name="Log out").is_visible()
    assert page.get_by_role("link", name="Add", exact=True).is_visible()


def test_a_source_added_by_url_is_polled_and_its_entries_reach_the_timeline(page, world):
    if "home" in {a.name for a in world.store.accounts()}:
        world.store.remove_account("home")
    log_in(page, world)
    page.get_by_role("link", name="Add an account").click()
    shoot(page, "add")
    page.get_by_label("Feeds-list, OPML or feed URL").fill(world.feeds_list(HOME))
    page.locator("#add-url-name").fill("home")
    page.get_by_role("button", name="Read it and preview").click()
    page.wait_for_url(re.compile(r"/admin/add/[\w-]+$"))
    assert "This is a Netflix feeds list" in page.inner_text("main")
    assert page.locator("table.preview tbody tr").count() == 5
    assert "home" not in {a.name for a in world.store.accounts()}  # nothing created yet
    shoot(page, "preview")
    assert_no_secret(page, world)
    page.get_by_role("button", name="Create the account").click()
    page.wait_for_url(re.compile(r"/#account-\d+$"))
    assert "Added home with 5 sources; polling them now." in page.get_by_role("status").first.inner_text()
    card = account_card(page, world, "home")
    wait_until_polled(card, 5)  # the page polled them at once, in view
    assert all(s.last_outcome == "ok" for s in world.store.sources(world.store.account("home").id))
    assert card.locator("svg.spark").count() == 5
    page.get_by_role("link", name="Timeline", exact=True).click()
    page.get_by_label("Account").select_option("home")
    page.get_by_role("button", name="Show").click()
    headlines = page.locator(".timeline .headline").all_inner_texts()
    assert len(headlines) == 50 and all("home" in h for h in headlines)
    assert page.locator(".timeline img.art").count() > 0  # box art from the emulator
    page.goto(world.url)
    assert_no_secret(page, world)


def test_an_opml_file_is_uploaded_previewed_then_created(page, world):
    if "alex" in {a.name for a in world.store.accounts()}:
        world.store.remove_account("alex")
    body = world.services.fetcher.fetch(world.feeds_list(ALEX, output="opml")).body
    log_in(page, world)
    page.goto(world.url + "admin/add")
    page.get_by_label("OPML file").set_input_files({"name": "alex.opml", "mimeType": "text/x-opml", "buffer": body})
    page.locator("#add-opml-name").fill("alex")
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/admin/add/[\w-]+$"))
    assert "This is an OPML document, Personal Netflix Feeds." in page.inner_text("main")
    assert page.locator("table.preview tbody tr").count() == 5
    assert "alex" not in {a.name for a in world.store.accounts()}  # nothing yet
    page.get_by_role("button", name="Create the account").click()
    page.wait_for_url(re.compile(r"/#account-\d+$"))
    wait_until_polled(account_card(page, world, "alex"), 5)
    assert len(world.store.sources(world.store.account("alex").id)) == 5


def test_a_source_is_paused_resumed_polled_now_and_its_account_removed(page, world):
    alex = world.ensure_account("alex", ALEX)
    source = world.store.sources(alex.id)[0]
    log_in(page, world)
    row = page.locator(f"#source-{source.id}")
    row.get_by_role("button", name=re.compile("^Pause")).click()
    row = page.locator(f"#source-{source.id}")
    assert row.locator(".badge").inner_text() == "paused"
    assert world.store.source(source.id).state == "paused"
    row.get_by_role("button", name=re.compile("^Resume")).click()
    row = page.locator(f"#source-{source.id}")
    assert row.locator(".badge").inner_text() != "paused"
    assert world.store.source(source.id).state == "active"

    # Poll now: progress and result in place, without a reload.
    world.emulator.advance(900)
    polls_before = len(world.store.recent_polls(source.id))
    page.evaluate("window.notReloaded = true")
    row.get_by_role("button", name=re.compile("^Poll .* now$")).click()
    status = page.locator(f"#source-{source.id} .poll-status")
    status.filter(has_text=re.compile(r"\(\d+ ms\)$")).wait_for()
    assert re.match(r"(ok|not modified) — ", status.inner_text())
    assert page.evaluate("window.notReloaded") is True
    assert len(world.store.recent_polls(source.id)) == polls_before + 1

    # Remove the account, after a confirmation.
    account_card(page, world, "alex").get_by_role("link", name=re.compile("^Manage")).click()
    shoot(page, "account")
    page.get_by_role("link", name="Remove alex…").click()
    assert "Remove alex?" in page.inner_text("h1")
    shoot(page, "remove")
    page.get_by_role("button", name="Remove alex").click()
    page.wait_for_url(world.url)
    assert "Removed alex" in page.inner_text("main")
    assert "alex" not in {a.name for a in world.store.accounts()}
    assert page.locator("h3", has_text=re.compile("^alex$")).count() == 0


def test_an_account_whose_tokens_were_revoked_gets_a_new_feeds_list_url_and_recovers(page, world):
    sam = world.ensure_account("sam", SAM)
    entries = {s.id: s.entry_count for s in world.store.sources(sam.id)}
    world.emulator.revoke(SAM)  # every old token of the user now gets 401
    world.emulator.advance(600)
    log_in(page, world)
    first = world.store.sources(sam.id)[0]
    page.locator(f"#source-{first.id}").get_by_role("button", name=re.compile("^Poll .* now$")).click()
    page.locator(f"#source-{first.id} .badge.token").wait_for()
    page.reload()
    card = account_card(page, world, "sam")
    assert card.locator(".badge.token").count() == 5
    assert all(t == "needs new tokens" for t in card.locator(".badge").all_inner_texts())
    assert "sam needs new tokens." in page.get_by_role("alert").first.inner_text()
    shoot(page, "needs-tokens")
    page.get_by_role("link", name="Give sam a new feeds-list URL").click()
    page.get_by_label("New feeds-list URL").fill(world.feeds_list(SAM))
    page.get_by_role("button", name="Use the new URL and resume").click()
    page.wait_for_url(re.compile(r"/#account-\d+$"))
    card = account_card(page, world, "sam")
    wait_until_polled(card, 5)
    sources = world.store.sources(sam.id)
    assert {s.id for s in sources} == set(entries) and all(s.state == "active" for s in sources)
    assert all(s.entry_count >= entries[s.id] for s in sources)  # nothing lost
    assert_no_secret(page, world)


def test_a_post_without_the_csrf_token_is_refused(page, world):
    alex = world.ensure_account("alex", ALEX)
    log_in(page, world)
    source = world.store.sources(alex.id)[0]
    # The browser's own session (logged in), but a form that did not come from feedhub.
    response = page.request.post(world.url + f"admin/sources/{source.id}/pause", form={"back": "dashboard"}, max_redirects=0)
    assert response.status == 400 and "CSRF" in response.text()
    assert world.store.source(source.id).state == "active"


def test_a_title_with_markup_shows_as_text(page, world):
    world.ensure_account("home", HOME)
    names = [a.title.name for _, a in world.store.activities(limit=500)]
    marked = next(n for n in names if "<" in n)
    log_in(page, world)
    page.goto(world.url + "timeline")
    page.get_by_label("Search titles and people").fill(marked)
    page.get_by_role("button", name="Show").click()
    headline = page.locator(".timeline .headline").first
    assert marked in headline.inner_text()  # the characters, shown as text
    assert headline.locator("a > *").count() == 0  # and no element made of them
    shoot(page, "timeline")


def test_every_page_at_desktop_and_phone_widths(page, world):
    """The remaining screenshots; the pages must not scroll sideways on a phone."""
    world.ensure_account("home", HOME)
    log_in(page, world)
    for path, name in [("", "dashboard"), ("timeline?kind=ratings", "timeline-ratings"), ("no-such-page", "not-found")]:
        page.goto(world.url + path)
        shoot(page, name)
        page.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways on a phone by {overflow}px"
        page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
    page.goto(world.url)
    channels = page.get_by_role("link", name="Channels", exact=True)
    if channels.count():
        channels.click()
        shoot(page, "channels")
