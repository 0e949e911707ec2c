"""Debian's ``chromium`` launched by Playwright for the browser tests (no browser is
downloaded; ``.ci/run`` installs the package)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Beside Playwright's own defaults (which already turn off /dev/shm, updates and most
# background traffic): as root there is no sandbox, there is no GPU, and the machine's
# network is closed, so sync and QUIC probes only fail.
FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync", "--disable-quic")

# For a browser test module's ``pytestmark``. Once in a full CI run, Chromium died in
# the middle of a test ("Target page, context or browser has been closed"), a test that
# passed every time here (twenty runs and more): such a test runs once more, with a new
# browser. A failed assertion, or any other error, fails at once as before.
RERUN_IF_THE_BROWSER_DIED = pytest.mark.flaky(reruns=1, only_rerun=["TargetClosedError"])


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(FLAGS))
        try:
            yield browser
        finally:
            browser.close()
