"""The failure queue, a cluster's actions and "test the bot" over the real app, store and live index."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.store import Database
from bot.store.faqs import FaqStore
from bot.store.models import AuditRow, FaqDraftRow, TurnRow
from bot.store.users import Role
from tests.bot.console.client import login_as
from tests.factories import faq
from tests.waiting import wait_until

POTHOLES = ["路上的坑洞要找誰補", "馬路有坑洞找誰補", "路上有坑洞要找誰修"]
ROAD = faq(
    "F-4",
    question="道路路面破損如何通報修復？",
    answer="請撥1999通報，養護工程處會派員修補。",
    alt_questions=[],
    agency="工務局",
    category="道路",
)
CLUSTER_LINK = re.compile(r'href="/console/failures/([0-9a-f]{12})\?')


def _db(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def _ask(client: TestClient, text: str, sender: str) -> str:
    """What kind of reply the citizen got: answer, clarify or abstain."""
    replies = client.post("/api/chat", json={"sender": sender, "text": text}).json()["replies"]
    return next(r["kind"] for r in replies if r["kind"] in {"answer", "clarify", "abstain"})


def _turns(client: TestClient) -> int:
    with _db(client).session() as session:
        return int(session.scalar(select(func.count()).select_from(TurnRow)) or 0)


@pytest.fixture
def failing(console: TestClient) -> TestClient:
    """The road-repair entry is live, and citizens asked about potholes in their own words, in vain."""
    with _db(console).session() as session:
        FaqStore(session).create(ROAD, actor="test")
    index = console.app.state.index  # type: ignore[attr-defined]
    wait_until(lambda: index.get("F-4") is not None, what="the live index to catch up")
    for n, text in enumerate([*POTHOLES, POTHOLES[0]]):
        assert _ask(console, text, f"web-citizen-{n}") == "abstain"
    assert _ask(console, "公園可以放風箏嗎", "web-kite") == "abstain"
    return console


def _cluster_id(page: str, label: str) -> str:
    row = next(r for r in page.split("<tr>") if label in r)
    match = CLUSTER_LINK.search(row)
    assert match, row
    return match.group(1)


def _alternatives_form(page: str, faq_id: str) -> dict[str, object]:
    """The add-alternatives form as the page fills it in, with ``faq_id`` chosen."""
    form = page.split('/alternatives"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, object] = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields.update(re.findall(r'<input id="text-\d+" name="([^"]+)" value="([^"]*)"', form))
    fields["pick"] = re.findall(r'name="pick" value="(\d+)" checked', form)
    fields["faq_id"] = faq_id
    fields.pop("csrf_token")
    return fields


def test_each_page_needs_staff(console: TestClient) -> None:
    pages = ["/console/failures", "/console/failures/0123456789ab", "/console/failures/0123456789ab/draft"]
    pages.append("/console/test-bot?q=x")
    actions = [f"/console/failures/0123456789ab/{a}" for a in ("alternatives", "dismiss", "draft")]
    for url in pages:
        response = console.get(url, follow_redirects=False)
        assert (response.status_code, response.headers["location"].split("?")[0]) == (303, "/console/login")
    for url in actions:
        assert console.post(url, follow_redirects=False).status_code == 303  # to the log-in page
    login_as(console, Role.SUPERVISOR)
    for url in pages:
        assert console.get(url).status_code == 403
    for url in actions:
        assert console.post(url, data={"key": "x"}).status_code == 403
    for role in (Role.STAFF, Role.ADMIN):
        login_as(console, role)
        assert console.get("/console/failures").status_code == 200
        assert console.get("/console/test-bot?q=x").status_code == 200
        assert console.get("/console/failures/0123456789ab").status_code == 404  # no such cluster
    console.headers.pop("X-CSRF-Token")
    assert console.post(actions[1], data={"key": "x"}).status_code == 403  # no CSRF token


def test_a_cluster_becomes_alternative_questions_and_the_bot_answers_them(failing: TestClient) -> None:
    login_as(failing, Role.STAFF, "staff-ann")
    queue = failing.get("/console/failures")
    assert queue.status_code == 200
    assert "5 個未答問題，2 群" in queue.text, re.findall(r"<caption>[^<]*", queue.text)
    cluster_id = _cluster_id(queue.text, POTHOLES[0])
    assert "4</td>" in next(r for r in queue.text.split("<tr>") if POTHOLES[0] in r)  # asked 4 times
    page = failing.get(f"/console/failures/{cluster_id}", params={"faq_q": "道路"})
    assert page.status_code == 200
    for text in POTHOLES:
        assert f'value="{text}"' in page.text
    assert 'value="F-4" checked' in page.text  # the search found it and proposes it
    fields = _alternatives_form(page.text, "F-4")
    response = failing.post(
        f"/console/failures/{cluster_id}/alternatives", data=fields, follow_redirects=False
    )
    assert response.status_code == 303
    assert "已將 3 個問法加入 F-4" in failing.get(response.headers["location"]).text  # the flash message
    assert set(failing.get("/api/kb/faqs/F-4").json()["alt_questions"]) == set(POTHOLES)
    # the live index picks the change up within seconds: the citizens' words are answered now
    wait_until(lambda: _ask(failing, POTHOLES[1], "web-later") == "answer", what="the live index to catch up")
    assert all(_ask(failing, text, "web-later") == "answer" for text in POTHOLES)
    queue = failing.get("/console/failures").text
    assert POTHOLES[0] not in queue.split("最近處理")[0]
    assert "已處理" in queue
    with _db(failing).session() as session:
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "learning.alternatives")).one()
    assert (audit.actor, audit.target, audit.detail["questions"]) == ("staff-ann", "F-4", 4)


def test_test_the_bot_shows_the_decision_and_candidates_and_logs_nothing(failing: TestClient) -> None:
    login_as(failing, Role.STAFF)
    before = _turns(failing)
    page = failing.get("/console/test-bot", params={"q": "舊沙發要怎麼丟"})
    assert page.status_code == 200
    assert 'data-decision="answer"' in page.text
    assert "F-1" in page.text
    assert "大型垃圾要怎麼預約清運？" in page.text
    unknown = failing.get("/console/test-bot", params={"q": POTHOLES[0]}).text
    assert 'data-decision="abstain"' in unknown
    assert "F-4" in unknown  # the candidates it weighed, even when it does not answer
    assert _turns(failing) == before
    assert failing.get("/console/test-bot", params={"q": "長" * 1001}).status_code == 422


def test_a_new_draft_is_opened_from_a_cluster(failing: TestClient) -> None:
    login_as(failing, Role.STAFF, "staff-bob")
    cluster_id = _cluster_id(failing.get("/console/failures").text, "公園可以放風箏嗎")
    form = failing.get(f"/console/failures/{cluster_id}/draft")
    assert form.status_code == 200
    assert 'value="公園可以放風箏嗎"' in form.text
    fields = {
        "id": "NEW-kites",
        "question": "公園可以放風箏嗎？",
        "alt_questions": "公園可以放風箏嗎",
        "answer": "",
        "agency": "工務局",
        "category": "",
    }
    refused = failing.post(f"/console/failures/{cluster_id}/draft", data=fields)
    assert refused.status_code == 400
    assert "answer" in refused.text
    fields["answer"] = "公園可以放風箏，請遠離電線。"
    created = failing.post(f"/console/failures/{cluster_id}/draft", data=fields, follow_redirects=False)
    assert (created.status_code, created.headers["location"]) == (303, "/console/kb/faq/NEW-kites")
    entry = failing.get("/api/kb/faqs/NEW-kites").json()
    assert (entry["status"], entry["alt_questions"]) == ("draft", [])
    assert "公園可以放風箏嗎" not in failing.get("/console/failures").text.split("最近處理")[0]


def test_dismissing_and_mistakes(failing: TestClient) -> None:
    login_as(failing, Role.STAFF)
    queue = failing.get("/console/failures", params={"since": "yesterday", "reason": "bogus"})
    assert "不是日期" in queue.text
    assert "沒有「bogus」這個原因" in queue.text
    cluster_id = _cluster_id(queue.text, POTHOLES[0])
    page = failing.get(f"/console/failures/{cluster_id}").text
    fields = _alternatives_form(page, "F-4")
    none = failing.post(f"/console/failures/{cluster_id}/alternatives", data={**fields, "pick": []})
    assert (none.status_code, "請至少勾選一個問法" in none.text) == (400, True)
    stale = failing.post(f"/console/failures/{cluster_id}/alternatives", data={**fields, "revision-F-4": "0"})
    assert (stale.status_code, "已被其他人修改" in stale.text) == (409, True)
    missing = failing.post(f"/console/failures/{cluster_id}/alternatives", data={**fields, "faq_id": "NOPE"})
    assert missing.status_code == 404
    assert failing.get("/api/kb/faqs/F-4").json()["alt_questions"] == []
    kite = _cluster_id(failing.get("/console/failures").text, "公園可以放風箏嗎")
    kite_page = failing.get(f"/console/failures/{kite}").text
    keys = re.findall(r'<input type="hidden" name="key" value="([^"]*)"', kite_page)
    done = failing.post(f"/console/failures/{kite}/dismiss", data={"key": keys, "note": "閒聊", "label": "x"})
    assert done.status_code == 200  # followed the redirect to the queue
    assert "已略過這一群問題" in done.text
    assert "公園可以放風箏嗎" not in done.text.split("最近處理")[0]


def test_a_pending_console_edit_keeps_the_new_phrasings(failing: TestClient) -> None:
    login_as(failing, Role.STAFF)
    with _db(failing).session() as session:
        row = FaqStore(session).get("F-4")
        content = {**ROAD.content(), "answer": "改寫中的答案。"}
        session.add(FaqDraftRow(faq_id="F-4", content=content, base_revision=row.revision, actor="someone"))
    cluster_id = _cluster_id(failing.get("/console/failures").text, POTHOLES[0])
    fields = _alternatives_form(failing.get(f"/console/failures/{cluster_id}").text, "F-4")
    assert failing.post(f"/console/failures/{cluster_id}/alternatives", data=fields).status_code == 200
    with _db(failing).session() as session:
        pending = session.get(FaqDraftRow, "F-4")
        assert pending is not None
        assert set(pending.content["alt_questions"]) == set(POTHOLES)
        assert pending.base_revision == FaqStore(session).get("F-4").revision


def _compared(page: str) -> list[str]:
    """The candidates' questions shown side by side, in order."""
    grid = page.split('class="compare"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<p class="compare-question">([^<]*)</p>', grid)


