"""Learning from failure in a real browser: citizens' unanswered phrasings become an FAQ's
alternative questions through the console, and the chat answers them afterwards.

This module runs its own app (its knowledge base changes), so other browser tests' data stays put.
Screenshots go to tests/output/screenshots, axe-core results to tests/output/axe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
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
from tests.e2e.conftest import RECORDS, with_chat_pages
from tests.e2e.live_server import closed_port, serve
from tests.factories import faq

pytestmark = pytest.mark.e2e

PASSWORD = "a long failures password"
ROAD_ANSWER = "請撥1999通報坑洞位置，養護工程處會在4小時內派員勘查修補。"
ROAD = faq(
    "F-9",
    question="道路路面破損如何通報修復？",
    answer=ROAD_ANSWER,
    alt_questions=[],
    agency="工務局",
    category="道路",
    keywords=[],
)
POTHOLES = ["路上的坑洞要找誰補", "馬路有坑洞找誰補", "路上有坑洞要找誰修"]


@dataclass
class Watch:
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app over its own SQLite store: the fixture FAQs, a road-repair entry, a staff user."""
    folder: Path = tmp_path_factory.mktemp("failures-e2e")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        rows = [Parsed(f"line {n}", r) for n, r in enumerate([*RECORDS, ROAD], 1)]
        import_rows(session, rows, actor="test")
        UserStore(session).create("e2e-staff", PASSWORD, Role.STAFF, actor="test", display_name="測試客服")
    database.dispose()
    rasa = {"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    app = with_chat_pages(create_app(app_settings(database_url, folder, rasa=rasa)))
    with serve(app) as url:
        yield url


@pytest.fixture
def open_page(browser: Browser, app_url: str) -> Iterator[Callable[..., Page]]:
    """A fresh browser context (its own cookies) and page; script errors or outside requests fail the test."""
    opened: list[tuple[BrowserContext, Watch]] = []

    def open_one(**options: Any) -> Page:
        context = browser.new_context(locale="zh-TW", viewport={"width": 1280, "height": 900}, **options)
        context.set_default_timeout(PATIENCE_MS)
        watch = Watch()

        def on_request(request: Request) -> None:
            if not request.url.startswith((app_url, "data:", "about:", "blob:")):
                watch.outside.append(request.url)

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                watch.errors.append(message.text)

        context.on("request", on_request)
        context.on("console", on_console)
        context.on("weberror", lambda error: watch.errors.append(str(error.error)))
        opened.append((context, watch))
        return context.new_page()

    yield open_one
    for context, watch in opened:
        context.close()
        assert watch.errors == [], "the page reported script or CSP errors"
        assert watch.outside == [], "the page made requests off this machine"


def _serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in {"serious", "critical"}]


def test_staff_turn_an_unanswered_cluster_into_alternative_questions(
    open_page: Callable[..., Page], app_url: str
) -> None:
    for text in [*POTHOLES, POTHOLES[0]]:  # four citizens, each in their own browser
        citizen = ChatPage(open_page(), app_url).open()
        citizen.ask(text)
        expect(citizen.replies("abstain")).to_have_count(1)

    page = open_page(bypass_csp=True)  # axe is injected as an inline script
    page.goto(f"{app_url}console/failures")
    expect(page).to_have_url(f"{app_url}console/login?next=%2Fconsole%2Ffailures")
    page.get_by_label("帳號").fill("e2e-staff")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("未答問題")
    queue = page.get_by_role("table").first
    expect(queue).to_contain_text("4 個未答問題，1 群")
    row = queue.get_by_role("row").filter(has_text=POTHOLES[0])
    expect(row.get_by_role("cell").nth(1)).to_have_text("4")  # asked four times
    expect(row.get_by_role("cell").nth(2)).to_have_text("4")  # by four people
    screenshot(page, "failures-queue", full_page=True)
    assert _serious(run_axe(page, "failures-queue")) == []

    row.get_by_role("link", name=POTHOLES[0]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"「{POTHOLES[0]}」")
    page.get_by_label("搜尋題目").fill("道路")
    page.get_by_role("button", name="搜尋").click()
    chosen = page.get_by_role("radio", name="F-9")
    expect(chosen).to_be_checked()
    for n in range(3):
        expect(page.get_by_role("checkbox").nth(n)).to_be_checked()
    screenshot(page, "failures-cluster", full_page=True)
    assert _serious(run_axe(page, "failures-cluster")) == []
    page.get_by_role("button", name="加入為其他問法").click()
    expect(page.get_by_role("status")).to_contain_text("已將 3 個問法加入 F-9 的其他問法（已上線")
    expect(page.get_by_role("table").first).not_to_contain_text(POTHOLES[0])
    screenshot(page, "failures-resolved", full_page=True)

    page.get_by_role("link", name="測試機器人").first.click()
    page.get_by_label("問題").fill(POTHOLES[2])
    page.get_by_role("button", name="測試").click()
    expect(page.locator("[data-decision]")).to_have_text("直接回答")
    expect(page.get_by_role("table")).to_contain_text("道路路面破損如何通報修復？")
    screenshot(page, "failures-test-bot", full_page=True)
    assert _serious(run_axe(page, "failures-test-bot")) == []

    citizen = ChatPage(open_page(), app_url).open()
    citizen.ask(POTHOLES[1])
    expect(citizen.replies("answer")).to_have_count(1)
    expect(citizen.replies("answer").last).to_contain_text(ROAD_ANSWER)
    screenshot(citizen.page, "failures-chat-answers")
