"""Learning from citizens in the console: suggested alternative questions, approved or not.

- ``GET /console/learned`` — every open suggestion (a phrasing enough distinct citizens
  confirmed for one entry) with its counts, examples, the entry's question and current answer,
  and a flag when approving it would take the top answer of another entry's phrasing; the
  conflicts (a phrasing confirmed for two entries); the approved and auto-approved phrasings,
  each of which can be rolled back.
- ``GET /console/learned/faq/{id}`` — the same for one entry.
- ``POST /console/learned/decide`` — approve or reject the ticked suggestions in one action;
  approval publishes them through the FAQ store (history, version, live within seconds).
- ``POST /console/learned/{decision}/rollback`` — take an approval back.

Staff and admins only. The logic lives in :mod:`bot.learning.suggestions`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.console.pages import NavItem, add_nav, redirect, render
from bot.deps import StaffUser, database_of, index_of, settings_of
from bot.learning.actions import ActionError
from bot.learning.suggestions import (
    AUTO,
    Suggestion,
    approve,
    conflicts,
    decisions,
    reject,
    roll_back,
    suggestions,
)
from bot.learning.takeover import Takeover, takeovers
from bot.security.auth import ConsoleUser
from bot.settings import CitizenLearningSettings, Settings
from bot.store.errors import ConflictError
from bot.store.models import FaqRow
from bot.store.users import Role

__all__ = ["install", "router"]

router = APIRouter(tags=["console"], include_in_schema=False)
SHOWN = 200
FLAG_CHECKED = 50  # suggestions checked against other entries per page (each asks the engine a few times)
CONFLICT = "題目在您操作時已被其他人修改，請重新整理後再試。"


def install(app: FastAPI) -> None:
    app.include_router(router)
    add_nav(app, NavItem("民眾教的問法", "/console/learned", (Role.STAFF,), order=16))


def _policy(request: Request) -> CitizenLearningSettings:
    settings: Settings = request.app.state.settings
    return settings.citizen_learning


def _entries(session: Session, faq_ids: set[str]) -> dict[str, FaqRow]:
    rows = (session.get(FaqRow, faq_id) for faq_id in faq_ids)
    return {row.id: row for row in rows if row is not None}


def _flags(request: Request, found: list[Suggestion]) -> dict[tuple[str, str], list[Takeover]]:
    def check(retriever: Any) -> dict[tuple[str, str], list[Takeover]]:
        return {(s.key, s.faq_id): takeovers(retriever, s.phrasing, s.faq_id) for s in found[:FLAG_CHECKED]}

    return index_of(request).reading(check)


def _page(
    request: Request, user: ConsoleUser, faq_id: str | None, errors: list[str] | None = None, code: int = 200
) -> HTMLResponse:
    policy = _policy(request)
    with database_of(request).session() as session:
        found = suggestions(session, min_citizens=policy.min_citizens, faq_id=faq_id)[:SHOWN]
        disputed = conflicts(session, min_citizens=policy.min_citizens, faq_id=faq_id)
        decided = decisions(session, faq_id=faq_id)[:SHOWN]
        entries = _entries(
            session,
            {s.faq_id for s in [*found, *disputed]}
            | {d.faq_id for d in decided}
            | ({faq_id} if faq_id else set()),
        )
        shown_entries = {
            key: {"id": row.id, "question": row.question, "answer": row.answer, "status": row.status}
            for key, row in entries.items()
        }
    flags = _flags(request, found)
    return render(
        request,
        "console/learned.html",
        user=user,
        faq_id=faq_id,
        entry=shown_entries.get(faq_id) if faq_id else None,
        suggestions=found,
        conflicts=disputed,
        decided=decided,
        entries=shown_entries,
        flags=flags,
        policy=policy,
        auto=AUTO,
        errors=errors or [],
        tz=settings_of(request).handoff.zone,
        status_code=code,
    )


@router.get("/console/learned", response_class=HTMLResponse)
def learned(request: Request, user: StaffUser) -> HTMLResponse:
    return _page(request, user, None)


@router.get("/console/learned/faq/{faq_id}", response_class=HTMLResponse)
def learned_for_entry(request: Request, faq_id: str, user: StaffUser) -> HTMLResponse:
    return _page(request, user, faq_id)


def _back(form: dict[str, list[str]]) -> tuple[str, str | None]:
    faq_id = (form.get("faq_id") or [""])[0]
    return ("/console/learned/faq/" + quote(faq_id, safe="") if faq_id else "/console/learned"), (
        faq_id or None
    )


def _item(value: str) -> tuple[str, str]:
    """A ticked suggestion, ``phrasing key|faq id`` (a key is letters and digits only)."""
    key, _, faq_id = value.partition("|")
    return key, faq_id


async def _form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


@router.post("/console/learned/decide", response_class=HTMLResponse)
async def decide(request: Request, user: StaffUser) -> Response:
    form = await _form(request)
    url, faq_id = _back(form)
    action = (form.get("action") or [""])[0]
    pairs = [_item(value) for value in form.get("item", []) if "|" in value]
    policy = _policy(request)

    def run() -> Response:
        if action not in {"approve", "reject"}:
            return _page(request, user, faq_id, ["請選擇「核准」或「不採用」。"], 400)
        try:
            with database_of(request).session() as session:
                if action == "approve":
                    done = approve(
                        session,
                        pairs,
                        actor=user.username,
                        min_citizens=policy.min_citizens,
                        allow_conflict="conflict" in form,
                    )
                else:
                    done = reject(session, pairs, actor=user.username, min_citizens=policy.min_citizens)
        except ActionError as error:
            return _page(request, user, faq_id, [str(error)], 400)
        except ConflictError:
            return _page(request, user, faq_id, [CONFLICT], 409)
        if action == "approve":
            index_of(request).refresh()  # this replica answers with them at once; others within a second
            return redirect(request, url, f"已核准 {len(done)} 個問法，已上線，幾秒內生效。")
        return redirect(request, url, f"已不採用 {len(done)} 個問法。")

    return await run_in_threadpool(run)


@router.post("/console/learned/{decision_id}/rollback", response_class=HTMLResponse)
async def rollback(request: Request, decision_id: int, user: StaffUser) -> Response:
    form = await _form(request)
    url, faq_id = _back(form)

    def run() -> Response:
        try:
            with database_of(request).session() as session:
                done = roll_back(session, decision_id, actor=user.username)
        except ActionError as error:
            return _page(request, user, faq_id, [str(error)], 400)
        except ConflictError:
            return _page(request, user, faq_id, [CONFLICT], 409)
        index_of(request).refresh()
        return redirect(request, url, f"已撤回「{done.phrasing}」（{done.faq_id}），幾秒內生效。")

    return await run_in_threadpool(run)
