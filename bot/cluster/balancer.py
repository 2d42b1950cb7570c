"""A small HTTP load balancer in front of the bot replicas (``bot1999 run-cluster`` starts it).

- **Fewest requests in flight**, round robin among equals, over the backends that passed
  their last health check (``GET /healthz`` every ``health_interval`` seconds, all backends
  at once): a replica slowed down by a long turn gets the next message later. A backend that
  failed its check is tried only after every healthy one, so a stale verdict costs a
  detour, never an error.
- **Retries.** A request that could not be sent (connection refused, connect timeout) goes
  to the next backend whatever its method, and that backend is marked out until its next
  good health check. A request that was sent and then failed (the replica died mid-answer)
  is retried only when its method is idempotent (GET, HEAD, OPTIONS, PUT, DELETE: aiohttp
  sends it once more to the same replica, in case a keep-alive connection had just been
  closed, then the balancer tries the next replica); a POST
  may have been acted on, so the client gets 502 and decides (the chat's ``message_id``
  makes the widget's retry safe).
- **Headers.** ``X-Forwarded-For`` gets the client's address appended and
  ``X-Forwarded-Proto`` says the scheme; ``Host`` is passed on; hop-by-hop headers are not.
  The bots list the balancer in ``limits.trusted_proxies`` so they rate-limit the client,
  not the balancer.
- ``GET /_balancer`` shows each backend's state and how many requests it served.

The body of a request is read whole before it is sent (so that it can be sent again);
responses are streamed back as they come.

    python -m bot.cluster.balancer --port 8000 --backend http://127.0.0.1:8001 --backend http://127.0.0.1:8002
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import aiohttp
from multidict import CIMultiDict
from starlette.types import Receive, Scope, Send
from yarl import URL

__all__ = ["Backend", "Balancer", "main"]

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
STATUS_PATH = "/_balancer"
# shorter than uvicorn's 5 s keep-alive, so the balancer never reuses a connection the bot
# is closing (a POST sent on one would fail after being sent, and could not be retried)
KEEPALIVE_SECONDS = 2.0


@dataclass
class Backend:
    url: str
    healthy: bool = True  # until the first health check says otherwise
    served: int = 0
    failed: int = 0
    in_flight: int = 0
    last_error: str = ""


class _Aborted(Exception):
    """The client went away before its request was whole."""


class _TooLarge(Exception):
    pass


class _Unsent(Exception):
    """The request never reached the backend: any method may go to the next one."""


class _FailedAfterSending(Exception):
    """The backend took the request and failed before answering."""


class Balancer:
    """An ASGI application that forwards every HTTP request to one of ``backends``."""

    def __init__(
        self,
        backends: Sequence[str],
        *,
        health_path: str = "/healthz",
        health_interval: float = 1.0,
        health_timeout: float = 3.0,
        timeout: float = 120.0,
        max_body_bytes: int = 21 * 2**20,
    ) -> None:
        if not backends:
            raise ValueError("a balancer needs at least one backend")
        self.backends = [Backend(url.rstrip("/")) for url in backends]
        self.health_path = health_path
        self.health_interval = health_interval
        self.health_timeout = health_timeout
        # aiohttp (not httpx) for the forwarding: about a fifth of httpx's CPU per request, and every
        # turn passes here. ``sock_connect``: a dead replica is skipped within 2 s.
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=2.0)
        self.max_body_bytes = max_body_bytes
        self._cursor = 0
        self._session: aiohttp.ClientSession | None = None
        self._checker: asyncio.Task[None] | None = None

    # --- choosing a backend -----------------------------------------------------------
    def candidates(self) -> list[Backend]:
        """The order to try the backends in for one request: healthy ones, fewest requests in
        flight first and from the round-robin cursor on among equals, then the others (a last
        resort)."""
        count = len(self.backends)
        start, self._cursor = self._cursor, (self._cursor + 1) % count
        ordered = [self.backends[(start + k) % count] for k in range(count)]
        healthy = sorted((b for b in ordered if b.healthy), key=lambda b: b.in_flight)  # stable
        return healthy + [b for b in ordered if not b.healthy]

    def _mark(self, backend: Backend, healthy: bool, reason: str = "") -> None:
        if healthy and not backend.healthy:
            log.info("backend %s is back", backend.url)
        elif not healthy and backend.healthy:
            log.warning("backend %s is out: %s", backend.url, reason)
        backend.healthy = healthy
        if not healthy:
            backend.last_error = reason

    # --- health checks ----------------------------------------------------------------
    async def check_health(self) -> None:
        """One round of health checks, every backend at once."""
        await asyncio.gather(*(self._check(backend) for backend in self.backends))

    async def _check(self, backend: Backend) -> None:
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(total=self.health_timeout)
        try:
            async with self._session.get(backend.url + self.health_path, timeout=timeout) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            self._mark(backend, False, f"health check: {type(error).__name__}")
            return
        ok = status == 200
        self._mark(backend, ok, "" if ok else f"health check: HTTP {status}")

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.health_interval)
            await self.check_health()

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=500, keepalive_timeout=KEEPALIVE_SECONDS)
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,  # bodies pass through as the replica sent them
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            cookie_jar=aiohttp.DummyCookieJar(),  # never keep one citizen's cookies for another
        )
        await self.check_health()
        self._checker = asyncio.create_task(self._check_forever())
        log.info(
            "balancing %s; healthy: %s",
            ", ".join(b.url for b in self.backends),
            ", ".join(b.url for b in self.backends if b.healthy) or "none yet",
        )

    async def stop(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
        if self._session is not None:
            await self._session.close()

    # --- ASGI -------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] != "http":  # no websockets behind this balancer
            await receive()
            await send({"type": "websocket.close", "code": 1003})
        elif scope["path"] == STATUS_PATH and scope["method"] == "GET":
            status = {"backends": [asdict(b) for b in self.backends]}
            await _respond(send, 200, json.dumps(status).encode(), b"application/json")
        else:
            try:
                body = await self._body(receive)
            except _Aborted:
                return
            except _TooLarge:
                await _respond(send, 413, b"request body too large\n")
                return
            await self._forward(scope, body, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Aborted
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    def _headers(scope: Scope) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict()
        forwarded: list[str] = []
        for name, value in scope["headers"]:
            lower = name.lower()
            if lower == b"x-forwarded-for":
                forwarded.append(value.decode("latin-1"))
            elif lower not in HOP_BY_HOP and lower not in {b"content-length", b"x-forwarded-proto"}:
                headers.add(name.decode("latin-1"), value.decode("latin-1"))
        client = scope.get("client")
        if client:
            forwarded.append(str(client[0]))
        if forwarded:
            headers.add("x-forwarded-for", ", ".join(forwarded))
        headers.add("x-forwarded-proto", str(scope.get("scheme", "http")))
        return headers

    @staticmethod
    def _url(scope: Scope, backend: Backend) -> str:
        target = scope.get("raw_path") or scope["path"].encode("utf-8")
        query = scope.get("query_string", b"")
        path = target.decode("latin-1")
        return f"{backend.url}{path}?{query.decode('latin-1')}" if query else f"{backend.url}{path}"

    async def _forward(self, scope: Scope, body: bytes, send: Send) -> None:
        assert self._session is not None
        method = scope["method"]
        failures: list[str] = []
        for backend in self.candidates():
            backend.in_flight += 1
            try:
                await self._exchange(scope, backend, body, send)
                return
            except _Unsent as error:
                failures.append(f"{backend.url}: {error}")
            except _FailedAfterSending as error:
                failures.append(f"{backend.url}: {error} after sending")
                if method not in IDEMPOTENT:
                    log.warning(
                        "%s %s failed on %s after it was sent: %s", method, scope["path"], backend.url, error
                    )
                    await _respond(send, 502, b"the bot replica failed while answering; try again\n")
                    return
            finally:
                backend.in_flight -= 1
        log.warning("%s %s: no backend answered (%s)", method, scope["path"], "; ".join(failures))
        await _respond(send, 503, b"no bot replica is available; try again shortly\n", retry_after=b"1")

    async def _exchange(self, scope: Scope, backend: Backend, body: bytes, send: Send) -> None:
        """One attempt on one backend; raises what the retry decision needs."""
        assert self._session is not None
        request = self._session.request(
            scope["method"],
            URL(self._url(scope, backend), encoded=True),  # the path as the client sent it
            headers=self._headers(scope),
            data=body,
            timeout=self.timeout,
            allow_redirects=False,
            compress=False,
        )
        try:
            response = await request
        except (
            aiohttp.ClientConnectorError,
            aiohttp.ConnectionTimeoutError,
        ) as error:  # not sent: the next one
            backend.failed += 1
            self._mark(backend, False, type(error).__name__)
            raise _Unsent(type(error).__name__) from error
        except (aiohttp.ClientError, TimeoutError) as error:  # sent, then failed: only idempotent ones again
            backend.failed += 1
            backend.last_error = type(error).__name__
            raise _FailedAfterSending(type(error).__name__) from error
        backend.served += 1
        try:
            await self._relay(response, send)
        finally:
            response.release()

    @staticmethod
    async def _relay(response: aiohttp.ClientResponse, send: Send) -> None:
        headers = [(name, value) for name, value in response.raw_headers if name.lower() not in HOP_BY_HOP]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        async for chunk in response.content.iter_any():  # a backend breaking off here ends the connection
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = b"text/plain; charset=utf-8",
    retry_after: bytes = b"",
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", retry_after))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--backend", action="append", required=True, help="a bot replica's base URL (repeat)")
    parser.add_argument("--health-interval", type=float, default=1.0, help="seconds between health checks")
    parser.add_argument("--max-body-mb", type=int, default=21, help="largest request body accepted")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    balancer = Balancer(
        args.backend, health_interval=args.health_interval, max_body_bytes=args.max_body_mb * 2**20
    )
    uvicorn.run(
        balancer,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,  # the client is the peer; X-Forwarded-For is passed on, not believed
        ws="none",
    )


if __name__ == "__main__":
    main()
