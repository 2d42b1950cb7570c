"""The staff console: log-in, roles, knowledge-base curation, users (server-rendered, Jinja2).

How to add a page (for the agent inbox, the failure queue, the dashboard ...)::

    from fastapi import APIRouter, Form, Request
    from bot.console import redirect, render
    from bot.deps import SessionDep, StaffUser    # every route dependency is in bot.deps

    router = APIRouter(include_in_schema=False)

    @router.get("/console/inbox")
    def inbox(request: Request, user: StaffUser, session: SessionDep) -> HTMLResponse:
        return render(request, "console/inbox.html", user=user, cases=...)

    @router.post("/console/inbox/{case_id}/take")
    def take(request: Request, case_id: int, user: StaffUser) -> Response:
        ...                                   # CSRF was checked by require_role already
        return redirect(request, "/console/inbox", "已接手案件")      # 303 + a flash message

- ``require_role(*roles)`` (``bot.security.auth``; the aliases ``StaffUser``, ``SupervisorUser``,
  ``AdminUser``, ``AnyUser`` of ``bot.deps`` are built from it) returns the logged-in ``ConsoleUser`` (username, role, csrf_token);
  admins pass every check, ``require_role()`` admits any role. Not logged in: a page redirects
  to ``/console/login?next=…``, a path under ``/api/`` or ``/console/api/`` gets 401 JSON; wrong
  role: a refusal page or 403 JSON. Every POST/PUT/PATCH/DELETE must carry the session's CSRF
  token, else 403.
- Templates: ``{% extends "console/base.html" %}`` with ``{% block title %}`` and
  ``{% block main %}`` (optional ``{% block head %}`` / ``{% block scripts %}`` for
  ``<script src="/console/static/yours.js" defer>``). Put them in
  ``bot/console/templates/console/`` or register your own folder with
  ``add_template_folder(path)``. No inline ``<script>``, no ``style=""`` attributes (the CSP
  forbids them): CSS classes from ``console.css``, scripts as files in ``bot/console/static``.
- Every form that changes something includes
  ``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``; scripts send the
  ``X-CSRF-Token`` header (``window.bot1999Console.fetchJson`` in ``console.js`` does, reading
  ``<meta name="csrf-token">``).
- Navigation: in ``create_app`` call ``add_nav(app, NavItem("案件收件匣", "/console/inbox",
  (Role.STAFF,), order=20))``; a link shows only to its roles (and admins).
- Audit what staff change: ``UserStore(session).audit(user.username, "case.take", target, **detail)``.
- Tests: ``tests/bot/console/client.py`` has ``login_as(client, role)`` for a TestClient.
"""

from __future__ import annotations

from fastapi import FastAPI

from bot.console.pages import NavItem, add_nav, add_template_folder, redirect, render
from bot.deps import AdminUser, AnyUser, StaffUser, SupervisorUser
from bot.security.auth import ConsoleAuthError, ConsoleUser, current_user, require_role
from bot.store.users import Role

__all__ = [
    "AdminUser",
    "AnyUser",
    "ConsoleAuthError",
    "ConsoleUser",
    "NavItem",
    "Role",
    "StaffUser",
    "SupervisorUser",
    "add_nav",
    "add_template_folder",
    "current_user",
    "install",
    "redirect",
    "render",
    "require_role",
]


def install(app: FastAPI) -> None:
    """Add the console's own routes, static files and log-in handling to ``app``."""
    from bot.console import kb_duplicates, kb_import_pages, kb_pages, kb_synonyms, login, users
    from bot.console.pages import install as install_pages

    install_pages(app)
    for module in (login, users, kb_pages, kb_synonyms, kb_import_pages, kb_duplicates):
        app.include_router(module.router)
