"""The agent inbox: the takeover queue, the case queue, the case page, and live takeover.

Staff (and admins) only. The queue (``/console/cases``) lists conversations waiting for a
person and the cases to work, filtered by status, category, agency and overdue. A case page
shows the case, its history, the status change form (made against the case's revision, so a
concurrent change is refused, never lost) and the whole conversation with the takeover panel:
take the conversation from the bot, reply as a person on the citizen's channel, hand it back.

Every page works without scripts; ``handoff.js`` refreshes the transcript and the queue by
polling ``/console/api/...`` — and each poll is the agent's heartbeat: an agent counts as
present (for "is anybody there?") only while an inbox page is open.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.cases import CATEGORIES, TRANSITIONS, CaseStatus, InvalidTransition, category_by_code
from bot.cases.status import STATUS_LABELS
from bot.console.pages import NavItem, add_nav, redirect, render
from bot.deps import StaffUser, database_of, settings_of
from bot.handoff.hours import availability
from bot.handoff.notifications import NOTIFIED_STATUSES, change_case_status
from bot.handoff.presence import presence_for
from bot.handoff.takeover import Unreachable, agent_reply, release, take
from bot.handoff.transcript import Line, transcript
from bot.messages import CHANNEL_NAMES
from bot.security.auth import ConsoleUser
from bot.settings import HandoffSettings
from bot.store import Database
from bot.store.case_queue import OPEN_STATUSES, CaseQuery, find_cases
from bot.store.cases import CaseNotFound, CaseStore
from bot.store.conversations import ConversationStore
from bot.store.errors import ConflictError
from bot.store.handoff import HandoffConflict, HandoffState, HandoffStore, NotHeld
from bot.store.models import CaseRow, HandoffRow, utcnow
from bot.store.outbox import NotificationStore
from bot.store.users import Role, UserStore

__all__ = ["install", "router"]

router = APIRouter(tags=["console"], include_in_schema=False)
_CONVERSATION = r"^[A-Za-z0-9_\-:.]{1,100}$"
_BACK = re.compile(r"^/console/(cases|conversations)/[A-Za-z0-9_\-:.]{1,100}$")
STATUS_NAMES = {s.value: label for s, label in STATUS_LABELS.items()}
CONFLICT_TEXT = "這個案件在您檢視時已被其他人更新（目前為第 {revision} 版），為避免蓋掉別人的修改，請看過最新狀態後再修改。"


VIEW_HELPERS: dict[str, Any] = {
    "open_statuses": {s.value for s in OPEN_STATUSES},
    "category_names": {c.code: c.name for c in CATEGORIES},
    "channels": CHANNEL_NAMES,
}


def install(app: FastAPI) -> None:
    """Add the inbox pages and their navigation link (after ``bot.console.install``)."""
    app.include_router(router)
    add_nav(app, NavItem("案件收件匣", "/console/cases", (Role.STAFF,), order=20))


def _wake_delivery(request: Request) -> None:
    delivery = getattr(request.app.state, "delivery", None)
    if delivery is not None:
        delivery.wake()


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _waited(since: datetime, now: datetime) -> str:
    minutes = int((now - since).total_seconds() // 60)
    return "不到 1 分鐘" if minutes < 1 else f"{minutes} 分鐘"


def _handoff_view(row: HandoffRow | None, user: ConsoleUser, now: datetime) -> dict[str, Any]:
    if row is None:
        return {"state": "bot", "agent": "", "mine": False, "waited": ""}
    since = row.taken_at if row.state == HandoffState.HELD.value and row.taken_at else row.requested_at
    return {
        "state": row.state,
        "agent": row.agent,
        "mine": row.state == HandoffState.HELD.value and row.agent == user.username,
        "waited": _waited(since, now),
        "reason": row.reason,
    }


def _queue_item(row: HandoffRow, now: datetime) -> dict[str, Any]:
    return {
        "conversation_id": row.conversation_id,
        "channel": CHANNEL_NAMES.get(row.channel, row.channel),
        "waited": _waited(row.taken_at or row.requested_at, now),
        "reason": row.reason,
        "agent": row.agent,
    }


# --- the queue -----------------------------------------------------------------------------


def _queue_context(
    session: Session, user: ConsoleUser, settings: HandoffSettings, query: CaseQuery
) -> dict[str, Any]:
    now = utcnow()
    presence = presence_for(session, settings)
    presence.heartbeat(user.username, now=now)
    handoffs = HandoffStore(session)
    return {
        "cases": find_cases(session, query, now=now),
        "now": now,
        "queued": [_queue_item(r, now) for r in handoffs.queued()],
        "held": [_queue_item(r, now) for r in handoffs.held()],
        "availability": availability(session, settings, now=now),
        "available": presence.is_available(user.username),
    }


@router.get("/console/cases", response_class=HTMLResponse)
async def case_queue(
    request: Request,
    user: StaffUser,
    status_filter: Annotated[str, Query(alias="status", max_length=20)] = "open",
    category: Annotated[str, Query(max_length=40)] = "",
    agency: Annotated[str, Query(max_length=100)] = "",
    overdue: Annotated[str, Query(max_length=3)] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> HTMLResponse:
    errors = []
    if status_filter not in {"open", "", *STATUS_NAMES}:
        errors.append(f"沒有「{status_filter}」這種案件狀態")
        status_filter = "open"
    if category:
        try:
            category_by_code(category)
        except KeyError:
            errors.append(f"沒有「{category}」這個案件類別")
            category = ""
    query = CaseQuery(status_filter, category, agency, overdue == "yes", page=page)

    def load() -> dict[str, Any]:
        with database_of(request).session() as session:
            return _queue_context(session, user, settings_of(request).handoff, query)

    context = await run_in_threadpool(load)
    filters = {"status": status_filter, "category": category, "agency": agency, "overdue": overdue == "yes"}
    kept = {
        k: v
        for k, v in {
            "status": status_filter,
            "category": category,
            "agency": agency,
            "overdue": overdue,
        }.items()
        if v
    }
    return render(
        request,
        "console/cases/queue.html",
        user=user,
        status_code=status.HTTP_400_BAD_REQUEST if errors else status.HTTP_200_OK,
        errors=errors,
        filters=filters,
        query=urlencode(kept),
        statuses=STATUS_NAMES,
        categories=CATEGORIES,
        agencies=sorted({c.agency for c in CATEGORIES}),
        **VIEW_HELPERS,
        **context,
    )


@router.post("/console/cases/presence")
async def set_presence(
    request: Request, user: StaffUser, available: Annotated[str, Form(max_length=3)] = "yes"
) -> Response:
    def save() -> None:
        with database_of(request).session() as session:
            presence_for(session, settings_of(request).handoff).set_available(
                user.username, available == "yes"
            )
            UserStore(session).audit(
                user.username, "handoff.available" if available == "yes" else "handoff.paused"
            )

    await run_in_threadpool(save)
    return redirect(
        request, "/console/cases", "您現在可以接手對話" if available == "yes" else "已暫停接手新對話"
    )


@router.get("/console/api/inbox")
async def inbox_json(request: Request, user: StaffUser) -> JSONResponse:
    """The takeover queue for the queue page's refresh (and the agent's heartbeat)."""

    def load() -> dict[str, Any]:
        now, settings = utcnow(), settings_of(request).handoff
        with database_of(request).session() as session:
            presence_for(session, settings).heartbeat(user.username, now=now)
            handoffs = HandoffStore(session)
            found = availability(session, settings, now=now)
            return {
                "queued": [_queue_item(r, now) for r in handoffs.queued()],
                "held": [_queue_item(r, now) for r in handoffs.held()],
                "agents": found.agents,
                "in_hours": found.in_hours,
            }

    return JSONResponse(await run_in_threadpool(load), headers={"Cache-Control": "no-store"})


# --- a case --------------------------------------------------------------------------------


def _conversation_context(
    session: Session, conversation_id: str, user: ConsoleUser, settings: HandoffSettings
) -> dict[str, Any]:
    now = utcnow()
    presence_for(session, settings).heartbeat(user.username, now=now)
    if not conversation_id:
        return {"conversation_id": "", "lines": [], "handoff": None, "reachable": False}
    address = ConversationStore(session).address(conversation_id)
    return {
        "conversation_id": conversation_id,
        "lines": transcript(session, conversation_id),
        "handoff": _handoff_view(HandoffStore(session).open_for(conversation_id), user, now),
        "reachable": address is not None,
        "channel": CHANNEL_NAMES.get(address.channel, address.channel) if address else "",
    }


def _case_context(
    session: Session, number: str, user: ConsoleUser, settings: HandoffSettings
) -> dict[str, Any]:
    store = CaseStore(session)
    case = store.get(number)
    now = utcnow()
    return {
        "case": case,
        "category": category_by_code(case.category),
        "events": store.events(number),
        "next_statuses": sorted(TRANSITIONS[CaseStatus(case.status)], key=list(CaseStatus).index),
        "notified": {s.value for s in NOTIFIED_STATUSES},
        "overdue": case.status in {s.value for s in OPEN_STATUSES} and case.due_at < now,
        "notices": NotificationStore(session).for_case(case.number),
        **_conversation_context(session, case.conversation_id, user, settings),
    }


@router.get("/console/cases/{number}", response_class=HTMLResponse)
async def case_page(request: Request, user: StaffUser, number: str) -> HTMLResponse:
    return await _case_page(request, user, number)


async def _case_page(
    request: Request,
    user: ConsoleUser,
    number: str,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
    code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    def load() -> dict[str, Any] | None:
        with database_of(request).session() as session:
            try:
                return _case_context(session, number, user, settings_of(request).handoff)
            except CaseNotFound:
                return None

    context = await run_in_threadpool(load)
    if context is None:
        return render(
            request,
            "console/cases/missing.html",
            user=user,
            status_code=status.HTTP_404_NOT_FOUND,
            what=f"案件 {number}",
        )
    return render(
        request,
        "console/cases/case.html",
        user=user,
        status_code=code,
        errors=errors or [],
        form=form or {},
        statuses=STATUS_NAMES,
        **VIEW_HELPERS,
        **context,
    )


@router.post("/console/cases/{number}/status", response_class=HTMLResponse)
async def change_status(
    request: Request,
    user: StaffUser,
    number: str,
    new_status: Annotated[str, Form(alias="status", max_length=20)] = "",
    revision: Annotated[int, Form(ge=1)] = 0,
    note: Annotated[str, Form(max_length=1000)] = "",
    public_note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    form = {"status": new_status, "note": note, "public_note": public_note}
    try:
        target = CaseStatus(new_status)
    except ValueError:
        return await _case_page(
            request, user, number, errors=["請選擇新的狀態"], form=form, code=status.HTTP_400_BAD_REQUEST
        )

    def save() -> CaseRow:
        with database_of(request).session() as session:
            row = change_case_status(
                session,
                number,
                target,
                actor=user.username,
                note=note.strip(),
                public_note=public_note.strip(),
                expected_revision=revision or None,
            )
            UserStore(session).audit(
                user.username, "case.status", row.number, to=target.value, note=note.strip()
            )
            return row

    try:
        row = await run_in_threadpool(save)
    except CaseNotFound:
        return await _case_page(request, user, number)
    except InvalidTransition as error:
        return await _case_page(request, user, number, errors=[f"無法變更狀態：{error}"], form=form, code=400)
    except ConflictError:
        current = await run_in_threadpool(_revision_of, database_of(request), number)
        text = CONFLICT_TEXT.format(revision=current)
        return await _case_page(
            request, user, number, errors=[text], form=form, code=status.HTTP_409_CONFLICT
        )
    except ValueError as error:
        return await _case_page(request, user, number, errors=[str(error)], form=form, code=400)
    told = "，已通知民眾" if target in NOTIFIED_STATUSES and row.conversation_id else ""
    _wake_delivery(request)
    return redirect(
        request, f"/console/cases/{row.number}", f"案件已改為「{STATUS_NAMES[target.value]}」{told}"
    )


def _revision_of(database: Database, number: str) -> int:
    with database.session() as session:
        return CaseStore(session).get(number).revision


# --- a conversation and its takeover -------------------------------------------------------


@router.get("/console/conversations/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(request: Request, user: StaffUser, conversation_id: str) -> HTMLResponse:
    def load() -> dict[str, Any] | None:
        with database_of(request).session() as session:
            context = _conversation_context(session, conversation_id, user, settings_of(request).handoff)
            if not context["lines"] and not context["reachable"]:
                return None
            context["cases"] = find_cases(
                session, CaseQuery(status="", conversation_id=conversation_id)
            ).items
            return context

    context = await run_in_threadpool(load) if re.match(_CONVERSATION, conversation_id) else None
    if context is None:
        return render(request, "console/cases/missing.html", user=user, status_code=404, what="這段對話")
    return render(
        request,
        "console/cases/conversation.html",
        user=user,
        statuses=STATUS_NAMES,
        **VIEW_HELPERS,
        **context,
    )


@router.get("/console/api/conversations/{conversation_id}")
async def conversation_json(request: Request, user: StaffUser, conversation_id: str) -> JSONResponse:
    """The transcript and takeover state, for the page's refresh (and the agent's heartbeat)."""

    def load() -> dict[str, Any]:
        with database_of(request).session() as session:
            context = _conversation_context(session, conversation_id, user, settings_of(request).handoff)
        lines: list[Line] = context["lines"]
        return {
            "conversation_id": conversation_id,
            "handoff": context["handoff"],
            "reachable": context["reachable"],
            "lines": [line.as_json() for line in lines],
        }

    if not re.match(_CONVERSATION, conversation_id):
        return JSONResponse({"detail": "not a conversation id"}, status.HTTP_404_NOT_FOUND)
    return JSONResponse(await run_in_threadpool(load), headers={"Cache-Control": "no-store"})


def _back(back: str, conversation_id: str) -> str:
    return back if _BACK.match(back) else f"/console/conversations/{conversation_id}"


def _answer(request: Request, back: str, message: str, code: int = 200) -> Response:
    """JSON for the page's script, else a redirect with a flash message (POST-redirect-GET)."""
    if _wants_json(request):
        body = {"ok": code < 400, "detail" if code >= 400 else "message": message}
        return JSONResponse(body, code, headers={"Cache-Control": "no-store"})
    return redirect(request, back, message)


