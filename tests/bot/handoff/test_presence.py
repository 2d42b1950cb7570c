"""The takeover on the Redis presence record (``handoff.presence: redis``): a restarted Redis hands
nothing back by itself, and a Redis that does not answer neither stops agents nor hands back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.handoff.hours import availability
from bot.handoff.presence import presence_for
from bot.handoff.takeover import AGENT_GONE_TEXT, release_abandoned, request_human, take
from bot.settings import HandoffSettings, SettingsError, load_settings
from bot.store import Database
from bot.store.handoff import HandoffStore, PresenceStore
from bot.store.outbox import NotificationStore
from bot.store.presence_redis import RedisPresence
from tests.bot.handoff.conftest import handoff_settings, reachable
from tests.redis_space import RedisSpace, silent_redis_url

NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Taipei


def _at(seconds: float) -> datetime:
    return NOON + timedelta(seconds=seconds)


def _on_redis(url: str, prefix: str = "bot1999-test:unused:", **overrides: Any) -> HandoffSettings:
    return handoff_settings(
        presence="redis", presence_redis_url=url, presence_prefix=prefix, presence_seconds=60, **overrides
    )


def test_the_settings_choose_the_record(database: Database, redis_space: RedisSpace) -> None:
    with database.session() as session:
        assert isinstance(presence_for(session, handoff_settings()), PresenceStore)
        on_redis = presence_for(session, _on_redis(redis_space.url, redis_space.prefix))
        assert isinstance(on_redis, RedisPresence)
        on_redis.heartbeat("amy", now=NOON)
    assert redis_space.keys() == [redis_space.prefix + "seen"]
    with pytest.raises(SettingsError, match=r"handoff\.presence \(BOT1999_HANDOFF__PRESENCE\)"):
        load_settings(handoff={"presence": "memcached"})


def test_a_restarted_redis_hands_back_only_agents_unseen_for_a_whole_window_since(
    database: Database, redis_space: RedisSpace
) -> None:
    settings = _on_redis(redis_space.url, redis_space.prefix)
    reachable(database, "p_a", "line")
    reachable(database, "p_b", "web")
    with database.session() as session:
        take(session, "p_a", "amy", settings=settings, now=NOON)
        take(session, "p_b", "bob", settings=settings, now=NOON)
        presence_for(session, settings).heartbeat("amy", now=_at(30))
        presence_for(session, settings).heartbeat("bob", now=_at(30))
    redis_space.forget()  # Redis restarts at +40 s: both inboxes look silent
    with database.session() as session:
        assert release_abandoned(session, settings, now=_at(100)) == [], "absence is not assumed"
        presence_for(session, settings).heartbeat("bob", now=_at(105))  # bob's inbox still checks in
        assert release_abandoned(session, settings, now=_at(159)) == [], "the record is 59 s old"
        assert release_abandoned(session, settings, now=_at(161)) == ["p_a"], "amy unseen for 61 s of it"
        assert HandoffStore(session).held_by("p_a") is None
        assert HandoffStore(session).held_by("p_b") == "bob"
        told = NotificationStore(session).for_conversation("p_a")[-1]
        assert (told.kind, told.replies[0]["text"]) == ("agent_left", AGENT_GONE_TEXT)


def test_a_silent_agent_is_handed_back_after_the_window(database: Database, redis_space: RedisSpace) -> None:
    settings = _on_redis(redis_space.url, redis_space.prefix)
    reachable(database, "p_a", "line")
    with database.session() as session:
        take(session, "p_a", "amy", settings=settings, now=NOON)
        assert release_abandoned(session, settings, now=_at(59)) == []
        assert release_abandoned(session, settings, now=_at(61)) == ["p_a"]


def test_without_redis_agents_work_on_and_nothing_is_handed_back(database: Database) -> None:
    settings = _on_redis(silent_redis_url())
    reachable(database, "p_a", "line")
    reachable(database, "p_b", "web")
    with database.session() as session:
        take(session, "p_a", "amy", settings=settings, now=NOON)  # the heartbeat fails softly
        assert release_abandoned(session, settings, now=_at(3600)) == []
        assert HandoffStore(session).held_by("p_a") == "amy"
        assert availability(session, settings, now=NOON).agents == []
        asked = request_human(session, "p_b", channel="web", settings=settings, now=NOON)
    assert asked.outcome == "no_agent", "nobody is promised a person while presence cannot be read"
    assert asked.offers_message, "the citizen is offered to leave a message instead"
