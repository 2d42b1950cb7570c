"""A rate limiter that spaces calls evenly: at most ``rate`` per second over any stretch of time."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Blocks in ``wait()`` until at least ``1 / rate`` seconds have passed since the last call.

    No bursts are allowed, so ``n`` calls always span at least ``(n - 1) / rate`` seconds.
    ``rate=math.inf`` turns the limit off (tests only).
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        self.rate = rate
        self._interval = 0.0 if math.isinf(rate) else 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        """Return when the next call is allowed, and count it as made now."""
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = max(self._clock(), self._next)
        self._next = now + self._interval
