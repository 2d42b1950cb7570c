"""The agents' presence record the settings ask for: ``handoff.presence`` ``sql`` or ``redis``.

``sql`` (the embedded default) keeps heartbeats as rows; ``redis`` keeps them in the Redis of
``handoff.presence_redis_url``, shared by every replica (``bot1999 run-cluster`` sets it). The
Redis client is made once per process and URL; it connects on first use.
"""

from __future__ import annotations

from functools import lru_cache

from redis import Redis
from sqlalchemy.orm import Session

from bot.settings import HandoffSettings
from bot.store.handoff import PresenceStore
from bot.store.presence import AgentPresence
from bot.store.presence_redis import RedisPresence

__all__ = ["REDIS_TIMEOUT_SECONDS", "presence_for"]

REDIS_TIMEOUT_SECONDS = 0.5  # a heartbeat or a check waits no longer for Redis


@lru_cache(maxsize=4)
def _client(url: str) -> Redis:
    return Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )


def presence_for(session: Session, settings: HandoffSettings) -> AgentPresence:
    """The presence record for this unit of work (the pause, and with ``sql`` the heartbeats, in ``session``)."""
    if settings.presence == "redis":
        client = _client(settings.presence_redis_url.get_secret_value())
        return RedisPresence(session, client, prefix=settings.presence_prefix)
    return PresenceStore(session)
