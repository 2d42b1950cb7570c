"""The full life of a case, from a chat message to closure, over the real app.

The citizen talks through the web widget's API; Rasa is a loopback server speaking Rasa's HTTP
API that runs our real actions (tests/fakes/scripted_rasa.py); the agent works in the inbox;
notifications go out through the delivery loop and reach the citizen's channel (the web
widget's mailbox, read as the widget reads it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from actions.case_status import ActionCaseStatus
from actions.file_case import ActionFileCase
from bot.app import create_app
from bot.privacy import pseudonymise
from bot.settings import DEVELOPMENT_PSEUDONYM_KEY, get_settings
from bot.store import Database
from bot.store.cases import CaseStore
from bot.store.outbox import NotificationStore
from tests.bot.console.client import login_as
from tests.conftest import app_settings
from tests.fakes.loopback import wait_until
from tests.fakes.scripted_rasa import Rule, ScriptedRasa

CASE_SLOTS = {
    "category": "路燈故障",
    "location": "中正路 100 號前",
    "description": "整排路燈都不亮，晚上很危險",
    "photo": "none",
    "phone": "0912345678",
    "consent": True,
    "confirmed": True,
}
NUMBER = re.compile(r"\d{6}-\d{4,}-\d")


@contextmanager
def _world(
    actions_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, rasa_timeout: float, grace: float
) -> Iterator[tuple[TestClient, ScriptedRasa]]:
    monkeypatch.setenv("BOT1999_HANDOFF__FILED_NOTICE_GRACE_SECONDS", str(grace))  # the action server's
    get_settings.cache_clear()
    status_rule = Rule(("查詢",), ActionCaseStatus(), "check_case_status")
    rules = [
        Rule(("路燈",), ActionFileCase(), "report_issue", dict(CASE_SLOTS)),
        Rule(
            ("坑洞",),
            ActionFileCase(),
            "report_issue",
            dict(CASE_SLOTS, category="道路坑洞"),
            delay_seconds=rasa_timeout + 1,  # always too late, however slow the machine
        ),
        status_rule,
    ]
    with ScriptedRasa(rules) as rasa:
        settings = app_settings(
            actions_store,
            tmp_path,
            rasa={"url": rasa.url, "timeout_seconds": rasa_timeout, "cool_off_seconds": 0},
            handoff={"delivery_poll_seconds": 0.1, "filed_notice_grace_seconds": grace},
        )
        with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
            yield client, rasa


@pytest.fixture
def world(
    actions_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, ScriptedRasa]]:
    """Rasa answers in time: a time-out and a grace that a slow machine never reaches, so every
    reply arrives and the filing notice is settled by the reply, not pushed after the grace."""
    with _world(actions_store, tmp_path, monkeypatch, rasa_timeout=60, grace=3600) as world:
        yield world


@pytest.fixture
def late_world(
    actions_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, ScriptedRasa]]:
    """Rasa files the case but answers after the chat gave up: a short time-out (the answer
    comes a second after it, so it is late on any machine) and a short grace (the push)."""
    with _world(actions_store, tmp_path, monkeypatch, rasa_timeout=1.5, grace=2) as world:
        yield world


def _say(client: TestClient, sender: str, text: str) -> list[dict[str, Any]]:
    response = client.post("/api/chat", json={"sender": sender, "text": text})
    assert response.status_code == 200
    replies: list[dict[str, Any]] = response.json()["replies"]
    return replies


def _pushed(client: TestClient, sender: str) -> list[dict[str, Any]]:
    body = client.get("/api/chat/updates", params={"sender": sender}).json()
    return [update["reply"] for update in body["updates"]]


def _check_status(rasa: ScriptedRasa, client: TestClient, sender: str, number: str, digits: str) -> str:
    rasa.rules[-1].slots = {"case_number": number, "phone_last3": digits}
    (reply,) = _say(client, sender, "查詢案件")
    return str(reply["text"])


def test_from_a_chat_message_to_closure_with_every_notice_on_the_citizens_channel(
    world: tuple[TestClient, ScriptedRasa],
) -> None:
    client, rasa = world
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    citizen = "web-citizen-1"

    # filing: the reply gives the number and how to check it
    (filed,) = _say(client, citizen, "我家巷口的路燈整排不亮")
    number = NUMBER.search(filed["text"]).group(0)  # type: ignore[union-attr]
    assert filed["kind"] == "case"
    assert "電話末三碼" in filed["text"]
    with database.session() as session:
        case = CaseStore(session).get(number)
        assert case.conversation_id == pseudonymise("web", citizen, DEVELOPMENT_PSEUDONYM_KEY)
        (notice,) = NotificationStore(session).for_case(number)
    assert notice.delivered_via == "reply", "told in the reply: the filing notice is not pushed again"

    # the status lookup needs the number and the phone's last 3 digits, and reveals nothing else
    assert "已受理" in _check_status(rasa, client, citizen, number, "678")
    refused = _check_status(rasa, client, citizen, number, "123")
    assert refused.startswith("查不到符合的案件")
    assert number not in refused
    assert "工務局" not in refused
    stranger = _check_status(rasa, client, "web-someone-else", number, "000")
    assert stranger == refused, "another citizen learns nothing, not even that the case exists"

    # the agent assigns, works and closes the case in the inbox
    login_as(client, "staff", "amy")

    def move(to: str, revision: int, **notes: str) -> None:
        response = client.post(
            f"/console/cases/{number}/status",
            data={"status": to, "revision": str(revision), **notes},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text

    move("assigned", 1, note="派工單 A-17")
    wait_until(lambda: len(_pushed(client, citizen)) == 1, what="the 'assigned' notice")
    move("in_progress", 2)
    move("closed", 3, note="換燈泡兩顆", public_note="已更換故障燈具，恢復照明")
    wait_until(lambda: len(_pushed(client, citizen)) == 2, what="the 'closed' notice")

    assigned, closed = _pushed(client, citizen)
    assert assigned["kind"] == "case"
    assert number in assigned["text"]
    assert "已派工" in assigned["text"]
    assert number in closed["text"]
    assert "已結案" in closed["text"]
    assert "已更換故障燈具" in closed["text"]
    assert "派工單" not in assigned["text"] + closed["text"], "internal notes stay inside"
    assert "已結案" in _check_status(rasa, client, citizen, number, "678")

    def recorded() -> bool:  # the loop records a push after it reached the mailbox: wait for that too
        with database.session() as session:
            return all(n.delivered_at is not None for n in NotificationStore(session).for_case(number))

    wait_until(recorded, what="every notice recorded as delivered")
    with database.session() as session:
        events = CaseStore(session).events(number)
        notices = NotificationStore(session).for_case(number)
    assert [e.to_status for e in events] == ["received", "assigned", "in_progress", "closed"]
    assert [e.actor for e in events][1:] == ["amy"] * 3
    assert events[-1].note == "換燈泡兩顆"
    assert [(n.kind, n.attempts) for n in notices] == [
        ("case_filed", 0),
        ("case_assigned", 1),
        ("case_closed", 1),
    ]
    assert len(_pushed(client, citizen)) == 2, "nothing twice"


def test_when_the_reply_with_the_number_is_lost_the_number_is_pushed(
    late_world: tuple[TestClient, ScriptedRasa],
) -> None:
    client, _ = late_world
    citizen = "web-citizen-2"
    replies = _say(client, citizen, "路上有個大坑洞")  # Rasa files the case but answers too late
    assert replies[0]["kind"] == "notice", "the citizen got the degraded answer"
    assert not any(NUMBER.search(r["text"]) for r in replies)
    wait_until(lambda: len(_pushed(client, citizen)) == 1, what="the filing notice")
    (pushed,) = _pushed(client, citizen)
    assert pushed["kind"] == "case"
    assert NUMBER.search(pushed["text"])
    assert "道路坑洞" in pushed["text"]
