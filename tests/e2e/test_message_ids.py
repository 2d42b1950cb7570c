"""The widget's message ids: an answer lost on the way back is fetched again, not asked again."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.chat_ui import ChatPage
from tests.e2e.conftest import TAX_WAYS, LiveApp
from tests.e2e.test_resilience import _turns_with_text

pytestmark = pytest.mark.e2e


def test_a_reply_lost_in_transit_is_answered_once_on_the_retry(page: Page, live_app: LiveApp) -> None:
    bodies: list[dict[str, object]] = []

    def lose_the_first_answer(route: Route) -> None:
        bodies.append(json.loads(route.request.post_data or "{}"))
        if len(bodies) == 1:
            route.fetch()  # the server answers (and takes the turn) ...
            route.abort("connectionreset")  # ... but the answer never reaches the page
        else:
            route.continue_()

    chat = ChatPage(page, live_app.url).open()
    page.route("**/api/chat", lose_the_first_answer)
    question = "房屋稅什麼時候繳"  # (the other e2e tests ask it otherwise: the turn count is this test's)
    chat.ask(question)
    expect(chat.replies("answer").last).to_contain_text(TAX_WAYS)
    assert len(bodies) == 2
    first, retry = bodies
    assert re.fullmatch(r"m-[0-9a-f-]{36}", str(first["message_id"]))
    assert retry == first  # the same message, with the same id
    assert _turns_with_text(live_app, question) == 1  # one turn: the retry got the stored answer
    page.wait_for_timeout(500)
    expect(chat.mine(question)).to_have_count(1)
    expect(chat.replies("answer")).to_have_count(1)
