"""The inbox's heartbeats with ``handoff.presence: redis``: two replicas of the app share one record
in Redis, a pause is kept in the database, and the inbox works on while Redis is away."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.store import Database
from bot.store.models import AgentPresenceRow
from tests.bot.console.client import login_as
from tests.bot.console.conftest import closed_port, seed
from tests.conftest import app_settings
from tests.redis_space import RedisSpace, silent_redis_url
from tests.redis_space import redis_space as redis_space


def _app(database_url: str, cache: Path, url: str, prefix: str) -> Any:
    settings = app_settings(
        database_url,
        cache,
        rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1},
        handoff={
            "agent_hours": "00:00-24:00",
            "presence": "redis",
            "presence_redis_url": url,
            "presence_prefix": prefix,
        },
    )
    return create_app(settings)


@pytest.fixture
def replicas(database_url: str, tmp_path: Path, redis_space: RedisSpace) -> Iterator[list[TestClient]]:
    """Two replicas of the app on one database and one Redis."""
    seed(database_url)
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                TestClient(_app(database_url, tmp_path, redis_space.url, redis_space.prefix), client=client)
            )
            for client in (("127.0.0.1", 50000), ("127.0.0.1", 50001))
        ]


def _presence_row(client: TestClient, username: str) -> AgentPresenceRow | None:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        row = session.get(AgentPresenceRow, username)
        if row is not None:
            session.expunge(row)
        return row


def _agents(client: TestClient) -> list[str]:
    response = client.get("/console/api/inbox")
    assert response.status_code == 200
    agents: list[str] = response.json()["agents"]
    return agents


def test_an_agent_on_one_replica_is_present_on_the_other(
    replicas: list[TestClient], redis_space: RedisSpace
) -> None:
    first, second = replicas
    login_as(first, "staff", "amy")
    login_as(second, "staff", "bob")
    assert _agents(first) == ["amy"]
    assert _agents(second) == ["amy", "bob"], "amy checked in through the other replica"
    assert redis_space.keys() == [redis_space.prefix + "seen"]
    assert _presence_row(first, "amy") is None, "heartbeats are not database rows"
    paused = first.post("/console/cases/presence", data={"available": "no"}, follow_redirects=False)
    assert paused.status_code == 303
    assert _agents(second) == ["bob"], "a pause on one replica holds on the other"
    row = _presence_row(second, "amy")
    assert row is not None
    assert row.available is False


def test_the_inbox_works_while_redis_is_away(database_url: str, tmp_path: Path) -> None:
    seed(database_url)
    away = silent_redis_url()
    with TestClient(
        _app(database_url, tmp_path, away, "bot1999-test:away:"), client=("127.0.0.1", 50000)
    ) as inbox:
        login_as(inbox, "staff", "amy")
        assert inbox.get("/console/cases").status_code == 200
        assert _agents(inbox) == [], "nobody counts as present while presence cannot be read"
        paused = inbox.post("/console/cases/presence", data={"available": "no"}, follow_redirects=False)
        assert paused.status_code == 303
