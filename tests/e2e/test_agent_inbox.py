"""A live takeover round trip in two browsers: a citizen in the web chat, an agent in the inbox.

The real app (Rasa away: degraded mode), real Chromium. The citizen asks for a person; the agent,
logged in with the inbox open, sees the request appear, takes the conversation, reads the chat,
replies as a person and hands it back; the citizen sees each step in the widget. Screenshots go
to tests/output/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, expect

from bot.app import create_app
from bot.store import Database
from bot.store.kb_import import import_rows
from bot.store.users import Role, UserStore
from knowledge.importers import Parsed
from tests.browser import PATIENCE_MS
from tests.conftest import app_settings
from tests.e2e.chat_ui import ChatPage, run_axe, screenshot
from tests.e2e.conftest import RECORDS, PageWatch, with_chat_pages
from tests.e2e.live_server import closed_port, serve

pytestmark = pytest.mark.e2e
PASSWORD = "a long agent password"


@pytest.fixture(scope="module")
def handoff_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with agents on duty around the clock and a quick delivery loop."""
    folder = tmp_path_factory.mktemp("handoff-e2e")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
        UserStore(session).create("amy", PASSWORD, Role.STAFF, actor="test")
    database.dispose()
    settings = app_settings(
        database_url,
        folder,
        rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1},
        handoff={"agent_hours": "00:00-24:00", "delivery_poll_seconds": 0.2},
    )
    with serve(with_chat_pages(create_app(settings))) as url:
        yield url


@pytest.fixture
def open_context(browser: Browser, handoff_app: str) -> Iterator[Callable[..., Page]]:
    """A fresh browser context on the app, watched for script errors and requests off this machine."""
    opened: list[tuple[BrowserContext, PageWatch]] = []

    def new(**options: Any) -> Page:
        context = browser.new_context(locale="zh-TW", viewport={"width": 1100, "height": 800}, **options)
        context.set_default_timeout(PATIENCE_MS)
        watch = PageWatch()

        def on_request(request: Request) -> None:
            if not request.url.startswith((handoff_app, "data:", "blob:", "about:")):
                watch.outside.append(request.url)

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                watch.errors.append(message.text)

        context.on("request", on_request)
        context.on("console", on_console)
        context.on("weberror", lambda error: watch.errors.append(str(error.error)))
        opened.append((context, watch))
        return context.new_page()

    yield new
    for context, watch in opened:
        context.close()
        assert watch.errors == [], "a page reported errors"
        assert watch.outside == [], "a page made requests off this machine"


def _log_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "console/login")
    page.get_by_label("帳號").fill("amy")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_role("navigation", name="後台功能")).to_be_visible()


def test_a_live_takeover_round_trip_between_the_chat_and_the_inbox(
    open_context: Callable[..., Page], handoff_app: str
) -> None:
    # the agent logs in and keeps the inbox open (that is what makes them "present")
    agent = open_context()
    _log_in(agent, handoff_app)
    agent.get_by_role("navigation", name="後台功能").get_by_role("link", name="案件收件匣").click()
    expect(agent.get_by_role("heading", name="案件收件匣")).to_be_visible()
    expect(agent.locator("[data-queued]")).to_contain_text("目前沒有民眾在等候")

    # the citizen asks, is offered a person, and asks for one
    citizen = open_context()
    chat = ChatPage(citizen, handoff_app).open()
    chat.ask("房屋稅怎麼繳")
    chat.button("都不是，我要找專人").click()
    expect(chat.replies("handoff")).to_contain_text("已為您轉接客服專員，目前排在第 1 位")

    # the request shows up in the agent's queue by itself; the agent opens it and takes it
    waiting = agent.locator("[data-queued] a")
    expect(waiting).to_contain_text("網頁 民眾，已等候")
    waiting.click()
    transcript = agent.locator("[data-transcript]")
    expect(transcript).to_contain_text("房屋稅怎麼繳")
    expect(transcript).to_contain_text("（按下「轉接專人」）")
    agent.get_by_role("button", name="接手對話").click()
    expect(agent.locator(".flash")).to_contain_text("已接手對話")
    expect(agent.locator("[data-handoff-state]")).to_contain_text("您正在和民眾對話")
    expect(agent.get_by_role("button", name="接手對話")).to_be_hidden()

    # the citizen is told a person joined; from now on the bot stays silent
    expect(chat.replies("handoff").last).to_contain_text("客服專員已加入對話")
    bot_bubbles = chat.log.locator(".msg.bot").count()
    chat.ask("請問可以分期繳嗎？")
    expect(transcript).to_contain_text("請問可以分期繳嗎？")
    assert chat.log.locator(".msg.bot").count() == bot_bubbles, (
        "the bot said something while a person held it"
    )

    # the agent answers as a person; it reaches the citizen's chat, marked as a person's words
    agent.get_by_label("回覆民眾").fill("可以的，請帶繳款書到稅捐處臨櫃申請分期。")
    agent.get_by_role("button", name="送出").click()
    expect(agent.get_by_label("回覆民眾")).to_have_value("")
    from_person = chat.log.locator(".msg.agent")
    expect(from_person).to_contain_text("可以的，請帶繳款書到稅捐處臨櫃申請分期。")
    expect(from_person.locator(".who")).to_have_text("客服專員")
    expect(agent.locator(".line-agent .line-delivery")).to_have_text("已送達")
    screenshot(citizen, "takeover-citizen-chat")
    screenshot(agent, "takeover-agent-conversation", full_page=True)

    # the agent hands back: the citizen is told, and the bot answers again
    agent.get_by_role("button", name="交還智慧客服").click()
    expect(agent.locator("[data-handoff-state]")).to_contain_text("目前由智慧客服回覆")
    expect(agent.get_by_role("button", name="送出")).to_be_hidden()
    expect(chat.replies("handoff").last).to_contain_text("客服專員已離開對話")
    chat.ask("房屋稅什麼時候繳？")
    expect(chat.replies("answer").last).to_contain_text("房屋稅可以臨櫃、網路或信用卡繳納")

    # a reload keeps the whole exchange, the person's words included, without fetching it twice
    citizen.reload()
    expect(chat.log.locator(".msg.agent")).to_have_count(1)
    expect(chat.replies("handoff")).to_have_count(3)
    screenshot(citizen, "takeover-citizen-after-handback")

    # the conversation page passes axe (in a context of its own: axe goes in as an inline script)
    checker = open_context(bypass_csp=True)
    _log_in(checker, handoff_app)
    checker.goto(agent.url)
    expect(checker.locator("[data-transcript]")).to_contain_text("可以的，請帶繳款書到稅捐處臨櫃申請分期。")
    serious = [v for v in run_axe(checker, "agent-conversation") if v["impact"] in {"serious", "critical"}]
    assert serious == [], serious
