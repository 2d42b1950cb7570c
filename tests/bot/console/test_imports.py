"""The console's import page goes the harvest's way (issue 22 item 4): a changed upstream file
never undoes what staff changed, the conflict is queued in 來源更新, the counts are exact, and
``harvest.upstream_changes = review`` holds every change as it does for a harvest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.store import Database
from bot.store.faqs import FaqStore, row_to_record
from bot.store.models import FaqReviewRow
from tests.bot.console.client import login_as
from tests.bot.console.conftest import closed_port
from tests.bot.upstream_files import FIRST, OURS, SECOND, Entry, file_bytes
from tests.conftest import app_settings
from tests.waiting import eventually


def _app(database_url: str, tmp_path: Path, **harvest: str) -> Iterator[TestClient]:
    rasa = {"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    settings = app_settings(database_url, tmp_path, rasa=rasa, harvest=harvest)
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        yield client


@pytest.fixture
def applying(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    yield from _app(database_url, tmp_path)


@pytest.fixture
def holding(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    yield from _app(database_url, tmp_path, upstream_changes="review")


def _db(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def _import(client: TestClient, fmt: str, entries: list[Entry]) -> tuple[str, dict[str, object]]:
    suffix = {"csv": "csv", "xlsx": "xlsx", "jsonl": "jsonl", "taipei-xml": "xml"}[fmt]
    response = client.post(
        "/console/kb/import",
        files={"file": (f"faq.{suffix}", file_bytes(fmt, entries))},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    job = str(response.headers["location"])
    job_id = job.rsplit("/", 1)[1]

    def finished() -> dict[str, object] | None:
        status = client.get(f"/console/api/kb/import/{job_id}").json()
        return dict(status) if status["finished"] else None

    status = eventually(finished, what=f"import job {job_id} to finish")
    assert status["status"] == "done", status
    return job, status


def _staff_rewrite_u1(client: TestClient) -> None:
    with _db(client).session() as session:
        store = FaqStore(session)
        store.replace(row_to_record(store.get("U-1")).model_copy(update={"answer": OURS}), actor="amy")


def _count(page: str, name: str) -> str:
    start = page.index(f'data-count="{name}">') + len(f'data-count="{name}">')
    return page[start : page.index("<", start)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl", "taipei-xml"])
def test_a_changed_file_from_the_console_keeps_the_override_and_queues_the_conflict(
    applying: TestClient, fmt: str
) -> None:
    login_as(applying, "staff", "amy")
    _import(applying, fmt, FIRST)
    _staff_rewrite_u1(applying)

    job, status = _import(applying, fmt, SECOND)

    assert status["message"] == (
        "共 4 列：新增 1、更新 1、未變更 1、合併 0、與同仁修改衝突 1、暫緩待審 0、未匯入 0；"
        "與既有題目相同的問題 0 題；1 題待「來源更新」審核，同仁改過的內容在審核前保持不變"
    )
    page = applying.get(job).text
    assert (_count(page, "conflicts"), _count(page, "held")) == ("1", "0")
    assert 'href="/console/kb/review"' in page
    with _db(applying).session() as session:
        store = FaqStore(session)
        assert (store.get("U-1").answer, store.get("U-2").answer) == (OURS, SECOND[1]["answer"])
        items = session.scalars(select(FaqReviewRow).where(FaqReviewRow.status == "open")).all()
        assert [(r.faq_id, r.conflicts, r.held) for r in items] == [("U-1", ["answer"], False)]
    queue = applying.get("/console/kb/review").text
    assert "U-1" in queue
    assert "U-2" not in queue


def test_the_console_holds_every_change_when_the_settings_say_review(holding: TestClient) -> None:
    login_as(holding, "staff", "amy")
    _import(holding, "csv", FIRST)
    _staff_rewrite_u1(holding)

    job, status = _import(holding, "csv", SECOND)

    assert str(status["message"]).startswith(
        "共 4 列：新增 1、更新 0、未變更 1、合併 0、與同仁修改衝突 0、暫緩待審 2、未匯入 0；"
    )
    page = holding.get(job).text
    assert (_count(page, "conflicts"), _count(page, "held")) == ("0", "2")
    with _db(holding).session() as session:
        store = FaqStore(session)
        assert (store.get("U-1").answer, store.get("U-2").answer) == (OURS, FIRST[1]["answer"])
        items = session.scalars(
            select(FaqReviewRow).where(FaqReviewRow.status == "open").order_by(FaqReviewRow.faq_id)
        ).all()
        assert [(r.faq_id, r.held) for r in items] == [("U-1", True), ("U-2", True)]
