"""What a citizen meets outside the conversation: the plain case form, unknown pages, the favicon."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from bot.cases import is_valid_case_number
from bot.store import Database
from bot.store.models import CaseRow
from tests.e2e.chat_ui import run_axe, screenshot
from tests.e2e.conftest import LiveApp

PHONE_390 = {"width": 390, "height": 844}


def _cases(live_app: LiveApp) -> int:
    database = Database(live_app.database_url)
    try:
        with database.session() as session:
            return int(session.scalar(select(func.count()).select_from(CaseRow)) or 0)
    finally:
        database.dispose()


def test_the_case_form_names_every_problem_at_once_and_a_reload_files_nothing_new(
    new_context: Callable[..., tuple[BrowserContext, Page]], live_app: LiveApp
) -> None:
    _, page = new_context(viewport=PHONE_390, bypass_csp=True)  # axe is injected as an inline script
    page.goto(live_app.url + "cases/new")
    expect(page.get_by_label("問題類別")).to_have_value("")  # nothing chosen for the citizen
    expect(page.get_by_role("link", name="回到線上客服")).to_have_attribute("href", "/")
    page.get_by_label("聯絡電話（手機或市話）").fill("123")
    page.get_by_role("button", name="送出").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("有 4 個欄位需要修正")
    for message in ("請選擇問題類別。", "請填寫地點", "請簡單說明狀況。", "電話號碼看起來不對"):
        expect(alert).to_contain_text(message)
    expect(page.get_by_label("地點")).to_have_attribute("aria-invalid", "true")
    serious = [v for v in run_axe(page, "case-form-errors") if v["impact"] in {"serious", "critical"}]
    assert serious == []
    screenshot(page, "case-form-errors")

    page.get_by_label("問題類別").select_option("road_pothole")
    page.get_by_label("地點").fill("三民區九如一路 100 號前")
    page.get_by_label("狀況說明").fill("機車道有一個大坑洞")
    page.get_by_label("聯絡電話（手機或市話）").fill("0912345678")
    before = _cases(live_app)
    page.get_by_role("button", name="送出").click()
    expect(page.get_by_role("heading", name="已收到您的反映")).to_be_visible()
    number = page.locator(".number").inner_text().strip()
    assert is_valid_case_number(number)
    assert _cases(live_app) == before + 1

    page.reload()
    expect(page.locator(".number")).to_have_text(number)
    page.go_back()  # the form, still filled in: sending it again is the same filing
    page.get_by_role("button", name="送出").click()
    expect(page.locator(".number")).to_have_text(number)
    assert _cases(live_app) == before + 1, "a reload or a second post filed the case again"
    page.get_by_role("link", name="回到線上客服").click()
    expect(page.get_by_label("輸入您的問題")).to_be_visible()


def test_an_unknown_page_is_explained_in_chinese_with_a_way_back(page: Page, live_app: LiveApp) -> None:
    response = page.goto(live_app.url + "no-such-page")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="找不到這個網頁")).to_be_visible()
    expect(page).to_have_title("找不到這個網頁｜1999 市民服務")
    page.get_by_role("link", name="回到線上客服").click()
    expect(page.get_by_label("輸入您的問題")).to_be_visible()
    api = page.request.get(live_app.url + "api/no-such-thing")
    assert api.status == 404
    assert api.json() == {"detail": "Not Found"}, "API clients keep JSON"


def test_the_pages_have_a_favicon(page: Page, live_app: LiveApp) -> None:
    page.goto(live_app.url)
    icons = page.locator("link[rel=icon]")
    expect(icons).to_have_count(2)
    for href in ("favicon.ico", "favicon.svg"):
        icon = page.request.get(live_app.url + href)
        assert icon.status == 200, href
        assert icon.headers["content-type"].startswith("image/"), href
