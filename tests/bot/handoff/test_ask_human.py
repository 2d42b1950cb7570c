"""action_handoff (ask_human): the takeover queue when a person can come; otherwise an honest answer
and the offer to leave a message (nothing filed unasked). The action runs as the action server runs it: settings from
the environment, a real rasa-sdk Tracker, the real store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from bot.app import create_app
from bot.chat.degraded import MESSAGE_FORM_URL
from bot.privacy import pseudonymise
from bot.settings import DEVELOPMENT_PSEUDONYM_KEY, get_settings
from bot.store import Database
from bot.store.cases import CaseStore
from bot.store.handoff import HandoffStore, PresenceStore
from bot.store.models import utcnow
from bot.store.outbox import NotificationStore
from bot.store.turns import Turn, TurnStore
from tests.bot.handoff.conftest import reachable
from tests.conftest import app_settings
from tests.e2e.live_server import closed_port

CONVERSATION = "p_0123456789abcdef01234567"


def _ask(hours: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    monkeypatch.setenv("BOT1999_HANDOFF__AGENT_HOURS", hours)
    get_settings.cache_clear()
    tracker = Tracker.from_dict(
        {
            "sender_id": CONVERSATION,
            "slots": {"last_question": "我家附近工地半夜還在施工"},
            "latest_message": {
                "text": "我要找真人",
                "intent": {"name": "ask_human", "confidence": 0.97},
                "entities": [],
                "metadata": {"channel": "line"},
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )
    dispatcher = CollectingDispatcher()
    assert ActionHandoff().run(dispatcher, tracker, {}) == []
    custom = [m["custom"] for m in dispatcher.messages]
    reply = next(c["reply"] for c in custom if "reply" in c)
    return reply, custom


@pytest.fixture
def conversation(database: Database, actions_store: str) -> Database:
    reachable(database, CONVERSATION, "line")
    with database.session() as session:
        TurnStore(session).log(
            Turn(CONVERSATION, CONVERSATION, "line", text="我家附近工地半夜還在施工", reply=["…"])
        )
    return database


def test_with_an_agent_present_in_hours_the_citizen_joins_the_queue(
    conversation: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with conversation.session() as session:
        PresenceStore(session).heartbeat("amy")
    reply, custom = _ask("00:00-24:00", monkeypatch)
    assert reply["kind"] == "handoff"
    assert "已為您轉接客服專員" in reply["text"]
    assert "第 1 位" in reply["text"]
    assert {"turn": {"decision": "handoff"}} in custom
    again, _ = _ask("00:00-24:00", monkeypatch)
    assert "您已在等候客服專員" in again["text"]
    with conversation.session() as session:
        (queued,) = HandoffStore(session).queued()
        assert (queued.conversation_id, queued.channel, queued.reason) == (
            CONVERSATION,
            "line",
            "我家附近工地半夜還在施工",
        )
        assert CaseStore(session).count() == 0


def _hours_excluding_now() -> str:
    taipei = utcnow() + timedelta(hours=8)
    start = (taipei + timedelta(hours=2)).replace(minute=0)
    end = (taipei + timedelta(hours=3)).replace(minute=0)
    return f"{start:%H:%M}-{end:%H:%M}"


@pytest.mark.parametrize("in_hours", [False, True], ids=["out-of-hours", "in-hours-nobody-present"])
def test_when_nobody_can_come_the_citizen_is_told_honestly_and_offered_to_leave_a_message(
    conversation: Database, monkeypatch: pytest.MonkeyPatch, in_hours: bool
) -> None:
    """Issue 25 item 6: nothing is filed without asking; the citizen is offered 「留言請專人回覆」
    (which asks for the message, a phone and consent) or told to call 1999."""
    with conversation.session() as session:  # present, but the inbox stopped checking in long ago
        PresenceStore(session).heartbeat("amy", now=utcnow() - timedelta(hours=1))
    reply, custom = _ask("00:00-24:00" if in_hours else _hours_excluding_now(), monkeypatch)
    text = reply["text"]
    assert ("客服專員都不在線上" in text) if in_hours else ("客服專員的線上服務時間是每天" in text)
    assert "1999" in text
    assert "案件編號" in text, "how the message is followed up"
    assert reply["buttons"] == [{"title": "留言請專人回覆", "payload": "/leave_message"}]
    assert {"turn": {"decision": "handoff"}} in custom
    with conversation.session() as session:
        assert HandoffStore(session).queued() == []
        assert CaseStore(session).count() == 0, "no case filed unasked"
        (request,) = HandoffStore(session).history(CONVERSATION)
        notices = NotificationStore(session).for_conversation(CONVERSATION)
    assert request.ended_by == ("no_agent" if in_hours else "out_of_hours")
    assert request.reason == "我家附近工地半夜還在施工"
    assert notices == []


@pytest.mark.parametrize("agent_online", [True, False], ids=["agent-online", "nobody-online"])
def test_with_rasa_away_asking_for_a_person_still_works(
    database_url: str, tmp_path: Path, agent_online: bool
) -> None:
    settings = app_settings(
        database_url,
        tmp_path,
        rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1},
        handoff={"agent_hours": "00:00-24:00"},
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        database: Database = client.app.state.database  # type: ignore[attr-defined]
        if agent_online:
            with database.session() as session:
                PresenceStore(session).heartbeat("amy")
        body = client.post("/api/chat", json={"sender": "web-rasa-away", "payload": "/ask_human"}).json()
        conversation = pseudonymise("web", "web-rasa-away", DEVELOPMENT_PSEUDONYM_KEY)
        with database.session() as session:
            queued = [h.conversation_id for h in HandoffStore(session).queued()]
            cases = CaseStore(session).count()
            notices = NotificationStore(session).for_conversation(conversation)
    assert body["mode"] == "degraded"
    assert [r["kind"] for r in body["replies"]] == ["notice", "handoff"]
    text = body["replies"][1]["text"]
    if agent_online:
        assert "已為您轉接客服專員" in text
        assert (queued, cases) == ([conversation], 0)
    else:
        assert "客服專員都不在線上" in text
        assert (queued, cases) == ([], 0), "nothing filed unasked in degraded mode either"
        assert notices == []
        assert body["replies"][1]["links"] == [{"title": "留言請專人回覆", "url": MESSAGE_FORM_URL}]
        form = client.get(MESSAGE_FORM_URL)
        assert form.status_code == 200
        assert '<option value="general" selected>' in form.text, "the general category chosen"
        assert "未提供（留言請專人回覆）" in form.text


def test_with_rasa_away_the_leave_a_message_button_opens_the_form(database_url: str, tmp_path: Path) -> None:
    """The button offered while Rasa was up, pressed after it went away: the form's link."""
    settings = app_settings(
        database_url, tmp_path, rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        body = client.post("/api/chat", json={"sender": "web-late", "payload": "/leave_message"}).json()
        database: Database = client.app.state.database  # type: ignore[attr-defined]
        with database.session() as session:
            cases = CaseStore(session).count()
    assert body["mode"] == "degraded"
    (reply,) = [r for r in body["replies"] if r["kind"] == "handoff"]
    assert "留言請專人回覆" in reply["text"]
    assert reply["links"] == [{"title": "留言請專人回覆", "url": MESSAGE_FORM_URL}]
    assert cases == 0
