"""Staff log-in: the session cookie, ``require_role`` and CSRF checks on every change.

A session is a random token in an HttpOnly, SameSite=Strict cookie (Secure outside
development and tests, and always over https); the store keeps only its hash. Each session
has a CSRF token that every POST/PUT/PATCH/DELETE must echo, in the ``csrf_token`` form field
or the ``X-CSRF-Token`` header. Logging in always starts a new session and ends the one the
browser had (no session fixation); the log-in form itself is protected by a double-submit
token in a short-lived cookie.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, Response, status
from starlette.concurrency import run_in_threadpool

from bot.settings import Settings
from bot.store import Database
from bot.store.users import Role, UserStore

__all__ = [
    "ConsoleAuthError",
    "ConsoleUser",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "clear_session_cookie",
    "current_user",
    "require_role",
    "set_session_cookie",
]

SESSION_COOKIE = "bot1999_console"
LOGIN_CSRF_COOKIE = "bot1999_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """The logged-in member of staff, as routes and templates see them."""

    id: int
    username: str
    display_name: str
    role: Role
    csrf_token: str

    def may(self, *roles: Role | str) -> bool:
        """True for an admin, or when the user's role is one of ``roles`` (none given: anyone)."""
        return self.role is Role.ADMIN or not roles or self.role in {Role(r) for r in roles}


class ConsoleAuthError(HTTPException):
    """Not logged in (401), or not allowed / bad CSRF token (403).

    Pages turn a 401 into a redirect to the log-in page and a 403 into a page saying why;
    routes under ``/api/`` answer JSON (see ``bot.console.pages.install``).
    """


# bot.deps (above this module: its user aliases are built from require_role) has the same two
# readers of app.state; these stay here so that auth does not import it.
def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/console/api/")


def cookie_secure(request: Request) -> bool:
    """Secure cookies in production and over https; plain http only in development and tests."""
    return _settings(request).environment == "production" or request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="strict", secure=cookie_secure(request), path="/"
    )


def _lookup(database: Database, token: str) -> ConsoleUser | None:
    with database.session() as session:
        found = UserStore(session).session_user(token)
        if found is None:
            return None
        user, row = found
        return ConsoleUser(user.id, user.username, user.display_name, Role(user.role), row.csrf_token)


async def current_user(request: Request) -> ConsoleUser | None:
    """The user whose session cookie came with ``request`` (looked up once per request)."""
    if hasattr(request.state, "console_user"):
        cached: ConsoleUser | None = request.state.console_user
        return cached
    token = request.cookies.get(SESSION_COOKIE, "")
    user = await run_in_threadpool(_lookup, _database(request), token) if 20 <= len(token) <= 200 else None
    request.state.console_user = user
    return user


async def sent_csrf_token(request: Request) -> str:
    """The CSRF token a request carries: the header, else the form field."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent or ""


def csrf_matches(sent: str, expected: str) -> bool:
    return bool(sent) and bool(expected) and secrets.compare_digest(sent.encode(), expected.encode())


def require_role(*roles: Role | str) -> Callable[[Request], Awaitable[ConsoleUser]]:
    """A dependency returning the logged-in user when their role is one of ``roles``.

    Admins pass every check; no roles means any logged-in user. A state-changing request
    must also carry the session's CSRF token. Routes use it through the aliases of ``bot.deps``
    (``StaffUser``, ``SupervisorUser``, ``AdminUser``, ``AnyUser``).
    """
    allowed = tuple(Role(r) for r in roles)

    async def dependency(request: Request) -> ConsoleUser:
        user = await current_user(request)
        if user is None:
            raise ConsoleAuthError(status.HTTP_401_UNAUTHORIZED, "please log in to the console")
        if request.method not in SAFE_METHODS and not csrf_matches(
            await sent_csrf_token(request), user.csrf_token
        ):
            raise ConsoleAuthError(
                status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token (reload the page and try again)"
            )
        if not user.may(*allowed):
            needed = " or ".join(r.value for r in allowed)
            raise ConsoleAuthError(status.HTTP_403_FORBIDDEN, f"this needs the {needed} role")
        return user

    dependency.__name__ = f"require_role_{'_'.join(r.value for r in allowed) or 'any'}"
    return dependency
