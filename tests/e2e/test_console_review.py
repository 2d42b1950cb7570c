"""The upstream review queue in a real browser: an admin harvests now from the loopback fake of
the city API serving a changed snapshot; the two conflicts appear with their three texts, and
staff resolve one each way (keep ours, take theirs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.app import create_app
from bot.harvest import Harvester
from bot.settings import HarvestSettings
from bot.store import Database
from bot.store.faqs import FaqStore, row_to_record
from bot.store.users import Role, UserStore
from tests.browser import PATIENCE_MS
from tests.conftest import app_settings
from tests.e2e.chat_ui import screenshot
from tests.e2e.live_server import closed_port, serve
from tests.fakes.soweb_api import FakeEntry, FakeSowebApi
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

PASSWORD = "a long console password"
ORGAN = "397000000A"
OURS = {1: "我們改寫的第一個答案。", 2: "我們改寫的第二個答案。"}
THEIRS = {1: "市府新版的第一個答案。", 2: "市府新版的第二個答案。"}
QUESTIONS = {1: "路燈不亮要找誰？", 2: "房屋稅什麼時候繳？"}


def _entry(n: int, answer: str) -> FakeEntry:
    return FakeEntry(ORGAN, n, QUESTIONS[n], answer, "工務局", "工務", "20200102", "20210304")


@dataclass(frozen=True)
class Site:
    url: str
    database: Database


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app over its own store, harvested once from the fake; staff then rewrote both answers,
    and the fake now serves new answers for both."""
    folder: Path = tmp_path_factory.mktemp("review-e2e")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        for role in (Role.ADMIN, Role.STAFF):
            UserStore(session).create(f"e2e-{role.value}", PASSWORD, role, actor="test")
    with FakeSowebApi(
        [_entry(n, f"第{n}個答案。") for n in (1, 2)], [{"kind": "01", "kind_name": "工務"}]
    ) as api:
        harvest = {"base_url": api.url, "state_dir": str(folder / "state")}
        first = Harvester(database, HarvestSettings.model_validate(harvest)).run(trigger="cli", actor="test")
        assert first is not None
        with database.session() as session:
            store = FaqStore(session)
            for n, answer in OURS.items():
                record = row_to_record(store.get(f"KHH-{ORGAN}-{n}"))
                store.replace(record.model_copy(update={"answer": answer}), actor="curator")
        api.entries = {(ORGAN, n): _entry(n, answer) for n, answer in THEIRS.items()}
        rasa = {"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
        app = create_app(app_settings(database_url, folder, rasa=rasa, harvest=harvest))
        with serve(app) as url:
            yield Site(url, database)
    database.dispose()


def _log_in(page: Page, base: str, role: str) -> None:
    page.goto(f"{base}console/login")
    page.get_by_label("帳號").fill(f"e2e-{role}")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_role("button", name="登出")).to_be_visible()


def _answer(site: Site, n: int) -> str:
    with site.database.session() as session:
        return FaqStore(session).get(f"KHH-{ORGAN}-{n}").answer


def test_harvest_now_then_keep_ours_and_take_theirs(browser: Browser, site: Site) -> None:
    context = browser.new_context(locale="zh-TW", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    _log_in(page, site.url, "admin")
    page.goto(f"{site.url}console/kb/review")
    expect(page.get_by_role("heading", level=1)).to_have_text("來源更新")
    page.get_by_role("button", name="立即收錄").click()
    expect(page.get_by_role("status").first).to_contain_text("已開始收錄")

    def harvested() -> bool:
        page.goto(f"{site.url}console/kb/review")
        return page.locator("tr[data-run='2']").filter(has_text="完成").count() == 1

    wait_until(harvested, what="the second harvest to be listed as done")
    run = page.locator("tr[data-run='2']")
    expect(run.locator("td").nth(5)).to_have_text("0")  # changed
    expect(run.locator("td").nth(7)).to_have_text("2")  # waiting for review
    screenshot(page, "console-review-queue", full_page=True)
    assert (_answer(site, 1), _answer(site, 2)) == (OURS[1], OURS[2])  # citizens still see ours

    page.get_by_role("link", name=f"KHH-{ORGAN}-1").click()
    field = page.locator("section[data-field='answer']")
    expect(field.locator("[data-text='old']")).to_have_text("第1個答案。")
    expect(field.locator("[data-text='new']")).to_have_text(THEIRS[1])
    expect(field.locator("[data-text='ours']")).to_have_text(OURS[1])
    screenshot(page, "console-review-item", full_page=True)
    page.get_by_role("button", name="保留我們的版本").click()
    expect(page.get_by_role("status").first).to_contain_text("保留我們的版本")

    page.get_by_role("link", name=f"KHH-{ORGAN}-2").click()
    page.get_by_role("button", name="採用來源的新版本").click()
    expect(page.get_by_role("status").first).to_contain_text("採用來源的新版本")
    expect(page.get_by_text("目前沒有待處理的來源更新。")).to_be_visible()
    assert (_answer(site, 1), _answer(site, 2)) == (OURS[1], THEIRS[2])

    page.goto(f"{site.url}console/kb/try?q=房屋稅什麼時候繳")
    expect(page.locator(".chat-preview")).to_contain_text(THEIRS[2])
    context.close()
