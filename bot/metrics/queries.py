"""The supervisors' figures for any period, channel, category and agency.

Counts come from ``metric_day`` (``metric_turn`` summed per day, channel, category and agency),
unique users and the median from ``metric_turn`` (one row per turn, derived by
``bot.metrics.refresh``; see ``bot.metrics.outcomes`` for the definitions, quoted from the
architecture) through covering indexes in the order each needs. The SQL runs on SQLite and
PostgreSQL alike; only SQLite is told which index to read when a period is most of the table.
Cases (``case_file``) and handoffs (``handoff``) are read from their own tables and grouped
here. Days are Asia/Taipei dates. The value types are in ``bot.metrics.figures``.

Filters match exactly; an empty filter means "all". Questions carry FAQ categories (稅務 …),
cases carry case categories (道路坑洞 …): a category filter keeps whichever of the two it
names (a case category may be given by its code or its name). A handoff is attributed to the
topic of its conversation when it was asked for (the latest turn before it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, case, func, literal, select, text
from sqlalchemy.orm import Session

from bot.agencies import canonical_agency
from bot.cases import CATEGORIES
from bot.metrics.figures import (
    DIMENSIONS,
    GRAINS,
    Dimension,
    Figures,
    FilterOptions,
    Filters,
    Grain,
    UnansweredQuestion,
    buckets,
    month_period,
    year_period,
)
from bot.metrics.outcomes import local_day
from bot.store.models import CaseRow, HandoffRow, MetricDayRow, MetricTurnRow, utcnow

__all__ = [
    "DIMENSIONS",
    "GRAINS",
    "Dimension",
    "FilterOptions",
    "Figures",
    "Filters",
    "Grain",
    "UnansweredQuestion",
    "Dashboard",
    "breakdown",
    "buckets",
    "dashboard",
    "filter_options",
    "month_period",
    "summary",
    "trend",
    "unanswered",
    "year_period",
]

_CASE_NAMES = {category.code: category.name for category in CATEGORIES}
_T = MetricTurnRow
_D = MetricDayRow


# --- questions, users, latency (metric_day, metric_turn) -----------------------------------


def _where(filters: Filters, table: Any = _T) -> list[ColumnElement[bool]]:
    conditions = [table.day >= filters.start.isoformat(), table.day <= filters.end.isoformat()]
    for name in ("channel", "category", "agency"):
        value = getattr(filters, name)
        if value:
            conditions.append(getattr(table, name) == value)
    return conditions


def _key(by: Grain | Dimension | None, table: Any = _T) -> SQLColumnExpression[Any] | None:
    if by is None:
        return None
    if by == "month":
        month: SQLColumnExpression[Any] = func.substr(table.day, 1, 7)
        return month
    column: SQLColumnExpression[Any] = getattr(table, by)
    return column


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _grouped(query: Select[Any], key: SQLColumnExpression[Any] | None) -> Select[Any]:
    return query.group_by(key) if key is not None else query


_SUMS = (
    "turns",
    "questions",
    "answered",
    "successful",
    "clarified",
    "abstained",
    "feedback_good",
    "feedback_bad",
)


def _turn_figures(session: Session, filters: Filters, by: Grain | Dimension | None) -> dict[str, Figures]:
    """Counts from the daily sums, unique users from the turns; the median only for the whole."""
    day_key = _key(by, _D)
    sums = [func.coalesce(func.sum(getattr(_D, name)), 0) for name in (*_SUMS, "timed")]
    query = select(day_key if day_key is not None else literal(""), *sums).where(*_where(filters, _D))
    counts = {str(row[0]): [int(v) for v in row[1:]] for row in session.execute(_grouped(query, day_key))}
    in_period = sum(values[0] for values in counts.values())
    if not in_period:
        return {}
    everything = int(session.scalar(select(func.coalesce(func.sum(_D.turns), 0))) or 0)
    scan = in_period >= WHOLE_SCAN_SHARE * everything  # most rows qualify: read an index end to end
    users = _users(session, filters, by, scan)
    result: dict[str, Figures] = {}
    for group, values in counts.items():
        if not values[0]:
            continue
        median = _median(session, filters, values[-1], scan) if by is None else None
        sums_by_name = dict(zip(_SUMS, values, strict=False))
        result[group] = Figures(group, users.get(group, 0), median_latency_ms=median, **sums_by_name)
    return result


# The share of all turns from which a period counts as "most of the table": SQLite is then told
# to read the index that is already in the order it needs from end to end, rather than look up
# the period's rows and sort them (which its planner prefers, and which is several times slower).
WHOLE_SCAN_SHARE = 0.2
_USER_INDEXES = {
    None: "ix_metric_turn_sender",
    "day": "ix_metric_turn_day_sender",
    "month": "ix_metric_turn_month_sender",
    "channel": "ix_metric_turn_channel_sender",
    "category": "ix_metric_turn_category_sender",
    "agency": "ix_metric_turn_agency_sender",
}


def _sql_where(filters: Filters) -> tuple[list[str], dict[str, object]]:
    """The filters as SQL text over fixed column names, and their bound values."""
    conditions = ["day >= :start", "day <= :end"]
    params: dict[str, object] = {"start": filters.start.isoformat(), "end": filters.end.isoformat()}
    for name in ("channel", "category", "agency"):
        if getattr(filters, name):
            conditions.append(f"{name} = :{name}")
            params[name] = getattr(filters, name)
    return conditions, params


def _hint(session: Session, index: str, wanted: bool) -> str:
    return f" INDEXED BY {index}" if wanted and session.get_bind().dialect.name == "sqlite" else ""


def _users(session: Session, filters: Filters, by: Grain | Dimension | None, scan: bool) -> dict[str, int]:
    """Distinct senders per group, read from the index in (group, sender) order."""
    conditions, params = _sql_where(filters)
    if by == "month":  # lets the month index be searched, not only scanned
        conditions += ["month >= :first_month", "month <= :last_month"]
        params |= {"first_month": filters.start.isoformat()[:7], "last_month": filters.end.isoformat()[:7]}
    column, where = by or "''", " AND ".join(conditions)
    if by is None and session.get_bind().dialect.name == "postgresql":  # hashing beats its sort here
        sql = f"SELECT '', COUNT(*) FROM (SELECT DISTINCT sender FROM metric_turn WHERE {where}) AS s"  # noqa: S608 - fixed names
    else:
        hint = _hint(session, _USER_INDEXES[by], scan or by in ("day", "month"))
        sql = f"SELECT {column}, COUNT(DISTINCT sender) FROM metric_turn{hint} WHERE {where}"  # noqa: S608 - fixed names
        if by:
            sql += f" GROUP BY {column}"
    return {str(k): int(n) for k, n in session.execute(text(sql), params)}


def _median(session: Session, filters: Filters, timed: int, scan: bool) -> float | None:
    """The median latency: the middle one (or the mean of the middle two) of the ``timed`` values,
    read in latency order from the covering latency index when the period is most of the table."""
    if not timed:
        return None
    conditions, params = _sql_where(filters)
    params |= {"offset": (timed - 1) // 2, "limit": 1 if timed % 2 else 2}
    hint = _hint(session, "ix_metric_turn_latency", scan)
    sql = (
        f"SELECT latency_ms FROM metric_turn{hint} WHERE {' AND '.join(conditions)}"  # noqa: S608 - fixed names
        " AND latency_ms IS NOT NULL ORDER BY latency_ms LIMIT :limit OFFSET :offset"
    )
    middle = [float(v) for v in session.scalars(text(sql), params) if v is not None]
    return sum(middle) / len(middle) if middle else None


# --- cases and handoffs ----------------------------------------------------------------------


def _case_codes(category: str) -> list[str]:
    return [code for code, name in _CASE_NAMES.items() if category in (code, name)] or [category]


def _group_key(by: Grain | Dimension | None, day: str, channel: str, category: str, agency: str) -> str:
    if by is None:
        return ""
    return {"day": day, "month": day[:7], "channel": channel, "category": category, "agency": agency}[by]


_Event = tuple[str, str, str, str, int]  # (day, channel, category, agency, overdue) of a case or handoff


def _case_events(session: Session, filters: Filters, now: datetime) -> list[_Event]:
    """Cases filed in the period; overdue: not closed or rejected by their due time (or by now)."""
    start, end = filters.utc_range
    query = select(
        CaseRow.created_at,
        CaseRow.due_at,
        CaseRow.closed_at,
        CaseRow.channel,
        CaseRow.category,
        CaseRow.agency,
    ).where(CaseRow.created_at >= start, CaseRow.created_at < end)
    if filters.channel:
        query = query.where(CaseRow.channel == filters.channel)
    if filters.category:
        query = query.where(CaseRow.category.in_(_case_codes(filters.category)))
    if filters.agency:
        query = query.where(CaseRow.agency == filters.agency)
    events = []
    for created_at, due_at, closed_at, channel, category, agency in session.execute(query):
        finished = closed_at if closed_at is not None else now
        overdue = int(finished > due_at)
        agency = canonical_agency(agency)
        events.append((local_day(created_at), channel, _CASE_NAMES.get(category, category), agency, overdue))
    return events


def _latest_turn(table: type[HandoffRow] | type[CaseRow], conversation_id: Any, at: Any) -> Any:
    """The id of the conversation's latest turn at ``at`` (what a request is attributed to)."""
    return (
        select(_T.turn_id)
        .where(_T.conversation_id == conversation_id, _T.at <= at)
        .order_by(_T.at.desc(), _T.turn_id.desc())
        .limit(1)
        .correlate(table)
        .scalar_subquery()
    )


