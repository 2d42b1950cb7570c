"""Debian's Chromium under Playwright, one per test module for every suite that needs a browser.

One Playwright at a time: a second ``sync_playwright()`` while the first is alive fails
("Sync API inside the asyncio loop"), so the e2e and security suites share this fixture.
And only while a module needs it: Playwright's sync API keeps an asyncio loop running in
the main thread, in which no later test could call ``asyncio.run()``. Under pytest-xdist
the browser tests run on one worker beside others (tests/conftest.py), so the browser
stops when its module's tests are done.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.waiting import PATIENCE

# How long a page action or an ``expect`` waits before the test fails: bounds a hang only (CI's
# machine is at times loaded or at half speed); a passing check returns as soon as it holds.
PATIENCE_MS = int(PATIENCE * 1000)

CHROMIUM = Path(os.environ.get("BOT1999_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (skipped without it, except in CI, where it fails)."""
    from tests.conftest import _unavailable

    if not CHROMIUM.is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (make browser installs it)")
    expect.set_options(timeout=PATIENCE_MS)  # Playwright's own default is 5 s
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
