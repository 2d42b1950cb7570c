"""What learning from citizens did, month by month: phrasings learned and the answered-directly rate.

``learned`` counts the phrasings approved in the month (by staff or auto-approved, ``auto`` of
them; ones rolled back since are not counted); ``direct`` the questions the bot answered at once,
without a "did you mean" list or abstaining (questions − clarified − abstained, as in
docs/metrics.md). Months are local (the dashboard's zone) like every other figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.metrics.figures import Filters
from bot.metrics.queries import trend
from bot.store.models import LearnedPhrasingRow

__all__ = ["LearningMonth", "learning_by_month"]

_LEARNED = ("approved", "auto")


@dataclass(frozen=True, slots=True)
class LearningMonth:
    month: str  # YYYY-MM
    learned: int
    auto: int
    questions: int
    direct: int

    @property
    def direct_rate(self) -> float | None:
        return self.direct / self.questions if self.questions else None


def learning_by_month(session: Session, filters: Filters, zone: ZoneInfo) -> list[LearningMonth]:
    """One row per month of the period (channel, category and agency filters apply to the questions)."""
    start = datetime.combine(filters.start, time(), zone).astimezone(UTC)
    end = datetime.combine(filters.end + timedelta(days=1), time(), zone).astimezone(UTC)
    learned: dict[str, list[int]] = {}
    query = select(LearnedPhrasingRow.at, LearnedPhrasingRow.status).where(
        LearnedPhrasingRow.status.in_(_LEARNED), LearnedPhrasingRow.at >= start, LearnedPhrasingRow.at < end
    )
    for at, status in session.execute(query):
        counts = learned.setdefault(f"{at.astimezone(zone):%Y-%m}", [0, 0])
        counts[0] += 1
        counts[1] += status == "auto"
    return [
        LearningMonth(
            f.key,
            learned.get(f.key, [0, 0])[0],
            learned.get(f.key, [0, 0])[1],
            f.questions,
            max(0, f.questions - f.clarified - f.abstained),
        )
        for f in trend(session, filters, "month")
    ]
