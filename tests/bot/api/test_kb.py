from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.store.models import AuditRow
from tests.bot.console.client import login_as

NEW = {
    "id": "N-1",
    "question": "路燈不亮要找誰？",
    "answer": "可撥打1999報修，或使用線上通報。",
    "alt_questions": ["路燈壞了", "路燈一閃一閃"],
    "agency": "工務局",
    "category": "報案與派工",
}


@pytest.fixture(autouse=True)
def _logged_in(client: TestClient) -> None:
    """The knowledge-base API is for logged-in staff (see tests/bot/console for who may call it)."""
    login_as(client, "staff", "staff-1")


def _create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/kb/faqs", json={**NEW, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_then_get_list_and_search(client: TestClient) -> None:
    created = _create(client)
    assert (created["status"], created["revision"]) == ("draft", 1)
    assert client.get("/api/kb/faqs/N-1").json()["question"] == NEW["question"]
    _create(client, id="N-2", question="垃圾車幾點來？", answer="依清運時刻表。", alt_questions=[])
    listing = client.get("/api/kb/faqs", params={"q": "路燈", "per_page": 1}).json()
    assert (listing["total"], [i["id"] for i in listing["items"]]) == (1, ["N-1"])
    assert client.get("/api/kb/faqs", params={"page": 2, "per_page": 1}).json()["items"][0]["id"] == "N-2"


def test_bad_input_gets_clear_errors(client: TestClient) -> None:
    _create(client)
    assert client.post("/api/kb/faqs", json=NEW).status_code == 409
    response = client.post("/api/kb/faqs", json={**NEW, "id": "N-9", "question": ""})
    assert response.status_code == 422
    assert "question" in response.text
    assert client.post("/api/kb/faqs", json={**NEW, "id": "bad id"}).status_code == 422
    assert client.post("/api/kb/faqs", json={**NEW, "id": "N-8", "colour": "red"}).status_code == 422
    assert client.get("/api/kb/faqs/nope").status_code == 404
    assert client.get("/api/kb/faqs", params={"per_page": 10_000}).status_code == 422
    assert client.get("/api/kb/faqs", params={"status": "live"}).status_code == 422


def test_update_needs_the_current_revision(client: TestClient) -> None:
    _create(client)
    updated = client.patch("/api/kb/faqs/N-1", json={"revision": 1, "answer": "請撥1999。"})
    assert updated.status_code == 200
    assert (updated.json()["answer"], updated.json()["revision"]) == ("請撥1999。", 2)
    stale = client.patch("/api/kb/faqs/N-1", json={"revision": 1, "answer": "舊版上的修改"})
    assert stale.status_code == 409
    assert client.get("/api/kb/faqs/N-1").json()["answer"] == "請撥1999。"
    assert client.patch("/api/kb/faqs/N-1", json={"revision": 2, "answer": ""}).status_code == 422


def test_publish_moves_the_version_and_history_tells_it_all(client: TestClient) -> None:
    _create(client)
    assert client.get("/api/kb/version").json() == {"version": 0}
    login_as(client, "staff", "lead")
    published = client.post("/api/kb/faqs/N-1/publish")
    assert published.json()["status"] == "published"
    assert client.get("/api/kb/version").json() == {"version": 1}
    assert client.post("/api/kb/faqs/N-1/archive", params={"revision": 1}).status_code == 409
    history = client.get("/api/kb/faqs/N-1/history").json()
    assert [(h["action"], h["actor"]) for h in history] == [("create", "staff-1"), ("publish", "lead")]
    assert history[1]["before"]["status"] == "draft"
    assert history[1]["after"]["status"] == "published"
    database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        audit = [
            (a.actor, a.action, a.target) for a in session.scalars(select(AuditRow).order_by(AuditRow.id))
        ]
    assert [row for row in audit if row[1].startswith("faq.")] == [
        ("staff-1", "faq.create", "N-1"),
        ("lead", "faq.publish", "N-1"),
    ]


def test_health_and_docs(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["database"] in {"sqlite", "postgresql"}
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/kb/faqs",
        "/api/kb/faqs/{faq_id}",
        "/api/kb/faqs/{faq_id}/publish",
        "/api/kb/faqs/{faq_id}/history",
    } <= set(paths)


def test_the_kb_api_needs_a_staff_log_in_and_the_csrf_token(client: TestClient) -> None:
    csrf = client.headers.pop("X-CSRF-Token")
    assert client.post("/api/kb/faqs", json=NEW).status_code == 403  # no CSRF token
    assert client.post("/api/kb/faqs", json=NEW, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/kb/faqs", json=NEW, headers={"X-CSRF-Token": csrf}).status_code == 201
    client.cookies.clear()
    anonymous = client.get("/api/kb/faqs")
    assert (anonymous.status_code, anonymous.json()["detail"]) == (401, "please log in to the console")
    assert client.get("/healthz").status_code == 200
    login_as(client, "supervisor")
    assert client.get("/api/kb/faqs").status_code == 403
    login_as(client, "admin")
    assert client.get("/api/kb/faqs").status_code == 200
