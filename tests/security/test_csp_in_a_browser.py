"""The Content-Security-Policy in a real browser: the pages need nothing it forbids.

Every citizen page and the console's log-in page load in Chromium with the policy on and
not one violation reported, and the plain pages get their style from the stylesheet file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from bot.app import create_app
from tests.conftest import app_settings
from tests.e2e.live_server import closed_port, serve
from tests.security.conftest import seed

pytestmark = pytest.mark.e2e


def test_the_pages_load_without_a_single_violation(browser: Browser, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    seed(url)
    settings = app_settings(
        url, tmp_path, rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    )
    violations: list[str] = []
    with serve(create_app(settings)) as base:
        context = browser.new_context(locale="zh-TW")
        page = context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
                violations.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        for path in ("", "embed", "cases/new", "console/login"):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
        page.goto(base + "cases/new")
        heading = page.evaluate("() => getComputedStyle(document.querySelector('h1')).color")
        checkbox = page.evaluate("() => getComputedStyle(document.querySelector('.consent input')).width")
        context.close()
    assert violations == []
    assert heading == "rgb(11, 83, 148)", "the case form's stylesheet applies"
    assert checkbox != "100%"
