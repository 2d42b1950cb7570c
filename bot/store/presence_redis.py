"""Agents' presence in Redis, shared by every replica (``handoff.presence: redis``).

Each open inbox page checks in every few seconds: with several replicas those heartbeats are
the takeover's busiest writes and worth nothing a few minutes later, so they live in Redis. The
pause (「暫停接手」) is a person's decision and stays a database row (``PresenceStore``), as do
the handoffs themselves.

One sorted set, ``<prefix>seen``: member the agent, score the time of their last heartbeat (Unix
seconds, the caller's clock, as the database record uses). Unlike a key per agent with a TTL, it
answers "who was seen since t" for any t with one range read (no scan of the key space) and
keeps the window a setting of the callers, not of the keys.

Redis here keeps nothing on disk: after a restart every agent looks absent. The set therefore
also holds when it began — the member ``RECORD_BEGAN``, added only if missing (``ZADD NX``) by
every write and check — and ``covers(since)`` is true only once the record is older than
``since``, so no conversation is handed back until an agent has been unseen for a whole window
of this record. Being in the same key, the beginning cannot outlive the heartbeats it vouches for.
The key expires ``retain`` after the last write or check, so a Redis no replica uses forgets it.

When Redis does not answer, heartbeats are dropped and reads raise ``PresenceUnavailable``; the
log says so at most once a minute.
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from datetime import UTC, datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from bot.store.handoff import PresenceStore
from bot.store.models import utcnow
from bot.store.presence import PresenceUnavailable

__all__ = ["RECORD_BEGAN", "RedisPresence"]

log = logging.getLogger(__name__)

RECORD_BEGAN = "#record-began"  # not a username (those start with a-z or 0-9)
WARN_EVERY_SECONDS = 60.0
_last_warning: weakref.WeakKeyDictionary[Redis, float] = weakref.WeakKeyDictionary()


def _warn(client: Redis, error: Exception) -> None:
    """Log that ``client``'s Redis does not answer, at most once a minute per client (one per process)."""
    now = time.monotonic()
    if now - _last_warning.get(client, -math.inf) >= WARN_EVERY_SECONDS:
        _last_warning[client] = now
        log.error(
            "agents' presence: Redis does not answer (%s); heartbeats are not recorded and "
            "no conversation is handed back for an absent agent until it does",
            error,
        )


def _seconds(when: datetime) -> float:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


class RedisPresence:
    """``AgentPresence`` with heartbeats in Redis and the pause in the database (``session``)."""

    def __init__(
        self,
        session: Session,
        client: Redis,
        *,
        prefix: str = "bot1999:presence:",
        retain: timedelta = timedelta(days=1),
    ) -> None:
        self.pauses = PresenceStore(session)
        self.client = client
        self.key = prefix + "seen"
        self.retain = retain

    def heartbeat(self, username: str, *, now: datetime | None = None) -> None:
        at = _seconds(now or utcnow())
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(self.key, {username: at})
        pipe.zadd(self.key, {RECORD_BEGAN: at}, nx=True)
        pipe.expire(self.key, self.retain)
        try:
            pipe.execute()
        except (RedisError, OSError) as error:
            _warn(self.client, error)

    def set_available(self, username: str, available: bool, *, now: datetime | None = None) -> None:
        self.pauses.set_available(username, available, now=now)
        self.heartbeat(username, now=now)

    def is_available(self, username: str) -> bool:
        return self.pauses.is_available(username)

    def present(self, *, since: datetime) -> list[str]:
        try:
            raw = self.client.zrangebyscore(self.key, _seconds(since), "+inf")
        except (RedisError, OSError) as error:
            _warn(self.client, error)
            raise PresenceUnavailable(str(error)) from error
        names = (name.decode() if isinstance(name, bytes) else str(name) for name in raw)
        seen = sorted(name for name in names if name != RECORD_BEGAN)
        paused = self.pauses.paused(seen)
        return [name for name in seen if name not in paused]

    def seen_since(self, username: str, since: datetime) -> bool:
        try:
            score = self.client.zscore(self.key, username)
        except (RedisError, OSError) as error:
            _warn(self.client, error)
            raise PresenceUnavailable(str(error)) from error
        return score is not None and score >= _seconds(since)

    def covers(self, since: datetime, *, now: datetime | None = None) -> bool:
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(self.key, {RECORD_BEGAN: _seconds(now or utcnow())}, nx=True)
        pipe.expire(self.key, self.retain)
        pipe.zscore(self.key, RECORD_BEGAN)
        try:
            began = pipe.execute()[-1]
        except (RedisError, OSError) as error:
            _warn(self.client, error)
            raise PresenceUnavailable(str(error)) from error
        return began is not None and float(began) <= _seconds(since)
