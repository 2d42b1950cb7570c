"""The synonym page: staff rules over the shipped list, tried, published to the live index, rolled back."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.kb_index import LiveIndex
from bot.store import Database
from bot.store.models import AuditRow
from tests.bot.console.client import login_as
from tests.waiting import wait_until


def _lexical(client: TestClient, query: str, faq_id: str) -> float:
    index: LiveIndex = client.app.state.index  # type: ignore[attr-defined]
    _, candidates = index.inspect(query)
    return next((c.lexical for c in candidates if faq_id in c.ids), 0.0)


def test_a_rule_is_tried_published_live_and_rolled_back(console: TestClient) -> None:
    login_as(console, "staff", "amy")
    page = console.get("/console/kb/synonyms")
    assert page.status_code == 200
    assert "當兵" in page.text  # the shipped list is shown

    saved = console.post(
        "/console/kb/synonyms", data={"variant": "厝錢", "canonical": "房屋稅", "note": "台語"}
    )
    assert "已儲存規則 厝錢 → 房屋稅" in saved.text
    assert "尚未發布的變更" in saved.text
    tried = console.get("/console/kb/synonyms", params={"test": "厝錢幾時繳"}).text
    facts = re.findall(r"<dd>([^<]*)</dd>", tried)
    assert facts == ["厝錢幾時繳", "厝錢幾時繳", "房屋稅幾時繳"]  # shipped, live, with the draft
    assert _lexical(console, "厝錢", "F-2") == 0.0

    published = console.post("/console/kb/synonyms/publish", data={"note": "台語稅目"})
    assert "已發布第 1 版同義詞" in published.text
    wait_until(lambda: _lexical(console, "厝錢", "F-2") > 0, what="the live index to catch up")

    console.post("/console/kb/synonyms/delete", data={"variant": "厝錢"})
    console.post("/console/kb/synonyms/publish", data={})
    wait_until(lambda: _lexical(console, "厝錢", "F-2") == 0.0, what="the live index to catch up")
    back = console.post("/console/kb/synonyms/rollback", data={"version": "1"})
    assert "已回復到第 1 版同義詞" in back.text
    wait_until(lambda: _lexical(console, "厝錢", "F-2") > 0, what="the live index to catch up")

    database: Database = console.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        actions = [a.action for a in session.scalars(select(AuditRow).where(AuditRow.actor == "amy"))]
    assert [a for a in actions if a.startswith("synonym.")] == [
        "synonym.set",
        "synonym.publish",
        "synonym.delete",
        "synonym.publish",
        "synonym.rollback",
    ]


def test_a_shipped_rule_can_be_switched_off(console: TestClient) -> None:
    login_as(console, "staff")
    console.post("/console/kb/synonyms", data={"variant": "當兵", "canonical": "", "note": "停用內建規則"})
    console.post("/console/kb/synonyms/publish", data={})
    tried = console.get("/console/kb/synonyms", params={"test": "當兵"}).text
    assert re.findall(r"<dd>([^<]*)</dd>", tried) == ["兵役", "當兵", "當兵"]
    assert "停用內建規則" in tried


def test_bad_rules_are_explained(console: TestClient) -> None:
    login_as(console, "staff")
    refused = console.post("/console/kb/synonyms", data={"variant": "兵", "canonical": "兵役"})
    assert refused.status_code == 400
    assert "至少要 2 個字" in refused.text
    missing = console.post("/console/kb/synonyms/rollback", data={"version": "42"})
    assert missing.status_code == 400
    assert "沒有第 42 版" in missing.text
