"""How fast this machine was and how busy, read beside a load test's figures.

The same code needs more of the machine on a slow day: on the 2-core machines of these
benchmarks the same Python loop has taken from 1.3 s to 3.0 s on different hours of one day
(docs/deployment.md, Sizing). A load test reports
:func:`loop_seconds` before and after its run, so that a figure can be read against the
speed the machine had, and :class:`CpuTimes` of the whole machine during the run: how busy
all its cores were and how much time the hypervisor gave to others (steal).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LOOP_ITERATIONS", "CpuTimes", "loop_seconds"]

LOOP_ITERATIONS = 10_000_000
PROC_STAT = Path("/proc/stat")


def loop_seconds(iterations: int = LOOP_ITERATIONS, tries: int = 3) -> float:
    """CPU seconds this process needs for ``iterations`` additions in a Python loop (the
    fastest of ``tries``): the same work every time, so a larger figure is a slower machine."""
    best = float("inf")
    for _ in range(tries):
        start = time.process_time()
        total = 0
        for number in range(iterations):
            total += number
        best = min(best, time.process_time() - start)
    return best


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """The machine's CPU time in seconds, all cores together (``/proc/stat``'s ``cpu`` line)."""

    busy: float  # user, nice, system, irq, softirq (guest time is within user)
    steal: float  # time the hypervisor ran something else while this machine wanted to run
    idle: float  # idle and waiting for I/O

    @classmethod
    def parse(cls, text: str, ticks_per_second: float) -> CpuTimes:
        for line in text.splitlines():
            fields = line.split()
            if fields and fields[0] == "cpu":
                values = [int(value) / ticks_per_second for value in fields[1:9]]
                values += [0.0] * (8 - len(values))  # old kernels have fewer columns
                user, nice, system, idle, iowait, irq, softirq, steal = values
                return cls(busy=user + nice + system + irq + softirq, steal=steal, idle=idle + iowait)
        raise ValueError("no 'cpu' line in /proc/stat")

    @classmethod
    def read(cls, path: Path = PROC_STAT) -> CpuTimes:
        return cls.parse(path.read_text(), os.sysconf("SC_CLK_TCK"))

    def __sub__(self, earlier: CpuTimes) -> CpuTimes:
        return CpuTimes(self.busy - earlier.busy, self.steal - earlier.steal, self.idle - earlier.idle)

    @property
    def total(self) -> float:
        return self.busy + self.steal + self.idle

    def share(self, part: float) -> float:
        """``part`` as a share of all the time (0.0 when no time passed)."""
        return part / self.total if self.total > 0 else 0.0
