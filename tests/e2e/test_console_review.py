"""The upstream review queue in a real browser: an admin harvests now from the loopback fake of
the city API serving a changed snapshot; the three conflicts appear with their three texts and
staff resolve one each way (keep ours, take theirs, edit); a change held for review (a file
imported with ``harvest.upstream_changes = review``) is taken; an entry gone upstream is
flagged, archived and never deleted; the entry editor shows a field staff overrode and gives it
back to the source. axe-core finds no serious problem on these pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.app import create_app
from bot.harvest import Harvester
from bot.settings import HarvestSettings
from bot.store import Database
from bot.store.faqs import FaqStore, row_to_record
from bot.store.kb_import import import_rows
from bot.store.users import Role, UserStore
from knowledge.importers import Parsed
from tests.browser import PATIENCE_MS
from tests.conftest import app_settings
from tests.e2e.chat_ui import run_axe, screenshot
from tests.e2e.live_server import closed_port, serve
from tests.factories import faq
from tests.fakes.soweb_api import FakeEntry, FakeSowebApi
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

PASSWORD = "a long console password"
ORGAN = "397000000A"
OURS = {1: "我們改寫的第一個答案。", 2: "我們改寫的第二個答案。", 3: "我們改寫的第三個答案。"}
THEIRS = {1: "市府新版的第一個答案。", 2: "市府新版的第二個答案。", 3: "市府新版的第三個答案。"}
EDITED = "我們與市府新版合併後的第三個答案。"
QUESTIONS = {
    1: "路燈不亮要找誰？",
    2: "房屋稅什麼時候繳？",
    3: "行道樹倒了要通報哪裡？",
    4: "公園廁所髒了找誰？",
}
GONE = f"KHH-{ORGAN}-4"  # listed at the first harvest, gone at the second
# an entry of an imported file; its next version arrived with upstream_changes = review (held)
FILED = faq("H-1", question="市民卡遺失怎麼補辦？", answer="請帶身分證到區公所補辦。", alt_questions=[])
FILED_NEW = FILED.model_copy(update={"answer": "請線上申請或帶身分證到區公所補辦市民卡。"})


def _entry(n: int, answer: str) -> FakeEntry:
    return FakeEntry(ORGAN, n, QUESTIONS[n], answer, "工務局", "工務", "20200102", "20210304")


@dataclass(frozen=True)
class Site:
    url: str
    database: Database


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app over its own store, harvested once from the fake (four entries); staff then rewrote
    three answers, and the fake now serves new answers for those three and no longer lists the
    fourth. An imported file's entry has a change held for review."""
    folder: Path = tmp_path_factory.mktemp("review-e2e")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        for role in (Role.ADMIN, Role.STAFF):
            UserStore(session).create(f"e2e-{role.value}", PASSWORD, role, actor="test")
    with FakeSowebApi(
        [_entry(n, f"第{n}個答案。") for n in QUESTIONS], [{"kind": "01", "kind_name": "工務"}]
    ) as api:
        harvest = {"base_url": api.url, "state_dir": str(folder / "state")}
        first = Harvester(database, HarvestSettings.model_validate(harvest)).run(trigger="cli", actor="test")
        assert first is not None
        with database.session() as session:
            store = FaqStore(session)
            for n, answer in OURS.items():
                record = row_to_record(store.get(f"KHH-{ORGAN}-{n}"))
                store.replace(record.model_copy(update={"answer": answer}), actor="curator")
            import_rows(session, [Parsed("line 1", FILED)], actor="importer")
            held = import_rows(session, [Parsed("line 1", FILED_NEW)], actor="importer", hold=True)
            assert held.held == 1
        api.entries = {(ORGAN, n): _entry(n, answer) for n, answer in THEIRS.items()}  # 4 is gone
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


def _answer(site: Site, faq_id: str) -> str:
    with site.database.session() as session:
        return FaqStore(session).get(faq_id).answer


def _khh(n: int) -> str:
    return f"KHH-{ORGAN}-{n}"


def _serious(page: Page, name: str) -> list[Any]:
    return [(v["id"], v["nodes"][:2]) for v in run_axe(page, name) if v["impact"] in {"serious", "critical"}]


def _harvest_now(page: Page, site: Site) -> None:
    page.goto(f"{site.url}console/kb/review")
    expect(page.get_by_role("heading", level=1)).to_have_text("來源更新")
    page.get_by_role("button", name="立即收錄").click()
    expect(page.get_by_role("status").first).to_contain_text("已開始收錄")

    def harvested() -> bool:
        page.goto(f"{site.url}console/kb/review")
        return page.locator("tr[data-run='2']").filter(has_text="完成").count() == 1

    wait_until(harvested, what="the second harvest to be listed as done")
    run = page.locator("tr[data-run='2']")
    expect(run.locator("td").nth(4)).to_have_text("0")  # new
    expect(run.locator("td").nth(5)).to_have_text("0")  # changed (only fields staff overrode changed)
    expect(run.locator("td").nth(6)).to_have_text("1")  # gone upstream
    expect(run.locator("td").nth(7)).to_have_text("3")  # waiting for review
    expect(page.get_by_role("table", name="待處理 5 項")).to_be_visible()
    screenshot(page, "console-review-queue", full_page=True)


