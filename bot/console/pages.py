"""Rendering console pages: one Jinja2 environment, the navigation, flash messages, headers.

``render(request, "console/x.html", user=user, **context)`` fills in what ``base.html``
needs (the user, their CSRF token, the navigation they may use, a flash message) and sends
the console's security headers. ``install(app)`` mounts the static files and turns
``ConsoleAuthError`` into a log-in redirect or a refusal page (JSON under ``/api/``).
"""

from __future__ import annotations

import re
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
# What bot.privacy.redact puts in place of personal data, as staff read it.
MASK_NAMES = {
    "[id]": "［身分證字號］",
    "[phone]": "［電話］",
    "[email]": "［電子郵件］",
    "[address]": "［地址］",
    "[case]": "［案件編號］",
    "[digits]": "［末三碼］",
}
_MASKS = re.compile("|".join(re.escape(tag) for tag in MASK_NAMES))


def masked(text: str) -> str:
    """Redacted text with its tags in Chinese: 「我的電話 [phone]」 → 「我的電話 ［電話］」."""
    return _MASKS.sub(lambda m: MASK_NAMES[m.group(0)], str(text))


templates.env.filters["masked"] = masked
# The audit log's actions and the names in their details, as staff read them (the codes stay
# in the log and in the page's action filter).
AUDIT_ACTIONS = {
    "login": "登入", "login.failed": "登入失敗", "login.locked": "登入（帳號鎖定中）",
    "login.lockout": "帳號因多次登入失敗而鎖定", "logout": "登出",
    "user.create": "新增帳號", "user.password": "變更密碼", "user.role": "變更角色",
    "user.activate": "啟用帳號", "user.deactivate": "停用帳號", "user.reset_password": "重設密碼",
    "faq.create": "新增題目", "faq.update": "修改題目", "faq.draft": "儲存草稿", "faq.publish": "發布題目",
    "faq.archive": "封存題目", "faq.discard_draft": "捨棄草稿", "faq.rollback": "回復舊版",
    "faq.merge": "合併重複題目", "faq.not_duplicate": "標示不是重複", "kb.import.start": "開始匯入",
    "kb.import": "匯入完成", "synonym.set": "設定同義詞", "synonym.delete": "刪除同義詞",
    "synonym.publish": "發布同義詞", "synonym.rollback": "回復同義詞版本", "case.take": "接手案件",
    "handoff.take": "接手對話", "handoff.release": "交還智慧客服", "handoff.available": "開始接聽",
    "handoff.paused": "暫停接聽", "case.status": "變更案件狀態", "learning.alternatives": "加入其他問法",
    "learning.draft": "由未答問題起草題目", "learning.dismiss": "略過未答問題",
}  # fmt: skip
AUDIT_DETAILS = {
    "via": "途徑", "status": "狀態", "revision": "版次", "role": "角色", "before": "原本", "after": "改為",
    "rules": "規則數", "published": "發布", "base_revision": "依據版次", "to_revision": "回復到版次",
    "merged": "併入", "added": "新增問法", "other": "另一題", "job": "匯入編號", "format": "格式",
    "summary": "結果", "canonical": "標準詞", "number": "案件", "case": "案件", "reason": "原因",
    "to": "改為", "note": "備註", "cluster": "問題群", "questions": "次數", "resolution": "處理方式",
}  # fmt: skip
AUDIT_VALUES = {
    "api": "程式介面", "staff": "客服人員", "supervisor": "主管", "admin": "系統管理員",
    "draft": "草稿", "published": "已發布", "archived": "已封存", "jsonl": "JSONL", "csv": "CSV",
    "xlsx": "XLSX", "taipei-xml": "臺北市 XML",
}  # fmt: skip
templates.env.globals.update(
    audit_actions=AUDIT_ACTIONS, audit_details=AUDIT_DETAILS, audit_values=AUDIT_VALUES
)
ROLE_NAMES = {"staff": "客服人員", "supervisor": "主管", "admin": "系統管理員"}
_NEEDS_ROLE = re.compile(r"^this needs the (.+) role$")


def refusal_reason(detail: str) -> str:
    """Why the console refused, in Chinese (the JSON API keeps the English detail)."""
    needs = _NEEDS_ROLE.match(detail)
    if needs:
        roles = "或".join(f"「{ROLE_NAMES.get(r, r)}」" for r in needs.group(1).split(" or "))
        return f"這個功能需要{roles}的角色。"
    if detail.startswith("missing or wrong CSRF token"):
        return "表單已過期或不是從本站送出，請重新整理頁面後再試一次。"
    return detail


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
        request,
        "console/forbidden.html",
        user=user,
        status_code=error.status_code,
        reason=refusal_reason(str(error.detail)),
    )


def install(app: FastAPI) -> None:
    """Static files, the navigation registry and the log-in / refusal handling for the console."""
    if not hasattr(app.state, "console_nav"):
        app.state.console_nav = sorted(DEFAULT_NAV, key=lambda i: (i.order, i.href))
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(ConsoleAuthError, _auth_error)
