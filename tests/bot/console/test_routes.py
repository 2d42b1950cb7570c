"""Who may use which console route: one table, every role, with and without the CSRF token."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from tests.bot.console.client import app_routes, login_as
from tests.bot.console.conftest import closed_port, seed
from tests.conftest import app_settings

ANY = ("staff", "supervisor", "admin")
STAFF = ("staff", "admin")
ADMIN = ("admin",)
ROLES = ("staff", "supervisor", "admin")

# (method, path, form or JSON body, roles allowed). Bodies are harmless: they are refused
# for a stale revision, an unknown user or a bad value, so every role sees the same data.
ROUTES: list[tuple[str, str, dict[str, object] | None, tuple[str, ...]]] = [
    ("GET", "/console", None, ANY),
    ("GET", "/console/account", None, ANY),
    ("POST", "/console/account/password", {"current_password": "x", "new_password": "y"}, ANY),
    ("GET", "/console/api/session", None, ANY),
    ("GET", "/console/users", None, ADMIN),
    ("POST", "/console/users", {"username": "x", "role": "staff", "password": "short"}, ADMIN),
    ("POST", "/console/users/nobody/role", {"role": "staff"}, ADMIN),
    ("POST", "/console/users/nobody/deactivate", {}, ADMIN),
    ("POST", "/console/users/nobody/activate", {}, ADMIN),
    ("POST", "/console/users/nobody/reset-password", {}, ADMIN),
    ("GET", "/console/audit", None, ADMIN),
    ("GET", "/console/kb", None, STAFF),
    ("GET", "/console/kb/try?q=房屋稅", None, STAFF),
    ("GET", "/console/kb/new", None, STAFF),
    ("POST", "/console/kb/new", {"id": "bad id", "action": "save"}, STAFF),
    ("GET", "/console/kb/faq/F-1", None, STAFF),
    ("POST", "/console/kb/faq/F-1", {"question": "", "action": "preview"}, STAFF),
    ("POST", "/console/kb/faq/F-1/publish", {"revision": "99"}, STAFF),
    ("POST", "/console/kb/faq/F-1/archive", {"revision": "99"}, STAFF),
    ("POST", "/console/kb/faq/F-1/discard", {}, STAFF),
    ("POST", "/console/kb/faq/F-1/rollback", {"revision": "99", "to": "1"}, STAFF),
    ("GET", "/console/kb/faq/F-1/history", None, STAFF),
    ("GET", "/console/kb/synonyms", None, STAFF),
    ("POST", "/console/kb/synonyms", {"variant": "兵", "canonical": "兵役"}, STAFF),
    ("POST", "/console/kb/synonyms/delete", {"variant": "nothing"}, STAFF),
    ("POST", "/console/kb/synonyms/publish", {"note": "route test"}, STAFF),
    ("POST", "/console/kb/synonyms/rollback", {"version": "999"}, STAFF),
    ("GET", "/console/kb/import", None, STAFF),
    ("POST", "/console/kb/import", {"fmt": "auto"}, STAFF),
    ("GET", "/console/kb/import/999", None, STAFF),
    ("GET", "/console/api/kb/import/999", None, STAFF),
    ("GET", "/console/kb/import/999/rejected.csv", None, STAFF),
    ("GET", "/console/kb/duplicates", None, STAFF),
    ("POST", "/console/kb/duplicates/merge", {"keep": "nope", "drop": "F-1"}, STAFF),
    ("POST", "/console/kb/duplicates/dismiss", {"first": "F-1", "second": "F-3"}, STAFF),
    ("GET", "/api/kb/faqs", None, STAFF),
    ("GET", "/api/kb/faqs/F-1", None, STAFF),
    ("GET", "/api/kb/faqs/F-1/history", None, STAFF),
    ("GET", "/api/kb/version", None, STAFF),
    ("POST", "/api/kb/faqs", {"json": {"id": "bad id"}}, STAFF),
    ("PATCH", "/api/kb/faqs/F-1", {"json": {"revision": 0}}, STAFF),
    ("POST", "/api/kb/faqs/F-1/publish?revision=99", {"json": {}}, STAFF),
    ("POST", "/api/kb/faqs/F-1/archive?revision=99", {"json": {}}, STAFF),
]
CONSOLE_PATHS = {path.split("?")[0] for _, path, _, _ in ROUTES}


@pytest.fixture(scope="module")
def sessions(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[str, tuple[str, str]]]]:
    """One app (SQLite) with a logged-in session per role: role → (cookie, CSRF token)."""
    tmp_path: Path = tmp_path_factory.mktemp("routes")
    url = f"sqlite:///{tmp_path / 'routes.db'}"
    seed(url)
    settings = app_settings(
        url, tmp_path, rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        tokens = {}
        for role in ROLES:
            client.cookies.clear()  # a browser of its own (logging in ends the session it had)
            csrf = login_as(client, role)
            tokens[role] = (client.cookies["bot1999_console"], csrf)
        client.cookies.clear()
        client.headers.pop("X-CSRF-Token", None)
        yield client, tokens


def _call(client: TestClient, method: str, path: str, body: dict[str, object] | None, csrf: str) -> int:
    headers = {"X-CSRF-Token": csrf} if csrf and "json" in (body or {}) else {}
    if body is None:
        return client.request(method, path, follow_redirects=False).status_code
    if "json" in body:
        return client.request(
            method, path, json=body["json"], headers=headers, follow_redirects=False
        ).status_code
    data = {key: str(value) for key, value in body.items()}
    if csrf:
        data["csrf_token"] = csrf
    return client.request(method, path, data=data, follow_redirects=False).status_code


def _as(client: TestClient, cookie: str) -> None:
    client.cookies.clear()
    if cookie:
        client.cookies.set("bot1999_console", cookie, domain="testserver.local")


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES]
)
def test_each_role_is_allowed_or_refused(
    sessions: tuple[TestClient, dict[str, tuple[str, str]]],
    method: str,
    path: str,
    body: dict[str, object] | None,
    allowed: tuple[str, ...],
) -> None:
    client, tokens = sessions
    _as(client, "")
    anonymous = _call(client, method, path, body, "")
    api = path.startswith(("/api/", "/console/api/"))
    assert anonymous == (401 if api else 303), f"anonymous {method} {path}"
    for role in ROLES:
        cookie, csrf = tokens[role]
        _as(client, cookie)
        code = _call(client, method, path, body, csrf)
        if role in allowed:
            assert code not in {401, 403}, f"{role} {method} {path} -> {code}"
        else:
            assert code == 403, f"{role} {method} {path} -> {code}"
        if method != "GET" and role in allowed:
            assert _call(client, method, path, body, "") == 403, f"{role} {method} {path} without CSRF"
            assert _call(client, method, path, body, "forged-" + csrf[7:]) == 403


def test_every_console_route_needs_a_log_in(sessions: tuple[TestClient, dict[str, tuple[str, str]]]) -> None:
    """Any route under /console (whoever added it) refuses strangers, except the log-in page and assets."""
    client, _ = sessions
    _as(client, "")
    checked = 0
    for path, methods in app_routes(client.app.routes):  # type: ignore[attr-defined]
        if not path.startswith("/console") or path == "/console/login":
            continue
        for method in methods - {"HEAD"}:
            code = client.request(
                method, path.replace("{", "").replace("}", ""), follow_redirects=False
            ).status_code
            assert code in {303, 401, 403}, f"{method} {path} answered a stranger with {code}"
            checked += 1
    assert checked >= len(CONSOLE_PATHS) - 4  # the /api/kb routes are not under /console


def test_the_static_files_and_log_in_page_are_open(
    sessions: tuple[TestClient, dict[str, tuple[str, str]]],
) -> None:
    client, _ = sessions
    _as(client, "")
    assert client.get("/console/login").status_code == 200
    assert client.get("/console/static/console.css").status_code == 200
    assert (
        client.get("/console/static/console.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )
    assert client.get("/console/static/../templates/console/base.html").status_code == 404
