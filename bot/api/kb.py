"""Knowledge-base routes: list with search and paging, get, create, update, publish, history.

Staff and admins only (log in at ``/console/login``; writes carry the session's CSRF token in
``X-CSRF-Token``). The logged-in user is recorded as the author of every change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import ValidationError

from bot.api.schemas import FaqCreate, FaqList, FaqPublic, FaqUpdate, KbVersion, RevisionPublic
from bot.deps import SessionDep, StaffUser
from bot.store.faqs import ConflictError, FaqExists, FaqNotFound, FaqStore, row_to_record
from bot.store.models import FaqRow
from bot.store.users import UserStore
from knowledge.faq import FaqRecord, FaqStatus

__all__ = ["router"]

_DETAIL = {"application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}}}}}
router = APIRouter(
    prefix="/api/kb",
    tags=["knowledge base"],
    responses={  # what the routes and the console's log-in check answer besides success
        401: {"description": "Not logged in to the console.", "content": _DETAIL},
        403: {"description": "Not staff or admin, or no CSRF token on a change.", "content": _DETAIL},
        404: {"description": "No such FAQ.", "content": _DETAIL},
        409: {"description": "The FAQ exists, or moved on since the given revision.", "content": _DETAIL},
    },
)


def _get(store: FaqStore, faq_id: str) -> FaqRow:
    try:
        return store.get(faq_id)
    except FaqNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no FAQ with id {faq_id}") from None


def _record(data: dict[str, object]) -> FaqRecord:
    try:
        return FaqRecord.model_validate(data)
    except ValidationError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, error.errors(include_url=False)) from None


@router.get("/faqs", response_model=FaqList)
def list_faqs(
    session: SessionDep,
    _user: StaffUser,
    q: Annotated[
        str, Query(max_length=200, description="Words in the id, questions, answer or keywords.")
    ] = "",
    status_: Annotated[FaqStatus | None, Query(alias="status")] = None,
    agency: Annotated[str, Query(max_length=200)] = "",
    category: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 20,
) -> FaqList:
    result = FaqStore(session).search(
        text=q, status=status_, agency=agency, category=category, page=page, per_page=per_page
    )
    items = [FaqPublic.model_validate(row) for row in result.items]
    return FaqList(items=items, total=result.total, page=result.page, per_page=result.per_page)


@router.get("/faqs/{faq_id}", response_model=FaqPublic)
def get_faq(faq_id: str, session: SessionDep, _user: StaffUser) -> FaqPublic:
    return FaqPublic.model_validate(_get(FaqStore(session), faq_id))


@router.post("/faqs", response_model=FaqPublic, status_code=status.HTTP_201_CREATED)
def create_faq(body: FaqCreate, session: SessionDep, user: StaffUser) -> FaqPublic:
    store = FaqStore(session)
    try:
        row = store.create(_record(body.model_dump()), actor=user.username)
    except FaqExists:
        raise HTTPException(status.HTTP_409_CONFLICT, f"an FAQ with id {body.id} exists") from None
    UserStore(session).audit(user.username, "faq.create", row.id, via="api", status=row.status)
    return FaqPublic.model_validate(row)


@router.patch("/faqs/{faq_id}", response_model=FaqPublic)
def update_faq(faq_id: str, body: FaqUpdate, session: SessionDep, user: StaffUser) -> FaqPublic:
    store = FaqStore(session)
    current = row_to_record(_get(store, faq_id))
    changes = body.model_dump(exclude_unset=True, exclude={"revision"})
    record = _record({**current.model_dump(), **changes})
    try:
        row = store.replace(record, actor=user.username, expected_revision=body.revision)
    except ConflictError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    UserStore(session).audit(user.username, "faq.update", row.id, via="api", revision=row.revision)
    return FaqPublic.model_validate(row)


def _set_status(
    faq_id: str, new: FaqStatus, session: SessionDep, actor: str, revision: int | None
) -> FaqPublic:
    store = FaqStore(session)
    _get(store, faq_id)
    try:
        row = store.set_status(faq_id, new, actor=actor, expected_revision=revision)
    except ConflictError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    action = "faq.publish" if new is FaqStatus.PUBLISHED else "faq.archive"
    UserStore(session).audit(actor, action, faq_id, via="api", revision=row.revision)
    return FaqPublic.model_validate(row)


@router.post("/faqs/{faq_id}/publish", response_model=FaqPublic)
def publish_faq(
    faq_id: str,
    session: SessionDep,
    user: StaffUser,
    revision: Annotated[int | None, Query(ge=1)] = None,
) -> FaqPublic:
    """Make the entry live: citizens are answered from it from the next knowledge-base version."""
    return _set_status(faq_id, FaqStatus.PUBLISHED, session, user.username, revision)


@router.post("/faqs/{faq_id}/archive", response_model=FaqPublic)
def archive_faq(
    faq_id: str,
    session: SessionDep,
    user: StaffUser,
    revision: Annotated[int | None, Query(ge=1)] = None,
) -> FaqPublic:
    """Withdraw the entry from answers, keeping it and its history."""
    return _set_status(faq_id, FaqStatus.ARCHIVED, session, user.username, revision)


@router.get("/faqs/{faq_id}/history", response_model=list[RevisionPublic])
def faq_history(faq_id: str, session: SessionDep, _user: StaffUser) -> list[RevisionPublic]:
    store = FaqStore(session)
    _get(store, faq_id)
    return [RevisionPublic.model_validate(row) for row in store.history(faq_id)]


@router.get("/version", response_model=KbVersion)
def kb_version(session: SessionDep, _user: StaffUser) -> KbVersion:
    return KbVersion(version=FaqStore(session).kb_version())
