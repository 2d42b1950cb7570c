"""The answers to a request refused before it reaches a route: a NUL character (400), too large
(413), too many (429); and 503 when the database is away (``bot.api.unavailable``).

Each comes in the form its client reads: the Open311 error list under ``/open311/``, a small
page for a browser's form post, JSON ``{"detail", "retry_after"?}`` everywhere else. The text
is Traditional Chinese (citizens read it) with the English reason after it for integrators.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Scope

__all__ = ["has_nul", "too_large", "too_many", "unavailable_response", "wants_html"]

_PAGE = """<!doctype html>
<html lang="zh-Hant-TW"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1><p>{message}</p><p><a href="/">回到 1999 市民服務</a></p></main></body></html>
"""


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def wants_html(scope: Scope) -> bool:
    """A browser navigating or posting a form (not a script asking for JSON)."""
    return "text/html" in _header(scope, b"accept")


def _refusal(scope: Scope, code: int, title: str, message: str, headers: dict[str, str]) -> Response:
    path = str(scope.get("path", ""))
    if path.startswith("/open311/"):
        return JSONResponse([{"code": code, "description": message}], code, headers=headers)
    if wants_html(scope):
        page = _PAGE.format(title=escape(title), message=escape(message))
        return HTMLResponse(page, code, headers=headers)
    body: dict[str, object] = {"detail": message}
    if "Retry-After" in headers:
        body["retry_after"] = int(headers["Retry-After"])
    return JSONResponse(body, code, headers=headers)


def too_large(scope: Scope, limit_bytes: int) -> Response:
    kb = max(1, limit_bytes // 1024)
    message = (
        f"送出的內容太大（上限 {kb} KB），請縮短後再送出。(request body larger than {limit_bytes} bytes)"
    )
    return _refusal(scope, 413, "內容太大", message, {"Connection": "close"})


def too_many(scope: Scope, retry_after: int, what: str) -> Response:
    """``what`` says in Chinese what was sent too often (訊息, 登入, 案件 ...)."""
    message = f"{what}太頻繁了，請在 {retry_after} 秒後再試。(too many requests; retry after {retry_after} s)"
    return _refusal(scope, 429, "請稍後再試", message, {"Retry-After": str(retry_after)})


def has_nul(scope: Scope) -> Response:
    message = "送出的內容含有無法處理的控制字元（NUL），請移除後再送出。(NUL characters are not accepted)"
    return _refusal(scope, 400, "內容無法處理", message, {})


def unavailable_response(scope: Scope) -> Response:
    """503 while the database is away: try again (no Retry-After; the client's backoff decides)."""
    message = "系統暫時忙碌，請稍候再試一次。(the database is briefly unavailable; please try again shortly)"
    return _refusal(scope, 503, "系統暫時忙碌", message, {})
