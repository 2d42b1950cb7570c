"""The chat page and the widget's assets over HTTP (no browser): headers, types and the snippet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.web.chat_page import embed_snippet
from tests.conftest import app_settings
from tests.e2e.conftest import with_chat_pages


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = with_chat_pages(create_app(app_settings(f"sqlite:///{tmp_path / 'store.db'}", tmp_path)))
    with TestClient(app) as test_client:
        yield test_client


def test_the_page_is_served_with_a_strict_content_security_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'lang="zh-Hant-TW"' in page.text
    assert 'src="widget.js"' in page.text
    assert "cases/new" in page.text, "without JavaScript the plain form is one link away"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "<style" not in page.text
    assert " style=" not in page.text


def test_the_assets_have_their_types(client: TestClient) -> None:
    script = client.get("/widget.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "textContent" in script.text
    assert "innerHTML" not in script.text, "message text never goes in as HTML"
    assert client.get("/widget.css").headers["content-type"].startswith("text/css")


def test_the_embed_page_shows_the_snippet_for_this_address(client: TestClient) -> None:
    page = client.get("/embed")
    assert page.status_code == 200
    assert "&lt;script src=&#34;http://testserver/widget.js&#34;" in page.text
    assert embed_snippet("https://bot.example.tw") == (
        '<script src="https://bot.example.tw/widget.js" data-bot1999-endpoint="https://bot.example.tw/" defer>'
        "</script>"
    )
