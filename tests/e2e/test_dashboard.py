"""The supervisors' dashboard and reports in a real browser, over a seeded quarter of turns.

A supervisor logs in, narrows the dashboard to March 2026, reads the figures, the charts and
the tables, downloads the CSV, and reads the monthly and yearly reports; staff are refused and
an admin may read; axe-core finds no serious problem on any of these pages. Screenshots go
to tests/output/screenshots/.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, expect

from bench.seed_turns import seed
from bot.app import create_app
from bot.console.dashboard import city_sentence
from bot.metrics.queries import Filters, summary
from bot.metrics.refresh import refresh
from bot.store import Database
from bot.store.users import Role, UserStore
from tests.browser import PATIENCE_MS
from tests.conftest import app_settings
from tests.e2e.chat_ui import docs_screenshot, run_axe, screenshot
from tests.e2e.live_server import closed_port, serve

pytestmark = pytest.mark.e2e

PASSWORD = "a long dashboard password"
MARCH = Filters(date(2026, 3, 1), date(2026, 3, 31))


@dataclass(frozen=True)
class Site:
    url: str
    database_url: str


@dataclass
class Watch:
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app over its own SQLite store: 3,000 seeded turns in January–March 2026 and one user per role."""
    folder: Path = tmp_path_factory.mktemp("dashboard-e2e")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    seed(database, turns=3_000, seed=11, first_day=date(2026, 1, 1), days=90)
    with database.session() as session:
        users = UserStore(session)
        for role in Role:
            users.create(f"e2e-{role.value}", PASSWORD, role, actor="test", display_name=f"測試{role.value}")
    database.dispose()
    rasa = {"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    app = create_app(app_settings(database_url, folder, rasa=rasa))
    with serve(app) as url:
        yield Site(url, database_url)


@pytest.fixture
def open_page(browser: Browser, site: Site) -> Iterator[Callable[..., Page]]:
    """A fresh context and page; script or CSP errors and requests off this machine fail the test."""
    opened: list[tuple[BrowserContext, Watch]] = []

    def open_one(**options: Any) -> Page:
        context = browser.new_context(
            locale="zh-TW", viewport={"width": 1280, "height": 900}, accept_downloads=True, **options
        )
        context.set_default_timeout(PATIENCE_MS)
        watch = Watch()

        def on_request(request: Request) -> None:
            if not request.url.startswith((site.url, "data:", "about:")):
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


def _log_in(page: Page, site: Site, role: str, target: str) -> None:
    page.goto(f"{site.url}{target}")
    expect(page).to_have_url(f"{site.url}console/login?next=%2F{target.replace('/', '%2F')}")
    page.get_by_label("帳號").fill(f"e2e-{role}")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_role("button", name="登出")).to_be_visible()


def _march_sentence(site: Site, **filters: str) -> str:
    database = Database(site.database_url)
    try:
        refresh(database)
        with database.session() as session:
            figures = summary(session, Filters(MARCH.start, MARCH.end, **filters))
    finally:
        database.dispose()
    assert figures.questions > 100
    return city_sentence(figures)


def test_a_supervisor_reads_the_dashboard_and_the_reports(open_page: Callable[..., Page], site: Site) -> None:
    page = open_page()
    _log_in(page, site, "supervisor", "console/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("儀表板")
    nav = page.get_by_role("navigation", name="後台功能")
    expect(nav.get_by_role("link", name="儀表板")).to_have_attribute("aria-current", "page")
    expect(nav).not_to_contain_text("知識庫")

    page.get_by_label("起日").fill("2026-03-01")
    page.get_by_label("迄日").fill("2026-03-31")
    page.get_by_role("button", name="套用").click()
    expect(page.locator("#city-sentence")).to_have_text(_march_sentence(site))
    expect(page.get_by_role("img", name="每日問題數、已回答與順利回答")).to_be_visible()
    expect(page.get_by_role("img", name="每日回答率與順利回答比率")).to_be_visible()
    expect(page.get_by_role("table", name="依管道")).to_contain_text("LINE")
    expect(page.get_by_role("table", name="最常見的未回答問題（依語意分群；個資已遮蔽）")).to_contain_text(
        "我家的狗走失了"
    )
    page.get_by_text("趨勢明細（31 列）").click()
    expect(page.get_by_role("table", name="趨勢明細")).to_contain_text("2026-03-31")
    screenshot(page, "dashboard-march", full_page=True)
    docs_screenshot(page, "dashboard", top=True)  # the README's (make screenshots)

    page.get_by_label("管道", exact=True).select_option(label="LINE")
    page.get_by_role("button", name="套用").click()
    expect(page.locator("#city-sentence")).to_have_text(_march_sentence(site, channel="line"))
    screenshot(page, "dashboard-march-line")

    with page.expect_download() as download:
        page.get_by_role("link", name="依管道（CSV）").click()
    assert download.value.suggested_filename == "bot1999-channel-2026-03-01_2026-03-31.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["管道", "使用人數", "問題數"]
    assert [row[0] for row in rows[1:]] == ["LINE"]

    page.get_by_role("link", name="月報與年報").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{date.today().year} 年 智慧客服年報")
    page.goto(f"{site.url}console/reports/2026")
    expect(page.get_by_role("table", name="各月份（市府報表格式）")).to_contain_text(_march_sentence(site))
    screenshot(page, "report-2026", full_page=True)
    page.get_by_role("link", name="3 月", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2026 年 3 月 智慧客服月報")
    expect(page.locator("#city-sentence")).to_have_text(f"本月{_march_sentence(site)}。")
    screenshot(page, "report-2026-03", full_page=True)


def test_staff_are_refused_and_an_admin_may_read(open_page: Callable[..., Page], site: Site) -> None:
    staff = open_page()
    _log_in(staff, site, "staff", "console")
    expect(staff.get_by_role("navigation", name="後台功能")).not_to_contain_text("儀表板")
    for path in ("console/dashboard", "console/reports/2026/3", "console/dashboard/export.csv"):
        response = staff.goto(f"{site.url}{path}")
        assert response is not None
        assert response.status == 403
        expect(staff.get_by_role("heading", level=1)).to_have_text("沒有權限")
    screenshot(staff, "dashboard-refused-staff")

    admin = open_page()
    _log_in(admin, site, "admin", "console/reports/2026/2")
    expect(admin.get_by_role("heading", level=1)).to_have_text("2026 年 2 月 智慧客服月報")


def test_no_serious_accessibility_violations(open_page: Callable[..., Page], site: Site) -> None:
    page = open_page(bypass_csp=True)  # axe is injected as an inline script
    _log_in(page, site, "supervisor", "console/dashboard")
    pages = {
        "dashboard": "console/dashboard?start=2026-01-01&end=2026-03-31",
        "dashboard-filtered": "console/dashboard?start=2026-03-01&end=2026-03-31&channel=web&grain=day",
        "dashboard-error": "console/dashboard?start=2026-03-31&end=2026-03-01",
        "report-year": "console/reports/2026",
        "report-month": "console/reports/2026/3",
    }
    problems = {}
    for name, path in pages.items():
        page.goto(site.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        for details in page.locator("details").all():
            details.locator("summary").click()  # the tables inside are checked too
        serious = [v for v in run_axe(page, name) if v["impact"] in {"serious", "critical"}]
        if serious:
            problems[name] = [(v["id"], v["nodes"][:2]) for v in serious]
    assert problems == {}
