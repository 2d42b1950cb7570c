"""Learning from citizens in a real browser: staff approve a phrasing citizens confirmed, and it is live.

This module runs its own app (its knowledge base changes), so other browser tests' data stays put.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from bot.app import create_app
from bot.store import Database
from bot.store.kb_import import import_rows
from bot.store.users import Role, UserStore
from knowledge.importers import Parsed
from tests.bot.console.test_learned import confirm
from tests.browser import PATIENCE_MS
from tests.conftest import app_settings
from tests.e2e.chat_ui import screenshot
from tests.e2e.conftest import RECORDS, with_chat_pages
from tests.e2e.live_server import closed_port, serve

pytestmark = pytest.mark.e2e

PASSWORD = "a long learning password"
PHRASING = "房屋稅要去哪裡繳費"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app over its own store; three citizens picked F-2 for the same phrasing."""
    folder: Path = tmp_path_factory.mktemp("learned-e2e")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
        UserStore(session).create("e2e-staff", PASSWORD, Role.STAFF, actor="test")
    confirm(database, PHRASING, "F-2", "p-1", "p-2", "p-3")
    database.dispose()
    rasa = {"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    with serve(with_chat_pages(create_app(app_settings(database_url, folder, rasa=rasa)))) as url:
        yield url


def test_staff_approve_a_learned_phrasing(browser: Browser, app_url: str) -> None:
    context = browser.new_context(locale="zh-TW", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    page.goto(f"{app_url}console/learned")
    page.get_by_label("帳號").fill("e2e-staff")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("民眾教的問法")
    row = page.get_by_role("row").filter(has_text=PHRASING)
    expect(row.get_by_role("cell").nth(2)).to_have_text("3")  # three citizens
    row.get_by_role("checkbox").check()
    screenshot(page, "learned-queue", full_page=True)
    page.get_by_role("button", name="核准勾選的問法").click()
    expect(page.get_by_role("status")).to_contain_text("已核准 1 個問法")
    expect(page.get_by_role("button", name=f"撤回「{PHRASING}」")).to_be_visible()
    page.goto(f"{app_url}console/kb/faq/F-2")
    expect(page.get_by_role("textbox", name="其他問法（一行一個）")).to_have_value(re.compile(PHRASING))
    context.close()
