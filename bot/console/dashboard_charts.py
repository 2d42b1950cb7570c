"""Charts for the dashboard as server-rendered SVG geometry (the template draws it; no scripts).

Each chart is described by numbers here and drawn by ``console/dashboard/_charts.html``:
a ``<svg role="img">`` with a ``<title>`` and ``<desc>``, lines told apart by dash pattern as
well as colour, and the same figures in a table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LineChart", "Series", "Tick", "line_chart", "nice_max"]


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    css: str  # s1, s2, s3: colour and dash pattern in dashboard.css
    path: str  # SVG path data; a gap where a value is missing
    dots: tuple[tuple[float, float], ...]  # markers, when there are few points


@dataclass(frozen=True, slots=True)
class LineChart:
    id: str
    title: str
    desc: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    series: tuple[Series, ...]


def nice_max(value: float) -> float:
    """The top of a count axis in four whole, round steps (at least ``value``, at least 4)."""
    wanted = max(value, 4.0) / 4
    power = 10 ** math.floor(math.log10(wanted))
    steps = (s * power for s in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10))
    step = next(s for s in steps if wanted <= s and s == int(s))
    return float(4 * step)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:g}"


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    percent: bool = False,
    width: int = 720,
    height: int = 260,
    max_x_labels: int = 8,
) -> LineChart:
    """A line per series over ``labels``; a missing value (None) leaves a gap."""
    left, top, right, bottom = 56, 12, width - 16, height - 36
    values = [v for _, vs in series for v in vs if v is not None]
    y_max = 1.0 if percent else nice_max(max(values, default=0.0))
    count = len(labels)

    def x(i: int) -> float:
        return left + (right - left) * (i / (count - 1) if count > 1 else 0.5)

    def y(v: float) -> float:
        return bottom - (bottom - top) * (v / y_max)

    step = max(1, math.ceil(count / max_x_labels))
    x_ticks = tuple(Tick(round(x(i), 1), labels[i]) for i in range(0, count, step))
    y_ticks = tuple(
        Tick(round(y(y_max * k / 4), 1), f"{100 * k / 4:.0f}%" if percent else _number(y_max * k / 4))
        for k in range(5)
    )
    lines = []
    for n, (name, vs) in enumerate(series, 1):
        parts, pen_down, dots = [], False, []
        for i, v in enumerate(vs):
            if v is None:
                pen_down = False
                continue
            point = (round(x(i), 1), round(y(v), 1))
            parts.append(f"{'L' if pen_down else 'M'}{point[0]} {point[1]}")
            pen_down = True
            dots.append(point)
        lines.append(Series(name, f"s{n}", " ".join(parts), tuple(dots) if count <= 40 else ()))
    return LineChart(
        chart_id, title, desc, width, height, left, top, right, bottom, x_ticks, y_ticks, tuple(lines)
    )
