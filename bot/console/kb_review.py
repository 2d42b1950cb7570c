"""Upstream review: changes the harvest could not apply alone, the harvests' runs, "harvest now".

An item shows, for each field the source changed, three texts side by side: what the source
said before, what it says now, and what citizens see (staff's). Staff keep ours, take theirs,
or edit; an entry gone upstream is archived or kept. Admins start a harvest at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from bot.console.curation import FIELD_LABELS
from bot.console.pages import NavItem, add_nav, redirect, render
from bot.deps import AdminUser, StaffUser, database_of
from bot.harvest.runs import last_runs
from bot.security.auth import ConsoleUser
from bot.store.errors import ConflictError
from bot.store.faq_layers import Resolution
from bot.store.faqs import FaqNotFound, FaqStore, row_to_record
from bot.store.models import FaqReviewRow, FaqRow
from bot.store.users import Role
from knowledge.faq import FaqRecord

__all__ = ["install", "router"]

router = APIRouter(tags=["console"], include_in_schema=False)
LIST_FIELDS = {"alt_questions", "keywords", "sources"}
CHOICES = {
    "keep": Resolution.KEEP_OURS,
    "take": Resolution.TAKE_THEIRS,
    "edit": Resolution.EDIT,
    "archive": Resolution.ARCHIVE,
}
DONE = {
    "kept": "保留我們的版本",
    "taken": "採用來源的新版本",
    "edited": "編修後採用",
    "archived": "已封存",
    "superseded": "來源再次更新，已不需處理",
    "returned": "來源重新列出",
}


def install(app: FastAPI) -> None:
    app.include_router(router)
    add_nav(app, NavItem("來源更新", "/console/kb/review", (Role.STAFF,), order=13))


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class FieldView:
    name: str
    label: str
    old: str
    new: str
    ours: str
    conflict: bool
    rows: int


def _fields(item: FaqReviewRow) -> list[FieldView]:
    views = []
    for name in item.fields:
        ours = _text(item.ours.get(name))
        rows = max(3, min(12, max(len(ours), len(_text(item.new_source.get(name)))) // 30 + 1))
        views.append(
            FieldView(
                name,
                FIELD_LABELS.get(name, name),
                _text(item.old_source.get(name)),
                _text(item.new_source.get(name)),
                ours,
                name in item.conflicts,
                rows,
            )
        )
    return views


@router.get("/console/kb/review", response_class=HTMLResponse)
def review_queue(request: Request, user: StaffUser) -> HTMLResponse:
    with database_of(request).session() as session:
        items = list(
            session.execute(
                select(FaqReviewRow, FaqRow.question)
                .join(FaqRow, FaqRow.id == FaqReviewRow.faq_id)
                .where(FaqReviewRow.status == "open")
                .order_by(FaqReviewRow.id)
                .limit(200)
            )
        )
        total = session.scalar(select(func.count()).where(FaqReviewRow.status == "open")) or 0
        runs = last_runs(session, 10)
    scheduler = getattr(request.app.state, "harvest", None)
    return render(
        request,
        "console/kb_review.html",
        user=user,
        items=items,
        total=total,
        runs=runs,
        labels=FIELD_LABELS,
        schedule=request.app.state.settings.harvest.schedule,
        can_harvest=user.may(Role.ADMIN) and scheduler is not None,
    )


def _item_page(
    request: Request, user: ConsoleUser, review_id: int, *, error: str = "", code: int = 200
) -> HTMLResponse:
    with database_of(request).session() as session:
        item = session.get(FaqReviewRow, review_id)
        row = session.get(FaqRow, item.faq_id) if item is not None else None
        if item is None or row is None:
            return render(
                request, "console/kb_missing.html", user=user, faq_id=f"來源更新 {review_id}", status_code=404
            )
        return render(
            request,
            "console/kb_review_item.html",
            user=user,
            item=item,
            entry=row,
            fields=_fields(item),
            done=DONE.get(item.status, item.status),
            error=error,
            status_code=code,
        )


@router.get("/console/kb/review/{review_id}", response_class=HTMLResponse)
def review_item(request: Request, review_id: int, user: StaffUser) -> HTMLResponse:
    return _item_page(request, user, review_id)


def _edited(item: FaqReviewRow, row: FaqRow, values: dict[str, str]) -> dict[str, Any]:
    """The edited fields as the entry would hold them (validated as an entry: ValueError in Chinese)."""
    update: dict[str, Any] = {}
    for name in item.fields:
        text = values.get(f"field_{name}", "")
        update[name] = [line for line in text.splitlines() if line.strip()] if name in LIST_FIELDS else text
    data = {**row_to_record(row).model_dump(mode="json"), **update}
    try:
        record = FaqRecord.model_validate(data)
    except ValidationError as error:
        names = {str(e["loc"][0]) for e in error.errors(include_url=False) if e["loc"]}
        raise ValueError("、".join(FIELD_LABELS.get(n, n) for n in sorted(names)) + " 的內容不正確") from None
    content = record.content()
    return {name: content[name] for name in item.fields}


@router.post("/console/kb/review/{review_id}", response_class=HTMLResponse)
async def resolve(request: Request, review_id: int, user: StaffUser) -> Response:
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    choice = CHOICES.get(values.get("choice", ""))

    def run() -> Response:
        if choice is None:
            return _item_page(request, user, review_id, error="請選擇一種處理方式。", code=400)
        try:
            with database_of(request).session() as session:
                item = session.get(FaqReviewRow, review_id)
                if item is None:
                    raise FaqNotFound(str(review_id))
                edited = None
                if choice is Resolution.EDIT:
                    edited = _edited(item, FaqStore(session).get(item.faq_id), values)
                FaqStore(session).resolve(review_id, choice, actor=user.username, edited=edited)
                faq_id = item.faq_id
        except FaqNotFound:
            return _item_page(request, user, review_id)
        except ConflictError:
            return _item_page(request, user, review_id, error="這一項已經有人處理過了。", code=409)
        except ValueError as error:
            return _item_page(request, user, review_id, error=str(error), code=400)
        index = getattr(request.app.state, "index", None)
        if index is not None:
            index.refresh()
        return redirect(request, "/console/kb/review", f"{faq_id}：{DONE[choice.value]}。")

    return await run_in_threadpool(run)


@router.post("/console/kb/harvest", response_class=HTMLResponse)
async def harvest_now(request: Request, user: AdminUser) -> Response:
    scheduler = getattr(request.app.state, "harvest", None)
    if scheduler is None:
        return redirect(request, "/console/kb/review", "這個服務沒有設定來源收錄。")
    started = scheduler.harvest_now(user.username)
    message = "已開始收錄，完成後會列在下方。" if started else "收錄正在進行中，請稍候。"
    return redirect(request, "/console/kb/review", message)
