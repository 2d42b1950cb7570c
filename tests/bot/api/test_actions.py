"""``POST /actions/webhook``: Rasa's actions served by the bot, with the bot's own index and store.

The calls are what Rasa sends (rasa-sdk's action-call format); the app is the real one over
a real store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.store import Database
from bot.store.kb_import import import_rows
from knowledge.importers import Parsed
from tests.conftest import app_settings
from tests.factories import faq
from tests.waiting import wait_until

TOKEN = "actions-test-token"  # noqa: S105 (a test's)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RECORDS = [
    faq("F-1", question="大型垃圾要怎麼預約清運？", alt_questions=["舊沙發要怎麼丟", "大型家具回收"]),
    faq("F-2", question="房屋稅什麼時候繳？", answer="每年五月繳納房屋稅。", alt_questions=["房屋稅期限"]),
]


def _import(database: Database, records: list[Any]) -> None:
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(records, 1)], actor="test")


def _client(app: Any, host: str = "127.0.0.1") -> TestClient:
    return TestClient(app, client=(host, 50000))


@pytest.fixture
def app(database: Database, database_url: str, tmp_path: Path) -> Any:
    _import(database, RECORDS)
    return create_app(app_settings(database_url, tmp_path, rasa={"actions_token": TOKEN}))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with _client(app) as test_client:
        yield test_client


def call(text: str, action: str = "action_answer_faq", **extra: Any) -> dict[str, Any]:
    """An action call as Rasa 3.6 sends it."""
    return {
        "next_action": action,
        "sender_id": "p_conversation1",
        "version": "3.6.21",
        "domain": {"intents": [], "entities": [], "slots": {}, "responses": {}, "actions": [], "forms": {}},
        "tracker": {
            "sender_id": "p_conversation1",
            "slots": {},
            "latest_message": {
                "text": text,
                "intent": {"name": "faq", "confidence": 0.9},
                "entities": [],
                "metadata": {"channel": "web"},
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            **extra,
        },
    }


def _answer_text(result: dict[str, Any]) -> str:
    return " ".join(
        str(m["custom"]["reply"].get("text", ""))
        for m in result["responses"]
        if "reply" in (m.get("custom") or {})
    )


def test_rasa_on_this_machine_gets_the_answer_from_the_bots_index(client: TestClient) -> None:
    response = client.post("/actions/webhook", json=call("舊沙發要怎麼丟"), headers=AUTH)
    assert response.status_code == 200
    result = response.json()
    turn = next(m["custom"]["turn"] for m in result["responses"] if "turn" in (m.get("custom") or {}))
    assert (turn["decision"], turn["faq_id"]) == ("answer", "F-1")
    assert "清潔隊" in _answer_text(result)
    slots = {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}
    assert slots["last_question"] == "舊沙發要怎麼丟"


def test_a_published_edit_is_what_the_actions_answer_without_a_restart(
    client: TestClient, database: Database
) -> None:
    edited = faq(
        "F-2",
        question="房屋稅什麼時候繳？",
        answer="房屋稅改在每年十一月繳納。",
        alt_questions=["房屋稅期限"],
    )
    _import(database, [edited])

    def answered_with_the_edit() -> bool:
        result = client.post("/actions/webhook", json=call("房屋稅期限"), headers=AUTH).json()
        return "十一月" in _answer_text(result)

    wait_until(answered_with_the_edit, what="the actions to answer with the published edit")


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no token"),
        ({"Authorization": "Bearer wrong"}, "a wrong token"),
        ({**AUTH, "X-Forwarded-For": "203.0.113.9"}, "forwarded by a proxy (the balancer)"),
    ],
)
def test_anyone_but_this_machines_rasa_is_refused(
    client: TestClient, headers: dict[str, str], why: str
) -> None:
    response = client.post("/actions/webhook", json=call("舊沙發要怎麼丟"), headers=headers)
    assert response.status_code == 403, why
    assert "responses" not in response.json()


def test_a_caller_from_another_machine_is_refused_even_with_the_token(app: Any) -> None:
    with _client(app, host="203.0.113.9") as outsider:
        assert outsider.post("/actions/webhook", json=call("舊沙發"), headers=AUTH).status_code == 403


def test_without_a_token_set_the_endpoint_refuses_every_call(database_url: str, tmp_path: Path) -> None:
    app = create_app(app_settings(database_url, tmp_path))
    with _client(app) as client:
        assert (
            client.post(
                "/actions/webhook", json=call("舊沙發"), headers={"Authorization": "Bearer "}
            ).status_code
            == 403
        )


def test_a_long_conversation_is_not_cut_by_the_citizens_body_limit(client: TestClient) -> None:
    events = [{"event": "user", "text": "舊沙發要怎麼丟" * 40, "timestamp": float(n)} for n in range(400)]
    body = call("舊沙發要怎麼丟", events=events)
    response = client.post("/actions/webhook", json=body, headers=AUTH)
    assert len(response.request.content) > 256 * 1024  # over limits.max_body_kb
    assert response.status_code == 200


def test_an_unknown_action_and_a_bad_body_say_so(client: TestClient) -> None:
    unknown = client.post("/actions/webhook", json=call("x", action="action_nope"), headers=AUTH)
    assert unknown.status_code == 404
    assert unknown.json()["action_name"] == "action_nope"
    bad = client.post("/actions/webhook", content=b"not json", headers=AUTH)
    assert bad.status_code == 400
