"""Other sites that embed the widget may call /api/chat only when their origin is listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import SettingsError, load_settings
from tests.bot.api.test_chat import _closed_port
from tests.conftest import app_settings

CITY = "https://www.city.gov.tw"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


def _client(tmp_path: Path, **overrides: object) -> TestClient:
    settings = app_settings(
        f"sqlite:///{tmp_path / 'store.db'}",
        tmp_path,
        rasa={"url": f"http://127.0.0.1:{_closed_port()}", "timeout_seconds": 1},
        **overrides,
    )
    return TestClient(create_app(settings), client=("127.0.0.1", 4000))


def test_a_listed_origin_may_call_the_chat_api(tmp_path: Path) -> None:
    with _client(tmp_path, web={"allowed_origins": [CITY]}) as client:
        preflight = client.options("/api/chat", headers={"Origin": CITY, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == CITY
        assert "POST" in preflight.headers["access-control-allow-methods"]
        chat = client.post("/api/chat", json={"sender": "web-1", "text": "你好"}, headers={"Origin": CITY})
        assert chat.status_code == 200
        assert chat.headers["access-control-allow-origin"] == CITY
        assert "access-control-allow-credentials" not in chat.headers  # the widget sends no cookies

        other = client.options("/api/chat", headers={"Origin": "https://evil.example", **PREFLIGHT})
        assert "access-control-allow-origin" not in other.headers
        sneaky = client.post(
            "/api/chat", json={"sender": "web-1", "text": "你好"}, headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in sneaky.headers


def test_without_listed_origins_no_cross_site_call_is_allowed(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        preflight = client.options("/api/chat", headers={"Origin": CITY, **PREFLIGHT})
        assert "access-control-allow-origin" not in preflight.headers
        chat = client.post("/api/chat", json={"sender": "web-1", "text": "你好"}, headers={"Origin": CITY})
        assert "access-control-allow-origin" not in chat.headers


@pytest.mark.parametrize("origin", ["https://www.city.gov.tw/", "www.city.gov.tw", "https://a.tw/page"])
def test_an_origin_with_a_path_or_without_a_scheme_is_refused(origin: str) -> None:
    with pytest.raises(SettingsError, match="web.allowed_origins"):
        load_settings(web={"allowed_origins": [origin]})
