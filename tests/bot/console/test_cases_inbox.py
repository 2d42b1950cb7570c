"""The agent inbox over the real app: queue and filters, the case page with the transcript, status
changes against a revision, and live takeover on the citizen's channel (the web widget's here)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.cases import CaseStatus
from bot.privacy import pseudonymise
from bot.settings import DEVELOPMENT_PSEUDONYM_KEY
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.models import utcnow
from bot.store.turns import Turn, TurnStore
from tests.bot.console.client import create_user, login, login_as
from tests.bot.console.conftest import closed_port, seed
from tests.conftest import app_settings
from tests.fakes.loopback import wait_until


def _conversation(sender: str) -> str:
    return pseudonymise("web", sender, DEVELOPMENT_PSEUDONYM_KEY)


@pytest.fixture
def inbox(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    seed(database_url)
    settings = app_settings(
        database_url,
        tmp_path,
        rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1},
        handoff={"agent_hours": "00:00-24:00", "delivery_poll_seconds": 0.1},
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        yield client


def _db(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def _file(
    client: TestClient, category: str = "street_light", *, sender: str = "", hours_ago: float = 0
) -> str:
    case = NewCase(
        category=category,
        description="巷口路燈整排不亮",
        channel="web",
        sender_id=sender or "case-form",
        location_text="中正路 100 號",
        phone="0912345678",
        contact_consent=True,
        conversation_id=_conversation(sender) if sender else "",
    )
    with _db(client).session() as session:
        return CaseStore(session).file(case, now=utcnow() - timedelta(hours=hours_ago)).number


def _numbers(page: str) -> list[str]:
    return re.findall(r'href="/console/cases/(\d{6}-\d{4,}-\d)"', page)


def _updates(client: TestClient, sender: str, after: int = 0) -> dict[str, Any]:
    response = client.get("/api/chat/updates", params={"sender": sender, "after": after})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_the_inbox_needs_a_staff_log_in(inbox: TestClient) -> None:
    response = inbox.get("/console/cases", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login")
    assert inbox.get("/console/api/inbox").status_code == 401
    login_as(inbox, "supervisor")
    assert inbox.get("/console/cases").status_code == 403
    login_as(inbox, "staff")
    page = inbox.get("/console/cases")
    assert page.status_code == 200
    assert "案件收件匣" in page.text


def test_the_queue_filters_by_status_category_agency_and_overdue(inbox: TestClient) -> None:
    light = _file(inbox, "street_light")
    late = _file(inbox, "fallen_tree", hours_ago=5)  # a 4-hour target: overdue
    noise = _file(inbox, "noise")
    done = _file(inbox, "road_pothole")
    with _db(inbox).session() as session:
        store = CaseStore(session)
        store.change_status(done, CaseStatus.REJECTED, actor="test")
    login_as(inbox, "staff")
    assert _numbers(inbox.get("/console/cases").text) == [late, light, noise], "open ones, most urgent first"
    assert _numbers(inbox.get("/console/cases?overdue=yes").text) == [late]
    assert _numbers(inbox.get("/console/cases?category=noise").text) == [noise]
    assert set(_numbers(inbox.get("/console/cases", params={"agency": "工務局養護工程處"}).text)) == {
        light,
        late,
    }
    assert _numbers(inbox.get("/console/cases?status=rejected").text) == [done]
    assert set(_numbers(inbox.get("/console/cases?status=").text)) == {light, late, noise, done}
    unknown = inbox.get("/console/cases?category=ufo")
    assert unknown.status_code == 400
    assert "沒有「ufo」這個案件類別" in unknown.text
    assert "沒有「lost」這種案件狀態" in inbox.get("/console/cases?status=lost").text


def test_the_case_page_shows_the_case_and_the_whole_chat(inbox: TestClient) -> None:
    assert (
        inbox.post("/api/chat", json={"sender": "web-amy", "text": "我家巷口路燈整排不亮"}).status_code == 200
    )
    number = _file(inbox, sender="web-amy")
    login_as(inbox, "staff")
    page = inbox.get(f"/console/cases/{number}")
    assert page.status_code == 200
    assert "巷口路燈整排不亮" in page.text
    assert "0912345678" in page.text
    assert "高雄市政府工務局" in page.text
    assert page.text.count('class="line line-citizen"') == 1
    assert 'class="line line-bot"' in page.text
    assert inbox.get("/console/cases/260101-9999-0").status_code == 404
    data = inbox.get(f"/console/api/conversations/{_conversation('web-amy')}").json()
    assert [line["who"] for line in data["lines"]][0] == "citizen"
    assert data["handoff"]["state"] == "bot"
    assert data["reachable"] is True


def test_status_changes_carry_notes_notify_and_refuse_bad_steps(inbox: TestClient) -> None:
    inbox.post("/api/chat", json={"sender": "web-bob", "text": "路燈不亮"})
    number = _file(inbox, sender="web-bob")
    csrf = login_as(inbox, "staff")
    form = {
        "status": "assigned",
        "revision": "1",
        "note": "派工單 A-17",
        "public_note": "",
        "csrf_token": csrf,
    }
    no_token = dict(form, csrf_token="")
    inbox.headers.pop("X-CSRF-Token")
    assert inbox.post(f"/console/cases/{number}/status", data=no_token).status_code == 403
    done = inbox.post(f"/console/cases/{number}/status", data=form, follow_redirects=False)
    assert done.status_code == 303
    page = inbox.get(done.headers["location"]).text
    assert "案件已改為「已派工」，已通知民眾" in page
    assert "派工單 A-17" in page
    wait_until(
        lambda: any(number in u["reply"]["text"] for u in _updates(inbox, "web-bob")["updates"]),
        what="the push",
    )
    bad = inbox.post(f"/console/cases/{number}/status", data=dict(form, status="received", revision="2"))
    assert bad.status_code == 400
    assert "a assigned case cannot become received; allowed: closed, in_progress, rejected" in bad.text
    empty = inbox.post(f"/console/cases/{number}/status", data=dict(form, status="", revision="2"))
    assert empty.status_code == 400
    assert "請選擇新的狀態" in empty.text


def test_two_agents_changing_one_case_at_once_one_is_told_of_the_conflict(inbox: TestClient) -> None:
    number = _file(inbox)
    create_user(inbox, "amy", "staff")
    create_user(inbox, "bob", "staff")
    amy, bob = (
        TestClient(inbox.app, client=("127.0.0.1", 50001)),
        TestClient(inbox.app, client=("127.0.0.1", 50002)),
    )
    tokens = {"amy": login(amy, "amy"), "bob": login(bob, "bob")}
    start = threading.Barrier(2)
    results: dict[str, int] = {}

    def change(name: str, client: TestClient, to: str) -> None:
        data = {"status": to, "revision": "1", "note": f"{name} 處理", "csrf_token": tokens[name]}
        start.wait()
        results[name] = client.post(
            f"/console/cases/{number}/status", data=data, follow_redirects=False
        ).status_code

    threads = [
        threading.Thread(target=change, args=("amy", amy, "assigned")),
        threading.Thread(target=change, args=("bob", bob, "rejected")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [303, 409]
    loser = next(name for name, code in results.items() if code == 409)
    again = (amy if loser == "amy" else bob).post(
        f"/console/cases/{number}/status",
        data={"status": "closed", "revision": "1", "csrf_token": tokens[loser]},
    )
    assert again.status_code == 409
    assert "已被其他人更新（目前為第 2 版）" in again.text
    with _db(inbox).session() as session:
        assert len(CaseStore(session).events(number)) == 2, "one change made, none lost"


def test_a_live_takeover_round_trip_on_the_web_channel(inbox: TestClient) -> None:
    sender, conversation = "web-carol", _conversation("web-carol")
    assert inbox.post("/api/chat", json={"sender": sender, "text": "我想問垃圾車的時間"}).json()["replies"]
    login_as(inbox, "staff", "amy")
    assert inbox.get("/console/api/inbox").json()["agents"] == ["amy"], "the inbox is open: amy is present"
    json_headers = {"Accept": "application/json"}
    took = inbox.post(f"/console/conversations/{conversation}/take", headers=json_headers)
    assert took.status_code == 200, took.text

    def pushed() -> list[dict[str, Any]]:
        return [u["reply"] for u in _updates(inbox, sender)["updates"]]

    wait_until(lambda: len(pushed()) == 1, what="the 'a person joined' notice")
    assert pushed()[0]["kind"] == "handoff"
    assert "客服專員已加入對話" in pushed()[0]["text"]
    assert _updates(inbox, sender)["person"] == "present"

    quiet = inbox.post("/api/chat", json={"sender": sender, "text": "請問今天晚上會來嗎？"}).json()
    assert quiet["replies"] == [], "the bot stays silent while a person holds the conversation"
    lines = inbox.get(f"/console/api/conversations/{conversation}").json()["lines"]
    assert lines[-1]["who"] == "citizen"
    assert lines[-1]["text"] == "請問今天晚上會來嗎？"

    other = TestClient(inbox.app, client=("127.0.0.1", 50003))
    login_as(other, "staff", "bob")
    refused = other.post(f"/console/conversations/{conversation}/take", headers=json_headers)
    assert refused.status_code == 409
    assert "amy" in refused.json()["detail"]
    not_mine = other.post(
        f"/console/conversations/{conversation}/reply", data={"text": "嗨"}, headers=json_headers
    )
    assert not_mine.status_code == 409

    said = inbox.post(
        f"/console/conversations/{conversation}/reply",
        data={"text": "今晚七點會到，請準時"},
        headers=json_headers,
    )
    assert said.status_code == 200
    wait_until(lambda: len(pushed()) == 2, what="the agent's reply")
    assert pushed()[1] == {"kind": "agent", "text": "今晚七點會到，請準時", "buttons": [], "links": []}
    empty = inbox.post(
        f"/console/conversations/{conversation}/reply", data={"text": "  "}, headers=json_headers
    )
    assert empty.status_code == 400
    assert "空" in empty.json()["detail"]

    back = inbox.post(f"/console/conversations/{conversation}/release", follow_redirects=False)
    assert back.status_code == 303
    wait_until(lambda: len(pushed()) == 3, what="the 'a person left' notice")
    assert "客服專員已離開對話" in pushed()[2]["text"]
    assert _updates(inbox, sender)["person"] == "none"
    assert inbox.post("/api/chat", json={"sender": sender, "text": "謝謝"}).json()["replies"], (
        "the bot is back"
    )
    lines = inbox.get(f"/console/api/conversations/{conversation}").json()["lines"]
    assert [line["delivery"] for line in lines if line["who"] in ("agent", "notice")] == ["delivered"] * 3


def test_the_queue_page_shows_waiting_citizens_and_presence_can_be_paused(inbox: TestClient) -> None:
    from bot.store.handoff import HandoffStore

    inbox.post("/api/chat", json={"sender": "web-dan", "text": "我要找真人"})
    with _db(inbox).session() as session:
        HandoffStore(session).request(_conversation("web-dan"), channel="web", reason="我要找真人")
    login_as(inbox, "staff", "amy")
    page = inbox.get("/console/cases").text
    assert f'href="/console/conversations/{_conversation("web-dan")}"' in page
    assert "我要找真人" in page
    (waiting,) = inbox.get("/console/api/inbox").json()["queued"]
    assert waiting["conversation_id"] == _conversation("web-dan")
    paused = inbox.post("/console/cases/presence", data={"available": "no"}, follow_redirects=False)
    assert paused.status_code == 303
    assert inbox.get("/console/api/inbox").json()["agents"] == [], (
        "a paused agent is not counted as available"
    )


def test_times_on_the_queue_and_the_case_page_are_in_the_citys_zone(inbox: TestClient) -> None:
    """Stored in UTC (SQLite gives it back without a zone); staff read handoff.timezone."""
    case = NewCase(
        category="street_light",
        description="巷口路燈整排不亮",
        channel="web",
        sender_id="case-form",
        location_text="中正路 100 號",
        phone="0912345678",
    )
    with _db(inbox).session() as session:
        number = CaseStore(session).file(case, now=datetime(2026, 12, 6, 23, 23, tzinfo=UTC)).number
    login_as(inbox, "staff")
    page = inbox.get(f"/console/cases/{number}").text
    assert "<dt>立案時間</dt><dd>2026-12-07 07:23</dd>" in page
    assert "<dt>處理期限</dt><dd>2026-12-07 11:23" in page, "four hours later, local"
    assert "2026-12-06 23:23" not in page
    queue = inbox.get("/console/cases", params={"status": "received"}).text
    assert "2026-12-07 07:23" in queue


@pytest.mark.parametrize(
    ("status", "said"), [("closed", "此案件已結案，不能再變更。"), ("rejected", "此案件不受理，不能再變更。")]
)
def test_a_finished_case_says_so_once(inbox: TestClient, status: str, said: str) -> None:
    number = _file(inbox)
    csrf = login_as(inbox, "staff")
    for revision, step in enumerate(["assigned", status] if status == "closed" else [status], 1):
        form = {"status": step, "revision": str(revision), "note": "", "public_note": "", "csrf_token": csrf}
        moved = inbox.post(f"/console/cases/{number}/status", data=form, follow_redirects=False)
        assert moved.status_code == 303, moved.text
    page = inbox.get(f"/console/cases/{number}").text
    assert said in page
    assert "已已" not in page


def test_the_transcript_shows_the_buttons_the_citizen_saw_and_pressed(inbox: TestClient) -> None:
    """Not payloads such as （按鈕 /deny）: the options offered, and the one chosen, in words."""
    sender = "web-eve"
    conversation = _conversation(sender)
    start = utcnow() - timedelta(minutes=10)
    turns = [  # (payload, decision, candidates, bot's reply), as the chat service logs them
        ("", "clarify", ["F-1", "F-2"], "請問您想問的是下面哪一個？"),
        ('/pick_suggestion{"faq_id": "F-2"}', "answer", [], "每年五月繳納房屋稅。"),
        ("/report_issue", "form", [], "您的電話只會提供給承辦單位聯絡本案使用。請問您同意嗎？"),
        ("/affirm", "form", [], "請確認以下內容"),
        ('/correct{"form_field": "phone"}', "form", [], "請留下聯絡電話"),
        ("/deny", "form", [], "好的"),
    ]
    with _db(inbox).session() as session:
        store = TurnStore(session)
        for n, (payload, decision, candidates, reply) in enumerate(turns):
            store.log(
                Turn(
                    conversation_id=conversation,
                    sender=conversation,
                    channel="web",
                    text="" if payload else "房屋稅",
                    payload=payload,
                    decision=decision,
                    candidates=candidates,
                    reply=[reply],
                    at=start + timedelta(minutes=n),
                )
            )
    number = _file(inbox, sender=sender)
    login_as(inbox, "staff")
    page = inbox.get(f"/console/cases/{number}").text
    offered = re.search(r'<ul class="line-choices" aria-label="民眾看到的選項">(.*?)</ul>', page)
    assert offered is not None, page
    assert re.findall(r"<li>(.*?)</li>", offered.group(1)) == [
        "大型垃圾要怎麼預約清運？",
        "房屋稅什麼時候繳？",
        "都不是，我要找專人",
    ]
    said = re.findall(r'<li class="line line-citizen".*?<p class="line-text">(.*?)</p>', page, re.DOTALL)
    assert said == [
        "房屋稅",
        "（選了建議的問題「房屋稅什麼時候繳？」）",
        "（按下「我要通報問題」）",
        "（按下「同意」）",
        "（按下「修改聯絡電話」）",
        "（按下「否」）",
    ]
    assert "/deny" not in page
    assert "form_field" not in page
    lines = inbox.get(f"/console/api/conversations/{conversation}").json()["lines"]
    assert lines[1]["choices"] == ["大型垃圾要怎麼預約清運？", "房屋稅什麼時候繳？", "都不是，我要找專人"]
