"""A citizen's conversation in the full-page chat: answers, clarify picks, feedback, links, location."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Dialog, Page, Route, expect
from sqlalchemy import select

from bot.cases import is_valid_case_number
from bot.store import Database
from bot.store.models import TurnRow
from tests.e2e.chat_ui import ChatPage, docs_screenshot, screenshot
from tests.e2e.conftest import TAX_WAYS, LiveApp

pytestmark = pytest.mark.e2e


def test_an_faq_answer_with_typing_indicator_survives_a_reload(page: Page, live_app: LiveApp) -> None:
    chat = ChatPage(page, live_app.url).open()
    held: list[Route] = []

    def hold(route: Route) -> None:  # keep the request waiting, to see the typing indicator
        held.append(route)

    page.route("**/api/chat", hold)
    chat.ask("舊沙發要怎麼丟")
    expect(chat.typing).to_have_text("客服小幫手正在回覆…")
    expect(chat.mine("舊沙發要怎麼丟")).to_have_count(1)
    assert len(held) == 1
    held[0].continue_()
    answer = chat.replies("answer")
    expect(answer).to_contain_text("請先打電話給清潔隊預約時間")
    expect(chat.typing).to_be_hidden()
    page.unroute("**/api/chat")
    expect(chat.degraded_banner).to_contain_text("簡易模式")
    expect(chat.input).to_have_value("")

    source = answer.get_by_role("link", name="詳細說明")
    expect(source).to_have_attribute("href", "https://www.example.gov.tw/faq/bulky-waste")
    expect(source).to_have_attribute("target", "_blank")
    expect(source).to_have_attribute("rel", "noopener noreferrer")
    form = chat.replies("notice").first.get_by_role("link", name="線上反映表單")
    expect(form).to_have_attribute("href", live_app.url + "cases/new")
    expect(form).not_to_have_attribute("target", "_blank")
    screenshot(page, "chat-desktop-answer")
    docs_screenshot(page, "chat")  # the README's (make screenshots)

    page.reload()
    expect(chat.mine("舊沙發要怎麼丟")).to_have_count(1)
    expect(chat.replies("answer")).to_have_count(1)
    expect(chat.degraded_banner).to_contain_text("簡易模式")


def test_clarify_then_pick_then_feedback(page: Page, live_app: LiveApp) -> None:
    chat = ChatPage(page, live_app.url).open()
    chat.ask("房屋稅怎麼繳")
    clarify = chat.replies("clarify")
    expect(clarify).to_contain_text("請問您想問的是下面哪一個？")
    pick = chat.button("房屋稅什麼時候繳？")
    pick.click()
    expect(chat.mine("房屋稅什麼時候繳？")).to_have_count(1)
    expect(chat.replies("answer")).to_contain_text(TAX_WAYS)
    expect(pick).to_be_disabled()
    expect(clarify.get_by_role("button").first).to_be_disabled()

    chat.button("有幫助").click()
    expect(chat.mine("有幫助")).to_have_count(1)
    expect(chat.log.locator(".msg.bot").last).to_contain_text("謝謝您的回饋！")
    expect(chat.button("沒幫助")).to_be_disabled()
    database = Database(live_app.database_url)
    with database.session() as session:
        feedback = session.scalars(select(TurnRow.feedback).where(TurnRow.faq_id == "F-2")).all()
    database.dispose()
    assert "good" in feedback


def test_html_in_messages_is_shown_as_text_and_never_runs(page: Page, live_app: LiveApp) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    chat = ChatPage(page, live_app.url).open()
    # markup that runs by itself if rendered (no words of the knowledge base's own payload in
    # F-4, so the bot has nothing to answer and says so; a dialog would show it ran)
    attack = '<svg onload="alert(1)"><details open ontoggle="alert(2)">'
    chat.ask(attack)
    expect(chat.replies("abstain")).to_have_count(1)
    expect(chat.mine(attack)).to_have_count(1)
    chat.ask("垃圾車晚上幾點來？")
    expect(chat.replies("answer")).to_contain_text(
        '<script>window.__pwned = "kb"</script>垃圾車<b>晚上七點</b>'
    )
    page.reload()  # and again from the stored history
    expect(chat.mine(attack)).to_have_count(1)
    expect(chat.log.locator("img, script, b, svg, details")).to_have_count(0)
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []


def test_the_plain_case_form_is_reached_from_the_chat_and_the_chat_is_kept(
    page: Page, live_app: LiveApp
) -> None:
    chat = ChatPage(page, live_app.url).open()
    chat.ask("我家門口的水溝蓋不見了")  # a report, not a question: straight to the form
    handoff = chat.replies("handoff")
    expect(handoff).to_contain_text("請使用線上反映表單")
    expect(chat.replies("abstain")).to_have_count(0)
    handoff.get_by_role("link", name="線上反映表單").click()

    expect(page).to_have_url(live_app.url + "cases/new")
    page.get_by_label("問題類別").select_option("street_light")
    page.get_by_label("地點").fill("中山路和七賢路口")
    page.get_by_label("狀況說明").fill("路燈整晚不亮")
    page.get_by_label("聯絡電話（手機或市話）").fill("0912345678")
    page.get_by_label("我同意承辦人員以此電話與我聯絡").check()
    page.get_by_role("button", name="送出").click()
    expect(page.get_by_role("heading", name="已收到您的反映")).to_be_visible()
    assert is_valid_case_number(page.locator(".number").inner_text().strip())
    screenshot(page, "case-filed")

    page.goto(live_app.url)
    expect(chat.mine("我家門口的水溝蓋不見了")).to_have_count(1)
    expect(chat.replies("handoff")).to_have_count(1)


def test_share_location_sends_a_location_message(
    new_context: Callable[..., tuple[BrowserContext, Page]], live_app: LiveApp
) -> None:
    _, page = new_context(
        permissions=["geolocation"], geolocation={"latitude": 22.627251, "longitude": 120.301401}
    )
    chat = ChatPage(page, live_app.url).open()
    page.get_by_role("button", name="分享位置").click()
    expect(chat.mine("我的位置：緯度 22.62725，經度 120.30140")).to_have_count(1)
    expect(chat.log.locator(".msg.bot").last).to_contain_text("收到位置或照片了")


def test_an_emergency_gets_call_links_first(page: Page, live_app: LiveApp) -> None:
    chat = ChatPage(page, live_app.url).open()
    chat.ask("家裡失火了")
    emergency = chat.replies("emergency")
    expect(emergency).to_contain_text("請撥 119")
    expect(emergency.get_by_role("link", name="撥打 119")).to_have_attribute("href", "tel:119")
    expect(emergency.get_by_role("link", name="撥打 110")).to_have_attribute("href", "tel:110")
