"""The scraper's rate limiter, on a fake clock: calls are spaced evenly, never in bursts."""

from __future__ import annotations

import math

import pytest

from knowledge.importers.soweb._ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_calls_are_spaced_by_one_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    made = []
    for _ in range(10):
        limiter.wait()
        made.append(clock.now)
    gaps = [b - a for a, b in zip(made, made[1:], strict=False)]
    assert gaps == pytest.approx([1 / 3] * 9)
    assert (len(made) - 1) / (made[-1] - made[0]) == pytest.approx(3.0)


def test_a_slow_call_does_not_earn_a_burst_afterwards() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)
    limiter.wait()
    clock.now += 5.0  # the request took 5 s
    limiter.wait()  # may go at once
    assert clock.slept == []
    start = clock.now
    limiter.wait()  # but the next one waits a whole interval again
    assert clock.now - start == pytest.approx(0.5)


def test_an_oversleeping_clock_counts_from_when_the_call_was_made() -> None:
    clock = FakeClock()

    def oversleep(seconds: float) -> None:
        clock.sleep(seconds + 0.2)

    limiter = RateLimiter(4.0, clock=clock, sleep=oversleep)
    limiter.wait()
    limiter.wait()
    second = clock.now
    limiter.wait()
    assert clock.now - second == pytest.approx(0.25 + 0.2)


@pytest.mark.parametrize("rate", [0.0, -1.0, math.nan])
def test_a_rate_that_is_not_positive_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        RateLimiter(rate)


def test_an_infinite_rate_never_sleeps() -> None:
    clock = FakeClock()
    limiter = RateLimiter(math.inf, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        limiter.wait()
    assert clock.slept == []
