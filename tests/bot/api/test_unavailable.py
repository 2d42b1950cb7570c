"""While the database is away the service answers 503 "try again", never 500, and a retry of the
same message after it is back is answered once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bench.private_services import PrivatePostgres
from bot.app import create_app
from bot.store import Database
from bot.store.kb_import import import_rows
from bot.store.models import TurnRow
from knowledge.importers import Parsed
from tests.bot.api.test_chat import RECORDS, _closed_port
from tests.conftest import app_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def served(private_postgres: PrivatePostgres, tmp_path: Path) -> Iterator[tuple[TestClient, Database]]:
    url = private_postgres.url("postgres")
    database = Database(url)
    database.migrate()
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    settings = app_settings(
        url, tmp_path, rasa={"url": f"http://127.0.0.1:{_closed_port()}", "timeout_seconds": 1}
    )
    try:
        with TestClient(create_app(settings), client=("127.0.0.1", 4000)) as client:
            yield client, database
    finally:
        database.dispose()


def _turns(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(TurnRow)) or 0)


def test_while_the_database_is_down_the_chat_says_try_again_and_the_retry_is_answered_once(
    served: tuple[TestClient, Database], private_postgres: PrivatePostgres
) -> None:
    client, database = served
    body = {"sender": "web-abc", "text": "房屋稅期限", "message_id": "m-outage"}
    private_postgres.stop()
    refused = client.post("/api/chat", json=body)
    assert refused.status_code == 503
    assert "請稍候再試" in refused.json()["detail"]
    assert "retry-after" not in refused.headers, "the widget's own backoff, and its 'server away' words"
    assert client.get("/healthz").status_code == 503
    private_postgres.start()
    answered = client.post("/api/chat", json=body)
    assert answered.status_code == 200
    assert answered.json()["replies"][1]["text"].startswith("每年五月繳納房屋稅。")
    assert client.post("/api/chat", json=body).json() == answered.json()
    assert _turns(database) == 1
    assert client.get("/healthz").status_code == 200
