"""Log-in, log-out, the console's home page, one's own password, and the session API."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from bot.console.pages import redirect, render
from bot.deps import AnyUser, database_of
from bot.security.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ConsoleUser,
    clear_session_cookie,
    cookie_secure,
    csrf_matches,
    current_user,
    set_session_cookie,
)
from bot.store import Database
from bot.store.users import AccountError, LoginResult, Role, UserStore

__all__ = ["router", "safe_next"]

router = APIRouter(tags=["console"], include_in_schema=False)
_REASONS = {
    "wrong username or password": "帳號或密碼錯誤。",
    "account locked after repeated failures; try again later": "登入失敗次數過多，帳號已暫時鎖定 15 分鐘，請稍後再試。",
}


def safe_next(target: str) -> str:
    """Only a console path of this site (no scheme, no ``//host``, no back-slashes)."""
    ok = target.startswith("/console") and not target.startswith("//") and "\\" not in target
    return target if ok and not target.startswith("/console/login") else "/console"


def _login_page(
    request: Request,
    next_: str,
    error: str = "",
    username: str = "",
    code: int = 200,
    signed_in: ConsoleUser | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "console/login.html",
        user=None,
        status_code=code,
        login_csrf=token,
        next=safe_next(next_),
        error=error,
        username=username,
        signed_in=signed_in,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/console/login",
    )
    return response


@router.get("/console/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/console") -> Response:  # noqa: A002
    """The form (also when logged in: logging in again ends the old session)."""
    return _login_page(request, next, signed_in=await current_user(request))


def _login(database: Database, username: str, password: str, old_token: str) -> LoginResult:
    with database.session() as session:
        store = UserStore(session)
        if old_token:
            store.logout(old_token)  # a new session id on every log-in: no fixation
        return store.login(username, password)


@router.post("/console/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/console",  # noqa: A002
) -> Response:
    if not csrf_matches(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return _login_page(request, next, "登入表單已過期，請再試一次。", username, status.HTTP_403_FORBIDDEN)
    database = database_of(request)
    old = request.cookies.get(SESSION_COOKIE, "")
    result = await run_in_threadpool(_login, database, username, password, old)
    if result.user is None:
        message = _REASONS.get(result.reason, "無法登入。")
        return _login_page(request, next, message, username, status.HTTP_401_UNAUTHORIZED)
    response = redirect(request, safe_next(next))
    set_session_cookie(request, response, result.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login", samesite="strict", httponly=True)
    return response


def _logout(database: Database, token: str, username: str) -> None:
    with database.session() as session:
        store = UserStore(session)
        store.logout(token)
        store.audit(username, "logout")


@router.post("/console/logout")
async def logout(request: Request, user: AnyUser) -> Response:
    database = database_of(request)
    await run_in_threadpool(_logout, database, request.cookies.get(SESSION_COOKIE, ""), user.username)
    response = redirect(request, "/console/login", "您已登出。")
    clear_session_cookie(request, response)
    return response


@router.get("/console", response_class=HTMLResponse)
def home(request: Request, user: AnyUser) -> HTMLResponse:
    return render(request, "console/home.html", user=user)


class SessionInfo(BaseModel):
    username: str
    display_name: str
    role: Role
    csrf_token: str


@router.get("/console/api/session", response_model=SessionInfo)
def session_info(user: AnyUser) -> JSONResponse:
    """Who is logged in, and the CSRF token scripts send as ``X-CSRF-Token``."""
    body = SessionInfo(
        username=user.username, display_name=user.display_name, role=user.role, csrf_token=user.csrf_token
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.get("/console/account", response_class=HTMLResponse)
def account_page(request: Request, user: AnyUser) -> HTMLResponse:
    return render(request, "console/account.html", user=user, error="")


def _change_password(database: Database, username: str, current: str, new: str) -> str:
    with database.session() as session:
        store = UserStore(session)
        if store.check_password(username, current) is False:
            return "目前的密碼不正確。"
        try:
            store.set_password(username, new, actor=username)
        except AccountError:
            return "新密碼至少需要 12 個字元。"
    return ""


@router.post("/console/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    user: AnyUser,
    current_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
    confirm_password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if new_password != confirm_password:
        error = "兩次輸入的新密碼不一致。"
    else:
        database = database_of(request)
        error = await run_in_threadpool(
            _change_password, database, user.username, current_password, new_password
        )
    if error:
        return render(
            request, "console/account.html", user=user, error=error, status_code=status.HTTP_400_BAD_REQUEST
        )
    response = redirect(request, "/console/login", "密碼已變更，請以新密碼重新登入。")
    clear_session_cookie(request, response)
    return response
