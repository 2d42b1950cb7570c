"""Real HTTP servers on loopback for the balancer's tests: small ASGI backends under uvicorn,
and a backend that takes a request and hangs up without answering (a replica dying mid-answer)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn

from tests.conftest import REPO
from tests.waiting import PATIENCE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EchoBackend:
    """Answers every request with what it received, as JSON; ``/healthz`` with 200 or, once
    ``healthy`` is False, 503."""

    name: str
    healthy: bool = True
    seen: list[dict[str, Any]] = field(default_factory=list)
    # requests to /hold are answered only once this is set
    release: threading.Event = field(default_factory=threading.Event)

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/hold":
            await asyncio.to_thread(self.release.wait, 30)
        if scope["path"] == "/healthz":
            status, answer = (200 if self.healthy else 503), b"{}"
        else:
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            request = {
                "backend": self.name,
                "method": scope["method"],
                "path": scope["path"],
                "query": scope["query_string"].decode(),
                "body": body.decode(),
                "headers": headers,
            }
            self.seen.append(request)
            status, answer = 201, json.dumps(request).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"x-backend", self.name.encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer})


@contextmanager
def serve(app: EchoBackend) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "backend did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def hang_up_backend() -> Iterator[tuple[str, list[str]]]:
    """Answers ``/healthz`` (so it looks healthy) and hangs up on every other request after
    reading it; yields its URL and the request lines it took."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    taken: list[str] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                line = data.split(b"\r\n", 1)[0].decode("latin-1")
                if " /healthz " in line:
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                else:
                    taken.append(line)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", taken
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@dataclass
class RunningBalancer:
    url: str
    process: subprocess.Popen[bytes]

    def status(self) -> list[dict[str, Any]]:
        backends: list[dict[str, Any]] = httpx.get(f"{self.url}/_balancer", timeout=PATIENCE).json()[
            "backends"
        ]
        return backends


@pytest.fixture
def start_balancer() -> Iterator[Callable[..., RunningBalancer]]:
    """Starts ``python -m bot.cluster.balancer`` (the real process) in front of the given backends."""
    running: list[subprocess.Popen[bytes]] = []

    def start(*backends: str, extra: tuple[str, ...] = ()) -> RunningBalancer:
        port = free_port()
        argv = [sys.executable, "-m", "bot.cluster.balancer", "--port", str(port), "--health-interval", "0.2"]
        for backend in backends:
            argv += ["--backend", backend]
        process = subprocess.Popen([*argv, *extra], cwd=REPO)
        running.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                httpx.get(f"{url}/_balancer", timeout=1)
                return RunningBalancer(url, process)
            except httpx.TransportError:
                assert process.poll() is None, "the balancer exited"
                assert time.monotonic() < deadline, "the balancer did not start"
                time.sleep(0.1)

    yield start
    for process in running:
        process.terminate()
        process.wait(timeout=10)
