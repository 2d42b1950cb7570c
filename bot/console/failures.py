"""Learning from failure in the console: the queue of failed questions, a cluster, and "test the bot".

- ``GET /console/failures`` — clusters of the questions the bot abstained on, had to clarify or
  answered to a citizen's "did not help", for a period (Asia/Taipei dates), channel and reason.
- ``GET /console/failures/{id}`` — one cluster: its phrasings, what the bot does with it today,
  and the actions: add chosen phrasings as alternative questions of an FAQ (found by search),
  open a new FAQ draft from it, or dismiss it. Every action is audited and resolves the cluster.
- ``GET /console/test-bot`` — the live index's decision, evidence and candidates for any
  question; nothing is logged as a citizen's turn.

Staff and admins only. The clustering lives in :mod:`bot.learning`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.console.pages import NavItem, add_nav, redirect, render
from bot.deps import StaffUser, database_of, index_of, settings_of
from bot.learning import REASONS, FailureCluster, QueueCache, QueueResult
from bot.learning.actions import ActionError, Picked, add_alternatives, dismiss, open_draft
from bot.learning.resolutions import ResolutionStore
from bot.messages import CHANNEL_NAMES
from bot.security.auth import ConsoleUser
from bot.settings import Settings
from bot.store.errors import ConflictError
from bot.store.faqs import FaqNotFound, FaqStore
from bot.store.users import Role
from knowledge.faq import FaqStatus
from knowledge.retrieval_types import Decision

__all__ = ["install", "router"]

router = APIRouter(tags=["console"], include_in_schema=False)
TAIPEI = ZoneInfo("Asia/Taipei")
REASON_NAMES = {"abstain": "找不到答案", "clarify": "需要民眾選擇", "negative": "民眾說沒幫助"}
ACTION_NAMES = {"alternatives": "加入其他問法", "draft": "新增草稿", "dismiss": "略過"}
DECISION_NAMES = {"answer": "直接回答", "clarify": "請民眾選擇（您是不是要問）", "abstain": "找不到可靠答案"}
SHOWN_CLUSTERS = 100
SHOWN_PHRASINGS = 60
COMPARED = 3  # candidates shown side by side on a cluster's page
COMPARED_PHRASINGS = 4  # alternative questions shown for each
CONFLICT = "這一題在您操作時已被其他人修改，為避免覆蓋別人的修改，請重新選擇後再送出。"


def install(app: FastAPI) -> None:
    """Add the pages, their navigation links and the queue cache (after ``bot.console.install``)."""
    settings: Settings = app.state.settings
    app.state.failure_queue = QueueCache(max_age_seconds=settings.learning.cache_seconds)
    app.include_router(router)
    add_nav(app, NavItem("未答問題", "/console/failures", (Role.STAFF,), order=14))
    add_nav(app, NavItem("測試機器人", "/console/test-bot", (Role.STAFF,), order=15))


def _cache(request: Request) -> QueueCache:
    cache: QueueCache = request.app.state.failure_queue
    return cache


# --- the period and filters ------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    since: date
    until: date  # inclusive
    channel: str
    reason: str

    @property
    def window(self) -> tuple[datetime, datetime]:
        """``[since 00:00, the day after until 00:00)`` in Taipei, as UTC instants."""
        start = datetime.combine(self.since, time(), TAIPEI).astimezone(UTC)
        end = datetime.combine(self.until + timedelta(days=1), time(), TAIPEI).astimezone(UTC)
        return start, end

    @property
    def query(self) -> str:
        values = {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "channel": self.channel,
            "reason": self.reason,
        }
        return urlencode({k: v for k, v in values.items() if v})


def _filters(
    request: Request, since: str, until: str, channel: str, reason: str
) -> tuple[Filters, list[str]]:
    """The filters asked for; a bad value is named and replaced by its default."""
    errors: list[str] = []
    today = datetime.now(TAIPEI).date()
    days = settings_of(request).learning.default_days

    def day(value: str, default: date, name: str) -> date:
        if not value:
            return default
        try:
            return date.fromisoformat(value)
        except ValueError:
            errors.append(f"{name}「{value}」不是日期（請用 YYYY-MM-DD），已改用預設值。")
            return default

    end = day(until, today, "結束日期")
    start = day(since, end - timedelta(days=days - 1), "開始日期")
    if start > end:
        errors.append("開始日期晚於結束日期，已對調。")
        start, end = end, start
    if (end - start).days > 366:
        errors.append("期間最長一年，已從結束日期往前算一年。")
        start = end - timedelta(days=365)
    if channel and channel not in CHANNEL_NAMES:
        errors.append(f"沒有「{channel}」這個管道，已顯示全部管道。")
        channel = ""
    if reason and reason not in REASONS:
        errors.append(f"沒有「{reason}」這個原因，已顯示全部原因。")
        reason = ""
    return Filters(start, end, channel, reason), errors


FilterParams = tuple[str, str, str, str]


def _params(
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
    channel: Annotated[str, Query(max_length=20)] = "",
    reason: Annotated[str, Query(max_length=20)] = "",
) -> FilterParams:
    return since, until, channel, reason


Params = Annotated[FilterParams, Depends(_params)]


def _queue(request: Request, filters: Filters) -> QueueResult:
    learning = settings_of(request).learning
    start, end = filters.window
    with database_of(request).session() as session:
        return _cache(request).load(
            session,
            start,
            end,
            channel=filters.channel,
            reason=filters.reason,
            threshold=learning.cluster_threshold,
            max_questions=learning.max_questions,
        )


def _questions(request: Request, faq_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Question, status and revision of the FAQs named (the ones that exist)."""
    out: dict[str, dict[str, Any]] = {}
    with database_of(request).session() as session:
        store = FaqStore(session)
        for faq_id in dict.fromkeys(f for f in faq_ids if f):
            try:
                row = store.get(faq_id)
            except FaqNotFound:
                continue
            out[faq_id] = {
                "id": row.id,
                "question": row.question,
                "status": row.status,
                "revision": row.revision,
                "alt_questions": list(row.alt_questions or [])[:COMPARED_PHRASINGS],
                "answer": row.answer,
                "agency": row.agency,
            }
    return out


