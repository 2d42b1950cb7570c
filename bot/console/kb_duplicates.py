"""The duplicate finder: near-identical questions in pairs, merged, archived or marked as different."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bot.console import curation
from bot.console.duplicates import near_duplicates
from bot.console.pages import redirect, render
from bot.deps import StaffUser, database_of, settings_of
from bot.security.auth import ConsoleUser
from bot.store.models import DuplicateDismissalRow, FaqDraftRow, FaqRow
from knowledge.faq import FaqStatus

__all__ = ["router"]

router = APIRouter(tags=["console"], include_in_schema=False)
STATUS_NAMES = {"draft": "草稿", "published": "已發布", "archived": "已封存"}


def _pairs(request: Request) -> list[dict[str, Any]]:
    settings = settings_of(request)
    with database_of(request).session() as session:
        rows = {
            row.id: row
            for row in session.scalars(select(FaqRow).where(FaqRow.status != FaqStatus.ARCHIVED.value))
        }
        skip = {(d.first_id, d.second_id) for d in session.scalars(select(DuplicateDismissalRow))}
        drafts = set(session.scalars(select(FaqDraftRow.faq_id)))
        found = near_duplicates(
            ((faq_id, row.question) for faq_id, row in rows.items()),
            threshold=settings.console.duplicate_threshold,
            skip=skip,
        )

        def side(faq_id: str) -> dict[str, Any]:
            row = rows[faq_id]
            return {
                "id": row.id,
                "question": row.question,
                "answer": row.answer[:200],
                "status": row.status,
                "revision": row.revision,
                "agency": row.agency,
                "alternatives": len(row.alt_questions),
                "draft": row.id in drafts,
            }

        return [{"a": side(p.first), "b": side(p.second), "similarity": p.similarity} for p in found]


@router.get("/console/kb/duplicates", response_class=HTMLResponse)
def duplicates_page(request: Request, user: StaffUser) -> HTMLResponse:
    settings = settings_of(request)
    return _page(request, user, threshold=settings.console.duplicate_threshold)


def _page(
    request: Request, user: ConsoleUser, *, threshold: float = 0, error: str = "", code: int = 200
) -> HTMLResponse:
    settings = settings_of(request)
    return render(
        request,
        "console/kb_duplicates.html",
        user=user,
        pairs=_pairs(request),
        threshold=threshold or settings.console.duplicate_threshold,
        statuses=STATUS_NAMES,
        error=error,
        status_code=code,
    )


@router.post("/console/kb/duplicates/merge", response_class=HTMLResponse)
async def merge(
    request: Request,
    user: StaffUser,
    keep: Annotated[str, Form(max_length=64)] = "",
    drop: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Keep one entry, add the other's phrasings to it as alternative questions, archive the other."""

    def run() -> Response:
        try:
            with database_of(request).session() as session:
                curation.merge(session, keep, drop, actor=user.username)
        except curation.FaqNotFound:
            return _page(request, user, error="找不到要合併的題目。", code=status.HTTP_404_NOT_FOUND)
        except curation.ConflictError:
            message = f"{keep} 或 {drop} 有尚未發布的草稿，請先發布或捨棄草稿再合併。"
            return _page(request, user, error=message, code=status.HTTP_409_CONFLICT)
        return redirect(request, "/console/kb/duplicates", f"已將 {drop} 併入 {keep}，{drop} 已封存。")

    return await run_in_threadpool(run)


@router.post("/console/kb/duplicates/dismiss", response_class=HTMLResponse)
async def dismiss(
    request: Request,
    user: StaffUser,
    first: Annotated[str, Form(max_length=64)] = "",
    second: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def run() -> None:
        with database_of(request).session() as session:
            curation.dismiss_pair(session, first, second, actor=user.username)

    await run_in_threadpool(run)
    return redirect(request, "/console/kb/duplicates", f"已標示 {first} 與 {second} 不是重複的題目。")
