"""``harvest.schedule``: when the next harvest is due — an interval or a cron expression.

Accepted: ``""`` or ``off`` (never), ``hourly``, ``daily``, ``weekly``, an interval such as
``30m``, ``6h``, ``7d`` (``every 6h`` too), or five cron fields ``minute hour day month weekday``
(numbers, ``*``, ``a-b``, lists ``a,b`` and steps ``*/n``; weekday 0 or 7 is Sunday), read in
the city's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Cron", "Every", "Schedule", "parse_schedule"]

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_NAMED = {"hourly": "1h", "daily": "1d", "weekly": "7d"}
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_NAMES = ("分", "時", "日", "月", "星期")


@dataclass(frozen=True, slots=True)
class Every:
    """Every ``seconds`` after the last harvest started."""

    seconds: int

    def next_after(self, last: datetime) -> datetime:
        return last + timedelta(seconds=self.seconds)


@dataclass(frozen=True, slots=True)
class Cron:
    """The first minute after ``last`` matching all five fields (day and weekday both, when both are set)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    zone: ZoneInfo

    def next_after(self, last: datetime) -> datetime:
        t = last.astimezone(self.zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 24 * 60):
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if t.day not in self.days or (t.isoweekday() % 7) not in self.weekdays:
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        raise ValueError("the cron expression never matches")


Schedule = Every | Cron


def parse_schedule(text: str, zone: ZoneInfo) -> Schedule | None:
    """The schedule ``text`` names, or None when off; ValueError (in Chinese) when unreadable."""
    spec = text.strip().lower()
    if spec in {"", "off", "never"}:
        return None
    spec = _NAMED.get(spec, spec).removeprefix("every").strip()
    match = re.fullmatch(r"(\d+)\s*([mhdw])", spec)
    if match:
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if seconds < 60:
            raise ValueError(f"排程間隔太短：{text!r}（至少 1 分鐘）")
        return Every(seconds)
    fields = spec.split()
    if len(fields) != 5:
        raise ValueError(
            f"看不懂的排程 {text!r}：請寫 hourly、daily、weekly、間隔（如 6h、7d）或五欄 cron（如 0 3 * * 1）"
        )
    sets = [
        _cron_field(f, lo, hi, name)
        for f, (lo, hi), name in zip(fields, _CRON_RANGES, _CRON_NAMES, strict=True)
    ]
    weekdays = frozenset(d % 7 for d in sets[4])
    return Cron(sets[0], sets[1], sets[2], sets[3], weekdays, zone)


def _cron_field(text: str, lo: int, hi: int, name: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"cron 的「{name}」欄看不懂：{text!r}")
        span, step = match.group(1), int(match.group(2) or 1)
        if span == "*":
            first, last = lo, hi
        elif "-" in span:
            first, last = (int(x) for x in span.split("-"))
        else:
            first = last = int(span)
        if not (lo <= first <= last <= hi) or step < 1:
            raise ValueError(f"cron 的「{name}」欄超出範圍 {lo}–{hi}：{text!r}")
        values.update(range(first, last + 1, step))
    return frozenset(values)
