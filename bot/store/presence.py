"""Which agents are present: the swap point between the SQL record and the Redis one.

An agent is present while their inbox checks in (a heartbeat every few seconds from each open
inbox page) and they have not paused taking conversations. Two records implement it:
``bot.store.handoff.PresenceStore`` (rows in the database; the embedded default) and
``bot.store.presence_redis.RedisPresence`` (heartbeats in Redis, for replicas; the pause stays a
row, since it is a person's decision and must survive a Redis restart).

A record that can forget (Redis keeps nothing on disk) says since when it has been kept
(``covers``), so that nobody is called gone merely because the record is new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

__all__ = ["AgentPresence", "PresenceUnavailable"]


class PresenceUnavailable(Exception):
    """The presence record cannot be read now (its Redis does not answer)."""


class AgentPresence(Protocol):
    """Agents' heartbeats and pauses. Writes never fail the caller: a heartbeat that cannot be
    recorded is logged and dropped. Reads raise ``PresenceUnavailable`` when the record cannot be read."""

    def heartbeat(self, username: str, *, now: datetime | None = None) -> None:
        """The agent's inbox checked in."""

    def set_available(self, username: str, available: bool, *, now: datetime | None = None) -> None:
        """The agent takes new conversations (True) or has paused (False); also a heartbeat."""

    def is_available(self, username: str) -> bool:
        """Whether the agent has not paused (an agent never seen has not)."""

    def present(self, *, since: datetime) -> list[str]:
        """Agents available and seen at or after ``since``, by name."""

    def seen_since(self, username: str, since: datetime) -> bool:
        """Whether the agent checked in at or after ``since``."""

    def covers(self, since: datetime, *, now: datetime | None = None) -> bool:
        """Whether every heartbeat from ``since`` to ``now`` would be in the record: false while
        the record is younger than that (just after a Redis restart), so nobody counts as gone yet."""
