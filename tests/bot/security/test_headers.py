"""Security headers on every response of the real app, from the one policy in bot.security.headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.security.headers import CITIZEN_PAGES, content_security_policy
from tests.bot.console.client import login_as
from tests.conftest import app_settings

CITY = "https://www.city.gov.tw"
ALWAYS = ("content-security-policy", "x-content-type-options", "referrer-policy", "permissions-policy")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("headers")
    settings = app_settings(
        f"sqlite:///{folder / 'store.db'}",
        folder,
        web={"allowed_origins": [CITY]},
        security={"hsts_seconds": 3600},
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as test_client:
        yield test_client


_LINK = re.compile(r"""(?:href|src)="(/[^"#?]*)""")


def _get_paths(client: TestClient) -> list[str]:
    """Every GET operation of the OpenAPI document, and every page and asset reachable by a link
    from the citizen pages and the console (logged in as an admin, who sees every page)."""
    login_as(client, "admin")
    spec = client.get("/openapi.json").json()
    paths = {re.sub(r"\{[^}]+\}", "x", path) for path, item in spec["paths"].items() if "get" in item}
    queue = ["/", "/embed", "/cases/new", "/console", "/docs"]
    seen: set[str] = set()
    while queue and len(seen) < 300:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.headers.get("content-type", "").startswith("text/html"):
            queue += [link for link in _LINK.findall(response.text) if link not in seen]
    return sorted(paths | seen | {"/console/login", "/widget.js", "/no-such-page"})


def test_only_citizen_pages_may_be_framed_and_only_by_the_embedding_sites(client: TestClient) -> None:
    for path in sorted(CITIZEN_PAGES - {"/cases"}):
        response = client.get(path)
        assert f"frame-ancestors 'self' {CITY}" in response.headers["content-security-policy"], path
        assert "x-frame-options" not in response.headers, path
    for path in ("/console/login", "/healthz", "/api/kb/faqs"):
        response = client.get(path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        assert response.headers["x-frame-options"] == "DENY", path


def test_the_citizen_pages_need_nothing_inline(client: TestClient) -> None:
    for path in ("/", "/embed", "/cases/new"):
        page = client.get(path).text
        assert "<style" not in page, path
        assert " style=" not in page, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), f"{path}: an inline script"
    assert client.get("/pages.css").headers["content-type"].startswith("text/css")


def test_refusals_carry_the_headers_too(client: TestClient) -> None:
    response = client.post("/api/chat", content=b"x" * 300_000, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-security-policy"] == content_security_policy()


def test_the_api_docs_get_only_what_their_page_needs(client: TestClient) -> None:
    policy = client.get("/docs").headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net" in policy
    assert "frame-ancestors 'none'" in policy


def test_without_embedding_sites_nothing_may_frame_any_page(tmp_path: Path) -> None:
    settings = app_settings(f"sqlite:///{tmp_path / 'store.db'}", tmp_path)
    with TestClient(create_app(settings)) as client:
        response = client.get("/")
    assert response.headers["content-security-policy"] == content_security_policy()
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers
