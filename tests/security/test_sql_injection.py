"""SQL injection through every search box and API filter, on SQLite and PostgreSQL.

Each payload must come back as an ordinary search that finds nothing (or a clear refusal),
never as a server error, a database message, or more rows than the search asked for; the
tables are intact afterwards. The console's search boxes and filters are found by reading
every GET form on every console page an admin can reach, so new ones are covered as they come.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

from bot.store import Database
from bot.store.models import CaseRow, FaqRow, UserRow
from tests.bot.console.client import login, login_as
from tests.security.conftest import get_forms

PAYLOADS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "'; DROP TABLE faq; --",
    '" OR ""="',
    "1) OR (1=1",
    "' UNION SELECT username, password_hash, role, 1, 1 FROM app_user --",
    "'||(SELECT password_hash FROM app_user LIMIT 1)||'",
    "1; CREATE TABLE sqli_marker (x int) --",  # a stacked statement that ran leaves this table
    "%",
    "_",
    "\\",
    "%' --",
    "房屋稅' OR '1'='1",
    "\x00",
]
DB_ERRORS = re.compile(
    r"(?i:sqlite3|psycopg|syntax error|OperationalError|ProgrammingError)|Traceback|contain NUL"
)
_LINK = re.compile(r'href="(/console[^"#?]*)"')


def database_of(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def counts(client: TestClient) -> tuple[int, int, int, bool]:
    """The rows of the tables a payload aims at, and whether a stacked statement left its table."""
    database = database_of(client)
    with database.session() as session:
        rows = [
            int(session.scalar(select(func.count()).select_from(t)) or 0) for t in (FaqRow, CaseRow, UserRow)
        ]
    return rows[0], rows[1], rows[2], inspect(database.engine).has_table("sqli_marker")


def assert_harmless(response: object, what: str) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    assert status < 500, f"{what}: {status}"
    assert not DB_ERRORS.search(response.text), f"{what}: a database error shows"  # type: ignore[attr-defined]


def test_the_knowledge_base_api_search_and_filters(client: TestClient) -> None:
    login_as(client, "staff")
    before = counts(client)
    for payload in PAYLOADS:
        for name in ("q", "agency", "category"):
            response = client.get("/api/kb/faqs", params={name: payload})
            assert_harmless(response, f"/api/kb/faqs?{name}={payload!r}")
            if response.status_code == 200:
                assert response.json()["total"] == 0, (
                    f"{name}={payload!r} matched entries it does not contain"
                )
        assert_harmless(client.get("/api/kb/faqs", params={"status": payload}), f"status={payload!r}")
        assert_harmless(client.get(f"/api/kb/faqs/{quote(payload, safe='')}"), f"/api/kb/faqs/{payload!r}")
    assert client.get("/api/kb/faqs", params={"q": "房屋稅"}).json()["total"] == 1, "search still works"
    assert counts(client) == before


def test_the_open311_filters(client: TestClient) -> None:
    before = counts(client)
    for payload in PAYLOADS:
        for name in ("service_request_id", "service_code", "status", "start_date", "end_date"):
            response = client.get("/open311/v2/requests.json", params={name: payload})
            assert_harmless(response, f"requests.json?{name}={payload!r}")
            if response.status_code == 200 and name == "service_request_id":
                assert response.json() == [], f"{name}={payload!r} returned requests"
        assert_harmless(
            client.get(f"/open311/v2/requests/{quote(payload, safe='')}.json"), f"requests/{payload!r}.json"
        )
        assert_harmless(
            client.get(f"/open311/v2/services/{quote(payload, safe='')}.json"), f"services/{payload!r}.json"
        )
    assert len(client.get("/open311/v2/requests.json").json()) == 1
    assert counts(client) == before


def console_pages(client: TestClient) -> list[str]:
    """Every console page reachable by a link (one of each shape: /reports/2026/5 stands for all months)."""
    queue, seen, shapes = ["/console"], set(), set()
    while queue and len(seen) < 200:
        path = queue.pop(0)
        shape = re.sub(r"\d+", "N", path)
        if shape in shapes or path.endswith((".css", ".js", ".csv", ".xlsx")) or "logout" in path:
            continue
        seen.add(path)
        shapes.add(shape)
        response = client.get(path)
        if response.headers.get("content-type", "").startswith("text/html"):
            queue += _LINK.findall(response.text)
    return sorted(seen)


def test_every_console_search_box_and_filter(client: TestClient) -> None:
    login_as(client, "admin")
    before = counts(client)
    forms = {}
    for page in console_pages(client):
        for form in get_forms(page, client.get(page).text):
            forms[(urlsplit(form.action).path, tuple(sorted(form.fields)))] = form
    searched = {path for path, _ in forms}
    assert {"/console/kb", "/console/cases", "/console/audit", "/console/dashboard"} <= searched, searched
    for (path, _), form in sorted(forms.items()):
        for name in form.fields:  # dates, selects and hidden fields too: a client can send anything
            for payload in PAYLOADS:
                response = client.get(path, params={**form.fields, name: payload})
                assert_harmless(response, f"{path}?{name}={payload!r}")
    assert counts(client) == before
    client.cookies.clear()
    login(client, "test-admin")  # the accounts table still works


@pytest.mark.parametrize("payload", ["' OR '1'='1", "admin'--", "' UNION SELECT 1 --"])
def test_log_in_with_an_injection_for_a_name_fails_plainly(client: TestClient, payload: str) -> None:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    form = {"username": payload, "password": payload, "csrf_token": token.group(1)}
    response = client.post("/console/login", data=form, follow_redirects=False)
    assert response.status_code == 401
    assert "bot1999_session" not in response.headers.get("set-cookie", "")
