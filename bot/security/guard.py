"""The request guard (ASGI middleware): body size limit, then rate limits per client and per sender.

Order of the checks, cheapest first: a NUL character in the address is refused (400), and a
declared ``Content-Length`` over the limit (413), before anything is read; a client address over its rate is refused (429) before the
body is read; the body is then read (413 as soon as it passes the limit) and, for the chat,
the sender it names is counted too (429). The route gets the body exactly as it was sent. NUL characters are refused in form and JSON
bodies too (400): PostgreSQL cannot store them and SQLite cuts strings short at them, so
they never reach a store. Webhook bodies stay exactly as signed (the channel code checks them).

LINE and Telegram users are counted after their webhook's signature is checked, by the
channel code through ``SenderThrottle`` (an unverified body could name anyone).

Rasa's action calls (``/actions/``) pass untouched: that route refuses any caller but this
machine's Rasa before reading a byte of the body (``bot.api.actions``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.security.ratelimit import RateLimiter, Verdict
from bot.security.refusals import has_nul, too_large, too_many
from bot.settings import RateLimit, Settings

__all__ = ["RequestGuard", "Rule", "SenderThrottle", "client_address", "rules_from", "chat_sender"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


def chat_sender(body: bytes) -> str | None:
    """The ``sender`` of a ``POST /api/chat`` body, if it names one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    sender = data.get("sender") if isinstance(data, dict) else None
    return sender if isinstance(sender, str) and sender else None


def _digest(value: str) -> str:
    """Keys hold no channel user ids, only a hash of them."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Rule:
    """Requests to ``path`` (a prefix when it ends with ``/``) by ``method`` are counted."""

    name: str
    method: str
    path: str
    per_ip: RateLimit
    what: str  # what was sent too often, in Chinese, for the refusal
    per_sender: RateLimit | None = None
    sender: Callable[[bytes], str | None] | None = None

    def matches(self, method: str, path: str) -> bool:
        if method != self.method:
            return False
        return path.startswith(self.path) if self.path.endswith("/") else path == self.path


def rules_from(settings: Settings) -> list[Rule]:
    limits = settings.limits
    return [
        Rule(
            "chat",
            "POST",
            "/api/chat",
            limits.chat_per_ip,
            "傳送訊息",
            limits.chat_per_sender,
            chat_sender,
        ),
        Rule("chat_photo", "POST", "/api/chat/photo", limits.chat_per_ip, "傳送照片"),
        Rule("webhook", "POST", "/channels/", limits.webhook_per_ip, "傳送訊息"),
        Rule("case_form", "POST", "/cases", limits.case_form_per_ip, "送出案件"),
        Rule("open311", "POST", "/open311/v2/requests.json", limits.open311_per_ip, "送出案件"),
        Rule("login", "POST", "/console/login", limits.login_per_ip, "登入嘗試"),
    ]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _address_key(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """One key per IPv4 address, one per IPv6 /64 (what one household or phone gets)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address(scope: Scope, trusted: Sequence[IPNetwork] = ()) -> str:
    """The client's address: the peer, or behind trusted proxies the last untrusted
    ``X-Forwarded-For`` hop (the ones before it could be forged by the client)."""
    client = scope.get("client")
    peer = str(client[0]) if client else ""
    try:
        ip = ipaddress.ip_address(peer)
    except ValueError:
        return peer or "unknown"
    forwarded = _header(scope, b"x-forwarded-for")
    if trusted and forwarded and any(ip in net for net in trusted):
        for hop in reversed([part.strip() for part in forwarded.split(",")]):
            try:
                hop_ip = ipaddress.ip_address(hop)
            except ValueError:
                break  # garbage from here on: trust nothing further
            ip = hop_ip
            if not any(hop_ip in net for net in trusted):
                break
    return _address_key(ip)


class SenderThrottle:
    """Per-user rate limit for channels whose user is known only after verification (LINE, Telegram)."""

    def __init__(self, limiter: RateLimiter, limit: RateLimit) -> None:
        self.limiter = limiter
        self.limit = limit

    async def check(self, channel: str, user_id: str) -> Verdict:
        return await self.limiter.hit(f"{channel}:sender:{_digest(user_id)}", self.limit)


class _BodyTooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class RequestGuard:
    """ASGI middleware; also closes the limiter when the application shuts down."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        rules: Sequence[Rule],
        max_body_bytes: int,
        max_upload_bytes: int,
        upload_prefix: str = "/console/",
        max_photo_bytes: int = 0,
        photo_path: str = "/api/chat/photo",
        exempt_prefix: str = "/channels/",
        internal_prefix: str = "/actions/",
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.rules = list(rules)
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes
        self.upload_prefix = upload_prefix
        # a citizen's photo from the web chat: the photo's limit and room for the form around it
        self.max_photo = max_photo_bytes + 64 * 1024 if max_photo_bytes else max_body_bytes
        self.photo_path = photo_path
        self.exempt_prefix = exempt_prefix
        self.internal_prefix = internal_prefix
        self.trusted = [ipaddress.ip_network(net, strict=False) for net in trusted_proxies]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if path.startswith(self.internal_prefix):  # Rasa's action calls: the route refuses others unread
            await self.app(scope, receive, send)
            return
        if "\x00" in path or b"%00" in scope.get("query_string", b"").lower():
            await has_nul(scope)(scope, receive, send)
            return
        limit = self._body_limit(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_large(scope, limit)(scope, receive, send)
            return
        rule = next((r for r in self.rules if r.matches(method, path)), None)
        if rule is not None:
            verdict = await self.limiter.hit(
                f"{rule.name}:ip:{client_address(scope, self.trusted)}", rule.per_ip
            )
            if not verdict.allowed:
                await too_many(scope, verdict.retry_after_seconds, rule.what)(scope, receive, send)
                return
        if method in _BODYLESS and declared is None and _header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(receive, limit)
        except _BodyTooLarge:
            await too_large(scope, limit)(scope, receive, send)
            return
        except _Disconnected:
            return
        if not path.startswith(self.exempt_prefix) and _nul_in_body(scope, body):
            await has_nul(scope)(scope, receive, send)
            return
        if rule is not None and rule.sender is not None and rule.per_sender is not None:
            sender = rule.sender(body)
            if sender:
                verdict = await self.limiter.hit(f"{rule.name}:sender:{_digest(sender)}", rule.per_sender)
                if not verdict.allowed:
                    await too_many(scope, verdict.retry_after_seconds, rule.what)(scope, receive, send)
                    return
        await self.app(scope, _replay(body, receive), send)

    def _body_limit(self, scope: Scope) -> int:
        content_type = _header(scope, b"content-type") or ""
        if not content_type.startswith("multipart/form-data"):
            return self.max_body
        if scope["path"].startswith(self.upload_prefix):
            return self.max_upload
        if scope["path"] == self.photo_path:
            return self.max_photo
        return self.max_body

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _closing(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] in {"lifespan.shutdown.complete", "lifespan.shutdown.failed"}:
                await self.limiter.aclose()
            await send(message)

        return wrapped


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _nul_in_body(scope: Scope, body: bytes) -> bool:
    """A NUL in a form body (raw or %00), or in a string of a JSON body (\\u0000)."""
    content_type = (_header(scope, b"content-type") or "").lower()
    if content_type.startswith("application/x-www-form-urlencoded"):
        return b"\x00" in body or b"%00" in body.lower()
    if content_type.startswith("application/json") and b"\\u0000" in body:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return False  # the route refuses what it cannot read
        return any("\x00" in text for text in _strings(data))
    return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body over once, then defers to the server."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
