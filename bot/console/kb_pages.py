"""Knowledge-base pages: search and filter, edit with a preview, drafts and publish, history and rollback.

Staff and admins only. Pages read and write through ``bot.console.curation``; the preview
asks the live index (``app.state.index``) the same way the chat does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bot.console import curation, overrides
from bot.console.diff import field_diffs
from bot.console.pages import redirect, render
from bot.console.preview import ask, check_questions, draft_replies
from bot.deps import StaffUser, database_of, index_of, settings_of
from bot.security.auth import ConsoleUser
from bot.store.faqs import FaqExists, FaqStore, row_to_record
from bot.store.models import FaqDraftRow
from knowledge.faq import FaqRecord, FaqStatus

__all__ = ["router"]

router = APIRouter(tags=["console"], include_in_schema=False)
PER_PAGE = 25
STATUS_NAMES = {"draft": "草稿", "published": "已發布", "archived": "已封存"}
SOURCE_CONFLICT = (
    "這一題已被其他人修改，或有尚未發布的草稿：請重新載入頁面，先發布或捨棄草稿，再改回來源的內容。"
)
CONFLICT = "這一題在您編輯時已被其他人修改（或已發布），為避免覆蓋別人的修改，請重新載入頁面再編輯。"


def _cutoff(request: Request) -> date:
    return curation.stale_cutoff(settings_of(request).console.stale_after_days)


def form_values(record: FaqRecord) -> dict[str, str]:
    """An entry as the edit form's strings (lists one a line)."""
    return {
        "id": record.id,
        "question": record.question,
        "answer": record.answer,
        "alt_questions": "\n".join(record.alt_questions),
        "agency": record.agency,
        "category": record.category,
        "keywords": "、".join(record.keywords),
        "source_url": record.source_url,
        "sources": "\n".join(record.sources),
        "post_date": record.post_date.isoformat() if record.post_date else "",
        "revise_date": record.revise_date.isoformat() if record.revise_date else "",
    }


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


# --- the list ------------------------------------------------------------------------------


