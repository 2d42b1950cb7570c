"""Network drops: queued while offline, resent with backoff when back, delivered exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect
from sqlalchemy import func, select

from bot.store import Database
from bot.store.models import TurnRow
from tests.e2e.chat_ui import ChatPage, screenshot
from tests.e2e.conftest import TAX_WAYS, LiveApp
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def _turns_with_text(live_app: LiveApp, text: str) -> int:
    database = Database(live_app.database_url)
    with database.session() as session:
        count = session.scalar(select(func.count()).select_from(TurnRow).where(TurnRow.text == text))
    database.dispose()
    return int(count or 0)


def test_a_message_sent_offline_is_delivered_once_when_back_online(
    new_context: Callable[..., tuple[BrowserContext, Page]], live_app: LiveApp
) -> None:
    context, page = new_context()
    chat = ChatPage(page, live_app.url).open()
    chat.ask("舊沙發要怎麼丟")
    expect(chat.replies("answer")).to_have_count(1)

    question = "房屋稅什麼時候繳？"
    context.set_offline(True)
    chat.ask(question)
    expect(chat.offline_banner).to_contain_text("目前離線")
    expect(chat.offline_banner).to_be_in_viewport()
    expect(chat.mine(question)).to_contain_text("尚未送出")
    chat.button("有幫助").click()  # a second message waits behind the first, in order
    expect(chat.mine("有幫助")).to_contain_text("尚未送出")
    screenshot(page, "chat-offline")
    page.wait_for_timeout(1500)
    expect(chat.replies("answer")).to_have_count(1)

    context.set_offline(False)
    expect(chat.replies("answer")).to_have_count(2)
    expect(chat.replies("answer").last).to_contain_text(TAX_WAYS)
    expect(chat.log.locator(".msg.bot").last).to_contain_text("謝謝您的回饋！")
    expect(chat.offline_banner).to_be_hidden()
    expect(chat.mine(question)).not_to_contain_text("尚未送出")
    page.wait_for_timeout(1000)  # nothing more arrives later
    expect(chat.mine(question)).to_have_count(1)
    expect(chat.replies("answer")).to_have_count(2)
    assert _turns_with_text(live_app, question) == 1


def test_an_unreachable_server_is_retried_with_backoff_across_a_reload(page: Page, live_app: LiveApp) -> None:
    attempts: list[float] = []  # when each try reached the route (after the browser sent it)
    loaded: list[int] = []  # how many tries there were when a new document took the page

    def unreachable(route: Route) -> None:
        attempts.append(time.monotonic())
        route.abort("connectionrefused")  # the browser learns of the failure only after the append

    chat = ChatPage(page, live_app.url).open()
    page.route("**/api/chat", unreachable)
    page.on(
        "framenavigated", lambda frame: loaded.append(len(attempts)) if frame == page.main_frame else None
    )
    question = "房屋稅期限"
    chat.ask(question)
    expect(chat.offline_banner).not_to_be_empty()
    expect(chat.mine(question)).to_contain_text("尚未送出")
    page.reload()  # the queued message is kept and tried again
    expect(chat.mine(question)).to_have_count(1)
    first = loaded[-1]  # the reloaded page's tries come after this many
    wait_until(
        lambda: len(attempts) >= first + 3,
        what="three tries of the reloaded page",
        sleep=lambda seconds: page.wait_for_timeout(seconds * 1000),
    )
    # backoff: 1 s, then 2 s (each ±25 %) after a failed try; a try is sent only after the failure
    # of the one before reached the browser, so on a slow machine the gaps only grow
    tries = attempts[first : first + 3]
    assert tries[1] - tries[0] >= 0.75, "the first retry waited"
    assert tries[2] - tries[1] >= 1.5, "the second retry waited longer"

    page.unroute("**/api/chat")
    expect(chat.replies("answer")).to_contain_text(TAX_WAYS)
    expect(chat.mine(question)).to_have_count(1)
    expect(chat.offline_banner).to_be_hidden()
    assert _turns_with_text(live_app, question) == 1


def test_a_rate_limited_message_waits_as_long_as_retry_after_says(page: Page, live_app: LiveApp) -> None:
    attempts: list[float] = []

    def limited_once(route: Route) -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            route.fulfill(
                status=429,
                headers={"Retry-After": "3", "Content-Type": "application/json"},
                body='{"detail": "請稍後再試", "retry_after": 3}',
            )
        else:
            route.continue_()

    chat = ChatPage(page, live_app.url).open()
    page.route("**/api/chat", limited_once)
    question = "房屋稅期限"
    before = _turns_with_text(live_app, question)
    chat.ask(question)
    expect(chat.offline_banner).to_contain_text("訊息傳得太快了，3 秒後會自動送出")
    expect(chat.mine(question)).to_contain_text("尚未送出")
    screenshot(page, "chat-rate-limited")
    expect(chat.replies("answer")).to_contain_text(TAX_WAYS)
    assert len(attempts) == 2, "one refusal, one retry: no retries inside the wait"
    assert attempts[1] - attempts[0] >= 3.0, "it waited the Retry-After seconds"
    expect(chat.offline_banner).to_be_hidden()
    assert _turns_with_text(live_app, question) == before + 1


def test_a_busy_cluster_is_not_called_a_rate_limit(page: Page, live_app: LiveApp) -> None:
    """503 with Retry-After (the balancer with no replica free): the widget waits as told and
    says the service is briefly away, not that the citizen typed too fast."""
    attempts: list[float] = []

    def unavailable_once(route: Route) -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            route.fulfill(
                status=503,
                headers={"Retry-After": "2", "Content-Type": "text/plain; charset=utf-8"},
                body="no bot replica is available; try again shortly\n",
            )
        else:
            route.continue_()

    chat = ChatPage(page, live_app.url).open()
    page.route("**/api/chat", unavailable_once)
    question = "房屋稅期限"
    chat.ask(question)
    expect(chat.offline_banner).to_contain_text("暫時連不上客服系統")
    expect(chat.offline_banner).not_to_contain_text("太快")
    expect(chat.replies("answer")).to_contain_text(TAX_WAYS)
    assert len(attempts) == 2, "one refusal, one retry"
    assert attempts[1] - attempts[0] >= 2.0, "it waited the Retry-After seconds"
    expect(chat.offline_banner).to_be_hidden()
