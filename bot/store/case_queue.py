"""The agents' view of cases: filtered, paged, the most urgent first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.agencies import canonical_agency
from bot.cases import CaseStatus
from bot.store.models import CaseRow, utcnow

__all__ = ["OPEN_STATUSES", "CasePage", "CaseQuery", "find_cases"]

OPEN_STATUSES = (CaseStatus.RECEIVED, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class CaseQuery:
    """``status``: a status, ``open`` (not closed or rejected) or ``""`` (all)."""

    status: str = "open"
    category: str = ""
    agency: str = ""
    overdue: bool = False
    conversation_id: str = ""
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True, slots=True)
class CasePage:
    items: list[CaseRow]
    total: int
    page: int
    pages: int


def _filtered(query: CaseQuery, now: datetime) -> Select[CaseRow]:
    statement = select(CaseRow)
    if query.status == "open" or query.overdue:
        statement = statement.where(CaseRow.status.in_([s.value for s in OPEN_STATUSES]))
    if query.status and query.status != "open":
        statement = statement.where(CaseRow.status == CaseStatus(query.status).value)
    if query.category:
        statement = statement.where(CaseRow.category == query.category)
    if query.agency:
        statement = statement.where(CaseRow.agency == canonical_agency(query.agency))
    if query.overdue:
        statement = statement.where(CaseRow.due_at < now)
    if query.conversation_id:
        statement = statement.where(CaseRow.conversation_id == query.conversation_id)
    return statement


def find_cases(session: Session, query: CaseQuery, *, now: datetime | None = None) -> CasePage:
    """Cases matching ``query``: open ones by due time (overdue first), others newest first.

    Raises ``ValueError`` for an unknown status.
    """
    now = now or utcnow()
    statement = _filtered(query, now)
    total = int(session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
    per_page = max(1, min(query.per_page, 200))
    pages = max(1, -(-total // per_page))
    page = max(1, min(query.page, pages))
    order = (
        (CaseRow.due_at, CaseRow.id)
        if query.status == "open" or query.overdue
        else (CaseRow.created_at.desc(), CaseRow.id.desc())
    )
    items = list(session.scalars(statement.order_by(*order).offset((page - 1) * per_page).limit(per_page)))
    return CasePage(items, total, page, pages)