@router.post("/console/conversations/{conversation_id}/take")
async def take_conversation(
    request: Request, user: StaffUser, conversation_id: str, back: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    back = _back(back, conversation_id)

    def save() -> None:
        with database_of(request).session() as session:
            take(session, conversation_id, user.username, settings=settings_of(request).handoff)
            UserStore(session).audit(user.username, "handoff.take", conversation_id)

    try:
        await run_in_threadpool(save)
    except HandoffConflict as error:
        who = f"{error.agent} " if error.agent else "另一位專員"
        return _answer(request, back, f"無法接手：{who}已在和民眾對話", status.HTTP_409_CONFLICT)
    except Unreachable:
        return _answer(request, back, "無法接手：這位民眾沒有可以送達的聊天管道", status.HTTP_400_BAD_REQUEST)
    _wake_delivery(request)
    return _answer(request, back, "已接手對話，民眾已收到專人加入的通知")


@router.post("/console/conversations/{conversation_id}/reply")
async def reply_to_citizen(
    request: Request,
    user: StaffUser,
    conversation_id: str,
    text: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    back = _back(back, conversation_id)

    def save() -> None:
        with database_of(request).session() as session:
            agent_reply(session, conversation_id, user.username, text)
            presence_for(session, settings_of(request).handoff).heartbeat(user.username)

    try:
        await run_in_threadpool(save)
    except NotHeld:
        return _answer(request, back, "無法送出：您沒有接手這段對話（請先接手）", status.HTTP_409_CONFLICT)
    except ValueError as error:
        reason = "內容是空的" if "empty" in str(error) else "內容超過 1000 字"
        return _answer(request, back, f"無法送出：{reason}", status.HTTP_400_BAD_REQUEST)
    _wake_delivery(request)
    return _answer(request, back, "已送出")


@router.post("/console/conversations/{conversation_id}/release")
async def release_conversation(
    request: Request, user: StaffUser, conversation_id: str, back: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    back = _back(back, conversation_id)

    def save() -> None:
        with database_of(request).session() as session:
            release(session, conversation_id, user.username)
            UserStore(session).audit(user.username, "handoff.release", conversation_id)

    try:
        await run_in_threadpool(save)
    except NotHeld:
        return _answer(request, back, "您沒有接手這段對話，無需交還", status.HTTP_409_CONFLICT)
    _wake_delivery(request)
    return _answer(request, back, "已交還智慧客服，民眾已收到通知")
