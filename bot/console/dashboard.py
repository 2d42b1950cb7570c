"""The supervisors' dashboard, and where its exports and the reports are added.

- ``GET /console/dashboard`` — for a period (Asia/Taipei dates), channel, category and agency:
  the figures (docs/metrics.md), their trend by day or month as charts and a table, the
  breakdowns by channel, category and agency, and the top unanswered questions by meaning.
- ``GET /console/dashboard/export.csv?table=…`` and ``/console/dashboard/export.xlsx`` — the same
  figures under the same filters (``bot.console.dashboard_exports``).
- ``GET /console/reports/{year}`` and ``/console/reports/{year}/{month}`` — the report in the form
  the city uses: 「使用 AI 客服次數 N 人、實際問答數 N 件、順利回答比率 N %」 (``bot.console.reports``).

Supervisors and admins only; staff are refused (the figures are management information, and
staff have the failure queue for the questions themselves). Every page first brings the
derived figures up to date with the turn log (``bot.metrics.refresh``; a no-op when nothing new).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from bot.console import dashboard_exports, reports
from bot.console.dashboard_view import (
    DIMENSION_NAMES,
    ChoiceDep,
    city_sentence,
    cluster_threshold,
    figures_context,
    load_dashboard,
    local_text,
    parse_choice,
    presets,
    today,
    trend_charts,
)
from bot.console.pages import NavItem, add_nav, render
from bot.deps import SupervisorUser, database_of, settings_of
from bot.metrics.figures import Filters
from bot.metrics.learning import LearningMonth, learning_by_month
from bot.store.users import Role

__all__ = ["city_sentence", "install", "parse_choice", "router", "today"]

router = APIRouter(tags=["console"], include_in_schema=False)


def install(app: FastAPI) -> None:
    """Add the dashboard, its exports, the reports and their navigation links (after ``bot.console.install``)."""
    for module_router in (router, dashboard_exports.router, reports.router):
        app.include_router(module_router)
    add_nav(app, NavItem("儀表板", "/console/dashboard", (Role.SUPERVISOR,), order=50))
    add_nav(app, NavItem("月報與年報", "/console/reports", (Role.SUPERVISOR,), order=51))


@router.get("/console/dashboard", response_class=HTMLResponse)
async def dashboard_page(request: Request, user: SupervisorUser, choice: ChoiceDep) -> HTMLResponse:
    context: dict[str, Any] = {"choice": choice, "presets": presets(today()), **figures_context()}
    if choice.filters is None:
        return render(
            request, "console/dashboard/index.html", user=user, status_code=400, page=None, **context
        )
    page = await run_in_threadpool(
        load_dashboard,
        database_of(request),
        choice.filters,
        choice.resolved_grain,
        cluster_threshold(request),
    )
    board = page.board
    learning = await run_in_threadpool(_learning, request, choice.filters)
    breakdowns = [("channel", board.by_channel), ("category", board.by_category), ("agency", board.by_agency)]
    return render(
        request,
        "console/dashboard/index.html",
        user=user,
        page=page,
        board=board,
        charts=trend_charts(board),
        breakdowns=[
            (d, DIMENSION_NAMES[d], rows, max((r.questions for r in rows), default=0))
            for d, rows in breakdowns
        ],
        sentence=city_sentence(board.summary),
        refreshed=local_text(page.refreshed_at, settings_of(request).handoff.zone),
        exports=[(t, choice.query(table=t, grain=board.grain)) for t in dashboard_exports.TABLES],
        xlsx_query=choice.query(grain=board.grain),
        learning=learning,
        **context,
    )


def _learning(request: Request, filters: Filters) -> list[LearningMonth]:
    """Phrasings learned from citizens and the answered-directly rate, per month (bot.metrics.learning)."""
    with database_of(request).session() as session:
        return learning_by_month(session, filters, request.app.state.settings.handoff.zone)
