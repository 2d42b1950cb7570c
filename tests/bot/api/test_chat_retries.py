"""A web message sent again with the same message_id (a retry) is answered once, from the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from bot.api.chat import web_event_id
from bot.app import create_app
from bot.store import Database
from bot.store.conversations import ChannelEventStore
from bot.store.kb_import import import_rows
from bot.store.models import ChannelEventRow, TurnRow, utcnow
from knowledge.importers import Parsed
from tests.bot.api.test_chat import RECORDS, _closed_port
from tests.conftest import app_settings


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    db = Database(database_url)
    db.migrate()
    with db.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    db.dispose()
    settings = app_settings(
        database_url, tmp_path, rasa={"url": f"http://127.0.0.1:{_closed_port()}", "timeout_seconds": 1}
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 4000)) as test_client:
        yield test_client


def _turns(database_url: str, text: str) -> int:
    db = Database(database_url)
    with db.session() as session:
        count = session.scalar(select(func.count()).select_from(TurnRow).where(TurnRow.text == text))
    db.dispose()
    return int(count or 0)


def test_a_retried_message_gets_the_first_answer_without_a_second_turn(
    client: TestClient, database_url: str
) -> None:
    body = {"sender": "web-abc", "text": "房屋稅期限", "message_id": "m-1f0e2d3c"}
    first = client.post("/api/chat", json=body)
    again = client.post("/api/chat", json=body)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["replies"][1]["text"].startswith("每年五月繳納房屋稅。")
    assert _turns(database_url, "房屋稅期限") == 1

    other_sender = client.post("/api/chat", json={**body, "sender": "web-xyz"})  # ids are per sender
    assert other_sender.status_code == 200
    new_message = client.post("/api/chat", json={**body, "message_id": "m-2"})
    assert new_message.status_code == 200
    client.post("/api/chat", json={"sender": "web-abc", "text": "房屋稅期限"})  # no id: no dedupe
    assert _turns(database_url, "房屋稅期限") == 4


def test_a_retry_while_the_first_is_still_being_answered_is_asked_to_wait(
    client: TestClient, database_url: str
) -> None:
    body = {"sender": "web-abc", "text": "房屋稅期限", "message_id": "m-busy"}
    event_id = web_event_id("web-abc", "m-busy")
    db = Database(database_url)
    with db.session() as session:  # another request (or replica) is in the middle of it
        ChannelEventStore(session).first_time("web", event_id)
    busy = client.post("/api/chat", json=body)
    assert busy.status_code == 409
    assert "處理中" in busy.json()["detail"]
    assert _turns(database_url, "房屋稅期限") == 0
    with db.session() as session:  # ... and died: its lease runs out
        session.execute(update(ChannelEventRow).values(claimed_at=utcnow() - timedelta(minutes=5)))
    db.dispose()
    taken_over = client.post("/api/chat", json=body)
    assert taken_over.status_code == 200
    assert _turns(database_url, "房屋稅期限") == 1
    assert client.post("/api/chat", json=body).json() == taken_over.json()


@pytest.mark.parametrize("message_id", ["", "has space", "x" * 101, "<script>"])
def test_malformed_message_ids_are_refused(client: TestClient, message_id: str) -> None:
    response = client.post("/api/chat", json={"sender": "web-abc", "text": "你好", "message_id": message_id})
    assert response.status_code == 422