# --- the queue -------------------------------------------------------------------------------


@router.get("/console/failures", response_class=HTMLResponse)
def failures(request: Request, user: StaffUser, params: Params) -> HTMLResponse:
    filters, errors = _filters(request, *params)
    result = _queue(request, filters)
    shown = result.clusters[:SHOWN_CLUSTERS]
    with database_of(request).session() as session:
        recent = ResolutionStore(session).recent(10)
    faqs = _questions(request, [c.suggested_faq for c in shown] + [r.faq_id for r in recent])
    return render(
        request,
        "console/failures.html",
        user=user,
        filters=filters,
        errors=errors,
        result=result,
        clusters=shown,
        faqs=faqs,
        recent=recent,
        reasons=REASON_NAMES,
        channels=CHANNEL_NAMES,
        actions=ACTION_NAMES,
        shown_max=SHOWN_CLUSTERS,
        tz=TAIPEI,
    )


# --- one cluster -----------------------------------------------------------------------------


def _preselected(decision: Decision, least_confidence: float) -> str:
    """The FAQ to tick in advance: the engine's best for the cluster's phrasing, only when it is sure.

    Below ``learning.preselect_confidence`` (fitted with ``python -m bench.learning --engine``)
    nothing is ticked: staff compare the candidates side by side and choose, instead of
    confirming a guess (the hotline's hours once came preselected with overtime pay).
    """
    if decision.kind == "abstain" or decision.best is None or decision.confidence < least_confidence:
        return ""
    return decision.best.faq_id


def _find(result: QueueResult, cluster_id: str) -> FailureCluster | None:
    return next((c for c in result.clusters if c.id == cluster_id), None)


def _cluster_page(
    request: Request,
    user: ConsoleUser,
    cluster_id: str,
    filters: Filters,
    *,
    faq_q: str = "",
    errors: list[str] | None = None,
    code: int = 200,
) -> HTMLResponse:
    cluster = _find(_queue(request, filters), cluster_id)
    if cluster is None:
        return render(
            request,
            "console/failure_cluster.html",
            user=user,
            cluster=None,
            filters=filters,
            errors=errors or [],
            status_code=status.HTTP_404_NOT_FOUND,
        )
    decision, weighed = index_of(request).inspect(cluster.label)
    bot_ids = [c.faq_id for c in weighed[:5]]
    preselected = _preselected(decision, settings_of(request).learning.preselect_confidence)
    found: list[str] = []
    if faq_q.strip():
        with database_of(request).session() as session:
            page = FaqStore(session).search(text=faq_q.strip(), per_page=15)
            found = [row.id for row in page.items if row.status != FaqStatus.ARCHIVED.value]
    suggested = [cluster.suggested_faq] if cluster.suggested_faq else []
    choices = list(dict.fromkeys([*([preselected] if preselected else []), *found, *bot_ids, *suggested]))
    compared = list(dict.fromkeys([*bot_ids[:COMPARED], *suggested]))
    faqs = _questions(request, choices + list(cluster.picked))
    return render(
        request,
        "console/failure_cluster.html",
        user=user,
        cluster=cluster,
        phrasings=cluster.phrasings[:SHOWN_PHRASINGS],
        filters=filters,
        errors=errors or [],
        decision=decision.kind,
        decision_names=DECISION_NAMES,
        weighed=[(c, faqs.get(c.faq_id)) for c in weighed[:5]],
        choices=[faqs[f] for f in choices if f in faqs],
        default_choice=(found[0] if found else preselected),
        preselected=preselected,
        confidence=decision.confidence,
        compared=[faqs[f] for f in compared if f in faqs],
        scores={c.faq_id: c.score for c in weighed},
        found=found,
        searched=bool(faq_q.strip()),
        faq_q=faq_q,
        faqs=faqs,
        reasons=REASON_NAMES,
        channels=CHANNEL_NAMES,
        tz=TAIPEI,
        status_code=code,
    )


