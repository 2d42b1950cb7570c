"""The city's monthly and yearly reports: 「使用 AI 客服次數 N 人、實際問答數 N 件、順利回答比率 N %」."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from bot.console.dashboard_view import (
    DIMENSION_NAMES,
    PAGE_REFRESH_LIMIT,
    city_sentence,
    cluster_threshold,
    figures_context,
    load_dashboard,
    local_text,
    today,
    trend_charts,
)
from bot.console.pages import render
from bot.deps import SupervisorUser, database_of, settings_of
from bot.metrics.queries import Figures, Filters, month_period, summary, trend, year_period
from bot.metrics.refresh import refresh
from bot.store import Database

__all__ = ["router"]

router = APIRouter(tags=["console"], include_in_schema=False)


@dataclass(frozen=True)
class YearReport:
    year: int
    total: Figures
    months: list[Figures]
    pending: int


def load_year(database: Database, year: int) -> YearReport:
    pending = refresh(database, limit=PAGE_REFRESH_LIMIT).pending
    filters = Filters(*year_period(year))
    with database.session() as session:
        return YearReport(year, summary(session, filters), trend(session, filters, "month"), pending)


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise _not_found()
    return year


def _not_found() -> Exception:
    return HTTPException(status.HTTP_404_NOT_FOUND, "沒有這個期間的報表")


@router.get("/console/reports", response_class=RedirectResponse)
async def reports_index(request: Request, user: SupervisorUser) -> RedirectResponse:
    return RedirectResponse(f"/console/reports/{today().year}", status.HTTP_303_SEE_OTHER)


@router.get("/console/reports/{year}", response_class=HTMLResponse)
async def year_report(request: Request, user: SupervisorUser, year: int) -> HTMLResponse:
    report = await run_in_threadpool(load_year, database_of(request), _year(year))
    return render(
        request,
        "console/dashboard/year.html",
        user=user,
        report=report,
        sentence=city_sentence(report.total),
        months=[(f, city_sentence(f), int(f.key[5:])) for f in report.months],
        xlsx_query=urlencode({"start": f"{year}-01-01", "end": f"{year}-12-31", "grain": "month"}),
        **figures_context(),
    )


@router.get("/console/reports/{year}/{month}", response_class=HTMLResponse)
async def month_report(request: Request, user: SupervisorUser, year: int, month: int) -> HTMLResponse:
    if not 1 <= month <= 12:
        raise _not_found()
    start, end = month_period(_year(year), month)
    page = await run_in_threadpool(
        load_dashboard, database_of(request), Filters(start, end), "day", cluster_threshold(request)
    )
    board = page.board
    previous = start - timedelta(days=1)
    following = end + timedelta(days=1)
    return render(
        request,
        "console/dashboard/month.html",
        user=user,
        year=year,
        month=month,
        page=page,
        board=board,
        charts=trend_charts(board),
        sentence=city_sentence(board.summary),
        refreshed=local_text(page.refreshed_at, settings_of(request).handoff.zone),
        breakdowns=[
            (d, DIMENSION_NAMES[d], rows, max((r.questions for r in rows), default=0))
            for d, rows in (
                ("channel", board.by_channel),
                ("category", board.by_category),
                ("agency", board.by_agency),
            )
        ],
        previous=(previous.year, previous.month),
        following=(following.year, following.month),
        xlsx_query=urlencode({"start": start.isoformat(), "end": end.isoformat(), "grain": "day"}),
        **figures_context(),
    )
