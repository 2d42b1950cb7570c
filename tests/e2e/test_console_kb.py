"""The staff console in a real browser: edit and publish an FAQ and see the chat answer change,
a supervisor refused the editor, and axe-core on every console page.

This module runs its own app (the knowledge base changes here), so the chat tests' data stays put.
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
from tests.e2e.chat_ui import ChatPage, docs_screenshot, run_axe, screenshot
from tests.e2e.conftest import RECORDS, with_chat_pages
from tests.e2e.live_server import closed_port, serve

pytestmark = pytest.mark.e2e

PASSWORD = "a long console password"
NEW_ANSWER = "自今年起，房屋稅改為每年十一月開徵，可臨櫃、網路或信用卡繳納。"


@dataclass
class Watch:
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app over its own SQLite store: the fixture FAQs and one user per role."""
    folder: Path = tmp_path_factory.mktemp("console-e2e")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
        users = UserStore(session)
        for role in Role:
            users.create(f"e2e-{role.value}", PASSWORD, role, actor="test", display_name=f"測試{role.value}")
    database.dispose()
    rasa = {"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    app = with_chat_pages(create_app(app_settings(database_url, folder, rasa=rasa)))
    with serve(app) as url:
        yield url


@pytest.fixture
def open_page(browser: Browser, console_url: str) -> Iterator[Callable[..., Page]]:
    """A fresh browser context (its own cookies) and page; script errors or outside requests fail the test."""
    opened: list[tuple[BrowserContext, Watch]] = []

    def open_one(**options: Any) -> Page:
        context = browser.new_context(locale="zh-TW", viewport={"width": 1280, "height": 900}, **options)
        context.set_default_timeout(PATIENCE_MS)
        watch = Watch()

        def on_request(request: Request) -> None:
            if not request.url.startswith((console_url, "data:", "about:")):
                watch.outside.append(request.url)

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                watch.errors.append(message.text)

        context.on("request", on_request)
        context.on("console", on_console)
        context.on("weberror", lambda error: watch.errors.append(str(error.error)))
        opened.append((context, watch))
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # data-confirm asks before destructive actions
        return page

    yield open_one
    for context, watch in opened:
        context.close()
        assert watch.errors == [], "the console reported script or CSP errors"
        assert watch.outside == [], "the console made requests off this machine"


def _log_in(page: Page, base: str, role: str, target: str = "console") -> None:
    page.goto(f"{base}{target}")
    expect(page).to_have_url(f"{base}console/login?next=%2F{target.replace('/', '%2F')}")
    page.get_by_label("帳號").fill(f"e2e-{role}")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_role("button", name="登出")).to_be_visible()


def _serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in {"serious", "critical"}]


