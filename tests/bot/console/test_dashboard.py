"""The dashboard, its exports and the reports through the real app: roles, figures, files, errors."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from bot.console.dashboard import city_sentence, parse_choice, today
from bot.console.dashboard_view import trend_charts
from bot.metrics.queries import Figures, Filters, dashboard, month_period
from bot.metrics.refresh import refresh
from bot.store import Database
from bot.store.turns import Turn, TurnStore
from tests.bot.console.client import login_as

ROUTES = [
    "/console/dashboard",
    "/console/dashboard?start=2026-03-01&end=2026-03-31&channel=web&grain=month",
    "/console/dashboard/export.csv",
    "/console/dashboard/export.csv?table=unanswered",
    "/console/dashboard/export.xlsx",
    "/console/reports",
    "/console/reports/2026",
    "/console/reports/2026/3",
]
MARCH = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def _database(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def _log(client: TestClient, who: str, at: datetime, channel: str = "web", **fields: object) -> None:
    with _database(client).session() as session:
        TurnStore(session).log(Turn(conversation_id=who, sender=who, channel=channel, at=at, **fields))  # type: ignore[arg-type]


def _month_of_turns(client: TestClient) -> None:
    """March 2026: three citizens, four questions; two answered, one of them successfully."""
    _log(
        client,
        "A",
        MARCH,
        text="房屋稅什麼時候繳",
        intent="faq",
        decision="answer",
        faq_id="F-2",
        candidates=["F-2"],
    )
    _log(client, "A", MARCH + timedelta(seconds=5), payload="/feedback_good", intent="feedback_good")
    _log(client, "B", MARCH, channel="line", text="路燈", intent="faq", decision="answer", faq_id="F-3")
    _log(client, "B", MARCH + timedelta(seconds=5), channel="line", payload="/ask_human", intent="ask_human")
    _log(client, "C", MARCH, text='=HYPERLINK("http://x") 我家的狗走失了', intent="faq", decision="abstain")
    _log(
        client,
        "C",
        MARCH + timedelta(minutes=1),
        text="我家的狗走失了 0912345678",
        intent="faq",
        decision="abstain",
    )


# Each access test walks every route on one app (one app per backend, not one per route): the
# same checks as a parametrised matrix at a tenth of the start-ups; a failure names its route.


def test_not_logged_in_goes_to_the_log_in_page(console: TestClient) -> None:
    for route in ROUTES:
        response = console.get(route, follow_redirects=False)
        assert response.status_code == 303, route
        assert response.headers["location"].startswith("/console/login?next="), route


def test_staff_are_refused(console: TestClient) -> None:
    login_as(console, "staff")
    for route in ROUTES:
        response = console.get(route, follow_redirects=False)
        assert response.status_code == 403, route
        assert "「主管」" in response.text, route  # the role it needs, in Chinese


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_may(console: TestClient, role: str) -> None:
    login_as(console, role)
    for route in ROUTES:
        response = console.get(route, follow_redirects=False)
        if route == "/console/reports":
            assert response.status_code == 303, route
            assert response.headers["location"] == f"/console/reports/{today().year}"
            continue
        assert response.status_code == 200, (route, response.text[:500])
        assert response.headers["cache-control"] == "no-store", route


def test_the_navigation_shows_the_dashboard_to_supervisors_only(console: TestClient) -> None:
    login_as(console, "staff", username="s1")
    assert "/console/dashboard" not in console.get("/console").text
    login_as(console, "supervisor", username="v1")
    home = console.get("/console").text
    assert 'href="/console/dashboard"' in home
    assert 'href="/console/reports"' in home


def test_the_dashboard_shows_the_month(console: TestClient) -> None:
    _month_of_turns(console)
    login_as(console, "supervisor")
    page = console.get("/console/dashboard?start=2026-03-01&end=2026-03-31").text
    assert "使用 AI 客服次數 3 人、實際問答數 4 件、順利回答比率 25.0 %" in page
    assert re.search(r"<dt>回答率</dt><dd>50.0 %</dd>", page)
    assert page.count('role="img"') == 2  # the two trend charts, each with a title and a description
    assert '<title id="chart-counts-title">每日問題數、已回答與順利回答</title>' in page
    assert "0912345678" not in page
    assert "［電話］" in page  # the unanswered question, redacted (the tag as staff read it)
    only_line = console.get("/console/dashboard?start=2026-03-01&end=2026-03-31&channel=line").text
    assert "使用 AI 客服次數 1 人、實際問答數 1 件、順利回答比率 0.0 %" in only_line
    taxes = console.get("/console/dashboard?start=2026-03-01&end=2026-03-31&category=稅務").text
    assert "實際問答數 0 件" in taxes  # the test knowledge base files F-2 under 環保與垃圾
    streets = console.get("/console/dashboard?start=2026-03-01&end=2026-03-31&agency=工務局").text
    assert "實際問答數 1 件" in streets


def test_a_chat_turn_reaches_the_dashboard(console: TestClient) -> None:
    console.post("/api/chat", json={"sender": "web-1", "text": "請問大型垃圾要怎麼預約清運？"})
    login_as(console, "supervisor")
    page = console.get("/console/dashboard").text
    assert "使用 AI 客服次數 1 人、實際問答數 1 件" in page


def test_csv_exports(console: TestClient) -> None:
    _month_of_turns(console)
    login_as(console, "supervisor")
    query = "start=2026-03-01&end=2026-03-31&grain=month"
    response = console.get(f"/console/dashboard/export.csv?{query}")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"]
        == 'attachment; filename="bot1999-trend-2026-03-01_2026-03-31.csv"'
    )
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["月份", "使用人數", "問題數", "已回答"]
    assert rows[1][:7] == ["2026-03", "3", "4", "2", "50.0", "1", "25.0"]
    channels = console.get(f"/console/dashboard/export.csv?{query}&table=channel").content.decode("utf-8-sig")
    assert {row[0]: row[2] for row in csv.reader(io.StringIO(channels))} == {
        "管道": "問題數",
        "網頁": "3",
        "LINE": "1",
    }
    unanswered = console.get(f"/console/dashboard/export.csv?{query}&table=unanswered").content.decode(
        "utf-8-sig"
    )
    texts = [row[1] for row in csv.reader(io.StringIO(unanswered))][1:]
    assert any(text.startswith("'=HYPERLINK") for text in texts)  # never a live formula
    assert not any(text.startswith("=") for text in texts)
    assert "0912345678" not in unanswered


def test_the_xlsx_export_has_every_table(console: TestClient) -> None:
    _month_of_turns(console)
    login_as(console, "supervisor")
    response = console.get("/console/dashboard/export.xlsx?start=2026-03-01&end=2026-03-31")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["摘要", "趨勢", "依管道", "依類別", "依機關", "未回答問題"]
    summary = {row[0]: row[1] for row in book["摘要"].iter_rows(values_only=True)}
    assert (summary["使用人數"], summary["問題數"], summary["順利回答比率"]) == (3, 4, 0.25)
    assert summary["市府報表格式"] == "使用 AI 客服次數 3 人、實際問答數 4 件、順利回答比率 25.0 %"
    trend = list(book["趨勢"].iter_rows(values_only=True))
    assert len(trend) == 32  # the heading and 31 days
    assert book["趨勢"]["E11"].value == 0.5  # 10 March: two questions, one answered
    assert book["趨勢"]["E11"].number_format == "0.0%"
    assert book["摘要"]["B10"].number_format == "0.0%"  # 回答率
    cells = [cell for row in book["未回答問題"].iter_rows(values_only=True) for cell in row]
    assert not any(isinstance(c, str) and c.startswith("=") for c in cells)


def test_reports(console: TestClient) -> None:
    _month_of_turns(console)
    login_as(console, "supervisor")
    month = console.get("/console/reports/2026/3").text
    assert "2026 年 3 月 智慧客服月報" in month
    assert "本月使用 AI 客服次數 3 人、實際問答數 4 件、順利回答比率 25.0 %。" in month
    year = console.get("/console/reports/2026").text
    assert "全年使用 AI 客服次數 3 人、實際問答數 4 件、順利回答比率 25.0 %。" in year
    assert "使用 AI 客服次數 0 人、實際問答數 0 件、順利回答比率 —" in year  # the other months
    assert 'href="/console/reports/2026/3"' in year


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-13-01", "不是日期"),
        ("start=2026-03-10&end=2026-03-01", "起日晚於迄日"),
        ("start=2000-01-01&end=2026-01-01", "期間太長"),
        ("grain=week", "趨勢請選"),
        ("channel=" + "x" * 300, "管道太長"),
    ],
)
def test_bad_filters_are_explained(console: TestClient, query: str, message: str) -> None:
    login_as(console, "supervisor")
    page = console.get(f"/console/dashboard?{query}")
    assert page.status_code == 400
    assert message in page.text
    export = console.get(f"/console/dashboard/export.csv?{query}")
    assert export.status_code == 400
    assert message in export.text


def test_unknown_exports_and_periods(console: TestClient) -> None:
    login_as(console, "supervisor")
    response = console.get("/console/dashboard/export.csv?table=secrets")
    assert response.status_code == 400
    assert "沒有「secrets」這張表" in response.text
    assert console.get("/console/reports/1999").status_code == 404
    assert console.get("/console/reports/2026/13").status_code == 404
    assert console.get("/console/reports/2026/x").status_code == 422


def test_filters_and_sentence() -> None:
    choice = parse_choice("", "2026-03-31", " web ", "", "", "")
    assert choice.filters is not None
    assert (choice.filters.start.isoformat(), choice.filters.channel, choice.resolved_grain) == (
        "2026-03-02",
        "web",
        "day",
    )
    assert parse_choice("2025-01-01", "2026-03-31", "", "", "", "").resolved_grain == "month"
    assert city_sentence(Figures(unique_users=12345, questions=6789, successful=5000)) == (
        "使用 AI 客服次數 12,345 人、實際問答數 6,789 件、順利回答比率 73.6 %"
    )


def test_exports_carry_no_case_number_nor_check_digits(console: TestClient) -> None:
    april = datetime(2026, 4, 8, 2, 0, tzinfo=UTC)
    _log(
        console, "D", april, text="我的案件261207-0001-4末三碼678怎麼還沒修", intent="faq", decision="abstain"
    )
    login_as(console, "supervisor")
    query = "start=2026-04-01&end=2026-04-30&grain=month&table=unanswered"
    unanswered = console.get(f"/console/dashboard/export.csv?{query}").content.decode("utf-8-sig")
    assert "[case]" in unanswered
    assert "261207-0001-4" not in unanswered
    assert "678" not in unanswered


def test_the_monthly_chart_leaves_the_days_to_come_undrawn(database: Database) -> None:
    """A month still under way: its days after today have no figures yet, which is not zero."""
    month = Filters(*month_period(2026, 12))
    with database.session() as session:
        TurnStore(session).log(Turn(conversation_id="A", sender="A", channel="web",
                                    at=datetime(2026, 12, 2, 3, tzinfo=UTC), text="房屋稅",
                                    intent="faq", decision="abstain"))  # fmt: skip
    refresh(database)
    with database.session() as session:
        board = dashboard(session, month, "day", now=datetime(2026, 12, 7, 4, tzinfo=UTC))
    assert len(board.trend) == 31
    counts, rates = trend_charts(board, date(2026, 12, 7))
    for series in counts.series:
        assert len(series.dots) == 7, series.name  # 1–7 December, zeros included; none after
    assert [len(series.dots) for series in rates.series] == [1, 1]  # only a day with questions has a rate
    assert len(counts.x_ticks) >= 4  # the axis still spans the whole month
    whole = trend_charts(board, date(2027, 1, 1))[0]
    assert [len(series.dots) for series in whole.series] == [31, 31, 31]
