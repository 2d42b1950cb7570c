"""Fixtures for the security tests: a private key space in the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import _unavailable

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        _unavailable(f"Redis does not answer at {REDIS_URL}: {error}")
    prefix = f"bot1999-test:{uuid.uuid4().hex[:8]}:"
    yield prefix
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    client.close()
