"""The token buckets: in memory, and in a real Redis shared by two limiters (two replicas)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket

import pytest
import redis

from bench.private_services import PrivateRedis, free_port
from bot.security.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter, make_limiter
from bot.settings import LimitsSettings, RateLimit
from tests.bot.security.conftest import REDIS_URL
from tests.conftest import _unavailable
from tests.waiting import PATIENCE

FIVE_PER_10S = RateLimit(requests=5, per_seconds=10)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


async def hits(limiter: RateLimiter, key: str, limit: RateLimit, count: int) -> list[bool]:
    return [(await limiter.hit(key, limit)).allowed for _ in range(count)]


def _server_seconds() -> float:
    """Redis's clock (the one its buckets run on): how long a step really took there."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        seconds, micros = client.time()
        return float(seconds) + float(micros) / 1e6
    finally:
        client.close()


def test_a_burst_up_to_the_limit_then_one_per_interval() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock)

    async def scenario() -> None:
        assert await hits(limiter, "a", FIVE_PER_10S, 6) == [True] * 5 + [False]
        refused = await limiter.hit("a", FIVE_PER_10S)
        assert refused.retry_after == pytest.approx(2.0)
        assert refused.retry_after_seconds == 2
        assert (await limiter.hit("b", FIVE_PER_10S)).allowed, "another key has its own bucket"
        clock.now += 2.0  # one token back
        assert await hits(limiter, "a", FIVE_PER_10S, 2) == [True, False]
        clock.now += 10.0  # full again, never more than the burst
        assert await hits(limiter, "a", FIVE_PER_10S, 6) == [True] * 5 + [False]

    run(scenario())


def test_refused_requests_do_not_use_up_tokens() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock)

    async def scenario() -> None:
        await hits(limiter, "a", FIVE_PER_10S, 5)
        assert await hits(limiter, "a", FIVE_PER_10S, 50) == [False] * 50
        clock.now += 2.0
        assert (await limiter.hit("a", FIVE_PER_10S)).allowed

    run(scenario())


def test_memory_stays_bounded_by_forgetting_full_buckets_first() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock, max_keys=100)

    quick = RateLimit(requests=5, per_seconds=1)

    async def scenario() -> None:
        for n in range(100):
            await limiter.hit(f"old-{n}", quick)
        await hits(limiter, "busy", FIVE_PER_10S, 5)
        clock.now += 1.0  # the one-request buckets are full again; "busy" is not
        for n in range(300):
            await limiter.hit(f"new-{n}", quick)
        assert len(limiter._tat) <= 100
        assert not (await limiter.hit("busy", FIVE_PER_10S)).allowed, "a throttled client is remembered"

    run(scenario())


def test_two_replicas_share_their_buckets_through_redis(redis_prefix: str) -> None:
    async def scenario() -> None:
        first = RedisRateLimiter(REDIS_URL, prefix=redis_prefix)
        second = RedisRateLimiter(REDIS_URL, prefix=redis_prefix)
        try:
            started = _server_seconds()
            allowed = [
                (await (first, second)[n % 2].hit("chat:ip:1.2.3.4", FIVE_PER_10S)).allowed for n in range(5)
            ]
            assert allowed == [True] * 5
            for limiter in (first, second):
                refused = await limiter.hit("chat:ip:1.2.3.4", FIVE_PER_10S)
                elapsed = _server_seconds() - started
                if elapsed < 1.9:  # else a token came back meanwhile (a stalled machine): nothing to see
                    assert not refused.allowed
                    assert 2.0 - elapsed - 0.01 <= refused.retry_after <= 2.0  # the wait for one token
            assert (await second.hit("chat:ip:5.6.7.8", FIVE_PER_10S)).allowed
        finally:
            await first.aclose()
            await second.aclose()

    run(scenario())
    client = redis.Redis.from_url(REDIS_URL)
    try:
        ttl = client.pttl(redis_prefix + "chat:ip:1.2.3.4")
        assert 0 < ttl <= 10_000, "a bucket expires when it would be full again: Redis keeps no garbage"
    finally:
        client.close()


