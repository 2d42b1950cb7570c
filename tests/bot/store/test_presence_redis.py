"""Heartbeats in the shared Redis: replicas see one record, a restart is noticed, an outage is survived."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import redis

from bot.store import Database
from bot.store.models import AgentPresenceRow
from bot.store.presence import PresenceUnavailable
from bot.store.presence_redis import RECORD_BEGAN, RedisPresence
from tests.redis_space import RedisSpace, silent_redis_url

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=90)


def test_two_replicas_see_the_same_agents(database: Database, redis_space: RedisSpace) -> None:
    first = redis.Redis.from_url(redis_space.url)
    second = redis.Redis.from_url(redis_space.url)
    try:
        with database.session() as one, database.session() as two:
            RedisPresence(one, first, prefix=redis_space.prefix).heartbeat("amy", now=T0)
            RedisPresence(two, second, prefix=redis_space.prefix).heartbeat("bob", now=T0)
        with database.session() as one, database.session() as two:
            assert RedisPresence(one, first, prefix=redis_space.prefix).present(since=T0 - WINDOW) == [
                "amy",
                "bob",
            ]
            assert RedisPresence(two, second, prefix=redis_space.prefix).seen_since("amy", T0)
    finally:
        first.close()
        second.close()


def test_heartbeats_are_one_expiring_key_and_no_rows(database: Database, redis_space: RedisSpace) -> None:
    with database.session() as session:
        presence = RedisPresence(session, redis_space.client, prefix=redis_space.prefix)
        presence.heartbeat("amy", now=T0)
        presence.heartbeat("bob", now=T0)
    assert redis_space.keys() == [redis_space.prefix + "seen"]
    ttl = redis_space.client.ttl(redis_space.prefix + "seen")
    assert 0 < ttl <= timedelta(days=1).total_seconds()
    with database.session() as session:
        assert session.get(AgentPresenceRow, "amy") is None, "a heartbeat writes nothing to the database"
        RedisPresence(session, redis_space.client, prefix=redis_space.prefix).set_available("amy", False)
    with database.session() as session:
        row = session.get(AgentPresenceRow, "amy")
        assert row is not None
        assert row.available is False, "the pause is a row: it outlives Redis"


def test_after_a_restart_the_record_covers_a_window_only_once_it_is_that_old(
    database: Database, redis_space: RedisSpace
) -> None:
    with database.session() as session:
        presence = RedisPresence(session, redis_space.client, prefix=redis_space.prefix)
        presence.heartbeat("amy", now=T0)
        assert presence.covers(T0, now=T0 + WINDOW)
        assert redis_space.forget() == 1  # Redis restarted: every heartbeat is gone
        restarted = T0 + timedelta(seconds=100)
        assert not presence.seen_since("amy", T0)
        assert not presence.covers(restarted - WINDOW, now=restarted), "a record 0 s old covers no window"
        assert redis_space.client.zscore(redis_space.prefix + "seen", RECORD_BEGAN) == restarted.timestamp()
        presence.heartbeat("amy", now=restarted + timedelta(seconds=5))
        assert not presence.covers(
            restarted + timedelta(seconds=30) - WINDOW, now=restarted + timedelta(seconds=30)
        )
        assert presence.covers(restarted, now=restarted + WINDOW), "kept for a whole window"
        assert presence.present(since=restarted) == ["amy"], "the record's beginning is no agent"


def test_the_record_begins_with_its_first_write_and_keeps_that_beginning(
    database: Database, redis_space: RedisSpace
) -> None:
    with database.session() as session:
        presence = RedisPresence(session, redis_space.client, prefix=redis_space.prefix)
        presence.heartbeat("amy", now=T0)
        presence.heartbeat("amy", now=T0 + timedelta(seconds=10))
        assert presence.covers(T0, now=T0 + timedelta(seconds=10)), "a later heartbeat keeps the beginning"
        assert not presence.covers(T0 - timedelta(seconds=1), now=T0 + timedelta(seconds=10))


def test_when_redis_does_not_answer_heartbeats_are_dropped_and_reads_say_so(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis.Redis.from_url(silent_redis_url(), socket_connect_timeout=0.5)
    with database.session() as session, caplog.at_level(logging.ERROR, "bot.store.presence_redis"):
        presence = RedisPresence(session, client)
        presence.heartbeat("amy", now=T0)  # does not raise
        presence.set_available("bob", False, now=T0)  # the pause is kept all the same
        with pytest.raises(PresenceUnavailable):
            presence.present(since=T0 - WINDOW)
        with pytest.raises(PresenceUnavailable):
            presence.seen_since("amy", T0)
        with pytest.raises(PresenceUnavailable):
            presence.covers(T0, now=T0)
        assert not presence.is_available("bob")
    warnings = [r.getMessage() for r in caplog.records if "Redis does not answer" in r.getMessage()]
    assert len(warnings) == 1, "told once, not at every heartbeat"
    client.close()
