"""The load balancer, as a real process in front of real HTTP servers on loopback."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.bot.cluster.conftest import EchoBackend, RunningBalancer, free_port, hang_up_backend, serve
from tests.waiting import PATIENCE, wait_until

pytestmark = pytest.mark.integration

Start = Callable[..., RunningBalancer]


def _wait(condition: Callable[[], bool]) -> None:
    wait_until(condition, what="the balancer to see it")


def test_round_robin_over_healthy_backends(start_balancer: Start) -> None:
    a, b = EchoBackend("a"), EchoBackend("b")
    with serve(a) as url_a, serve(b) as url_b:
        balancer = start_balancer(url_a, url_b)
        served = [httpx.get(f"{balancer.url}/x", timeout=PATIENCE).headers["x-backend"] for _ in range(8)]
        assert served in (["a", "b"] * 4, ["b", "a"] * 4)
        assert [backend["served"] for backend in balancer.status()] == [4, 4]


def test_a_busy_backend_gets_the_next_requests_later(start_balancer: Start) -> None:
    """Fewest requests in flight first: while one backend holds a slow request, quick ones go
    to the other."""
    a, b = EchoBackend("a"), EchoBackend("b")
    with serve(a) as url_a, serve(b) as url_b, ThreadPoolExecutor(1) as pool:
        balancer = start_balancer(url_a, url_b)
        slow = pool.submit(httpx.get, f"{balancer.url}/hold", timeout=PATIENCE)
        _wait(lambda: any(backend["in_flight"] == 1 for backend in balancer.status()))
        busy = next(backend["url"] for backend in balancer.status() if backend["in_flight"] == 1)
        served = [httpx.get(f"{balancer.url}/x", timeout=PATIENCE).headers["x-backend"] for _ in range(4)]
        a.release.set()
        b.release.set()
        assert slow.result().status_code == 201
    other = "b" if busy == url_a else "a"
    assert served == [other] * 4
    assert [backend["in_flight"] for backend in balancer.status()] == [0, 0]


def test_request_and_response_pass_through(start_balancer: Start) -> None:
    a = EchoBackend("a")
    with serve(a) as url_a:
        balancer = start_balancer(url_a)
        response = httpx.post(
            f"{balancer.url}/api/chat/%E5%A4%A7?q=%E5%9E%83%E5%9C%BE&page=2",
            content="路燈不亮".encode(),
            headers={"x-forwarded-for": "198.18.0.7", "connection": "keep-alive", "x-custom": "1"},
            timeout=5,
        )
    assert response.status_code == 201
    assert response.headers["x-backend"] == "a"
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["path"] == "/api/chat/大"
    assert seen["query"] == "q=%E5%9E%83%E5%9C%BE&page=2"
    assert seen["body"] == "路燈不亮"
    headers = seen["headers"]
    assert headers["x-forwarded-for"] == "198.18.0.7, 127.0.0.1"  # the client's address appended
    assert headers["x-forwarded-proto"] == "http"
    assert headers["host"] == balancer.url.removeprefix("http://")  # the address the client used
    assert headers["x-custom"] == "1"
    assert headers["content-length"] == str(len("路燈不亮".encode()))


def test_a_backend_that_refuses_connections_is_skipped(start_balancer: Start) -> None:
    a = EchoBackend("a")
    with serve(a) as url_a:
        dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        balancer = start_balancer(dead, url_a)
        responses = [
            httpx.post(f"{balancer.url}/api/chat", content=b"{}", timeout=PATIENCE) for _ in range(6)
        ]
        assert [r.status_code for r in responses] == [201] * 6  # POSTs too: none of them was sent
        assert len(a.seen) == 6
        status = {backend["url"]: backend for backend in balancer.status()}
        assert status[dead]["healthy"] is False
        assert status[url_a]["served"] == 6


def test_health_checks_take_a_backend_out_and_back(start_balancer: Start) -> None:
    a, b = EchoBackend("a"), EchoBackend("b")
    with serve(a) as url_a, serve(b) as url_b:
        balancer = start_balancer(url_a, url_b)
        b.healthy = False
        _wait(lambda: not {x["url"]: x for x in balancer.status()}[url_b]["healthy"])
        served = {httpx.get(f"{balancer.url}/x", timeout=PATIENCE).headers["x-backend"] for _ in range(6)}
        assert served == {"a"}
        b.healthy = True
        _wait(lambda: {x["url"]: x for x in balancer.status()}[url_b]["healthy"])
        served = {httpx.get(f"{balancer.url}/x", timeout=PATIENCE).headers["x-backend"] for _ in range(6)}
        assert served == {"a", "b"}


def test_a_request_sent_then_broken_off_is_retried_only_when_idempotent(start_balancer: Start) -> None:
    a = EchoBackend("a")
    with hang_up_backend() as (url_dropper, taken), serve(a) as url_a:
        balancer = start_balancer(url_dropper, url_a)  # the first request goes to the dropper
        post = httpx.post(f"{balancer.url}/api/chat", content=b"{}", timeout=PATIENCE)
        assert post.status_code == 502  # it may have been acted on: the client decides
        assert taken == ["POST /api/chat HTTP/1.1"]
        assert a.seen == []
        gets = [httpx.get(f"{balancer.url}/api/kb/version", timeout=PATIENCE) for _ in range(2)]
        assert [g.status_code for g in gets] == [201, 201]  # the one that hit the dropper went on to a
        # aiohttp sends an idempotent request once more to the same replica first (in case the
        # connection was a keep-alive one the replica had just closed); then the next replica
        assert taken[1:] in (["GET /api/kb/version HTTP/1.1"], ["GET /api/kb/version HTTP/1.1"] * 2)
        assert len(a.seen) == 2


def test_no_backend_answers(start_balancer: Start) -> None:
    balancer = start_balancer(f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}")
    response = httpx.get(f"{balancer.url}/healthz", timeout=PATIENCE)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert [backend["healthy"] for backend in balancer.status()] == [False, False]


def test_a_body_over_the_limit_is_refused(start_balancer: Start) -> None:
    a = EchoBackend("a")
    with serve(a) as url_a:
        balancer = start_balancer(url_a, extra=("--max-body-mb", "1"))
        response = httpx.post(f"{balancer.url}/console/import", content=b"x" * (2**20 + 1), timeout=PATIENCE)
        assert response.status_code == 413
        assert a.seen == []
        assert (
            httpx.post(f"{balancer.url}/console/import", content=b"x" * 2**20, timeout=PATIENCE).status_code
            == 201
        )
