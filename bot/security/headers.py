"""Security headers on every response (ASGI middleware), from one policy.

Every response gets a strict Content-Security-Policy (scripts, styles, images and requests
only from this service; no inline script or style; no plugins; no ``<base>``), ``nosniff``,
no referrer, a Permissions-Policy and a cross-origin opener policy. The citizen pages (the
chat page, the embed page, the case form) may be framed by the sites in
``web.allowed_origins`` (the same sites that embed the widget); everything else, the console
above all, may not be framed at all. Only the interactive API docs get a looser policy, since
FastAPI's pages load their script from a CDN. A header a route set itself is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CITIZEN_PAGES",
    "SecurityHeaders",
    "content_security_policy",
    "header_policy",
]

CITIZEN_PAGES = frozenset({"/", "/embed", "/cases/new", "/cases", "/cases/filed"})
_DIRECTIVES: dict[str, str] = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}
_DOCS_DIRECTIVES: dict[str, str] = {
    **_DIRECTIVES,
    "script-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net",
    "style-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net",
    "img-src": "'self' data: https://fastapi.tiangolo.com",
    "worker-src": "blob:",
}


def content_security_policy(frame_ancestors: Sequence[str] = (), *, docs: bool = False) -> str:
    """The policy; ``frame_ancestors`` are origins allowed to frame the page (none: ``'none'``)."""
    directives = dict(_DOCS_DIRECTIVES if docs else _DIRECTIVES)
    directives["frame-ancestors"] = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def header_policy(
    frame_ancestors: Sequence[str] = (), *, docs: bool = False, hsts_seconds: int = 0
) -> list[tuple[str, str]]:
    headers = [
        ("Content-Security-Policy", content_security_policy(frame_ancestors, docs=docs)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Permissions-Policy", "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if not frame_ancestors:
        headers.append(("X-Frame-Options", "DENY"))
    if hsts_seconds:
        headers.append(("Strict-Transport-Security", f"max-age={hsts_seconds}; includeSubDomains"))
    return headers


class SecurityHeaders:
    """Adds the policy's headers to every HTTP response that does not carry them already."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        embedding_origins: Iterable[str] = (),
        docs_paths: Iterable[str] = ("/docs", "/docs/oauth2-redirect", "/redoc"),
        hsts_seconds: int = 0,
    ) -> None:
        self.app = app
        origins = list(embedding_origins)
        framers = ["*"] if "*" in origins else ["'self'", *origins]
        self.default = header_policy(hsts_seconds=hsts_seconds)
        self.citizen = header_policy(framers if origins else (), hsts_seconds=hsts_seconds)
        self.docs = header_policy(docs=True, hsts_seconds=hsts_seconds)
        self.docs_paths = frozenset(docs_paths)

    def _policy(self, path: str) -> list[tuple[str, str]]:
        if path in CITIZEN_PAGES:
            return self.citizen
        if path in self.docs_paths:
            return self.docs
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self._policy(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in policy:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
