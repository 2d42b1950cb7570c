"""Waiting in tests: on a condition, never on the clock.

A test asserts behaviour, ordering and counts, never how long something took: CI shares a
2-core machine that is at times loaded or at half speed. When a test has to wait for
something that happens in another thread or process, it polls the condition with
``wait_until``; the deadline (``PATIENCE``) only bounds a hang, so that a broken build fails
instead of blocking CI, and is never reached on a machine that is merely slow.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["PATIENCE", "eventually", "wait_until", "wait_until_async"]

PATIENCE = 90.0  # seconds: bounds a hang, not a speed; a slow machine never gets near it

T = TypeVar("T")


def wait_until(
    condition: Callable[[], object],
    timeout: float = PATIENCE,
    what: str = "the condition",
    *,
    interval: float = 0.05,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll ``condition`` until it is true; fail the test after ``timeout`` seconds.

    ``sleep`` pauses between polls: a Playwright test passes ``page.wait_for_timeout`` (in
    milliseconds: ``lambda s: page.wait_for_timeout(s * 1000)``), so that the browser's
    events (routes, responses) are handled meanwhile."""
    eventually(condition, timeout, what, interval=interval, sleep=sleep)


def eventually(
    probe: Callable[[], T],
    timeout: float = PATIENCE,
    what: str = "the condition",
    *,
    interval: float = 0.05,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Poll ``probe`` until it returns something true and return that; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout:g} s for {what} (last: {value!r})")
        sleep(interval)


async def wait_until_async(
    condition: Callable[[], object],
    seconds: float = PATIENCE,
    what: str = "the condition",
    *,
    interval: float = 0.01,
) -> None:
    """``wait_until`` inside an event loop: the loop's other tasks run between the polls."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {seconds:g} s for {what}")
        await asyncio.sleep(interval)
