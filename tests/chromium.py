"""Debian's ``chromium`` launched by Playwright for the browser tests (no browser is
downloaded; ``.ci/run`` installs the package)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# This machine's network is closed, so the browser's own traffic (updates, sync, QUIC
# probes) is switched off. Shared memory can be small in a container (/dev/shm of
# 64 MiB), where Chromium's renderers then crash; /tmp serves instead.
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(FLAGS))
        try:
            yield browser
        finally:
            browser.close()