def _handoff_events(session: Session, filters: Filters) -> list[_Event]:
    """Requests for a person in the period, each attributed to its conversation's latest turn then.

    A request is a ``handoff`` row (queued for an agent), or a case filed straight from the
    conversation when nobody could come (out of hours, no agent on line): that case has no
    handoff row. A queued request that timed out and became a case counts once, as its row.
    """
    start, end = filters.utc_range
    queued = (
        select(HandoffRow.requested_at, HandoffRow.channel, _T.channel, _T.category, _T.agency)
        .outerjoin(
            _T, _T.turn_id == _latest_turn(HandoffRow, HandoffRow.conversation_id, HandoffRow.requested_at)
        )
        .where(HandoffRow.requested_at >= start, HandoffRow.requested_at < end)
    )
    from_a_handoff = select(HandoffRow.id).where(HandoffRow.case_number == CaseRow.number).correlate(CaseRow)
    filed = (
        select(CaseRow.created_at, CaseRow.channel, _T.channel, _T.category, _T.agency)
        .outerjoin(_T, _T.turn_id == _latest_turn(CaseRow, CaseRow.conversation_id, CaseRow.created_at))
        .where(
            CaseRow.origin == "conversation",
            CaseRow.created_at >= start,
            CaseRow.created_at < end,
            ~from_a_handoff.exists(),
        )
    )
    events = []
    for query in (queued, filed):
        for at, own_channel, turn_channel, category, agency in session.execute(query):
            channel, category = own_channel or turn_channel or "", category or ""
            agency = canonical_agency(agency or "")
            if (
                (filters.channel and channel != filters.channel)
                or (filters.category and category != filters.category)
                or (filters.agency and agency != filters.agency)
            ):
                continue
            events.append((local_day(at), channel, category, agency, 0))
    return events


