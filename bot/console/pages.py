"""Rendering console pages: one Jinja2 environment, the navigation, flash messages, headers.

``render(request, "console/x.html", user=user, **context)`` fills in what ``base.html``
needs (the user, their CSRF token, the navigation they may use, a flash message) and sends
the console's security headers. ``install(app)`` mounts the static files and turns
``ConsoleAuthError`` into a log-in redirect or a refusal page (JSON under ``/api/``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from bot.deps import settings_of
from bot.security.auth import ConsoleAuthError, ConsoleUser, cookie_secure, is_api
from bot.store.users import Role

__all__ = [
    "NavItem",
    "PAGE_HEADERS",
    "add_nav",
    "add_template_folder",
    "flash",
    "install",
    "redirect",
    "render",
    "templates",
]

HERE = Path(__file__).parent
FLASH_COOKIE = "bot1999_flash"
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

_folders: list[FileSystemLoader] = [FileSystemLoader(HERE / "templates")]
_loader = ChoiceLoader(_folders)
templates = Jinja2Templates(
    env=Environment(loader=_loader, autoescape=select_autoescape(default=True), auto_reload=False)
)


def add_template_folder(folder: Path) -> None:
    """Let ``render`` find templates in another package's folder (idempotent)."""
    loader = FileSystemLoader(folder)
    if all(existing.searchpath != loader.searchpath for existing in _folders):
        _folders.append(loader)


@dataclass(frozen=True, slots=True)
class NavItem:
    """One link in the console's navigation, shown only to ``roles`` (and admins)."""

    label: str
    href: str
    roles: tuple[Role, ...]
    order: int = 100


DEFAULT_NAV = (
    NavItem("首頁", "/console", (Role.STAFF, Role.SUPERVISOR), 0),
    NavItem("知識庫", "/console/kb", (Role.STAFF,), 10),
    NavItem("同義詞", "/console/kb/synonyms", (Role.STAFF,), 11),
    NavItem("匯入", "/console/kb/import", (Role.STAFF,), 12),
    NavItem("重複問題", "/console/kb/duplicates", (Role.STAFF,), 13),
    NavItem("使用者", "/console/users", (Role.ADMIN,), 90),
    NavItem("稽核紀錄", "/console/audit", (Role.ADMIN,), 91),
)


def add_nav(app: FastAPI, item: NavItem) -> None:
    """Add a page to the console's navigation (call from ``create_app``)."""
    items: list[NavItem] = app.state.console_nav
    if all(existing.href != item.href for existing in items):
        items.append(item)
        items.sort(key=lambda i: (i.order, i.href))


def _nav(request: Request, user: ConsoleUser | None) -> list[dict[str, Any]]:
    if user is None:
        return []
    items: Iterable[NavItem] = getattr(request.app.state, "console_nav", DEFAULT_NAV)
    path = request.url.path
    visible = [item for item in items if user.may(*item.roles)]
    matches = [i.href for i in visible if path == i.href or path.startswith(i.href.rstrip("/") + "/")]
    current = max(matches, key=len, default="")  # the most specific link: /console/kb/import
    out = [{"label": i.label, "href": i.href, "current": i.href == current} for i in visible]
    return out


def flash(request: Request, response: Response, message: str) -> None:
    """Show ``message`` once on the next console page this browser renders."""
    response.set_cookie(
        FLASH_COOKIE,
        quote(message[:300]),
        max_age=60,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/console",
    )


def redirect(request: Request, url: str, message: str = "") -> RedirectResponse:
    """303 to ``url`` (POST-redirect-GET), with an optional flash message."""
    response = RedirectResponse(url, status.HTTP_303_SEE_OTHER, headers={"Cache-Control": "no-store"})
    if message:
        flash(request, response, message)
    return response


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    """A stored time (aware, UTC) as staff read it, in the city's zone; "—" for none."""
    return "—" if value is None else f"{value.astimezone(zone):%Y-%m-%d %H:%M}"


def render(
    request: Request,
    name: str,
    *,
    user: ConsoleUser | None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a console template (it should extend ``console/base.html``)."""
    message = unquote(request.cookies.get(FLASH_COOKIE, ""))
    context = {
        "user": user,
        "csrf_token": user.csrf_token if user else "",
        "nav": _nav(request, user),
        "flash": message,
        "local": partial(local_time, zone=settings_of(request).handoff.zone),
        **context,
    }
    response = templates.TemplateResponse(
        request, name, context, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})}
    )
    if message:
        response.delete_cookie(FLASH_COOKIE, path="/console", samesite="strict", httponly=True)
    return response


def _auth_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ConsoleAuthError)
    if is_api(request):
        return JSONResponse(
            {"detail": error.detail}, error.status_code, headers={"Cache-Control": "no-store"}
        )
    if error.status_code == status.HTTP_401_UNAUTHORIZED:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        nxt = target if request.method == "GET" else "/console"
        return RedirectResponse(f"/console/login?next={quote(nxt, safe='')}", status.HTTP_303_SEE_OTHER)
    user = getattr(request.state, "console_user", None)
    return render(
        request, "console/forbidden.html", user=user, status_code=error.status_code, reason=error.detail
    )


def install(app: FastAPI) -> None:
    """Static files, the navigation registry and the log-in / refusal handling for the console."""
    if not hasattr(app.state, "console_nav"):
        app.state.console_nav = sorted(DEFAULT_NAV, key=lambda i: (i.order, i.href))
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(ConsoleAuthError, _auth_error)
