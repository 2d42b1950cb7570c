"""Fixtures for the security tests: a private key space in the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

import pytest

from tests.redis_space import REDIS_URL, RedisSpace
from tests.redis_space import redis_space as redis_space

__all__ = ["REDIS_URL", "redis_prefix", "redis_space"]


@pytest.fixture
def redis_prefix(redis_space: RedisSpace) -> str:
    """The prefix of a key space of the test's own, deleted afterwards."""
    return redis_space.prefix
