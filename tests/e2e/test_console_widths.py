"""The console on a phone (390 × 844) and the dashboard on a laptop (1,280 × 800), in Chromium.

Every console page an admin can open, over a seeded store (turns, FAQs, cases, handoffs of the
last three weeks): the page never scrolls sideways (``scrollWidth <= clientWidth``), and a wide
table scrolls inside its own box with its first column in view. On a 1,280-pixel screen the
dashboard's and the monthly report's tables fit without scrolling at all, so 轉接專人, 立案數 and
逾期案件 are in view. Screenshots go to tests/output/screenshots/ (issue 25 items 14 and 16).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from bench.seed_turns import seed
from bot.app import create_app
from bot.console.dashboard_view import today
from bot.store import Database
from bot.store.models import CaseRow, FaqRow
from bot.store.users import Role, UserStore
from tests.browser import PATIENCE_MS
from tests.conftest import app_settings
from tests.e2e.chat_ui import screenshot
from tests.e2e.live_server import closed_port, serve

pytestmark = pytest.mark.e2e

PASSWORD = "a long layout password"
KEY_COLUMNS = ("轉接專人", "立案數", "逾期案件")


@dataclass(frozen=True)
class Site:
    url: str
    case_number: str
    faq_id: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder: Path = tmp_path_factory.mktemp("console-widths")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    seed(database, turns=800, seed=25, first_day=today() - timedelta(days=20), days=21)
    with database.session() as session:
        UserStore(session).create("e2e-admin", PASSWORD, Role.ADMIN, actor="test", display_name="測試管理員")
        case_number = session.scalars(select(CaseRow.number).order_by(CaseRow.id)).first()
        faq_id = session.scalars(select(FaqRow.id).order_by(FaqRow.id)).first()
    database.dispose()
    assert case_number
    assert faq_id
    rasa = {"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    app = create_app(app_settings(database_url, folder, rasa=rasa))
    with serve(app) as url:
        yield Site(url, case_number, faq_id)


def _page(browser: Browser, site: Site, width: int, height: int) -> Iterator[Page]:
    context = browser.new_context(locale="zh-TW", viewport={"width": width, "height": height})
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    page.goto(f"{site.url}console/login")
    page.get_by_label("帳號").fill("e2e-admin")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_role("button", name="登出")).to_be_visible()
    yield page
    context.close()


@pytest.fixture
def phone(browser: Browser, site: Site) -> Iterator[Page]:
    yield from _page(browser, site, 390, 844)


@pytest.fixture
def laptop(browser: Browser, site: Site) -> Iterator[Page]:
    yield from _page(browser, site, 1280, 800)


def _pages(site: Site) -> list[str]:
    month = today()
    return [
        "console",
        "console/account",
        "console/users",
        "console/audit",
        "console/cases",
        f"console/cases/{site.case_number}",
        "console/kb",
        f"console/kb/faq/{site.faq_id}",
        f"console/kb/faq/{site.faq_id}/history",
        "console/kb/new",
        "console/kb/try?q=房屋稅",
        "console/kb/import",
        "console/kb/duplicates",
        "console/kb/synonyms",
        "console/failures",
        "console/dashboard",
        f"console/reports/{month.year}",
        f"console/reports/{month.year}/{month.month}",
        "console/test-bot",
    ]


def _overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return int(
        page.evaluate("() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")
    )


def _wide_tables_keep_their_first_column(page: Page) -> list[str]:
    """Tables wider than their box scroll inside it; their first column is in view."""
    problems: list[str] = page.evaluate(
        """() => Array.from(document.querySelectorAll("main table")).flatMap((table) => {
            const box = table.closest(".table-scroll") || table;
            const first = table.querySelector("tr > :first-child");
            if (!first) return [];
            const style = getComputedStyle(box);
            const scrolls = ["auto", "scroll"].includes(style.overflowX);
            const wide = box.scrollWidth > box.clientWidth + 1;
            const boxRect = box.getBoundingClientRect(), cell = first.getBoundingClientRect();
            const out = [];
            if (wide && !scrolls) out.push("a table wider than its box does not scroll: " + (table.caption?.textContent || first.textContent));
            if (cell.left < boxRect.left - 1 || cell.left > boxRect.right) out.push("first column out of view: " + first.textContent);
            return out;
        })"""
    )
    return problems


def test_no_console_page_scrolls_sideways_on_a_phone(phone: Page, site: Site) -> None:
    wider: dict[str, int] = {}
    tables: dict[str, list[str]] = {}
    for path in _pages(site):
        response = phone.goto(f"{site.url}{path}")
        assert response is not None, path
        assert response.status == 200, path
        phone.wait_for_load_state("load")
        if overflow := _overflow(phone):
            wider[path] = overflow
            screenshot(phone, f"phone-overflow-{path.replace('/', '_').replace('?', '_')}")
        if problems := _wide_tables_keep_their_first_column(phone):
            tables[path] = problems
    screenshot(phone, "phone-test-bot")
    assert wider == {}, "pages wider than a 390-pixel phone (pixels too wide)"
    assert tables == {}


def test_the_dashboard_tables_fit_a_laptop_with_the_key_columns_in_view(laptop: Page, site: Site) -> None:
    month = today()
    for path in ("console/dashboard", f"console/reports/{month.year}/{month.month}"):
        laptop.goto(f"{site.url}{path}")
        assert _overflow(laptop) == 0, path
        boxes = laptop.locator("main .table-scroll:has(table.figures-table)")
        assert boxes.count() >= 3, path
        for n in range(boxes.count()):
            box = boxes.nth(n)
            if box.locator("tbody th").count() == 0:
                continue
            sideways = box.evaluate("(el) => el.scrollWidth - el.clientWidth")
            assert sideways <= 1, f"{path}: a figures table scrolls sideways by {sideways} px"
            right = box.evaluate("(el) => el.getBoundingClientRect().right")
            for heading in KEY_COLUMNS:
                cell = box.locator("thead th", has_text=heading)
                expect(cell).to_have_count(1)
                assert cell.evaluate("(el) => el.getBoundingClientRect().right") <= right + 1, heading
        screenshot(laptop, f"laptop-{path.replace('/', '_')}")
