"""bench/machine.py: the machine's CPU times from /proc/stat and the fixed loop's reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.machine import CpuTimes, loop_seconds

BEFORE = """cpu  1000 20 300 5000 40 5 6 7 0 0
cpu0 500 10 150 2500 20 3 3 4 0 0
cpu1 500 10 150 2500 20 2 3 3 0 0
intr 123 0 0
"""
AFTER = """cpu  1600 20 400 5200 60 5 16 107 0 0
cpu0 800 10 200 2600 30 3 8 54 0 0
"""


def test_busy_steal_and_idle_are_read_from_the_cpu_line() -> None:
    times = CpuTimes.parse(BEFORE, 100)
    assert times == CpuTimes(busy=(1000 + 20 + 300 + 5 + 6) / 100, steal=0.07, idle=(5000 + 40) / 100)


def test_a_run_is_the_difference_of_two_readings() -> None:
    run = CpuTimes.parse(AFTER, 100) - CpuTimes.parse(BEFORE, 100)
    assert run.busy == pytest.approx(7.1)  # user 600, system 100, softirq 10 ticks
    assert run.steal == pytest.approx(1.0)
    assert run.idle == pytest.approx(2.2)
    assert run.share(run.busy) == pytest.approx(7.1 / 10.3)
    assert CpuTimes(0, 0, 0).share(0) == 0.0


def test_a_kernel_with_fewer_columns_has_no_steal() -> None:
    assert CpuTimes.parse("cpu 10 0 10 80 0\n", 10) == CpuTimes(busy=2.0, steal=0.0, idle=8.0)


def test_text_without_a_cpu_line_is_refused() -> None:
    with pytest.raises(ValueError, match="no 'cpu' line"):
        CpuTimes.parse("intr 1 2 3\n", 100)


@pytest.mark.skipif(not Path("/proc/stat").is_file(), reason="no /proc/stat on this system")
def test_this_machine_can_be_read() -> None:
    times = CpuTimes.read()
    assert times.busy > 0
    assert times.idle > 0
    assert times.steal >= 0


def test_more_work_takes_longer() -> None:
    small, large = loop_seconds(100_000, tries=3), loop_seconds(2_000_000, tries=3)
    assert 0 < small < large
