"""A circuit breaker: after a failure, skip the engine for a while instead of waiting on it each turn."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Breaker"]


class Breaker:
    """Closed: calls go through. After a failure it opens for ``cool_off`` seconds, then lets
    one call probe; success closes it again, so service returns to normal by itself."""

    def __init__(self, cool_off: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.cool_off = cool_off
        self._clock = clock
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return self._clock() < self._open_until

    def allows(self) -> bool:
        return not self.is_open

    def success(self) -> None:
        self._open_until = 0.0

    def failure(self) -> None:
        self._open_until = self._clock() + self.cool_off
