"""The values the supervisors' figures come in: filters, a group's figures, periods."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from bot.agencies import canonical_agency
from bot.metrics.outcomes import TAIPEI

__all__ = [
    "DIMENSIONS",
    "GRAINS",
    "MAX_PERIOD_DAYS",
    "Dimension",
    "FilterOptions",
    "Figures",
    "Filters",
    "Grain",
    "UnansweredQuestion",
    "buckets",
    "month_period",
    "year_period",
]

Grain = Literal["day", "month"]
Dimension = Literal["channel", "category", "agency"]
GRAINS: tuple[Grain, ...] = ("day", "month")
DIMENSIONS: tuple[Dimension, ...] = ("channel", "category", "agency")
MAX_PERIOD_DAYS = 3660


@dataclass(frozen=True, slots=True)
class Filters:
    """A period of local dates, ``start`` to ``end`` inclusive, and optional exact filters."""

    start: date
    end: date
    channel: str = ""
    category: str = ""
    agency: str = ""

    def __post_init__(self) -> None:
        if self.agency:  # any name of an agency filters by its canonical name (bot.agencies)
            object.__setattr__(self, "agency", canonical_agency(self.agency))
        if self.end < self.start:
            raise ValueError("the period ends before it starts")
        if (self.end - self.start).days >= MAX_PERIOD_DAYS:
            raise ValueError(f"the period is longer than {MAX_PERIOD_DAYS} days")

    @property
    def utc_range(self) -> tuple[datetime, datetime]:
        """The instants the period covers: [local start midnight, local midnight after end)."""
        start = datetime.combine(self.start, time(), TAIPEI).astimezone(UTC)
        end = datetime.combine(self.end + timedelta(days=1), time(), TAIPEI).astimezone(UTC)
        return start, end


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of one group (a day, a month, a channel ... or the whole period: ``key`` "")."""

    key: str = ""
    unique_users: int = 0
    turns: int = 0
    questions: int = 0
    answered: int = 0
    successful: int = 0
    clarified: int = 0
    abstained: int = 0
    feedback_good: int = 0
    feedback_bad: int = 0
    median_latency_ms: float | None = None
    handoffs: int = 0
    cases_filed: int = 0
    cases_overdue: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def answered_rate(self) -> float | None:
        return self._rate(self.answered, self.questions)

    @property
    def success_rate(self) -> float | None:
        """順利回答比率: successfully answered questions over all questions."""
        return self._rate(self.successful, self.questions)

    @property
    def clarify_rate(self) -> float | None:
        return self._rate(self.clarified, self.questions)

    @property
    def abstain_rate(self) -> float | None:
        return self._rate(self.abstained, self.questions)

    @property
    def satisfaction(self) -> float | None:
        """Share of rated answers rated helpful."""
        return self._rate(self.feedback_good, self.feedback_good + self.feedback_bad)


@dataclass(frozen=True, slots=True)
class UnansweredQuestion:
    """Questions not answered, grouped by their normalised text (``key``)."""

    key: str
    text: str
    count: int
    abstained: int
    senders: int
    last_day: str


@dataclass(frozen=True, slots=True)
class FilterOptions:
    channels: list[str] = field(default_factory=list)
    faq_categories: list[str] = field(default_factory=list)
    case_categories: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)


def month_period(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def year_period(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def buckets(filters: Filters, grain: Grain) -> list[str]:
    """Every day (``YYYY-MM-DD``) or month (``YYYY-MM``) of the period, in order."""
    if grain == "day":
        return [
            (filters.start + timedelta(days=n)).isoformat()
            for n in range((filters.end - filters.start).days + 1)
        ]
    months, year, month = [], filters.start.year, filters.start.month
    while (year, month) <= (filters.end.year, filters.end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
