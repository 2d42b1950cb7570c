"""Keyboard-only use, axe-core (WCAG 2.1 AA) on the chat and the case form, and a 360 px screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.chat_ui import PHONE, ChatPage, focused, has_focus_ring, run_axe, screenshot
from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.e2e


def _serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in {"serious", "critical"}]


def test_the_chat_works_with_the_keyboard_alone(page: Page, live_app: LiveApp) -> None:
    chat = ChatPage(page, live_app.url).open()
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["text"] == "跳到輸入框"
    assert has_focus_ring(skip)
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "bot1999-input"

    page.keyboard.type("舊沙發")
    page.keyboard.press("Shift+Enter")  # a new line, not a send
    page.keyboard.type("要怎麼丟")
    expect(chat.mine()).to_have_count(0)
    expect(chat.input).to_have_value("舊沙發\n要怎麼丟")
    page.keyboard.press("Control+A")
    page.keyboard.type("舊沙發要怎麼丟")
    page.keyboard.press("Enter")
    expect(chat.replies("answer")).to_have_count(1)
    assert focused(page)["id"] == "bot1999-input"

    page.keyboard.press("Tab")
    send = focused(page)
    assert (send["text"], has_focus_ring(send)) == ("送出", True)

    seen: list[str] = []
    for _ in range(12):  # back through the tools into the answer's feedback buttons
        page.keyboard.press("Shift+Tab")
        now = focused(page)
        assert has_focus_ring(now), f"no visible focus on {now}"
        seen.append(now["text"])
        if now["text"] == "有幫助":
            break
    assert seen[-1] == "有幫助", f"feedback buttons not reachable by Tab: {seen}"
    assert {"清除對話", "線上反映表單", "分享位置", "沒幫助"} <= set(seen)
    page.keyboard.press("Enter")
    expect(chat.log.locator(".msg.bot").last).to_contain_text("謝謝您的回饋！")
    assert focused(page)["id"] == "bot1999-input", "after a choice the focus returns to the input"


def test_no_serious_accessibility_violations_on_the_chat_and_the_form(
    new_context: Callable[..., tuple[BrowserContext, Page]], live_app: LiveApp
) -> None:
    _, page = new_context(bypass_csp=True)  # axe is injected as an inline script
    chat = ChatPage(page, live_app.url).open()
    assert _serious(run_axe(page, "chat-empty")) == []
    chat.ask("房屋稅怎麼繳")
    chat.button("房屋稅什麼時候繳？").click()
    expect(chat.replies("feedback")).to_have_count(1)
    assert _serious(run_axe(page, "chat-conversation")) == []
    page.goto(live_app.url + "cases/new")
    assert _serious(run_axe(page, "case-form")) == []
    page.goto(live_app.url + "embed")
    page.get_by_role("button", name="1999 客服").click()
    embedded = ChatPage(page, live_app.url)
    expect(embedded.input).to_be_focused()
    embedded.ask("舊沙發要怎麼丟")  # the same tab and service: the conversation carries on
    expect(embedded.replies("feedback")).to_have_count(2)
    assert _serious(run_axe(page, "embed-open")) == []


def test_a_360_px_screen(new_context: Callable[..., tuple[BrowserContext, Page]], live_app: LiveApp) -> None:
    _, page = new_context(**PHONE)
    chat = ChatPage(page, live_app.url).open()
    chat.ask("房屋稅怎麼繳")
    expect(chat.replies("clarify")).to_have_count(1)
    chat.button("房屋稅什麼時候繳？").click()
    expect(chat.replies("feedback")).to_have_count(1)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, "no sideways scrolling"
    send = page.get_by_role("button", name="送出")
    expect(send).to_be_in_viewport()
    box = send.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 360
    assert box["height"] >= 44, "touch targets are at least 44 px high"
    screenshot(page, "chat-360")
    screenshot(page, "chat-360-full", full_page=True)
