"""Debian's Chromium under Playwright, one per test session for every suite that needs a browser.

One session-wide Playwright: a second ``sync_playwright()`` while the first is alive fails
("Sync API inside the asyncio loop"), so the e2e and security suites share this fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (skipped without it, except in CI, where it fails)."""
    from tests.conftest import _unavailable

    if not CHROMIUM.is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (make browser installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
