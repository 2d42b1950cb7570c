"""Which agency names the stored rows use, and how many rows each: for `bot1999 agencies report`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import CaseRow, FaqRow, FaqSourceRow, MetricTurnRow

__all__ = ["AgencyName", "stored_agency_names"]


@dataclass(frozen=True, slots=True)
class AgencyName:
    """``rows`` rows of ``table`` name their agency ``name``."""

    table: str
    name: str
    rows: int


def stored_agency_names(session: Session) -> list[AgencyName]:
    """Every non-empty agency name of the FAQs (live and as their source gave it), cases and figures."""
    found: list[AgencyName] = []
    for table, column in (
        ("faq", FaqRow.agency),
        ("case_file", CaseRow.agency),
        ("metric_turn", MetricTurnRow.agency),
    ):
        query = select(column, func.count()).where(column != "").group_by(column).order_by(column)
        found += [AgencyName(table, str(name), int(rows)) for name, rows in session.execute(query)]
    sources: dict[str, int] = {}
    for content in session.scalars(select(FaqSourceRow.content)):
        name = str((content or {}).get("agency") or "")
        if name:
            sources[name] = sources.get(name, 0) + 1
    found += [AgencyName("faq_source", name, rows) for name, rows in sorted(sources.items())]
    return found
