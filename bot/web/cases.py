"""The plain case form: citizens can file a case without the chat (and in degraded mode).

Every field is checked at once and every problem is named in Chinese beside its field. A
filing is post/redirect/get with an idempotency token: the form carries a fresh token, the
filing is recorded under it (``channel_event``, channel ``case-form``) in the transaction that
files the case, and the browser is sent to ``/cases/filed?s=TOKEN``. Reloading that page shows
the same case; posting the same form again (back, then 送出) files nothing new.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.cases import CATEGORIES, category_by_code
from bot.deps import DatabaseDep
from bot.store import Database
from bot.store.cases import MAX_DESCRIPTION_CHARS, CaseInputError, CaseStore, NewCase, normalise_phone
from bot.store.conversations import ChannelEventStore
from bot.web import templates

__all__ = ["FILED_PATH", "check_form", "router"]

router = APIRouter(tags=["citizen pages"], include_in_schema=False)
FILED_PATH = "/cases/filed"
_CHANNEL = "case-form"  # the channel_event rows that remember a form's filing
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")
_CODES = {category.code for category in CATEGORIES}


def check_form(form: dict[str, str]) -> dict[str, str]:
    """Every problem of the form at once, by field name, in the citizen's words."""
    errors: dict[str, str] = {}
    if not form["category"]:
        errors["category"] = "請選擇問題類別。"
    elif form["category"] not in _CODES:
        errors["category"] = "請從清單選擇問題類別。"
    if not form["location_text"].strip():
        errors["location_text"] = "請填寫地點，例如路名與路口、門牌或明顯地標。"
    description = form["description"].strip()
    if not description:
        errors["description"] = "請簡單說明狀況。"
    elif len(description) > MAX_DESCRIPTION_CHARS:
        errors["description"] = f"狀況說明請在 {MAX_DESCRIPTION_CHARS} 字以內。"
    if form["phone"].strip():
        try:
            normalise_phone(form["phone"])
        except CaseInputError:
            errors["phone"] = "電話號碼看起來不對，請輸入手機（09 開頭 10 碼）或含區碼的市話，或留空。"
    return errors


def _form(
    request: Request, form: dict[str, str], errors: dict[str, str], token: str, code: int = 200
) -> HTMLResponse:
    context = {"categories": CATEGORIES, "form": form, "errors": errors, "token": token}
    return templates.TemplateResponse(request, "case_form.html", context, status_code=code)


def _fresh_token() -> str:
    return secrets.token_urlsafe(24)


@router.get("/cases/new", response_class=HTMLResponse)
def new_case(
    request: Request,
    category: Annotated[str, Query(max_length=40)] = "",
    location_text: Annotated[str, Query(max_length=300)] = "",
    description: Annotated[str, Query(max_length=MAX_DESCRIPTION_CHARS)] = "",
) -> HTMLResponse:
    """The empty form; the chat's limited mode links to it filled in with what the citizen said."""
    form = {
        "category": category if category in _CODES else "",
        "location_text": location_text,
        "description": description,
        "phone": "",
        "consent": "",
    }
    return _form(request, form, {}, _fresh_token())


def _file_once(database: Database, token: str, case: NewCase) -> None:
    """File ``case`` under ``token`` unless a filing under it exists already (one transaction)."""
    with database.session() as session:
        events = ChannelEventStore(session)
        if not events.first_time(_CHANNEL, token):
            return  # filed before (a second post of the same form): that case stands
        row = CaseStore(session).file(case, actor="case-form")
        events.finish(_CHANNEL, token, {"number": row.number})


@router.post("/cases", response_class=HTMLResponse)
async def file_case(
    request: Request,
    database: DatabaseDep,
    category: Annotated[str, Form(max_length=40)] = "",
    location_text: Annotated[str, Form(max_length=300)] = "",
    description: Annotated[str, Form(max_length=MAX_DESCRIPTION_CHARS)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    consent: Annotated[str, Form(max_length=3)] = "",
    submission: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    form = {
        "category": category,
        "location_text": location_text,
        "description": description,
        "phone": phone,
        "consent": consent,
    }
    token = submission if _TOKEN.match(submission) else _fresh_token()
    errors = check_form(form)
    if errors:
        return _form(request, form, errors, token, status.HTTP_400_BAD_REQUEST)
    case = NewCase(
        category=category,
        description=description,
        channel="web",
        sender_id="case-form",
        location_text=location_text,
        phone=phone,
        contact_consent=consent == "yes",
    )
    try:
        await run_in_threadpool(_file_once, database, token, case)
    except CaseInputError:  # check_form let through something the store refuses
        errors = {"description": "資料有誤，請檢查後再送出；也可以撥打 1999。"}
        return _form(request, form, errors, token, status.HTTP_400_BAD_REQUEST)
    return RedirectResponse(f"{FILED_PATH}?s={token}", status_code=status.HTTP_303_SEE_OTHER)


@router.get(FILED_PATH, response_class=HTMLResponse)
async def case_filed(
    request: Request, database: DatabaseDep, s: Annotated[str, Query(max_length=64)] = ""
) -> HTMLResponse:
    """The confirmation of a filing: reloading it shows the same case and files nothing."""

    def lookup() -> tuple[str, str, bool] | None:
        with database.session() as session:
            event = ChannelEventStore(session).get(_CHANNEL, s) if _TOKEN.match(s) else None
            number = str((event.response or {}).get("number") or "") if event is not None else ""
            if not number:
                return None
            row = CaseStore(session).get(number)
            return row.number, row.agency, category_by_code(row.category).dispatch

    found = await run_in_threadpool(lookup)
    if found is None:
        missing = {"title": "找不到這筆反映", "message": "這個網址沒有對應的案件，可能已經過期。"}
        return templates.TemplateResponse(
            request, "not_found.html", missing, status_code=status.HTTP_404_NOT_FOUND
        )
    number, agency, dispatch = found
    context = {"number": number, "agency": agency, "dispatch": dispatch}
    return templates.TemplateResponse(request, "case_filed.html", context)
