"""The dashboard's figures as files: one table as CSV, every table as an XLSX workbook.

Both take the dashboard's own query. CSV is UTF-8 with a byte-order mark (so Excel reads it as
such), rates in percent; the workbook has rates as fractions formatted as percentages. Text a
spreadsheet would run as a formula is prefixed with an apostrophe. The files are made to be passed
on (city reports, publication): citizens' questions in them lose what ``redact_identifiers``
removes (personal data, case numbers, check digits).
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bot.console.dashboard_view import (
    COLUMNS,
    DIMENSION_NAMES,
    Choice,
    ChoiceDep,
    DashboardPage,
    city_sentence,
    cluster_threshold,
    label,
    load_dashboard,
)
from bot.console.pages import PAGE_HEADERS
from bot.deps import SupervisorUser, database_of
from bot.metrics.queries import Figures, Filters
from bot.privacy import redact_identifiers

__all__ = ["TABLES", "router", "xlsx_bytes"]

router = APIRouter(tags=["console"], include_in_schema=False)
TABLES = ("summary", "trend", "channel", "category", "agency", "unanswered")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> object:
    """Text a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _figure_row(figures: Figures, *, rates_as: Literal["percent", "fraction"]) -> list[object]:
    row: list[object] = []
    for _, attribute, kind in COLUMNS:
        value = getattr(figures, attribute)
        if kind == "rate" and value is not None and rates_as == "percent":
            value = round(100 * value, 1)
        row.append(value)
    return row


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _table(header: list[object], rows: list[list[object]]) -> list[list[object]]:
    return [header, *rows]


def _tables(
    page: DashboardPage, rates_as: Literal["percent", "fraction"]
) -> dict[str, tuple[str, list[list[object]]]]:
    """Every exportable table: name -> (sheet title, rows with the header first)."""
    board = page.board
    suffix = "(%)" if rates_as == "percent" else ""
    heads = [name + (suffix if kind == "rate" else "") for name, _, kind in COLUMNS]
    filters = board.filters
    summary_rows: list[list[object]] = [
        ["項目", "值"],
        ["起日", filters.start.isoformat()],
        ["迄日", filters.end.isoformat()],
        ["管道", filters.channel or "全部"],
        ["類別", filters.category or "全部"],
        ["機關", filters.agency or "全部"],
        *([name + (suffix if kind == "rate" else ""), value] for (name, _, kind), value in
          zip(COLUMNS, _figure_row(board.summary, rates_as=rates_as), strict=True)),
        ["回應時間中位數(毫秒)", _rounded(board.summary.median_latency_ms)],
        ["市府報表格式", city_sentence(board.summary)],
    ]  # fmt: skip
    out: dict[str, tuple[str, list[list[object]]]] = {"summary": ("摘要", summary_rows)}
    out["trend"] = (
        "趨勢",
        _table(
            ["日期" if board.grain == "day" else "月份", *heads],
            [[f.key, *_figure_row(f, rates_as=rates_as)] for f in board.trend],
        ),
    )
    for dimension, rows in (
        ("channel", board.by_channel),
        ("category", board.by_category),
        ("agency", board.by_agency),
    ):
        out[dimension] = (
            f"依{DIMENSION_NAMES[dimension]}",
            _table(
                [DIMENSION_NAMES[dimension], *heads],
                [[label(dimension, f.key), *_figure_row(f, rates_as=rates_as)] for f in rows],
            ),
        )
    out["unanswered"] = (
        "未回答問題",
        _table(
            ["群組", "問題（已遮蔽個資）", "次數", "無法回答", "提問人數", "最後一次"],
            [
                [n, redact_identifiers(q.text), q.count, q.abstained, q.senders, q.last_day]
                for n, c in enumerate(page.clusters, 1)
                for q in c.phrasings
            ],
        ),
    )
    return out


def _filename(filters: Filters, table: str, extension: str) -> str:
    return f"bot1999-{table}-{filters.start.isoformat()}_{filters.end.isoformat()}.{extension}"


def _export_headers(name: str) -> dict[str, str]:
    return {**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}


def _bad_export(choice: Choice) -> Response:
    return Response(
        "無法匯出：" + " ".join(choice.errors),
        status.HTTP_400_BAD_REQUEST,
        media_type="text/plain; charset=utf-8",
        headers=PAGE_HEADERS,
    )


@router.get("/console/dashboard/export.csv")
async def export_csv(
    request: Request,
    user: SupervisorUser,
    choice: ChoiceDep,
    table: Annotated[str, Query(max_length=20)] = "trend",
) -> Response:
    if table not in TABLES:
        choice.errors.append(f"沒有「{table[:20]}」這張表；可匯出：{', '.join(TABLES)}。")
    if choice.filters is None or choice.errors:
        return _bad_export(choice)
    page = await run_in_threadpool(
        load_dashboard,
        database_of(request),
        choice.filters,
        choice.resolved_grain,
        cluster_threshold(request),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _tables(page, "percent")[table][1]:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    body = "\ufeff" + buffer.getvalue()  # the BOM makes Excel read UTF-8
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers=_export_headers(_filename(choice.filters, table, "csv")),
    )


def xlsx_bytes(page: DashboardPage) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    for _, (title, rows) in _tables(page, "fraction").items():
        sheet = workbook.create_sheet(title)
        header = rows[0]
        for index, row in enumerate(rows):
            cells = []
            for column, value in enumerate(row):
                cell = WriteOnlyCell(sheet, value=_safe(value))
                names = (str(header[column]) if column < len(header) else "", str(row[0]))
                if index and isinstance(value, float) and any(n.endswith(("率", "滿意度")) for n in names):
                    cell.number_format = "0.0%"
                cells.append(cell)
            sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@router.get("/console/dashboard/export.xlsx")
async def export_xlsx(request: Request, user: SupervisorUser, choice: ChoiceDep) -> Response:
    if choice.filters is None:
        return _bad_export(choice)
    page = await run_in_threadpool(
        load_dashboard,
        database_of(request),
        choice.filters,
        choice.resolved_grain,
        cluster_threshold(request),
    )
    body = await run_in_threadpool(xlsx_bytes, page)
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=_export_headers(_filename(choice.filters, "dashboard", "xlsx")),
    )
