"""The plain case form: citizens can file a case without the chat (and in degraded mode)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from bot.cases import CATEGORIES, category_by_code
from bot.deps import DatabaseDep
from bot.store.cases import CaseInputError, CaseStore, NewCase
from bot.web import templates

__all__ = ["router"]

router = APIRouter(tags=["citizen pages"], include_in_schema=False)
_FIELD_NAMES = {"description": "狀況說明", "location": "地點", "phone": "聯絡電話", "category": "問題類別"}


def _form(request: Request, form: dict[str, str], errors: list[str], code: int = 200) -> HTMLResponse:
    context = {"categories": CATEGORIES, "form": form, "errors": errors}
    return templates.TemplateResponse(request, "case_form.html", context, status_code=code)


@router.get("/cases/new", response_class=HTMLResponse)
def new_case(request: Request) -> HTMLResponse:
    return _form(request, {}, [])


@router.post("/cases", response_class=HTMLResponse)
async def file_case(
    request: Request,
    database: DatabaseDep,
    category: Annotated[str, Form(max_length=40)] = "",
    location_text: Annotated[str, Form(max_length=300)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    consent: Annotated[str, Form(max_length=3)] = "",
) -> HTMLResponse:
    form = {"category": category, "location_text": location_text, "description": description, "phone": phone}
    form["consent"] = consent
    case = NewCase(
        category=category,
        description=description,
        channel="web",
        sender_id="case-form",
        location_text=location_text,
        phone=phone,
        contact_consent=consent == "yes",
    )

    def file() -> tuple[str, str, bool]:
        with database.session() as session:
            row = CaseStore(session).file(case, actor="case-form")
            return row.number, row.agency, category_by_code(row.category).dispatch

    try:
        number, agency, dispatch = await run_in_threadpool(file)
    except KeyError:
        return _form(request, form, ["問題類別：請從清單選擇"], status.HTTP_400_BAD_REQUEST)
    except CaseInputError as error:
        field, _, _ = str(error).partition(":")
        return _form(
            request, form, [f"{_FIELD_NAMES.get(field, field)}：{error}"], status.HTTP_400_BAD_REQUEST
        )
    context = {"number": number, "agency": agency, "dispatch": dispatch}
    return templates.TemplateResponse(
        request, "case_filed.html", context, status_code=status.HTTP_201_CREATED
    )
