"""A private key space in the shared Redis at 127.0.0.1:6379, for tests of what lives in Redis.

A conftest makes the fixture available with ``from tests.redis_space import redis_space as redis_space``.
Each test gets its own prefix; its keys are deleted afterwards (never FLUSHDB: the Redis is shared).
Outside CI a Redis that does not answer skips the test; in CI it fails.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from tests.conftest import _unavailable

__all__ = ["REDIS_URL", "RedisSpace", "redis_space", "silent_redis_url"]

REDIS_URL = "redis://127.0.0.1:6379/0"


def silent_redis_url() -> str:
    """The URL of a Redis that does not answer (a local port nothing listens on)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@dataclass(frozen=True)
class RedisSpace:
    url: str
    prefix: str
    client: redis.Redis

    def keys(self) -> list[str]:
        return sorted(key.decode() for key in self.client.scan_iter(self.prefix + "*"))

    def forget(self) -> int:
        """Delete every key of this space (what a restart does to a Redis that keeps nothing on disk)."""
        keys = list(self.client.scan_iter(self.prefix + "*"))
        return int(self.client.delete(*keys)) if keys else 0


@pytest.fixture
def redis_space() -> Iterator[RedisSpace]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        _unavailable(f"Redis does not answer at {REDIS_URL}: {error}")
    space = RedisSpace(REDIS_URL, f"bot1999-test:{uuid.uuid4().hex[:8]}:", client)
    try:
        yield space
    finally:
        space.forget()
        client.close()