@dataclass(frozen=True, slots=True)
class _Events:
    """Cases and handoffs of a period, read once and grouped as often as needed."""

    cases: list[_Event]
    handoffs: list[_Event]

    @classmethod
    def read(cls, session: Session, filters: Filters, now: datetime) -> _Events:
        return cls(_case_events(session, filters, now), _handoff_events(session, filters))

    def add_to(self, figures: dict[str, Figures], by: Grain | Dimension | None) -> dict[str, Figures]:
        cases: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for day, channel, category, agency, overdue in self.cases:
            tally = cases[_group_key(by, day, channel, category, agency)]
            tally[0] += 1
            tally[1] += overdue
        for key, (filed, late) in cases.items():
            figures[key] = replace(figures.get(key, Figures(key)), cases_filed=filed, cases_overdue=late)
        handoffs: dict[str, int] = defaultdict(int)
        for day, channel, category, agency, _ in self.handoffs:
            handoffs[_group_key(by, day, channel, category, agency)] += 1
        for key, count in handoffs.items():
            figures[key] = replace(figures.get(key, Figures(key)), handoffs=count)
        return figures


# --- the public queries ----------------------------------------------------------------------


def _figures(
    session: Session,
    filters: Filters,
    by: Grain | Dimension | None,
    now: datetime | None,
    events: _Events | None = None,
) -> dict[str, Figures]:
    events = events or _Events.read(session, filters, now or utcnow())
    return events.add_to(_turn_figures(session, filters, by), by)