@router.get("/console/kb", response_class=HTMLResponse)
def kb_list(
    request: Request,
    user: StaffUser,
    q: Annotated[str, Query(max_length=200)] = "",
    agency: Annotated[str, Query(max_length=200)] = "",
    category: Annotated[str, Query(max_length=200)] = "",
    status_: Annotated[str, Query(alias="status", max_length=20)] = "",
    stale: Annotated[str, Query(max_length=3)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    cutoff = _cutoff(request)
    chosen = FaqStatus(status_) if status_ in STATUS_NAMES else None
    with database_of(request).session() as session:
        store = FaqStore(session)
        result = store.search(
            text=q,
            status=chosen,
            agency=agency,
            category=category,
            revised_before=cutoff if stale else None,
            page=page,
            per_page=PER_PAGE,
        )
        ids = [row.id for row in result.items]
        drafts = set(session.scalars(select(FaqDraftRow.faq_id).where(FaqDraftRow.faq_id.in_(ids))))
        stale_live = store.search(status=FaqStatus.PUBLISHED, revised_before=cutoff, per_page=1).total
        agencies, categories = curation.choices(session)
        items = [
            {
                "id": row.id,
                "question": row.question,
                "agency": row.agency,
                "category": row.category,
                "status": row.status,
                "revised": curation.revised_on(row),
                "stale": curation.is_stale(row, cutoff),
                "draft": row.id in drafts,
            }
            for row in result.items
        ]
    filters = {"q": q, "agency": agency, "category": category, "status": status_, "stale": stale}
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "console/kb_list.html",
        user=user,
        items=items,
        total=result.total,
        page=page,
        pages=max(1, -(-result.total // PER_PAGE)),
        filters=filters,
        query=query,
        agencies=agencies,
        categories=categories,
        statuses=STATUS_NAMES,
        stale_live=stale_live,
        stale_after_days=settings_of(request).console.stale_after_days,
        cutoff=cutoff,
    )


@router.get("/console/kb/try", response_class=HTMLResponse)
def kb_try(request: Request, user: StaffUser, q: Annotated[str, Query(max_length=1000)] = "") -> HTMLResponse:
    """Ask the live bot a question and see its answer, its confidence and the candidates."""
    answer = ask(index_of(request), q) if q.strip() else None
    return render(
        request, "console/kb_try.html", user=user, q=q, answer=answer, kb_version=index_of(request).version
    )


# --- one entry ------------------------------------------------------------------------------


def _edit_page(
    request: Request,
    user: ConsoleUser,
    faq_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    preview: FaqRecord | None = None,
    question: str = "",
    code: int = 200,
) -> HTMLResponse:
    with database_of(request).session() as session:
        state = curation.editing(session, faq_id)
        agencies, categories = curation.choices(session)
        row = state.row
        draft = (
            {"actor": state.draft.actor, "at": state.draft.updated_at, "base": state.draft.base_revision}
            if state.draft
            else None
        )
        entry = {"id": row.id, "status": row.status, "revision": row.revision, "updated_at": row.updated_at}
        draft_diff = (
            field_diffs(state.live.content(), state.form.content(), curation.FIELD_LABELS) if draft else []
        )
        overridden = overrides.overrides(session, faq_id)
    index = index_of(request)
    shown = preview or state.form
    return render(
        request,
        "console/kb_edit.html",
        user=user,
        new=False,
        entry=entry,
        draft=draft,
        draft_diff=draft_diff,
        overrides=overridden,
        overridden={o.field for o in overridden},
        values=values or form_values(state.form),
        errors=errors or [],
        replies=draft_replies(shown),
        checks=check_questions(index, shown),
        previewing=preview is not None,
        question=question,
        answer=ask(index, question) if question.strip() else None,
        stale=curation.is_stale(shown, _cutoff(request)),
        stale_after_days=settings_of(request).console.stale_after_days,
        agencies=agencies,
        categories=categories,
        statuses=STATUS_NAMES,
        status_code=code,
    )


@router.get("/console/kb/faq/{faq_id}", response_class=HTMLResponse)
def kb_edit(
    request: Request,
    faq_id: str,
    user: StaffUser,
    ask_: Annotated[str, Query(alias="ask", max_length=1000)] = "",
) -> HTMLResponse:
    try:
        return _edit_page(request, user, faq_id, question=ask_)
    except curation.FaqNotFound:
        return _not_found(request, user, faq_id)


def _not_found(request: Request, user: ConsoleUser, faq_id: str) -> HTMLResponse:
    return render(
        request, "console/kb_missing.html", user=user, faq_id=faq_id, status_code=status.HTTP_404_NOT_FOUND
    )


def _revision(values: dict[str, str]) -> int:
    try:
        return int(values.get("revision", ""))
    except ValueError:
        return 0


@router.post("/console/kb/faq/{faq_id}", response_class=HTMLResponse)
async def kb_save(request: Request, faq_id: str, user: StaffUser) -> Response:
    """The edit form's buttons: preview, save (a draft for a published entry), publish."""
    values = await _posted(request)
    action = values.get("action", "save")
    revision = _revision(values)

    def run() -> Response:
        published = False
        try:
            with database_of(request).session() as session:
                current = FaqStore(session).get(faq_id)
                try:
                    record = curation.parse_form(
                        {**values, "id": faq_id},
                        status=FaqStatus(current.status),
                        touch_revise_date=values.get("touch_revise_date") == "yes" and action != "preview",
                    )
                except curation.FormError as error:
                    return _edit_page(request, user, faq_id, values=values, errors=error.errors, code=400)
                if action == "preview":
                    return _edit_page(request, user, faq_id, values=values, preview=record)
                if action == "publish":
                    curation.publish(
                        session, faq_id, base_revision=revision, actor=user.username, record=record
                    )
                    message = f"已發布 {faq_id}，機器人幾秒內就會用新的內容回答。"
                    published = True
                else:
                    outcome = curation.save(session, record, base_revision=revision, actor=user.username)
                    message = {
                        "draft": f"已儲存 {faq_id} 的草稿；發布前，民眾看到的仍是目前的內容。",
                        "updated": f"已儲存 {faq_id}。",
                        "unchanged": "內容沒有變更。",
                    }[outcome]
        except curation.FaqNotFound:
            return _not_found(request, user, faq_id)
        except curation.ConflictError:
            return _edit_page(request, user, faq_id, values=values, errors=[CONFLICT], code=409)
        if published:
            index_of(request).refresh()  # this replica at once; the others within a second
        return redirect(request, f"/console/kb/faq/{quote(faq_id)}", message)

    return await run_in_threadpool(run)


async def _entry_action(request: Request, faq_id: str, user: ConsoleUser, action: str) -> Response:
    values = await _posted(request)
    revision = _revision(values)
    back = values.get("next", "")
    back = (
        back
        if back.startswith("/console/kb") and not back.startswith("//")
        else f"/console/kb/faq/{quote(faq_id)}"
    )

    def run() -> Response:
        try:
            with database_of(request).session() as session:
                if action == "publish":
                    curation.publish(session, faq_id, base_revision=revision, actor=user.username)
                    message = f"已發布 {faq_id}。"
                elif action == "archive":
                    curation.archive(session, faq_id, base_revision=revision, actor=user.username)
                    message = f"已封存 {faq_id}，機器人不再用它回答。"
                elif action == "discard":
                    curation.discard_draft(session, faq_id, actor=user.username)
                    message = f"已捨棄 {faq_id} 的草稿。"
                else:
                    target = int(values.get("to", "0") or 0)
                    curation.rollback(session, faq_id, target, base_revision=revision, actor=user.username)
                    message = f"已將 {faq_id} 回復到第 {target} 版的內容。"
        except curation.FaqNotFound:
            return _not_found(request, user, faq_id)
        except (curation.ConflictError, ValueError):
            return _edit_page(request, user, faq_id, errors=[CONFLICT], code=409)
        if action != "discard":
            index_of(request).refresh()  # this replica at once; the others within a second
        return redirect(request, back, message)

    return await run_in_threadpool(run)


@router.post("/console/kb/faq/{faq_id}/publish", response_class=HTMLResponse)
async def kb_publish(request: Request, faq_id: str, user: StaffUser) -> Response:
    return await _entry_action(request, faq_id, user, "publish")


@router.post("/console/kb/faq/{faq_id}/archive", response_class=HTMLResponse)
async def kb_archive(request: Request, faq_id: str, user: StaffUser) -> Response:
    return await _entry_action(request, faq_id, user, "archive")


@router.post("/console/kb/faq/{faq_id}/discard", response_class=HTMLResponse)
async def kb_discard(request: Request, faq_id: str, user: StaffUser) -> Response:
    return await _entry_action(request, faq_id, user, "discard")


@router.post("/console/kb/faq/{faq_id}/rollback", response_class=HTMLResponse)
async def kb_rollback(request: Request, faq_id: str, user: StaffUser) -> Response:
    return await _entry_action(request, faq_id, user, "rollback")


@router.post("/console/kb/faq/{faq_id}/source", response_class=HTMLResponse)
async def kb_use_source(request: Request, faq_id: str, user: StaffUser) -> Response:
    """Drop staff's override of one field: the entry says what its source says again."""
    values = await _posted(request)
    field = values.get("field", "")

    def run() -> Response:
        try:
            with database_of(request).session() as session:
                overrides.use_source(
                    session, faq_id, field, base_revision=_revision(values), actor=user.username
                )
        except curation.FaqNotFound:
            return _not_found(request, user, faq_id)
        except curation.ConflictError:
            return _edit_page(request, user, faq_id, errors=[SOURCE_CONFLICT], code=409)
        except overrides.NoSource:
            return _edit_page(request, user, faq_id, errors=["這個欄位沒有可以改回的來源內容。"], code=400)
        index_of(request).refresh()  # this replica at once; the others within a second
        label = curation.FIELD_LABELS.get(field, field)
        return redirect(
            request, f"/console/kb/faq/{quote(faq_id)}", f"已將 {faq_id} 的{label}改回來源的內容。"
        )

    return await run_in_threadpool(run)


@router.get("/console/kb/faq/{faq_id}/history", response_class=HTMLResponse)
def kb_history(request: Request, faq_id: str, user: StaffUser) -> HTMLResponse:
    labels = curation.FIELD_LABELS
    with database_of(request).session() as session:
        store = FaqStore(session)
        try:
            row = store.get(faq_id)
        except curation.FaqNotFound:
            return _not_found(request, user, faq_id)
        current = row_to_record(row).content()
        revisions: list[dict[str, Any]] = []
        for item in reversed(store.history(faq_id)):
            after = item.after or {}
            same = {k: v for k, v in after.items() if k != "status"} == {
                k: v for k, v in current.items() if k != "status"
            }
            revisions.append(
                {
                    "revision": item.revision,
                    "action": item.action,
                    "actor": item.actor,
                    "note": item.note,
                    "at": item.at,
                    "diffs": field_diffs(item.before, item.after, labels),
                    "can_rollback": bool(item.after) and not same,
                }
            )
        entry = {"id": row.id, "question": row.question, "status": row.status, "revision": row.revision}
    return render(
        request, "console/kb_history.html", user=user, entry=entry, revisions=revisions, statuses=STATUS_NAMES
    )


# --- a new entry ------------------------------------------------------------------------------


def _new_page(
    request: Request,
    user: ConsoleUser,
    values: dict[str, str],
    *,
    errors: list[str] | None = None,
    preview: FaqRecord | None = None,
    code: int = 200,
) -> HTMLResponse:
    with database_of(request).session() as session:
        agencies, categories = curation.choices(session)
    index = index_of(request)
    return render(
        request,
        "console/kb_edit.html",
        user=user,
        new=True,
        entry=None,
        draft=None,
        draft_diff=[],
        values=values,
        errors=errors or [],
        replies=draft_replies(preview) if preview else [],
        checks=check_questions(index, preview) if preview else [],
        previewing=preview is not None,
        question="",
        answer=None,
        stale=False,
        stale_after_days=settings_of(request).console.stale_after_days,
        agencies=agencies,
        categories=categories,
        statuses=STATUS_NAMES,
        status_code=code,
    )


@router.get("/console/kb/new", response_class=HTMLResponse)
def kb_new(request: Request, user: StaffUser) -> HTMLResponse:
    suggested = "C-" + datetime.now().strftime("%Y%m%d%H%M%S")
    return _new_page(request, user, {"id": suggested, "revise_date": date.today().isoformat()})


@router.post("/console/kb/new", response_class=HTMLResponse)
async def kb_create(request: Request, user: StaffUser) -> Response:
    values = await _posted(request)
    action = values.get("action", "save")
    faq_id = values.get("id", "").strip()

    def run() -> Response:
        publish = action == "publish"
        try:
            record = curation.parse_form(
                {**values, "id": faq_id},
                status=FaqStatus.PUBLISHED if publish else FaqStatus.DRAFT,
                touch_revise_date=False,
            )
        except curation.FormError as error:
            return _new_page(request, user, values, errors=error.errors, code=400)
        if action == "preview":
            return _new_page(request, user, values, preview=record)
        try:
            with database_of(request).session() as session:
                curation.create(session, record, actor=user.username)
        except FaqExists:
            taken = [f"編號：{faq_id} 已經有人使用，請換一個。"]
            return _new_page(request, user, values, errors=taken, code=status.HTTP_409_CONFLICT)
        message = f"已新增並發布 {faq_id}。" if publish else f"已新增草稿 {faq_id}（尚未發布）。"
        return redirect(request, f"/console/kb/faq/{quote(faq_id)}", message)

    return await run_in_threadpool(run)
