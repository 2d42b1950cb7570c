"""The embeddable widget: one script tag gives any page a launcher and the same chat."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.chat_ui import PHONE, ChatPage, focused, screenshot
from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.e2e


def test_the_launcher_opens_the_chat_on_a_host_page(
    new_context: Callable[..., tuple[BrowserContext, Page]], live_app: LiveApp
) -> None:
    _, page = new_context(**PHONE)
    page.goto(live_app.url + "embed")
    expect(page.locator("pre")).to_contain_text(
        f'<script src="{live_app.url}widget.js" data-bot1999-endpoint='
    )
    launcher = page.get_by_role("button", name="1999 客服")
    chat = ChatPage(page, live_app.url)
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(chat.input).to_be_hidden()
    screenshot(page, "embed-360-closed")

    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(chat.input).to_be_focused()
    chat.ask("舊沙發要怎麼丟")
    expect(chat.replies("answer")).to_contain_text("請先打電話給清潔隊預約時間")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    screenshot(page, "embed-360-open")

    page.keyboard.press("Escape")
    expect(chat.input).to_be_hidden()
    assert focused(page)["text"].endswith("1999 客服")
    page.reload()  # still closed, and the conversation is still there when opened
    expect(chat.input).to_be_hidden()
    launcher.click()
    expect(chat.replies("answer")).to_have_count(1)
    form = page.get_by_role("link", name="線上反映表單").last
    expect(form).to_have_attribute("href", live_app.url + "cases/new")


def test_loading_the_script_twice_makes_one_launcher(page: Page, live_app: LiveApp) -> None:
    page.goto(live_app.url + "embed")
    expect(page.get_by_role("button", name="1999 客服")).to_have_count(1)
    page.add_script_tag(url=live_app.url + "widget.js")
    page.wait_for_timeout(300)
    expect(page.get_by_role("button", name="1999 客服")).to_have_count(1)


def test_a_script_in_the_head_without_defer_waits_for_the_page(page: Page, live_app: LiveApp) -> None:
    url = live_app.url
    page.set_content(
        '<!doctype html><html lang="zh-Hant-TW"><head><title>某機關網站</title>'
        f'<script src="{url}widget.js" data-bot1999-endpoint="{url}"></script></head>'
        "<body><main><h1>某機關網站</h1></main></body></html>"
    )
    launcher = page.get_by_role("button", name="1999 客服")
    expect(launcher).to_be_visible()
    launcher.click()
    form = page.get_by_role("link", name="線上反映表單")
    expect(form).to_have_attribute("href", url + "cases/new")
    expect(form).to_have_attribute("target", "_blank")  # another site: the bot's pages open apart
