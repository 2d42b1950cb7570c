"""Agents' presence behaves the same in the database and in Redis (the ``AgentPresence`` contract)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from bot.store import Database
from bot.store.handoff import PresenceStore
from bot.store.presence import AgentPresence
from bot.store.presence_redis import RedisPresence
from tests.redis_space import RedisSpace

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=90)

Make = Callable[[Session], AgentPresence]


@pytest.fixture(params=["sql", "redis"])
def make(request: pytest.FixtureRequest) -> Make:
    if request.param == "sql":
        return PresenceStore
    space: RedisSpace = request.getfixturevalue("redis_space")
    return lambda session: RedisPresence(session, space.client, prefix=space.prefix)


def test_present_are_the_available_agents_seen_in_the_window(database: Database, make: Make) -> None:
    with database.session() as session:
        presence = make(session)
        presence.heartbeat("amy", now=T0)
        presence.heartbeat("bob", now=T0 - timedelta(minutes=5))
        presence.set_available("cat", False, now=T0)
    with database.session() as session:
        presence = make(session)
        assert presence.present(since=T0 - WINDOW) == ["amy"]
        assert presence.seen_since("bob", T0 - timedelta(minutes=6))
        assert not presence.seen_since("bob", T0 - WINDOW)
        assert not presence.seen_since("nobody", T0 - timedelta(days=1))
        assert (presence.is_available("cat"), presence.is_available("amy")) == (False, True)
        assert presence.is_available("nobody"), "an agent never seen has not paused"
        presence.set_available("cat", True, now=T0)
        assert presence.present(since=T0 - WINDOW) == ["amy", "cat"]


def test_a_later_heartbeat_moves_the_agent_back_into_the_window(database: Database, make: Make) -> None:
    with database.session() as session:
        presence = make(session)
        presence.heartbeat("amy", now=T0 - timedelta(minutes=10))
        assert presence.present(since=T0 - WINDOW) == []
        presence.heartbeat("amy", now=T0)
        assert presence.present(since=T0 - WINDOW) == ["amy"]
        assert presence.seen_since("amy", T0)


def test_a_pause_outlasts_heartbeats(database: Database, make: Make) -> None:
    with database.session() as session:
        make(session).set_available("amy", False, now=T0)
    with database.session() as session:
        presence = make(session)
        presence.heartbeat("amy", now=T0 + timedelta(seconds=5))
        assert presence.seen_since("amy", T0)
        assert presence.present(since=T0 - WINDOW) == [], "checking in does not undo a pause"
        assert not presence.is_available("amy")


def test_a_record_in_use_covers_the_window(database: Database, make: Make) -> None:
    with database.session() as session:
        presence = make(session)
        presence.heartbeat("amy", now=T0)
        assert presence.covers(T0, now=T0 + WINDOW)
        assert presence.covers(T0 + timedelta(seconds=30), now=T0 + WINDOW)