@router.get("/console/failures/{cluster_id}", response_class=HTMLResponse)
def failure_cluster(
    request: Request,
    cluster_id: str,
    user: StaffUser,
    params: Params,
    faq_q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    filters, errors = _filters(request, *params)
    return _cluster_page(request, user, cluster_id, filters, faq_q=faq_q, errors=errors)


async def _form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def _one(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0]


def _posted_filters(request: Request, form: dict[str, list[str]]) -> Filters:
    filters, _ = _filters(
        request, _one(form, "since"), _one(form, "until"), _one(form, "channel"), _one(form, "reason")
    )
    return filters


def _picked(form: dict[str, list[str]]) -> list[Picked]:
    out = []
    for index in form.get("pick", []):
        key, text = _one(form, f"key-{index}"), _one(form, f"text-{index}")
        if key:
            out.append(Picked(key, text))
    return out


def _count(form: dict[str, list[str]]) -> int:
    value = _one(form, "questions")
    return int(value) if value.isdigit() else 0


def _queue_url(filters: Filters) -> str:
    return "/console/failures" + (f"?{filters.query}" if filters.query else "")


@router.post("/console/failures/{cluster_id}/alternatives", response_class=HTMLResponse)
async def failure_alternatives(request: Request, cluster_id: str, user: StaffUser) -> Response:
    form = await _form(request)
    filters = _posted_filters(request, form)
    faq_id = _one(form, "faq_id").strip()
    revision = _one(form, f"revision-{faq_id}")

    def run() -> Response:
        if not faq_id:
            return _cluster_page(
                request, user, cluster_id, filters, errors=["請選擇要加入的題目。"], code=400
            )
        try:
            with database_of(request).session() as session:
                done = add_alternatives(
                    session,
                    faq_id=faq_id,
                    picked=_picked(form),
                    actor=user.username,
                    expected_revision=int(revision) if revision.isdigit() else None,
                    label=_one(form, "label"),
                    questions=_count(form),
                )
        except ActionError as error:
            return _cluster_page(request, user, cluster_id, filters, errors=[str(error)], code=400)
        except FaqNotFound:
            return _cluster_page(
                request, user, cluster_id, filters, errors=[f"找不到題目 {faq_id}。"], code=404
            )
        except ConflictError:
            return _cluster_page(request, user, cluster_id, filters, errors=[CONFLICT], code=409)
        if done.published:
            index_of(request).refresh()  # this replica answers with it at once; others within a second
        live = "已上線，幾秒內生效" if done.published else "這一題尚未發布，發布後才會生效"
        message = f"已將 {len(done.added)} 個問法加入 {faq_id} 的其他問法（{live}）"
        if done.present:
            message += f"；另有 {len(done.present)} 個原本就有"
        return redirect(request, _queue_url(filters), message + "。")

    return await run_in_threadpool(run)


@router.post("/console/failures/{cluster_id}/dismiss", response_class=HTMLResponse)
async def failure_dismiss(request: Request, cluster_id: str, user: StaffUser) -> Response:
    form = await _form(request)
    filters = _posted_filters(request, form)
    keys = form.get("key", [])

    def run() -> Response:
        if not keys:
            return _cluster_page(request, user, cluster_id, filters, errors=["沒有可略過的問法。"], code=400)
        with database_of(request).session() as session:
            dismiss(
                session,
                keys=keys,
                actor=user.username,
                note=_one(form, "note"),
                label=_one(form, "label"),
                questions=_count(form),
            )
        return redirect(request, _queue_url(filters), "已略過這一群問題。")

    return await run_in_threadpool(run)


# --- a new FAQ draft from a cluster ----------------------------------------------------------


def _draft_page(
    request: Request,
    user: ConsoleUser,
    cluster: FailureCluster | None,
    filters: Filters,
    values: dict[str, str],
    *,
    errors: list[str] | None = None,
    code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/failure_draft.html",
        user=user,
        cluster=cluster,
        filters=filters,
        values=values,
        errors=errors or [],
        status_code=code,
    )


@router.get("/console/failures/{cluster_id}/draft", response_class=HTMLResponse)
def failure_draft(request: Request, cluster_id: str, user: StaffUser, params: Params) -> HTMLResponse:
    filters, errors = _filters(request, *params)
    cluster = _find(_queue(request, filters), cluster_id)
    if cluster is None:
        return _draft_page(request, user, None, filters, {}, errors=errors, code=status.HTTP_404_NOT_FOUND)
    usable = [p.text for p in cluster.phrasings if not p.redacted]
    question = usable[0] if usable else ""
    agency = category = ""
    if cluster.suggested_faq:
        with database_of(request).session() as session:
            try:
                row = FaqStore(session).get(cluster.suggested_faq)
                agency, category = row.agency, row.category
            except FaqNotFound:
                pass
    values = {
        "id": "NEW-" + datetime.now(TAIPEI).strftime("%Y%m%d") + "-" + cluster.id[:6],
        "question": question,
        "alt_questions": "\n".join(usable[1:SHOWN_PHRASINGS]),
        "answer": "",
        "agency": agency,
        "category": category,
    }
    return _draft_page(request, user, cluster, filters, values, errors=errors)


@router.post("/console/failures/{cluster_id}/draft", response_class=HTMLResponse)
async def failure_draft_create(request: Request, cluster_id: str, user: StaffUser) -> Response:
    form = await _form(request)
    filters = _posted_filters(request, form)
    values = {
        name: _one(form, name) for name in ("id", "question", "alt_questions", "answer", "agency", "category")
    }

    def run() -> Response:
        cluster = _find(_queue(request, filters), cluster_id)
        if cluster is None:
            return _draft_page(request, user, None, filters, values, code=status.HTTP_404_NOT_FOUND)
        try:
            with database_of(request).session() as session:
                open_draft(
                    session,
                    faq_id=values["id"],
                    question=values["question"],
                    answer=values["answer"],
                    alt_questions=[
                        line.strip() for line in values["alt_questions"].splitlines() if line.strip()
                    ],
                    keys=cluster.keys,
                    actor=user.username,
                    agency=values["agency"],
                    category=values["category"],
                    label=cluster.label,
                    questions=cluster.count,
                )
        except ActionError as error:
            return _draft_page(request, user, cluster, filters, values, errors=[str(error)], code=400)
        faq_id = values["id"].strip()
        return redirect(
            request,
            f"/console/kb/faq/{quote(faq_id)}",
            f"已新增草稿 {faq_id}（尚未發布），請確認答案後發布。",
        )

    return await run_in_threadpool(run)


# --- test the bot ----------------------------------------------------------------------------


@router.get("/console/test-bot", response_class=HTMLResponse)
def try_the_bot(
    request: Request, user: StaffUser, q: Annotated[str, Query(max_length=1000)] = ""
) -> HTMLResponse:
    """The live decision on ``q`` with its evidence and candidates (not logged as a citizen's turn)."""
    index = index_of(request)
    result: dict[str, Any] | None = None
    if q.strip():
        decision, weighed = index.inspect(q)
        config = index.retriever.config
        rows = []
        offered = {c.faq_id for c in decision.candidates}
        for candidate in weighed:
            record = index.get(candidate.faq_id)
            rows.append(
                {
                    "candidate": candidate,
                    "question": record.question if record else "",
                    "offered": candidate.faq_id in offered,
                }
            )
        result = {
            "decision": decision.kind,
            "confidence": decision.confidence if decision.kind != "abstain" else config.confidence(weighed),
            "reason": decision.reason,
            "evidence": config.evidence(weighed) if weighed else None,
            "abstain_below": config.abstain_below,
            "answer_confidence": config.answer_confidence,
            "rows": rows,
        }
    return render(
        request,
        "console/test_bot.html",
        user=user,
        q=q,
        result=result,
        decision_names=DECISION_NAMES,
        kb_version=index.version,
    )
