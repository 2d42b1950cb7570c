"""The synonym list in the console: staff rules over the shipped list, tried, published, rolled back.

A published version reaches every live index within seconds (it adds a knowledge-base
version; ``LiveIndex`` rebuilds its normalisation when the synonym version moved).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.console.pages import redirect, render
from bot.deps import StaffUser, database_of
from bot.security.auth import ConsoleUser
from bot.store.synonyms import SynonymInputError, SynonymStore, merge_synonyms
from bot.store.users import UserStore
from knowledge.normalize import fold, for_retrieval
from knowledge.synonyms import default_synonyms

__all__ = ["router"]

router = APIRouter(tags=["console"], include_in_schema=False)
SHIPPED_SHOWN = 300


def _page(
    request: Request, user: ConsoleUser, *, q: str = "", test: str = "", error: str = "", code: int = 200
) -> HTMLResponse:
    with database_of(request).session() as session:
        store = SynonymStore(session)
        draft = store.draft()
        live = store.live()
        rules = [
            {
                "variant": r.variant,
                "canonical": r.canonical,
                "note": r.note,
                "actor": r.actor,
                "at": r.updated_at,
            }
            for r in store.rules()
        ]
        versions = [
            {"id": v.id, "at": v.at, "actor": v.actor, "note": v.note, "count": len(v.rules)}
            for v in store.versions()
        ]
    shipped = default_synonyms().rules
    needle = fold(q.strip())
    shown = [
        {"variant": v, "canonical": c, "overridden": v in draft}
        for v, c in sorted(shipped.items())
        if not needle or needle in v or needle in c
    ]
    tried: dict[str, str] | None = None
    if test.strip():
        tried = {
            "shipped": for_retrieval(test, default_synonyms().apply),
            "live": for_retrieval(test, merge_synonyms(live.rules).apply),
            "draft": for_retrieval(test, merge_synonyms(draft).apply),
        }
    return render(
        request,
        "console/kb_synonyms.html",
        user=user,
        rules=rules,
        versions=versions,
        live_version=live.version,
        unpublished=draft != live.rules,
        shipped=shown[:SHIPPED_SHOWN],
        shipped_total=len(shipped),
        shipped_matches=len(shown),
        q=q,
        test=test,
        tried=tried,
        error=error,
        status_code=code,
    )


@router.get("/console/kb/synonyms", response_class=HTMLResponse)
def synonyms_page(
    request: Request,
    user: StaffUser,
    q: Annotated[str, Query(max_length=50)] = "",
    test: Annotated[str, Query(max_length=500)] = "",
) -> HTMLResponse:
    return _page(request, user, q=q, test=test)


def _write(request: Request, user: ConsoleUser, action: Any, done: str) -> Response:
    try:
        with database_of(request).session() as session:
            result = action(SynonymStore(session), UserStore(session))
    except SynonymInputError as error:
        return _page(request, user, error=str(error), code=400)
    return redirect(request, "/console/kb/synonyms", done.format(result=result))


@router.post("/console/kb/synonyms", response_class=HTMLResponse)
async def set_rule(
    request: Request,
    user: StaffUser,
    variant: Annotated[str, Form(max_length=100)] = "",
    canonical: Annotated[str, Form(max_length=100)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    def action(store: SynonymStore, audit: UserStore) -> str:
        row = store.set_rule(variant, canonical, actor=user.username, note=note)
        audit.audit(user.username, "synonym.set", row.variant, canonical=row.canonical)
        return f"{row.variant} → {row.canonical or '（停用內建規則）'}"

    return await run_in_threadpool(_write, request, user, action, "已儲存規則 {result}；發布後才會生效。")


@router.post("/console/kb/synonyms/delete", response_class=HTMLResponse)
async def delete_rule(
    request: Request, user: StaffUser, variant: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    def action(store: SynonymStore, audit: UserStore) -> str:
        if store.delete_rule(variant):
            audit.audit(user.username, "synonym.delete", variant)
        return variant

    return await run_in_threadpool(_write, request, user, action, "已刪除規則 {result}；發布後才會生效。")


@router.post("/console/kb/synonyms/publish", response_class=HTMLResponse)
async def publish(
    request: Request, user: StaffUser, note: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    def action(store: SynonymStore, audit: UserStore) -> int:
        version = store.publish(actor=user.username, note=note)
        audit.audit(user.username, "synonym.publish", f"v{version}", rules=len(store.draft()))
        return version

    return await run_in_threadpool(
        _write, request, user, action, "已發布第 {result} 版同義詞，機器人幾秒內就會使用新的規則。"
    )


@router.post("/console/kb/synonyms/rollback", response_class=HTMLResponse)
async def rollback(request: Request, user: StaffUser, version: Annotated[int, Form(ge=1)] = 0) -> Response:
    def action(store: SynonymStore, audit: UserStore) -> int:
        new = store.rollback(version, actor=user.username)
        audit.audit(user.username, "synonym.rollback", f"v{version}", published=new)
        return version

    return await run_in_threadpool(_write, request, user, action, "已回復到第 {result} 版同義詞並重新發布。")
