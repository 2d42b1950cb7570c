"""Rate limits: a token bucket per key (GCRA), kept in memory or in Redis shared by replicas.

A ``RateLimit`` of ``requests`` per ``per_seconds`` lets a client send a burst of up to
``requests`` at once and then one every ``per_seconds / requests`` seconds. The generic cell
rate algorithm keeps a single number per key (the "theoretical arrival time"), so the Redis
version is one small script run atomically on the server's clock: every replica sees the
same buckets. ``MemoryRateLimiter`` is the embedded default (one process);
``RedisRateLimiter`` is for several replicas behind a load balancer.

If Redis does not answer, each replica counts in its own memory meanwhile (the limits then
apply per replica, so a client may get up to replicas × the limit) and tries Redis again
every ``retry_seconds``; the operator is told in the log when Redis goes away and when it is
back. A citizen is never refused because Redis is down, and a flood is still slowed.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.settings import LimitsSettings, RateLimit

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "Verdict",
    "make_limiter",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a request may go on; if not, how many seconds until one would be allowed."""

    allowed: bool
    retry_after: float = 0.0

    @property
    def retry_after_seconds(self) -> int:
        """``retry_after`` rounded up to whole seconds (at least 1), for the Retry-After header."""
        return max(1, math.ceil(self.retry_after))


ALLOWED = Verdict(True)


class RateLimiter(Protocol):
    """Counts a request against ``key``'s bucket for ``limit`` and says whether it may go on."""

    async def hit(self, key: str, limit: RateLimit) -> Verdict: ...

    async def aclose(self) -> None: ...


_EPSILON_SECONDS = 1e-6


def _interval(limit: RateLimit) -> float:
    return limit.per_seconds / limit.requests


class MemoryRateLimiter:
    """Buckets in this process's memory (one replica). At most ``max_keys`` are kept."""

    def __init__(self, *, max_keys: int = 100_000, clock: Any = time.monotonic) -> None:
        self._tat: dict[str, float] = {}
        self._max_keys = max_keys
        self._clock = clock

    async def hit(self, key: str, limit: RateLimit) -> Verdict:
        now = float(self._clock())
        tat = max(self._tat.get(key, now), now)
        new_tat = tat + _interval(limit)
        allow_at = new_tat - limit.per_seconds
        if allow_at - now > _EPSILON_SECONDS:  # (now + period) - period can exceed now by an ulp
            return Verdict(False, allow_at - now)
        if key not in self._tat and len(self._tat) >= self._max_keys:
            self._forget(now)
        self._tat[key] = new_tat
        return ALLOWED

    def _forget(self, now: float) -> None:
        """Drop full buckets (nothing to remember); if still too many, the ones that refill first."""
        self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
        if len(self._tat) >= self._max_keys:
            keep = sorted(self._tat.items(), key=lambda item: item[1])[len(self._tat) // 2 :]
            self._tat = dict(keep)

    async def aclose(self) -> None:
        self._tat.clear()


# KEYS[1]: the bucket; ARGV[1]: emission interval (ms); ARGV[2]: period (ms).
# Returns {1, "0"} when allowed, {0, milliseconds to wait} when not. Uses the server's clock.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + tonumber(ARGV[1])
local allow_at = new_tat - tonumber(ARGV[2])
if allow_at - now > 0.001 then
  return {0, tostring(allow_at - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
return {1, '0'}
"""


class RedisRateLimiter:
    """Buckets in Redis, shared by every replica; the client is made on first use (in the event loop).

    While Redis does not answer, ``fallback`` (this process's memory) counts instead, and
    Redis is tried again after ``retry_seconds``.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "bot1999:rl:",
        timeout_seconds: float = 0.5,
        warn_every: float = 60.0,
        retry_seconds: float = 2.0,
        clock: Any = time.monotonic,
    ) -> None:
        self._url = url
        self._prefix = prefix
        self._timeout = timeout_seconds
        self._client: Redis | None = None
        self._script: Any = None
        self._warn_every = warn_every
        self._last_warning = -math.inf
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._down_until: float | None = None  # None while Redis answers
        self.fallback = MemoryRateLimiter(clock=clock)

    def _redis(self) -> Any:
        if self._script is None:
            from redis.asyncio import Redis

            self._client = Redis.from_url(
                self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout
            )
            self._script = self._client.register_script(_GCRA)
        return self._script

    @property
    def degraded(self) -> bool:
        """True while Redis is taken to be away (counting in memory)."""
        return self._down_until is not None

    async def hit(self, key: str, limit: RateLimit) -> Verdict:
        from redis.exceptions import RedisError

        now = float(self._clock())
        if self._down_until is not None and now < self._down_until:
            return await self.fallback.hit(key, limit)
        interval_ms, period_ms = _interval(limit) * 1000, limit.per_seconds * 1000
        try:
            allowed, wait_ms = await self._redis()(keys=[self._prefix + key], args=[interval_ms, period_ms])
        except (RedisError, OSError) as error:
            self._down_until = now + self._retry_seconds
            if now - self._last_warning >= self._warn_every:
                self._last_warning = now
                log.error(
                    "rate limiter: Redis does not answer; counting in this replica's memory meanwhile: %s",
                    error,
                )
            return await self.fallback.hit(key, limit)
        if self._down_until is not None:
            self._down_until = None
            self._last_warning = -math.inf
            log.warning("rate limiter: Redis answers again; limits are shared by the replicas again")
        if int(allowed):
            return ALLOWED
        return Verdict(False, float(wait_ms) / 1000)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        self._client = None
        self._script = None
        await self.fallback.aclose()


def make_limiter(settings: LimitsSettings) -> RateLimiter:
    """The limiter the settings ask for: ``memory`` (one process) or ``redis`` (shared)."""
    if settings.backend == "redis":
        return RedisRateLimiter(settings.redis_url.get_secret_value(), prefix=settings.redis_prefix)
    return MemoryRateLimiter()
