"""Handoff fixtures: a channel that records pushes, settings, the actions pointed at the test store,
and a private key space in the shared Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from actions import providers
from bot.channels.base import PushFailed
from bot.messages import Reply
from bot.settings import HandoffSettings
from bot.store import Database
from bot.store.conversations import ConversationStore
from tests.redis_space import redis_space as redis_space  # the fixture, for the Redis presence tests

ALL_DAY = "00:00-24:00"


class RecordingGateway:
    """A ``ChannelGateway`` that keeps what it is asked to push; it can be down for a while."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pushed: list[tuple[str, list[Reply]]] = []
        self.failures_left = 0
        self.down = False
        self.attempts = 0

    async def push(self, address: str, replies: list[Reply]) -> None:
        self.attempts += 1
        await asyncio.sleep(0)
        if self.down or self.failures_left > 0:
            self.failures_left = max(self.failures_left - 1, 0)
            raise PushFailed("503 from the platform")
        self.pushed.append((address, replies))

    def texts(self, address: str | None = None) -> list[str]:
        return [r.text for to, replies in self.pushed for r in replies if address in (None, to)]


def handoff_settings(**overrides: Any) -> HandoffSettings:
    values: dict[str, Any] = {
        "agent_hours": ALL_DAY,
        "delivery_poll_seconds": 0.1,
        "retry_base_seconds": 1,
        "retry_max_seconds": 60,
        "push_timeout_seconds": 2,
    }
    values.update(overrides)
    return HandoffSettings(**values)


def reachable(database: Database, conversation_id: str, channel: str = "telegram", address: str = "") -> None:
    """Record where a conversation can be reached (as the chat service does on every turn)."""
    with database.session() as session:
        ConversationStore(session).seen(conversation_id, channel, address or f"addr-{conversation_id}")


@pytest.fixture
def actions_store(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The actions, run outside the bot, read their settings from the environment."""
    monkeypatch.setenv("BOT1999_DATABASE_URL", database_url)
    monkeypatch.setenv("BOT1999_SETTINGS_FILE", "")
    monkeypatch.setenv("BOT1999_KNOWLEDGE__ENCODER", "hashing")
    providers.reset()
    yield database_url
    providers.reset()
