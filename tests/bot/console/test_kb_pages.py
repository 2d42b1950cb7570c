"""Knowledge-base curation pages over the real app, store and live index."""

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.kb_index import LiveIndex
from bot.store import Database
from bot.store.models import AuditRow, FaqDraftRow
from tests.bot.console.client import login_as
from tests.bot.console.conftest import RECORDS
from tests.waiting import wait_until


def _db(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def _form(client: TestClient, faq_id: str) -> dict[str, str]:
    """The edit form's fields as the page fills them in."""
    page = client.get(f"/console/kb/faq/{faq_id}").text
    form = page.split('id="faq-form"', 1)[1].split("</form>", 1)[0]
    values = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', form))
    values.update(re.findall(r'<textarea[^>]*name="([a-z_]+)"[^>]*>([^<]*)</textarea>', form))
    values.pop("touch_revise_date", None)
    return {k: v.replace("&#34;", '"').replace("&amp;", "&") for k, v in values.items()}


def _chat(client: TestClient, text: str) -> str:
    replies = client.post("/api/chat", json={"sender": "web-kb", "text": text}).json()["replies"]
    return " ".join(r["text"] for r in replies if r["kind"] == "answer")


def _index(client: TestClient) -> LiveIndex:
    index: LiveIndex = client.app.state.index  # type: ignore[attr-defined]
    return index


def test_list_search_and_filters(console: TestClient) -> None:
    login_as(console, "staff")
    page = console.get("/console/kb")
    assert page.status_code == 200
    assert "共 3 題" in page.text
    assert "共 1 題" in console.get("/console/kb", params={"q": "房屋稅"}).text
    assert "F-3" in console.get("/console/kb", params={"agency": "工務局"}).text
    assert "共 1 題" in console.get("/console/kb", params={"category": "路燈"}).text
    assert "共 0 題" in console.get("/console/kb", params={"status": "draft"}).text


def test_stale_answers_are_flagged_after_the_configured_age(console: TestClient) -> None:
    login_as(console, "staff")
    old = (date.today() - timedelta(days=400)).isoformat()
    fields = {**_form(console, "F-2"), "revise_date": old, "action": "publish"}
    assert console.post("/console/kb/faq/F-2", data=fields).status_code == 200  # no touch: keeps the old date
    page = console.get("/console/kb").text
    assert "有 1 題已發布的回答超過 365 天沒有修訂" in page
    stale = console.get("/console/kb", params={"stale": "yes"}).text
    assert "F-2" in stale
    assert "F-1" not in stale
    assert "需要複查" in stale
    edit = console.get("/console/kb/faq/F-2").text
    assert "超過 365 天沒有修訂" in edit
    fresh = {**_form(console, "F-2"), "touch_revise_date": "yes", "action": "save"}
    console.post("/console/kb/faq/F-2", data=fresh)  # a draft: the live entry is still stale
    console.post("/console/kb/faq/F-2/publish", data={"revision": _form(console, "F-2")["revision"]})
    assert "F-2" not in console.get("/console/kb", params={"stale": "yes"}).text


def test_edit_save_draft_then_publish_changes_the_bots_answer(console: TestClient) -> None:
    login_as(console, "staff")
    wait_until(
        lambda: _chat(console, "房屋稅什麼時候繳？").startswith("每年五月"), what="the live index to catch up"
    )
    fields = {**_form(console, "F-2"), "answer": "自今年起改為每年十一月繳納房屋稅。"}

    preview = console.post("/console/kb/faq/F-2", data={**fields, "action": "preview"})
    assert preview.status_code == 200
    assert "自今年起改為每年十一月繳納房屋稅。" in preview.text
    assert "民眾會看到的回答" in preview.text
    assert "就是這一題" in preview.text  # its question finds it today

    saved = console.post("/console/kb/faq/F-2", data={**fields, "action": "save"})
    assert "已儲存 F-2 的草稿" in saved.text
    assert "尚未發布的草稿" in saved.text
    _index(console).refresh()  # whatever the background refresh would pick up, it has now
    assert _chat(console, "房屋稅什麼時候繳？").startswith("每年五月")  # a draft does not go live

    revision = _form(console, "F-2")["revision"]
    published = console.post("/console/kb/faq/F-2/publish", data={"revision": revision})
    assert "已發布 F-2" in published.text
    # the replica that took the publish answers with it at once, not at its next poll
    assert _chat(console, "房屋稅什麼時候繳？").startswith("自今年起改為每年十一月")
    with _db(console).session() as session:
        assert session.scalars(select(FaqDraftRow)).all() == []
        actions = [a.action for a in session.scalars(select(AuditRow).where(AuditRow.target == "F-2"))]
    assert actions == ["faq.draft", "faq.publish"]


def test_an_edit_on_a_stale_page_is_refused_not_lost(console: TestClient) -> None:
    login_as(console, "staff")
    first = _form(console, "F-1")
    second = dict(first)
    console.post("/console/kb/faq/F-1", data={**first, "answer": "第一個人的修改。", "action": "publish"})
    refused = console.post(
        "/console/kb/faq/F-1", data={**second, "answer": "第二個人的修改。", "action": "publish"}
    )
    assert refused.status_code == 409
    assert "已被其他人修改" in refused.text
    assert "第二個人的修改。" in refused.text  # what they typed is still in the form
    assert "第一個人的修改。" in console.get("/console/kb/faq/F-1").text


def test_bad_input_gets_field_errors_and_keeps_the_text(console: TestClient) -> None:
    login_as(console, "staff")
    fields = {**_form(console, "F-1"), "answer": "", "post_date": "2024-13-45", "action": "save"}
    response = console.post("/console/kb/faq/F-1", data=fields)
    assert response.status_code == 400
    assert "回答：必填" in response.text
    assert "發布日期" in response.text
    assert console.get("/console/kb/faq/nope").status_code == 404


def test_history_shows_the_diff_and_rollback_restores_a_revision(console: TestClient) -> None:
    login_as(console, "staff", "amy")
    fields = {**_form(console, "F-3"), "answer": "請撥打1999或使用線上通報。", "action": "publish"}
    console.post("/console/kb/faq/F-3", data=fields)
    history = console.get("/console/kb/faq/F-3/history")
    assert history.status_code == 200
    assert "<del>" in history.text
    assert "<ins>" in history.text
    assert "amy" in history.text
    revision = _form(console, "F-3")["revision"]
    back = console.post("/console/kb/faq/F-3/rollback", data={"revision": revision, "to": "1"})
    assert "回復到第 1 版" in back.text
    wait_until(
        lambda: "請撥1999報修路燈。" in _chat(console, "路燈不亮要找誰？"), what="the live index to catch up"
    )
    assert "回復" in console.get("/console/kb/faq/F-3/history").text


def test_a_new_entry_starts_as_a_draft_and_goes_live_when_published(console: TestClient) -> None:
    login_as(console, "staff")
    form = console.get("/console/kb/new")
    assert form.status_code == 200
    entry = {
        "id": "N-1",
        "question": "寵物登記要去哪裡辦？",
        "answer": "請帶寵物到各區動物醫院辦理寵物登記。",
        "alt_questions": "狗狗要登記嗎\n貓要植入晶片嗎",
        "agency": "動物保護處",
        "action": "save",
    }
    created = console.post("/console/kb/new", data=entry)
    assert "已新增草稿 N-1" in created.text
    again = console.post("/console/kb/new", data=entry)
    assert again.status_code == 409
    assert "已經有人使用" in again.text
    assert "寵物登記" not in _chat(console, "寵物登記要去哪裡辦？")
    revision = _form(console, "N-1")["revision"]
    console.post("/console/kb/faq/N-1/publish", data={"revision": revision})
    wait_until(
        lambda: _chat(console, "寵物登記要去哪裡辦？").startswith("請帶寵物到各區動物醫院"),
        what="the live index to catch up",
    )


def test_archive_and_discard(console: TestClient) -> None:
    login_as(console, "staff")
    fields = {**_form(console, "F-1"), "answer": "草稿內容。", "action": "save"}
    console.post("/console/kb/faq/F-1", data=fields)
    discarded = console.post("/console/kb/faq/F-1/discard")
    assert "已捨棄 F-1 的草稿" in discarded.text
    revision = _form(console, "F-1")["revision"]
    archived = console.post("/console/kb/faq/F-1/archive", data={"revision": revision, "next": "/console/kb"})
    assert "已封存 F-1" in archived.text
    wait_until(
        lambda: RECORDS[0].answer not in _chat(console, "大型垃圾要怎麼預約清運？"),
        what="the live index to catch up",
    )


def test_try_the_bot(console: TestClient) -> None:
    login_as(console, "staff")
    page = console.get("/console/kb/try", params={"q": "房屋稅什麼時候繳"})
    assert page.status_code == 200
    assert "每年五月繳納房屋稅。" in page.text
    assert "考慮過的題目" in page.text
    emergency = console.get("/console/kb/try", params={"q": "家裡失火了"}).text
    assert "緊急狀況" in emergency
