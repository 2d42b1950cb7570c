"""Out of reach of a person, the web chat offers 「留言請專人回覆」 and files nothing until the
citizen has written the message, chosen to leave a phone, agreed and sent it (issue 25 item 6).

The real app (Rasa away: degraded mode, whose offer is the case form), no agent on line, real
Chromium at a phone's width.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from bot.app import create_app
from bot.store import Database
from bot.store.cases import CaseStore
from bot.store.kb_import import import_rows
from bot.store.models import HandoffRow
from knowledge.importers import Parsed
from tests.browser import PATIENCE_MS
from tests.conftest import app_settings
from tests.e2e.chat_ui import ChatPage, screenshot
from tests.e2e.conftest import RECORDS, with_chat_pages
from tests.e2e.live_server import closed_port, serve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def nobody_on_line(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Database]]:
    """Agents' hours around the clock, but nobody has the inbox open: nobody can come."""
    folder = tmp_path_factory.mktemp("leave-message-e2e")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    settings = app_settings(
        database_url,
        folder,
        rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1},
        handoff={"agent_hours": "00:00-24:00"},
    )
    with serve(with_chat_pages(create_app(settings))) as url:
        yield url, database
    database.dispose()


def _cases(database: Database) -> int:
    with database.session() as session:
        return CaseStore(session).count()


def test_asking_for_a_person_offers_a_message_and_files_only_what_is_sent(
    browser: Browser, nobody_on_line: tuple[str, Database]
) -> None:
    url, database = nobody_on_line
    context = browser.new_context(locale="zh-TW", viewport={"width": 390, "height": 844})
    context.set_default_timeout(PATIENCE_MS)
    try:
        page = context.new_page()
        chat = ChatPage(page, url).open()
        chat.ask("房屋稅怎麼繳")
        chat.button("都不是，我要找專人").click()
        offer = chat.replies("handoff").last
        expect(offer).to_contain_text("沒有專人可以即時接手")
        expect(offer).to_contain_text("1999")
        link = offer.get_by_role("link", name="留言請專人回覆")
        expect(link).to_be_visible()
        screenshot(page, "leave-message-offer")
        assert _cases(database) == 0, "nothing filed unasked"

        link.click()
        expect(page.get_by_label("問題類別")).to_have_value("general")
        expect(page.get_by_label("地點")).to_have_value("未提供（留言請專人回覆）")
        assert _cases(database) == 0, "opening the form files nothing"
        page.get_by_label("狀況說明").fill("想請專人回電說明房屋稅可以怎麼分期")
        page.get_by_label("聯絡電話（手機或市話）").fill("0912345678")
        page.get_by_label("我同意承辦人員以此電話與我聯絡").check()
        page.get_by_role("button", name="送出").click()
        number = page.locator(".number")
        expect(number).to_have_text(re.compile(r"^\d{6}-\d{4,}-\d$"))
        with database.session() as session:
            case = CaseStore(session).get(number.inner_text())
            requests = [(r.state, r.ended_by) for r in session.scalars(select(HandoffRow))]
        assert (case.category, case.phone, case.contact_consent) == ("general", "0912345678", True)
        assert case.description == "想請專人回電說明房屋稅可以怎麼分期"
        assert _cases(database) == 1
        assert requests == [("released", "no_agent")], "the request for a person is counted, never queued"
    finally:
        context.close()
