"""The entry editor shows which fields staff overrode over the source, and drops an override
(the field says what the source says again) with history like any edit (issue 22)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.console.kb_pages import form_values
from bot.store import Database
from bot.store.faq_layers import load_layers
from bot.store.faqs import FaqStore, row_to_record
from bot.store.kb_import import import_rows
from bot.store.models import AuditRow
from knowledge.importers import Parsed
from tests.bot.console.client import login_as
from tests.bot.console.conftest import RECORDS
from tests.factories import faq

OURS = "房屋稅每年五月開徵，可用信用卡、超商或網路繳納。"


def _db(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def _revision(client: TestClient, faq_id: str) -> int:
    with _db(client).session() as session:
        return FaqStore(session).get(faq_id).revision


def _publish_staff_answer(client: TestClient) -> None:
    """Staff rewrite F-2's answer in the editor and publish it."""
    with _db(client).session() as session:
        record = row_to_record(FaqStore(session).get("F-2"))
    form = {
        **form_values(record),
        "answer": OURS,
        "action": "publish",
        "revision": str(_revision(client, "F-2")),
    }
    response = client.post("/console/kb/faq/F-2", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text


def _override_rows(page: str) -> list[str]:
    return re.findall(r'<tr data-override="([a-z_]+)">', page)


def test_the_editor_lists_the_fields_staff_overrode_with_the_source_text(console: TestClient) -> None:
    login_as(console, "staff", "amy")
    assert "同仁修改過的欄位" not in console.get("/console/kb/faq/F-2").text
    _publish_staff_answer(console)

    page = console.get("/console/kb/faq/F-2").text

    assert "同仁修改過的欄位（與來源不同）" in page
    assert _override_rows(page) == ["answer"]
    row = page[page.index('<tr data-override="answer">') :]
    assert f'data-text="ours">{OURS}</pre>' in row
    assert f'data-text="source">{RECORDS[1].answer}</pre>' in row
    assert "amy" in row[: row.index("</tr>")]


def test_staff_drop_an_override_and_the_entry_takes_the_source_text_again(console: TestClient) -> None:
    login_as(console, "staff", "amy")
    _publish_staff_answer(console)
    revision = _revision(console, "F-2")

    stale = console.post(
        "/console/kb/faq/F-2/source", data={"field": "answer", "revision": str(revision - 1)}
    )
    assert stale.status_code == 409
    assert "請重新載入頁面" in stale.text
    missing = console.post("/console/kb/faq/F-2/source", data={"field": "agency", "revision": str(revision)})
    assert missing.status_code == 400
    assert "這個欄位沒有可以改回的來源內容。" in missing.text

    done = console.post("/console/kb/faq/F-2/source", data={"field": "answer", "revision": str(revision)})

    assert done.status_code == 200  # the redirect followed: the editor, with the message
    assert "已將 F-2 的回答改回來源的內容。" in done.text
    assert _override_rows(done.text) == []
    with _db(console).session() as session:
        store = FaqStore(session)
        assert store.get("F-2").answer == RECORDS[1].answer
        assert store.get("F-2").revision == revision + 1
        last = store.history("F-2")[-1]
        assert (last.action, last.actor, last.note) == ("use-source", "amy", "回答改回來源的內容")
        assert (last.before or {})["answer"] == OURS
        assert (last.after or {})["answer"] == RECORDS[1].answer
        assert "answer" not in load_layers(session, "F-2").overrides
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "faq.use_source")).all()
        assert [(a.actor, a.target) for a in audit] == [("amy", "F-2")]
    history = console.get("/console/kb/faq/F-2/history").text
    assert "回答改回來源的內容" in history

    # the source's next change to the answer is applied, not queued: staff gave the field back
    changed = RECORDS[1].model_copy(update={"answer": "房屋稅改為每年十一月開徵。"})
    with _db(console).session() as session:
        report = import_rows(session, [Parsed("line 1", changed)], actor="importer")
    assert (report.updated, report.conflicts) == (1, 0)


def test_an_entry_staff_made_has_no_source_to_go_back_to(console: TestClient) -> None:
    login_as(console, "staff", "amy")
    with _db(console).session() as session:
        FaqStore(session).create(faq("S-1", question="市民卡遺失怎麼辦？"), actor="amy")
    page = console.get("/console/kb/faq/S-1").text
    assert "同仁修改過的欄位" not in page
    refused = console.post("/console/kb/faq/S-1/source", data={"field": "answer", "revision": "1"})
    assert refused.status_code == 400


def test_with_a_draft_waiting_the_override_is_not_dropped(console: TestClient) -> None:
    login_as(console, "staff", "amy")
    _publish_staff_answer(console)
    revision = _revision(console, "F-2")
    with _db(console).session() as session:
        record = row_to_record(FaqStore(session).get("F-2"))
    draft = {
        **form_values(record),
        "question": "房屋稅何時繳納？",
        "action": "save",
        "revision": str(revision),
    }
    assert console.post("/console/kb/faq/F-2", data=draft, follow_redirects=False).status_code == 303
    page = console.get("/console/kb/faq/F-2").text
    assert "先發布或捨棄草稿" in page
    refused = console.post("/console/kb/faq/F-2/source", data={"field": "answer", "revision": str(revision)})
    assert refused.status_code == 409
    with _db(console).session() as session:
        assert FaqStore(session).get("F-2").answer == OURS