def _preselected(page: str) -> list[str]:
    return re.findall(r'name="faq_id" value="([^"]+)" checked', page)


def test_a_cluster_page_ticks_an_faq_only_when_the_engine_is_sure_and_compares_the_candidates(
    failing: TestClient,
) -> None:
    login_as(failing, Role.STAFF)
    cluster_id = _cluster_id(failing.get("/console/failures").text, POTHOLES[0])
    page = failing.get(f"/console/failures/{cluster_id}").text
    # the bot abstains on the potholes: nothing is ticked, the candidates are laid side by side
    assert _preselected(page) == []
    assert "沒有把握" in page
    considered = re.findall(r"</a></td><td>([^<]*)</td><td>[0-9.]+</td></tr>", page)  # the bot's candidates
    assert _compared(page) == considered[:3]
    assert 'name="faq_id" value="F-4"' in page  # still one click away
    # a citizen who got the road-repair answer said it did not help: the bot is sure of that one
    failing.post("/api/chat", json={"sender": "web-unhappy", "text": ROAD.question})
    failing.post("/api/chat", json={"sender": "web-unhappy", "payload": "/feedback_bad"})
    queue = failing.get("/console/failures", params={"reason": "negative"}).text
    page = failing.get(f"/console/failures/{_cluster_id(queue, ROAD.question)}?reason=negative").text
    assert _preselected(page) == ["F-4"]
    assert "有把握" in page
    assert "預先選擇" in page