def _open(page: Page, site: Site, faq_id: str) -> None:
    page.goto(f"{site.url}console/kb/review")
    page.get_by_role("link", name=faq_id, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(faq_id)


def test_every_kind_of_review_item_is_resolved_in_the_browser(browser: Browser, site: Site) -> None:
    context = browser.new_context(
        locale="zh-TW",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,  # axe is injected
    )
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    _log_in(page, site.url, "admin")
    _harvest_now(page, site)
    assert [_answer(site, _khh(n)) for n in OURS] == list(OURS.values())  # citizens still see ours
    problems = {}

    # a conflict: three texts; keep ours
    _open(page, site, _khh(1))
    field = page.locator("section[data-field='answer']")
    expect(field.locator("[data-text='old']")).to_have_text("第1個答案。")
    expect(field.locator("[data-text='new']")).to_have_text(THEIRS[1])
    expect(field.locator("[data-text='ours']")).to_have_text(OURS[1])
    screenshot(page, "console-review-item", full_page=True)
    problems["review-conflict"] = _serious(page, "console-review-conflict")
    page.get_by_role("button", name="保留我們的版本").click()
    expect(page.get_by_role("status").first).to_contain_text("保留我們的版本")
    problems["review-queue"] = _serious(page, "console-review-queue")

    # take theirs
    _open(page, site, _khh(2))
    page.get_by_role("button", name="採用來源的新版本").click()
    expect(page.get_by_role("status").first).to_contain_text("採用來源的新版本")

    # edit: staff merge the two texts themselves
    _open(page, site, _khh(3))
    page.get_by_label("編修後的回答").fill(EDITED)
    page.get_by_role("button", name="採用上面編修的內容").click()
    expect(page.get_by_role("status").first).to_contain_text("編修後採用")
    assert [_answer(site, _khh(n)) for n in OURS] == [OURS[1], THEIRS[2], EDITED]

    # held for review: nothing changed for citizens until staff take it
    _open(page, site, "H-1")
    expect(page.get_by_text("來源的更新尚未套用，等您審核。")).to_be_visible()
    expect(page.locator("section[data-field='answer'] [data-text='new']")).to_have_text(FILED_NEW.answer)
    problems["review-held"] = _serious(page, "console-review-held")
    assert _answer(site, "H-1") == FILED.answer
    page.get_by_role("button", name="採用來源的新版本").click()
    expect(page.get_by_role("status").first).to_contain_text("採用來源的新版本")
    assert _answer(site, "H-1") == FILED_NEW.answer

    # gone upstream: flagged, still answering, archived by staff, never deleted
    expect(page.get_by_role("row").filter(has_text=GONE)).to_contain_text("來源已不再列出")
    _open(page, site, GONE)
    expect(page.get_by_text("它仍照常回答民眾，直到您封存。")).to_be_visible()
    problems["review-gone"] = _serious(page, "console-review-gone")
    page.get_by_role("button", name="封存這一題").click()
    expect(page.get_by_role("status").first).to_contain_text("已封存")
    expect(page.get_by_text("目前沒有待處理的來源更新。")).to_be_visible()
    with site.database.session() as session:
        assert FaqStore(session).get(GONE).status == "archived"  # still there, out of the answers

    page.goto(f"{site.url}console/kb/try?q=房屋稅什麼時候繳")
    expect(page.locator(".chat-preview")).to_contain_text(THEIRS[2])

    # the editor shows what staff kept over the source, and gives it back
    page.goto(f"{site.url}console/kb/faq/{_khh(1)}")
    row = page.locator("tr[data-override='answer']")
    expect(row.locator("[data-text='ours']")).to_have_text(OURS[1])
    expect(row.locator("[data-text='source']")).to_have_text(THEIRS[1])
    problems["kb-edit-overrides"] = _serious(page, "console-kb-edit-overrides")
    screenshot(page, "console-kb-edit-overrides", full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="回答改回來源的內容").click()
    expect(page.get_by_role("status").first).to_contain_text("改回來源的內容")
    expect(page.locator("tr[data-override='answer']")).to_have_count(0)
    expect(page.locator("#f-answer")).to_have_value(THEIRS[1])
    assert _answer(site, _khh(1)) == THEIRS[1]
    assert {name: found for name, found in problems.items() if found} == {}
    context.close()
