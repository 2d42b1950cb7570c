"""What the dashboard and the reports show: the filters, the figures of a page, its charts.

Shared by ``bot.console.dashboard`` (the page), ``bot.console.dashboard_exports`` (CSV, XLSX)
and ``bot.console.reports`` (the city's monthly / yearly report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request

from bot.console.dashboard_charts import LineChart, line_chart
from bot.console.pages import local_time
from bot.deps import settings_of
from bot.messages import CHANNEL_NAMES
from bot.metrics.clusters import UnansweredCluster, cluster_unanswered
from bot.metrics.outcomes import TAIPEI
from bot.metrics.queries import (
    DIMENSIONS,
    Dashboard,
    Figures,
    FilterOptions,
    Filters,
    Grain,
    dashboard,
    filter_options,
)
from bot.metrics.refresh import refresh
from bot.store import Database
from bot.store.models import MetricStateRow, utcnow

__all__ = [
    "COLUMNS",
    "TABLE_COLUMNS",
    "DIMENSION_NAMES",
    "PAGE_REFRESH_LIMIT",
    "Choice",
    "ChoiceDep",
    "DashboardPage",
    "city_sentence",
    "cluster_threshold",
    "figures_context",
    "label",
    "load_dashboard",
    "local_text",
    "parse_choice",
    "percent",
    "presets",
    "today",
    "trend_charts",
]

DIMENSION_NAMES = {"channel": "管道", "category": "類別", "agency": "機關"}
DEFAULT_DAYS = 30
# A page derives at most this many conversations before it answers (about a second's work);
# after an upgrade over a long turn log, run ``python -m bot.metrics.refresh`` once instead.
PAGE_REFRESH_LIMIT = 1000
MAX_FILTER_CHARS = 200
# (heading, attribute or rate property, kind) of every column a figures table has
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("使用人數", "unique_users", "count"),
    ("問題數", "questions", "count"),
    ("已回答", "answered", "count"),
    ("回答率", "answered_rate", "rate"),
    ("順利回答", "successful", "count"),
    ("順利回答比率", "success_rate", "rate"),
    ("需澄清", "clarified", "count"),
    ("澄清比率", "clarify_rate", "rate"),
    ("無法回答", "abstained", "count"),
    ("無法回答比率", "abstain_rate", "rate"),
    ("有幫助", "feedback_good", "count"),
    ("沒幫助", "feedback_bad", "count"),
    ("滿意度", "satisfaction", "rate"),
    ("轉接專人", "handoffs", "count"),
    ("立案數", "cases_filed", "count"),
    ("逾期案件", "cases_overdue", "count"),
)

# The tables on the pages: the figures a supervisor looks for first (questions, answered,
# handoffs, cases, overdue, satisfaction) ahead of the details, so they are in view at once
# (the downloads keep COLUMNS' order).
_FIRST = ("questions", "answered_rate", "handoffs", "cases_filed", "cases_overdue", "satisfaction")
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    *(c for name in _FIRST for c in COLUMNS if c[1] == name),
    *(c for c in COLUMNS if c[1] not in _FIRST),
)


def cluster_threshold(request: Request) -> float:
    settings = settings_of(request)
    return float(settings.learning.cluster_threshold)


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.1f} %"


def city_sentence(figures: Figures) -> str:
    """The city's report line: 使用 AI 客服次數 N 人、實際問答數 N 件、順利回答比率 N %."""
    rate = "—" if figures.success_rate is None else f"{100 * figures.success_rate:.1f} %"
    return f"使用 AI 客服次數 {figures.unique_users:,} 人、實際問答數 {figures.questions:,} 件、順利回答比率 {rate}"


def label(dimension: str, key: str) -> str:
    if not key:
        return "（未分類）" if dimension != "channel" else "（不明）"
    return CHANNEL_NAMES.get(key, key) if dimension == "channel" else key


# --- the filters ------------------------------------------------------------------------------


@dataclass
class Choice:
    """What the filter form asked for, and what was wrong with it."""

    start: str = ""
    end: str = ""
    channel: str = ""
    category: str = ""
    agency: str = ""
    grain: str = ""
    errors: list[str] = field(default_factory=list)
    filters: Filters | None = None

    @property
    def resolved_grain(self) -> Grain:
        if self.grain in ("day", "month"):
            return "day" if self.grain == "day" else "month"
        filters = self.filters
        return "day" if filters is None or (filters.end - filters.start).days < 62 else "month"

    def query(self, **overrides: str) -> str:
        values = {
            "start": self.start,
            "end": self.end,
            "channel": self.channel,
            "category": self.category,
            "agency": self.agency,
            "grain": self.grain,
            **overrides,
        }
        return urlencode({k: v for k, v in values.items() if v})


def today() -> date:
    return utcnow().astimezone(TAIPEI).date()