def summary(
    session: Session, filters: Filters, *, now: datetime | None = None, events: _Events | None = None
) -> Figures:
    """The figures of the whole period under the filters."""
    return _figures(session, filters, None, now, events).get("", Figures())


def trend(
    session: Session,
    filters: Filters,
    grain: Grain,
    *,
    now: datetime | None = None,
    events: _Events | None = None,
) -> list[Figures]:
    """One ``Figures`` per day or month of the period, empty ones included, in order."""
    found = _figures(session, filters, grain, now, events)
    return [found.get(bucket, Figures(bucket)) for bucket in buckets(filters, grain)]


def breakdown(
    session: Session,
    filters: Filters,
    by: Dimension,
    *,
    now: datetime | None = None,
    events: _Events | None = None,
) -> list[Figures]:
    """One ``Figures`` per channel, category or agency seen in the period, most questions first."""
    found = _figures(session, filters, by, now, events)
    return sorted(found.values(), key=lambda f: (-f.questions, -f.cases_filed, -f.turns, f.key))


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the dashboard shows for one set of filters."""

    filters: Filters
    grain: Grain
    summary: Figures
    trend: list[Figures]
    by_channel: list[Figures]
    by_category: list[Figures]
    by_agency: list[Figures]
    unanswered: list[UnansweredQuestion]


def dashboard(
    session: Session,
    filters: Filters,
    grain: Grain,
    *,
    now: datetime | None = None,
    unanswered_limit: int = 400,
) -> Dashboard:
    """The whole dashboard; cases and handoffs are read once for all its groupings."""
    events = _Events.read(session, filters, now or utcnow())
    return Dashboard(
        filters,
        grain,
        summary(session, filters, events=events),
        trend(session, filters, grain, events=events),
        breakdown(session, filters, "channel", events=events),
        breakdown(session, filters, "category", events=events),
        breakdown(session, filters, "agency", events=events),
        unanswered(session, filters, limit=unanswered_limit),
    )


def unanswered(session: Session, filters: Filters, *, limit: int = 20) -> list[UnansweredQuestion]:
    """The questions most often left unanswered (abstained, or a "did you mean" nobody picked)."""
    count = func.count()
    query = (
        select(
            _T.text_key,
            func.min(_T.text_sample),
            count,
            _count_if(_T.decision == "abstain"),
            func.count(func.distinct(_T.sender)),
            func.max(_T.day),
        )
        .where(*_where(filters), _T.question == 1, _T.answered == 0, _T.text_key != "")
        .group_by(_T.text_key)
        .order_by(count.desc(), _T.text_key)
        .limit(limit)
    )
    return [
        UnansweredQuestion(str(k), str(text), int(n), int(abstained), int(senders), str(last))
        for k, text, n, abstained, senders, last in session.execute(query)
    ]


def filter_options(session: Session) -> FilterOptions:
    """The values the filters can take: those present in the figures and the cases."""

    def distinct(column: Any) -> list[str]:
        return [str(v) for v in session.scalars(select(column).distinct()) if v]

    channels = sorted(set(distinct(_D.channel)) | set(distinct(CaseRow.channel)))
    case_categories = sorted({_CASE_NAMES.get(code, code) for code in distinct(CaseRow.category)})
    agencies = sorted({canonical_agency(name) for name in (*distinct(_D.agency), *distinct(CaseRow.agency))})
    return FilterOptions(channels, sorted(distinct(_D.category)), case_categories, agencies)
