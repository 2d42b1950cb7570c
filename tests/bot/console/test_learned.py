"""The console's queue of phrasings learned from citizens, over the real app, store and live index."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from bot.learning.citizens import after_turn
from bot.settings import CitizenLearningSettings
from bot.store import Database
from bot.store.faqs import FaqStore
from bot.store.turns import Turn, TurnStore
from bot.store.users import Role
from tests.bot.console.client import login_as
from tests.factories import faq
from tests.waiting import wait_until

PHRASING = "房屋稅要去哪裡繳"
CARD = faq(
    "F-5",
    question="停車費可以用悠遊卡繳嗎？",
    answer="可以。",
    alt_questions=[],
    agency="交通局",
    category="停車",
    keywords=[],
)
PARKING = faq(
    "F-6",
    question="路邊停車費怎麼繳？",
    answer="路邊停車費可以用悠遊卡、超商或手機繳納停車費。",
    alt_questions=[],
    agency="交通局",
    category="停車",
    keywords=[],
)


def _db(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def confirm(
    database: Database,
    text: str,
    faq_id: str,
    *citizens: str,
    offered: tuple[str, ...] = ("F-1", "F-2", "F-3"),
) -> None:
    """Each citizen asks ``text``, gets a "did you mean" list and picks ``faq_id`` (as the chat logs it)."""
    for who in citizens:
        with database.session() as session:
            store = TurnStore(session)
            store.log(Turn(who, who, "web", text=text, decision="clarify", candidates=list(offered)))
            picked = store.log(
                Turn(
                    who,
                    who,
                    "web",
                    payload=f'/pick_suggestion{{"faq_id":"{faq_id}"}}',
                    intent="pick_suggestion",
                    decision="answer",
                    candidates=[faq_id],
                    faq_id=faq_id,
                )
            )
            after_turn(session, picked, CitizenLearningSettings())


def _items(page: str) -> list[str]:
    return re.findall(r'name="item" value="([^"]+)"', page)


def test_staff_see_a_suggestion_with_its_counts_and_the_entry_answer_and_approve_it_live(
    console: TestClient,
) -> None:
    confirm(_db(console), PHRASING, "F-2", "p-1", "p-2", "p-3")
    confirm(_db(console), "路燈壞掉", "F-3", "p-1")  # one citizen: not yet a suggestion
    login_as(console, Role.STAFF)
    page = console.get("/console/learned")
    assert page.status_code == 200
    assert PHRASING in page.text
    assert "每年五月繳納房屋稅。" in page.text, "the entry's current answer"
    assert "路燈壞掉" not in page.text
    assert _items(page.text) == [f"{PHRASING}|F-2"]
    one = console.get("/console/learned/faq/F-2")
    assert PHRASING in one.text
    assert "目前的回答" in one.text
    assert _items(console.get("/console/learned/faq/F-1").text) == []
    assert 'href="/console/learned/faq/F-2"' in console.get("/console/kb/faq/F-2").text, (
        "linked from the entry"
    )

    done = console.post(
        "/console/learned/decide",
        data={"item": _items(page.text), "action": "approve"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "已核准 1 個問法" in console.get(done.headers["location"]).text
    index = console.app.state.index  # type: ignore[attr-defined]
    wait_until(lambda: PHRASING in index.get("F-2").alt_questions, what="the live index to have the phrasing")
    with _db(console).session() as session:
        assert FaqStore(session).history("F-2")[-1].actor == "test-staff"
    after = console.get("/console/learned").text
    assert _items(after) == []
    assert "撤回「房屋稅要去哪裡繳」" in after


def test_staff_reject_several_in_one_action(console: TestClient) -> None:
    confirm(_db(console), PHRASING, "F-2", "p-1", "p-2")
    confirm(_db(console), "晚上路燈都不亮", "F-3", "p-1", "p-2")
    login_as(console, Role.STAFF)
    items = _items(console.get("/console/learned").text)
    assert len(items) == 2
    done = console.post(
        "/console/learned/decide", data={"item": items, "action": "reject"}, follow_redirects=False
    )
    assert "已不採用 2 個問法" in console.get(done.headers["location"]).text
    assert _items(console.get("/console/learned").text) == []
    with _db(console).session() as session:
        assert FaqStore(session).get("F-2").alt_questions == ["房屋稅期限"]


def test_a_stale_or_empty_choice_is_refused_with_a_message(console: TestClient) -> None:
    login_as(console, Role.STAFF)
    empty = console.post("/console/learned/decide", data={"action": "approve"})
    assert empty.status_code == 400
    assert "請至少勾選一個建議問法" in empty.text
    stale = console.post("/console/learned/decide", data={"item": [f"{PHRASING}|F-2"], "action": "approve"})
    assert stale.status_code == 400
    assert "已不是待審的建議" in stale.text


def test_a_suggestion_that_would_take_another_entrys_phrasing_is_flagged(console: TestClient) -> None:
    """Adding F-6's citizens' phrasing (F-5's own question) to F-6 would make the live engine
    answer F-5's question with F-6: flagged. A harmless one is not."""
    with _db(console).session() as session:
        FaqStore(session).create(CARD, actor="test")
        FaqStore(session).create(PARKING, actor="test")
    index = console.app.state.index  # type: ignore[attr-defined]
    wait_until(lambda: index.get("F-6") is not None, what="the live index to catch up")
    confirm(_db(console), "停車費可以用悠遊卡繳嗎", "F-6", "p-1", "p-2", offered=("F-5", "F-6"))
    confirm(_db(console), PHRASING, "F-2", "p-1", "p-2")
    login_as(console, Role.STAFF)
    page = console.get("/console/learned").text
    assert page.count("會改變其他題目的答案") == 1
    assert "「停車費可以用悠遊卡繳嗎？」原本回答" in page


def test_a_conflict_is_shown_apart_and_not_suggested(console: TestClient) -> None:
    confirm(_db(console), PHRASING, "F-2", "p-1", "p-2")
    confirm(_db(console), PHRASING, "F-3", "p-3")
    login_as(console, Role.STAFF)
    page = console.get("/console/learned").text
    assert "有衝突的問法" in page
    assert "待審的建議（0）" in page


def test_supervisors_read_learned_phrasings_per_month_on_the_dashboard(console: TestClient) -> None:
    confirm(_db(console), PHRASING, "F-2", "p-1", "p-2")
    login_as(console, Role.STAFF, "staff-a")
    items = _items(console.get("/console/learned").text)
    console.post("/console/learned/decide", data={"item": items, "action": "approve"})
    login_as(console, Role.SUPERVISOR)
    page = console.get("/console/dashboard").text
    assert "從民眾學到的問法" in page
    row = re.search(r'<table id="table-learning">.*?</table>', page, re.S)
    assert row is not None
    cells = re.findall(r"<td>([^<]*)</td>", row.group(0))
    assert cells[-5:-3] == ["1", "0"], "one phrasing learned this month, none auto-approved"
    assert cells[-3:] == ["2", "0", "0.0 %"], (
        "two questions this month, both answered by a pick, none directly"
    )


@pytest.mark.parametrize("role", [Role.SUPERVISOR])
def test_only_staff_work_the_queue(console: TestClient, role: Role) -> None:
    login_as(console, role)
    assert console.get("/console/learned", follow_redirects=False).status_code == 403