def _parse_day(text: str, name: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.append(f"{name}「{text[:20]}」不是日期，請用 YYYY-MM-DD（例如 2026-03-01）。")
        return None


def parse_choice(start: str, end: str, channel: str, category: str, agency: str, grain: str) -> Choice:
    choice = Choice(
        start.strip(), end.strip(), channel.strip(), category.strip(), agency.strip(), grain.strip()
    )
    errors = choice.errors
    last = _parse_day(choice.end, "迄日", errors) if choice.end else today()
    first = _parse_day(choice.start, "起日", errors) if choice.start else None
    if first is None and last is not None and not choice.start:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if choice.grain not in ("", "day", "month"):
        errors.append("趨勢請選「日」或「月」。")
    for name, value in (("管道", choice.channel), ("類別", choice.category), ("機關", choice.agency)):
        if len(value) > MAX_FILTER_CHARS:
            errors.append(f"{name}太長（最多 {MAX_FILTER_CHARS} 字）。")
    if first is not None and last is not None and not errors:
        try:
            choice.filters = Filters(first, last, choice.channel, choice.category, choice.agency)
        except ValueError as error:
            errors.append(
                "起日晚於迄日，請調整期間。"
                if "ends before" in str(error)
                else "期間太長，請縮短到十年以內。"
            )
    if choice.filters is not None:
        choice.start, choice.end = choice.filters.start.isoformat(), choice.filters.end.isoformat()
    return choice


def _choice(
    start: Annotated[str, Query(max_length=40)] = "",
    end: Annotated[str, Query(max_length=40)] = "",
    channel: Annotated[str, Query(max_length=400)] = "",
    category: Annotated[str, Query(max_length=400)] = "",
    agency: Annotated[str, Query(max_length=400)] = "",
    grain: Annotated[str, Query(max_length=20)] = "",
) -> Choice:
    return parse_choice(start, end, channel, category, agency, grain)


ChoiceDep = Annotated[Choice, Depends(_choice)]


def presets(today_: date) -> list[tuple[str, str]]:
    first_this = today_.replace(day=1)
    last_prev = first_this - timedelta(days=1)
    return [
        (
            "近 7 天",
            urlencode({"start": (today_ - timedelta(days=6)).isoformat(), "end": today_.isoformat()}),
        ),
        (
            "近 30 天",
            urlencode({"start": (today_ - timedelta(days=29)).isoformat(), "end": today_.isoformat()}),
        ),
        ("本月", urlencode({"start": first_this.isoformat(), "end": today_.isoformat()})),
        ("上月", urlencode({"start": last_prev.replace(day=1).isoformat(), "end": last_prev.isoformat()})),
        ("今年", urlencode({"start": today_.replace(month=1, day=1).isoformat(), "end": today_.isoformat()})),
    ]


# --- computing a page -------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardPage:
    board: Dashboard
    clusters: list[UnansweredCluster]
    options: FilterOptions
    refreshed_at: datetime | None
    pending: int  # conversations not derived yet (a page derives at most PAGE_REFRESH_LIMIT)


def _refreshed_at(database: Database) -> datetime | None:
    with database.session() as session:
        state = session.get(MetricStateRow, "turns")
        return state.refreshed_at if state is not None else None


def load_dashboard(database: Database, filters: Filters, grain: Grain, threshold: float) -> DashboardPage:
    pending = refresh(database, limit=PAGE_REFRESH_LIMIT).pending
    with database.session() as session:
        board = dashboard(session, filters, grain)
        options = filter_options(session)
    clusters = cluster_unanswered(board.unanswered, threshold=threshold, limit=10)
    return DashboardPage(board, clusters, options, _refreshed_at(database), pending)


def trend_charts(board: Dashboard, now: date | None = None) -> list[LineChart]:
    """The trend as two charts; days (or months) after ``now`` (today) are not drawn: they have
    no figures yet, which is not the same as zero."""
    labels = [f.key[5:] if board.grain == "day" else f.key for f in board.trend]
    last = (now or today()).isoformat()[: 10 if board.grain == "day" else 7]

    def drawn(values: list[Any]) -> list[Any]:
        return [None if f.key > last else v for f, v in zip(board.trend, values, strict=True)]

    period = f"{board.filters.start.isoformat()} 至 {board.filters.end.isoformat()}"
    unit = "每日" if board.grain == "day" else "每月"
    busiest = max(board.trend, key=lambda f: f.questions, default=None)
    peak = (
        f"；問題最多的是 {busiest.key}（{busiest.questions:,} 件）" if busiest and busiest.questions else ""
    )
    counts = line_chart(
        "chart-counts",
        f"{unit}問題數、已回答與順利回答",
        f"{period}{unit}的問題數、已回答數與順利回答數{peak}。各數字見下方「趨勢明細」表。",
        labels,
        [
            ("問題數", drawn([f.questions for f in board.trend])),
            ("已回答", drawn([f.answered for f in board.trend])),
            ("順利回答", drawn([f.successful for f in board.trend])),
        ],
    )
    rates = line_chart(
        "chart-rates",
        f"{unit}回答率與順利回答比率",
        f"{period}{unit}的回答率與順利回答比率（沒有問題的{unit[1]}不畫）。各數字見下方「趨勢明細」表。",
        labels,
        [
            ("回答率", drawn([f.answered_rate for f in board.trend])),
            ("順利回答比率", drawn([f.success_rate for f in board.trend])),
        ],
        percent=True,
    )
    return [counts, rates]


def labeller(dimension: str) -> Any:
    return lambda key: label(dimension, key)


def figures_context() -> dict[str, Any]:
    return {
        "columns": TABLE_COLUMNS,
        "percent": percent,
        "channel_names": CHANNEL_NAMES,
        "label_for": {dimension: labeller(dimension) for dimension in DIMENSIONS},
    }


def local_text(value: datetime | None, zone: ZoneInfo) -> str:
    return local_time(value, zone)
