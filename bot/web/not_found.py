"""Unknown pages: a browser gets a page in Chinese with a way back; API clients keep JSON.

A browser (``Accept: text/html``) that asks for a page that does not exist, or follows a
stale link, is shown 「找不到這個網頁」 with links back to the chat and the case form (the
console's pages link back to the console). Requests under ``/api/``, ``/open311/`` and
``/channels/`` are for programs and keep FastAPI's ``{"detail": …}``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.responses import Response

from bot.security.refusals import wants_html
from bot.web import templates

__all__ = ["install", "is_for_programs"]

_PROGRAM_PREFIXES = ("/api/", "/open311/", "/channels/", "/console/api/")


def is_for_programs(path: str) -> bool:
    return path.startswith(_PROGRAM_PREFIXES) or path.endswith(".json")


async def _not_found(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    path = request.url.path
    if error.status_code != 404 or is_for_programs(path) or not wants_html(request.scope):
        return await http_exception_handler(request, error)
    console = path == "/console" or path.startswith("/console/")
    context = {
        "title": "找不到這個網頁",
        "message": "網址可能打錯了，或這個網頁已經移除。",
        "console": console,
    }
    return templates.TemplateResponse(request, "not_found.html", context, status_code=404)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _not_found)