def test_staff_edit_and_publish_and_the_chat_answers_anew(
    open_page: Callable[..., Page], console_url: str
) -> None:
    citizen = ChatPage(open_page(), console_url).open()
    citizen.ask("房屋稅什麼時候繳？")
    expect(citizen.replies("answer")).to_have_count(1)
    expect(citizen.replies("answer").last).to_contain_text("每年五月開徵")

    page = open_page()
    _log_in(page, console_url, "staff", "console/kb")
    page.get_by_label("關鍵字").fill("房屋稅")
    page.get_by_role("button", name="搜尋").click()
    expect(page.get_by_role("table")).to_contain_text("房屋稅什麼時候繳？")
    screenshot(page, "console-kb-list")
    docs_screenshot(page, "console")  # the README's (make screenshots)
    page.get_by_role("link", name="房屋稅什麼時候繳？").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("F-2")

    page.get_by_label("回答", exact=True).fill(NEW_ANSWER)
    page.get_by_role("button", name="預覽回答").click()
    expect(page.locator(".chat-preview")).to_contain_text(NEW_ANSWER)
    expect(page.locator(".chat-preview")).to_contain_text("這個回答有幫助嗎？")
    screenshot(page, "console-kb-preview", full_page=True)

    page.get_by_role("button", name="發布", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("已發布 F-2")

    # the replica that took the publish answers with it at once (others follow within a second)
    page.goto(f"{console_url}console/kb/try?q=房屋稅什麼時候繳")
    expect(page.locator(".chat-preview")).to_contain_text(NEW_ANSWER)

    citizen.ask("房屋稅什麼時候繳？")
    expect(citizen.replies("answer")).to_have_count(2)
    expect(citizen.replies("answer").last).to_contain_text(NEW_ANSWER)
    screenshot(citizen.page, "console-kb-chat-after-publish")

    page.goto(f"{console_url}console/kb/faq/F-2/history")
    expect(page.locator("ins").first).to_be_visible()
    screenshot(page, "console-kb-history", full_page=True)


def test_a_supervisor_is_refused_the_kb_editor(open_page: Callable[..., Page], console_url: str) -> None:
    page = open_page()
    _log_in(page, console_url, "supervisor")
    expect(page.get_by_role("navigation", name="後台功能")).not_to_contain_text("知識庫")
    response = page.goto(f"{console_url}console/kb/faq/F-1")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("沒有權限")
    expect(page.get_by_label("回答", exact=True)).to_have_count(0)
    screenshot(page, "console-kb-refused")
    page.get_by_role("button", name="登出").click()
    expect(page).to_have_url(f"{console_url}console/login")
    page.goto(f"{console_url}console/kb")
    expect(page.get_by_role("heading", level=1)).to_have_text("登入後台")


def test_no_serious_accessibility_violations_in_the_console(
    open_page: Callable[..., Page], console_url: str
) -> None:
    page = open_page(bypass_csp=True)  # axe is injected as an inline script
    page.goto(f"{console_url}console/login")
    assert _serious(run_axe(page, "console-login")) == []
    _log_in(page, console_url, "admin")
    pages = {
        "console-home": "console",
        "console-kb": "console/kb",
        "console-kb-stale": "console/kb?stale=yes",
        "console-kb-edit": "console/kb/faq/F-3?ask=房屋稅可以刷卡嗎",
        "console-kb-new": "console/kb/new",
        "console-kb-history": "console/kb/faq/F-1/history",
        "console-kb-try": "console/kb/try?q=舊沙發要怎麼丟",
        "console-synonyms": "console/kb/synonyms?test=當兵要帶什麼",
        "console-import": "console/kb/import",
        "console-review": "console/kb/review",  # with items and runs: tests/e2e/test_console_review.py
        "console-duplicates": "console/kb/duplicates",
        "console-users": "console/users",
        "console-audit": "console/audit",
        "console-account": "console/account",
    }
    problems = {}
    for name, path in pages.items():
        page.goto(console_url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        serious = _serious(run_axe(page, name))
        if serious:
            problems[name] = [(v["id"], v["nodes"][:2]) for v in serious]
    page.goto(f"{console_url}console/kb/faq/F-3")
    page.get_by_role("button", name="預覽回答").click()
    expect(page.locator(".chat-preview")).to_be_visible()
    serious = _serious(run_axe(page, "console-kb-edit-preview"))
    if serious:
        problems["console-kb-edit-preview"] = [(v["id"], v["nodes"][:2]) for v in serious]
    assert problems == {}


def test_the_console_works_with_the_keyboard(open_page: Callable[..., Page], console_url: str) -> None:
    page = open_page()
    page.goto(f"{console_url}console/login")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "跳到主要內容"
    page.get_by_label("帳號").focus()
    page.keyboard.type("e2e-staff")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="登出")).to_be_visible()
    page.goto(f"{console_url}console/kb")
    page.get_by_label("關鍵字").focus()
    page.keyboard.type("垃圾車")
    page.keyboard.press("Enter")
    expect(page.get_by_role("table")).to_contain_text("垃圾車晚上幾點來？")
    # what the knowledge base holds is text, never markup, in the console too
    page.get_by_role("link", name="垃圾車晚上幾點來？").click()
    expect(page.locator("#f-answer")).to_have_value(RECORDS[3].answer)
    assert page.evaluate("() => window.__pwned") is None


def test_an_import_from_the_browser_reports_rejected_rows(
    open_page: Callable[..., Page], console_url: str, tmp_path: Path
) -> None:
    upload = tmp_path / "新題目.csv"
    upload.write_text(
        "編號,問題,答案,機關\n"
        "E-1,公有市場攤位怎麼申請？,請向市場處提出申請。,經濟發展局\n"
        "E-2,,缺了問題的一列,\n",
        encoding="utf-8",
    )
    page = open_page()
    _log_in(page, console_url, "staff", "console/kb/import")
    page.get_by_label("檔案（上限 20 MB）").set_input_files(str(upload))
    page.get_by_role("button", name="開始匯入").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("新題目.csv")
    expect(page.get_by_text("匯入完成")).to_be_visible()
    rejected = page.get_by_role("table")
    expect(rejected).to_contain_text("第 3 列")
    expect(rejected).to_contain_text("問題缺少或空白")
    expect(rejected).to_contain_text("缺了問題的一列")  # the row itself, to fix and import again
    expect(
        page.get_by_role("link", name="下載未匯入的列（CSV，含每列的內容：修正後可以直接再匯入）")
    ).to_be_visible()
    screenshot(page, "console-kb-import-report", full_page=True)
    page.goto(f"{console_url}console/kb?q=公有市場")
    expect(page.get_by_role("table")).to_contain_text("E-1")
