"""Admin pages: staff accounts (create, role, deactivate, reset password) and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from bot.console.pages import redirect, render
from bot.deps import AdminUser, database_of
from bot.store import Database
from bot.store.models import AuditRow, utcnow
from bot.store.users import MIN_PASSWORD_CHARS, AccountError, Role, UserStore, is_locked

__all__ = ["router", "ROLE_NAMES"]

router = APIRouter(tags=["console"], include_in_schema=False)
ROLE_NAMES = {Role.STAFF: "客服人員", Role.SUPERVISOR: "主管", Role.ADMIN: "系統管理員"}
_ACCOUNT_ERRORS = {
    "username": "帳號須為 2–64 個小寫英文字母、數字或 . _ -，且不可重複。",
    "password": f"密碼至少需要 {MIN_PASSWORD_CHARS} 個字元。",
    "role": "最後一位啟用中的系統管理員不能改為其他角色。",
    "active": "最後一位啟用中的系統管理員不能停用。",
}
AUDIT_PAGE = 50


def _users(database: Database) -> list[dict[str, Any]]:
    now = utcnow()
    with database.session() as session:
        out = []
        for user in UserStore(session).users():
            out.append(
                {
                    "username": user.username,
                    "display_name": user.display_name,
                    "role": Role(user.role),
                    "active": user.active,
                    "locked": is_locked(user, now),
                    "created_at": user.created_at,
                }
            )
        return out


def _page(
    request: Request,
    user: AdminUser,
    *,
    error: str = "",
    form: dict[str, str] | None = None,
    new_password: tuple[str, str] | None = None,
    code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/users.html",
        user=user,
        users=_users(database_of(request)),
        roles=ROLE_NAMES,
        error=error,
        form=form or {},
        new_password=new_password,
        min_password=MIN_PASSWORD_CHARS,
        status_code=code,
    )


def _explain(error: AccountError) -> str:
    field = str(error).split(":", 1)[0]
    return _ACCOUNT_ERRORS.get(field, str(error))


@router.get("/console/users", response_class=HTMLResponse)
async def users_page(request: Request, user: AdminUser) -> HTMLResponse:
    return await run_in_threadpool(_page, request, user)


@router.post("/console/users", response_class=HTMLResponse)
async def create_user(
    request: Request,
    user: AdminUser,
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=16)] = "staff",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    form = {"username": username, "display_name": display_name, "role": role}
    try:
        chosen = Role(role)
    except ValueError:
        return await run_in_threadpool(_page, request, user, error="請選擇角色。", form=form, code=400)

    def create() -> None:
        with database_of(request).session() as session:
            UserStore(session).create(
                username, password, chosen, actor=user.username, display_name=display_name.strip()
            )

    try:
        await run_in_threadpool(create)
    except AccountError as error:
        return await run_in_threadpool(
            _page, request, user, error=_explain(error), form=form, code=status.HTTP_400_BAD_REQUEST
        )
    return redirect(
        request, "/console/users", f"已建立帳號 {username.strip().lower()}（{ROLE_NAMES[chosen]}）。"
    )


async def _change(request: Request, user: AdminUser, action: Any, done: str) -> Response:
    def run() -> Any:
        with database_of(request).session() as session:
            return action(UserStore(session))

    try:
        result = await run_in_threadpool(run)
    except AccountError as error:
        return await run_in_threadpool(_page, request, user, error=_explain(error), code=400)
    if isinstance(result, tuple):
        return await run_in_threadpool(_page, request, user, new_password=result)
    return redirect(request, "/console/users", done)


@router.post("/console/users/{username}/role", response_class=HTMLResponse)
async def change_role(
    request: Request, username: str, user: AdminUser, role: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    try:
        chosen = Role(role)
    except ValueError:
        return await run_in_threadpool(_page, request, user, error="請選擇角色。", code=400)
    return await _change(
        request,
        user,
        lambda store: store.set_role(username, chosen, actor=user.username),
        f"{username} 的角色已改為{ROLE_NAMES[chosen]}（已登出其工作階段）。",
    )


@router.post("/console/users/{username}/deactivate", response_class=HTMLResponse)
async def deactivate(request: Request, username: str, user: AdminUser) -> Response:
    return await _change(
        request,
        user,
        lambda store: store.set_active(username, False, actor=user.username),
        f"已停用 {username}，其登入中的工作階段已結束。",
    )


@router.post("/console/users/{username}/activate", response_class=HTMLResponse)
async def activate(request: Request, username: str, user: AdminUser) -> Response:
    return await _change(
        request,
        user,
        lambda store: store.set_active(username, True, actor=user.username),
        f"已重新啟用 {username}。",
    )


@router.post("/console/users/{username}/reset-password", response_class=HTMLResponse)
async def reset_password(request: Request, username: str, user: AdminUser) -> Response:
    return await _change(
        request,
        user,
        lambda store: (username, store.reset_password(username, actor=user.username)),
        "",
    )


def _audit(database: Database, actor: str, action: str, page: int) -> tuple[list[AuditRow], int]:
    with database.session() as session:
        query = select(AuditRow)
        if actor:
            query = query.where(AuditRow.actor == actor)
        if action:
            query = query.where(AuditRow.action.startswith(action, autoescape=True))
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(AuditRow.id.desc()).offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE)
        ).all()
        return list(rows), total


@router.get("/console/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    user: AdminUser,
    actor: Annotated[str, Query(max_length=100)] = "",
    action: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    rows, total = await run_in_threadpool(_audit, database_of(request), actor, action, page)
    return render(
        request,
        "console/audit.html",
        user=user,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // AUDIT_PAGE)),
        actor=actor,
        action=action,
    )
