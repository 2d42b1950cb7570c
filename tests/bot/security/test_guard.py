"""The request guard in the real app: 429 per sender and per client, 413 for large bodies."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

import bot.security as security
from bot.app import create_app
from bot.security.guard import client_address
from bot.security.ratelimit import MemoryRateLimiter, RateLimiter
from bot.settings import LimitsSettings
from tests.bot.console.client import create_user, login_form_token
from tests.bot.security.conftest import REDIS_URL
from tests.conftest import app_settings
from tests.e2e.live_server import closed_port

AppFactory = Callable[..., AbstractContextManager[TestClient]]


def per(requests: int, seconds: float = 60) -> dict[str, float]:
    return {"requests": requests, "per_seconds": seconds}


@pytest.fixture
def make_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppFactory:
    """The real app over SQLite (Rasa away), with limits set by the test; called from 127.0.0.1.

    Its in-memory limiter runs on a clock that stands still: no token comes back while a test
    runs, however slow the machine, so counts and Retry-After figures are exact. (Redis's
    limiter runs on Redis's clock: its test leaves a minute's margin.)"""
    frozen = 1000.0
    real = security.make_limiter

    def frozen_in_memory(settings: LimitsSettings) -> RateLimiter:
        return MemoryRateLimiter(clock=lambda: frozen) if settings.backend == "memory" else real(settings)

    monkeypatch.setattr(security, "make_limiter", frozen_in_memory)

    @contextmanager
    def make(**limits: Any) -> Iterator[TestClient]:
        folder = tmp_path / uuid.uuid4().hex[:6]
        settings = app_settings(
            f"sqlite:///{folder / 'store.db'}",
            folder,
            limits=limits,
            rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1},
            open311={"api_keys": ["k-1"]},
        )
        with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
            yield client

    return make


def chat(client: TestClient, sender: str, **headers: str) -> Any:
    return client.post("/api/chat", json={"sender": sender, "text": "垃圾車幾點來"}, headers=headers)


def test_a_citizen_who_sends_too_fast_is_told_in_chinese_when_to_try_again(make_client: AppFactory) -> None:
    with make_client(chat_per_sender=per(3, 30)) as client:
        assert [chat(client, "web-a").status_code for _ in range(3)] == [200, 200, 200]
        refused = chat(client, "web-a")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "10"
        body = refused.json()
        assert body["retry_after"] == 10
        assert body["detail"].startswith("傳送訊息太頻繁了，請在 10 秒後再試。")
        assert refused.headers["content-security-policy"].startswith("default-src 'none'")
        assert chat(client, "web-b").status_code == 200, "another citizen is not held back"


def test_one_address_cannot_get_round_the_limit_by_changing_sender(make_client: AppFactory) -> None:
    with make_client(chat_per_ip=per(4)) as client:
        codes = [chat(client, f"web-{n}").status_code for n in range(6)]
        assert codes == [200] * 4 + [429] * 2
        spoofed = chat(client, "web-x", **{"X-Forwarded-For": "203.0.113.9"})
        assert spoofed.status_code == 429, "X-Forwarded-For from an untrusted peer is ignored"


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(make_client: AppFactory) -> None:
    with make_client(chat_per_ip=per(2), trusted_proxies=["127.0.0.0/8"]) as client:
        one = {"X-Forwarded-For": "198.51.100.7"}
        two = {"X-Forwarded-For": "203.0.113.1, 198.51.100.8"}  # the client could forge the first hop
        assert [chat(client, f"s{n}", **one).status_code for n in range(3)] == [200, 200, 429]
        assert [chat(client, f"t{n}", **two).status_code for n in range(3)] == [200, 200, 429]
        forged = {"X-Forwarded-For": "192.0.2.55, 198.51.100.8"}
        assert chat(client, "u", **forged).status_code == 429, "the same last hop is the same client"


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("198.51.100.7", "1.2.3.4", [], "198.51.100.7"),
        ("10.0.0.2", "1.2.3.4", ["10.0.0.0/8"], "1.2.3.4"),
        ("10.0.0.2", "1.2.3.4, 10.0.0.9", ["10.0.0.0/8"], "1.2.3.4"),
        ("10.0.0.2", "not-an-ip", ["10.0.0.0/8"], "10.0.0.2"),
        ("2001:db8:1:2:3:4:5:6", None, [], "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", None, [], "198.51.100.7"),
        ("testclient", None, [], "testclient"),
    ],
)
def test_the_client_address(peer: str, forwarded: str | None, trusted: list[str], expected: str) -> None:
    import ipaddress

    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"type": "http", "client": (peer, 1234), "headers": headers}
    networks = [ipaddress.ip_network(net) for net in trusted]
    assert client_address(scope, networks) == expected


def test_a_body_over_the_limit_is_refused_before_it_is_read(make_client: AppFactory) -> None:
    with make_client(max_body_kb=1) as client:
        big = client.post(
            "/api/chat",
            content=b'{"sender": "a", "text": "' + b"x" * 2000 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert big.status_code == 413
        assert big.json()["detail"].startswith("送出的內容太大（上限 1 KB）")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"sender": "a", "text": "'
            for _ in range(10):
                yield b"y" * 200
            yield b'"}'

        streamed = client.post("/api/chat", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        under = client.post("/api/chat", json={"sender": "a", "text": "舊沙發要怎麼丟"})
        assert under.status_code == 200, "a body under the limit reaches the route intact"


def test_open311_clients_get_refusals_in_open311_form(make_client: AppFactory) -> None:
    with make_client(open311_per_ip=per(2), max_body_kb=2) as client:
        form = {
            "api_key": "k-1",
            "service_code": "street_light",
            "description": "路燈不亮",
            "address_string": "中正路口",
        }
        codes = [client.post("/open311/v2/requests.json", data=form).status_code for _ in range(3)]
        assert codes[2] == 429
        refused = client.post("/open311/v2/requests.json", data=form)
        assert refused.json()[0]["code"] == 429
        assert int(refused.headers["retry-after"]) >= 1
        large = client.post("/open311/v2/requests.json", data={**form, "description": "長" * 2000})
        assert large.status_code == 413
        assert large.json()[0]["code"] == 413


def test_a_browser_posting_the_case_form_too_often_gets_a_page(make_client: AppFactory) -> None:
    with make_client(case_form_per_ip=per(1, 600)) as client:
        form = {"category": "street_light", "location_text": "中正路口", "description": "路燈不亮"}
        accept = {"Accept": "text/html,application/xhtml+xml"}
        assert client.post("/cases", data=form, headers=accept).status_code == 200  # after the redirect
        refused = client.post("/cases", data=form, headers=accept)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/html")
        assert "送出案件太頻繁了，請在 600 秒後再試。" in refused.text
        assert "<script" not in refused.text


def test_log_in_attempts_are_limited_per_address(make_client: AppFactory) -> None:
    with make_client(login_per_ip=per(3, 300)) as client:
        create_user(client, "alice", "staff")
        codes = []
        for _ in range(4):
            form = {
                "username": "alice",
                "password": "wrong password!",
                "csrf_token": login_form_token(client),
            }
            codes.append(client.post("/console/login", data=form, follow_redirects=False).status_code)
        assert codes == [401, 401, 401, 429]


def test_the_openapi_document_names_the_refusals(make_client: AppFactory) -> None:
    with make_client() as client:
        paths = client.get("/openapi.json").json()["paths"]
    chat_responses = paths["/api/chat"]["post"]["responses"]
    assert {"413", "429"} <= set(chat_responses)
    assert "Retry-After" in chat_responses["429"]["headers"]
    assert "429" not in paths["/api/kb/faqs"]["post"]["responses"], "only limited routes say 429"
    assert "413" in paths["/api/kb/faqs"]["post"]["responses"]


def test_two_replicas_share_the_limits_through_redis(make_client: AppFactory, redis_prefix: str) -> None:
    shared = {
        "backend": "redis",
        "redis_url": REDIS_URL,
        "redis_prefix": redis_prefix,
        "chat_per_sender": per(4),
    }
    with make_client(**shared) as first, make_client(**shared) as second:
        codes = [chat((first, second)[n % 2], "web-shared").status_code for n in range(6)]
        assert codes == [200] * 4 + [429] * 2
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = [key.decode() for key in client.scan_iter(redis_prefix + "*")]
    finally:
        client.close()
    assert any(key.startswith(redis_prefix + "chat:sender:") for key in keys)
    assert not any("web-shared" in key for key in keys), "Redis keys hold a hash, not the sender id"
    assert all(re.fullmatch(r"[\w:.\-/]+", key) for key in keys)


def test_nul_characters_are_refused_before_any_store_sees_them(make_client: AppFactory) -> None:
    with make_client() as client:
        assert (
            client.get("/open311/v2/requests.json", params={"service_request_id": "a\x00b"}).status_code
            == 400
        )
        assert client.get("/open311/v2/requests/a%00.json").json()[0]["code"] == 400
        chat = client.post("/api/chat", json={"sender": "web-a", "text": "垃圾\x00車"})
        assert chat.status_code == 400
        assert chat.json()["detail"].startswith("送出的內容含有無法處理的控制字元（NUL）")
        form = {"category": "street_light", "location_text": "中正路口", "description": "路燈\x00不亮"}
        assert client.post("/cases", data=form).status_code == 400
        escaped = client.post("/api/chat", json={"sender": "web-a", "text": "反斜線 \\u0000 是文字"})
        assert escaped.status_code == 200, "an escaped backslash is text, not a NUL"
