"""GET /api/chat/updates: what the web gateway pushed to one widget, by increasing id, and nobody else's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.handoff.web import WebGateway
from bot.messages import Reply
from bot.privacy import pseudonymise
from bot.settings import DEVELOPMENT_PSEUDONYM_KEY
from bot.store import Database
from bot.store.handoff import HandoffStore
from tests.conftest import app_settings
from tests.e2e.live_server import closed_port


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = app_settings(database_url, tmp_path, rasa={"url": f"http://127.0.0.1:{closed_port()}"})
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as test_client:
        yield test_client


def test_pushes_come_in_order_once_each_and_only_to_their_widget(client: TestClient) -> None:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    gateway = WebGateway(database)
    asyncio.run(gateway.push("web-a", [Reply(kind="case", text="一"), Reply(kind="agent", text="二")]))
    asyncio.run(gateway.push("web-b", [Reply(kind="case", text="別人的")]))
    first = client.get("/api/chat/updates", params={"sender": "web-a"})
    assert first.headers["cache-control"] == "no-store"
    body = first.json()
    assert [(u["reply"]["kind"], u["reply"]["text"]) for u in body["updates"]] == [
        ("case", "一"),
        ("agent", "二"),
    ]
    assert (body["person"], body["poll_ms"]) == ("none", 20000)
    again = client.get("/api/chat/updates", params={"sender": "web-a", "after": body["last"]}).json()
    assert again["updates"] == []
    assert again["last"] == body["last"]
    assert client.get("/api/chat/updates", params={"sender": "web-c"}).json()["updates"] == []
    with database.session() as session:
        HandoffStore(session).request(pseudonymise("web", "web-a", DEVELOPMENT_PSEUDONYM_KEY), channel="web")
    waiting = client.get("/api/chat/updates", params={"sender": "web-a", "after": body["last"]}).json()
    assert (waiting["person"], waiting["poll_ms"]) == ("waiting", 2000), "a person is coming: ask often"


@pytest.mark.parametrize(
    "params",
    [{}, {"sender": ""}, {"sender": "a b"}, {"sender": "x" * 101}, {"sender": "web-a", "after": "-1"}],
)
def test_bad_queries_are_refused(client: TestClient, params: dict[str, str]) -> None:
    assert client.get("/api/chat/updates", params=params).status_code == 422