def test_redis_refills_on_the_servers_clock(redis_prefix: str) -> None:
    slow = RateLimit(requests=2, per_seconds=2)  # a burst of 2, then a token a second

    async def scenario() -> None:
        frozen = Clock()  # this process's clock stands still: only Redis's clock can refill
        limiter = RedisRateLimiter(REDIS_URL, prefix=redis_prefix, clock=frozen)
        try:
            started = _server_seconds()
            burst = await hits(limiter, "k", slow, 3)
            assert burst[:2] == [True, True]
            if _server_seconds() - started < 0.95:  # else a token may be back already (a stalled machine)
                assert burst[2] is False
            refused = 0
            deadline = _server_seconds() + PATIENCE
            while not (await limiter.hit("k", slow)).allowed:  # refused hits use up no token
                refused += 1
                assert _server_seconds() < deadline, "the bucket never refilled"
                await asyncio.sleep(0.02)
            refilled = _server_seconds()
            again = (await limiter.hit("k", slow)).allowed
            if _server_seconds() - refilled < 0.95:
                assert again is False, "one token came back, not the whole burst"
            assert limiter.fallback._tat == {}, "Redis counted, not this process's memory"
        finally:
            await limiter.aclose()

    run(scenario())


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_when_redis_is_down_the_replica_counts_in_memory_and_the_operator_is_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> tuple[list[bool], bool]:
        limiter = RedisRateLimiter(f"redis://127.0.0.1:{_closed_port()}/0")
        try:
            return await hits(limiter, "k", RateLimit(requests=2, per_seconds=60), 4), limiter.degraded
        finally:
            await limiter.aclose()

    with caplog.at_level(logging.ERROR, logger="bot.security.ratelimit"):
        assert run(scenario()) == ([True, True, False, False], True), "a flood is still slowed"
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.security.ratelimit"]
    assert len(messages) == 1, "one warning, not one per request"
    assert "Redis does not answer" in messages[0]


def test_once_redis_is_back_the_replicas_share_their_buckets_again(caplog: pytest.LogCaptureFixture) -> None:
    if shutil.which("redis-server") is None:
        _unavailable("no redis-server to start a private Redis")
    port = free_port(5100, 5199)
    clock = Clock()
    one_per_minute = RateLimit(requests=1, per_seconds=60)

    async def scenario(redis_server: PrivateRedis) -> None:
        limiter = RedisRateLimiter(redis_server.url, prefix="t:", retry_seconds=2, clock=clock)
        try:
            assert await hits(limiter, "down", one_per_minute, 2) == [True, False]
            assert limiter.degraded
            redis_server.start()
            assert await hits(limiter, "up", one_per_minute, 1) == [True], "in memory until the retry"
            with redis.Redis.from_url(redis_server.url) as client:
                assert client.get("t:up") is None
                clock.now += 3
                assert await hits(limiter, "up", one_per_minute, 1) == [True]
                assert not limiter.degraded
                assert client.get("t:up") is not None, "counted in Redis"
        finally:
            await limiter.aclose()

    redis_server = PrivateRedis(port)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.security.ratelimit"):
            run(scenario(redis_server))
    finally:
        redis_server.stop()
    assert "Redis answers again" in caplog.text


def test_the_settings_choose_the_backend() -> None:
    assert isinstance(make_limiter(LimitsSettings()), MemoryRateLimiter)
    assert isinstance(make_limiter(LimitsSettings(backend="redis")), RedisRateLimiter)


def test_a_first_request_is_never_refused_by_float_rounding() -> None:
    """(now + period) - period can exceed now by an ulp; that must not refuse the first request."""
    limit = RateLimit(requests=1, per_seconds=600)
    for now in (3631.626946558053, 32630.316742207066, 262073.55512919227, 12345.678):
        limiter = MemoryRateLimiter(clock=lambda now=now: now)
        assert run(limiter.hit("k", limit)).allowed  # type: ignore[attr-defined]
        assert not run(limiter.hit("k", limit)).allowed  # type: ignore[attr-defined]
