"""Logging a TestClient in to the console, for any test that needs a member of staff.

    from tests.bot.console.client import login_as
    csrf = login_as(client, "staff")          # creates the user if needed; sets X-CSRF-Token

After ``login_as`` the client carries the session cookie, and its default headers carry the
session's CSRF token, so ``client.post(...)`` passes ``require_role``'s checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from bot.store import Database
from bot.store.users import Role, UserStore

__all__ = ["PASSWORD", "app_routes", "create_user", "login", "login_as", "login_form_token"]

PASSWORD = "a long test password"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_user(client: TestClient, username: str, role: Role | str, password: str = PASSWORD) -> None:
    """Create ``username`` in the app's database unless it exists."""
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        store = UserStore(session)
        if store.by_username(username) is None:
            store.create(username, password, Role(role), actor="test")


def login_form_token(client: TestClient) -> str:
    """Open the log-in page (which sets the log-in form's cookie) and return its form token."""
    page = client.get("/console/login")
    match = _TOKEN.search(page.text)
    assert match, page.text
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the real form; return the session's CSRF token and send it from now on."""
    client.headers.pop("X-CSRF-Token", None)
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": login_form_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    csrf = str(client.get("/console/api/session").json()["csrf_token"])
    client.headers["X-CSRF-Token"] = csrf
    return csrf


def login_as(client: TestClient, role: Role | str, username: str = "") -> str:
    """Create (if needed) and log in a user with ``role``; return the CSRF token."""
    name = username or f"test-{Role(role).value}"
    create_user(client, name, role)
    return login(client, name)


def app_routes(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """Every API route of the app, also inside included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, set(route.methods)
        elif hasattr(route, "original_router"):  # FastAPI keeps included routers apart
            yield from app_routes(route.original_router.routes, prefix + route.include_context.prefix)
