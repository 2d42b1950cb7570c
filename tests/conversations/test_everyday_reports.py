"""The everyday reports of tests/data/needs/everyday_needs.jsonl through the real Rasa stack.

``tests/bot/chat/test_everyday_needs.py`` sends every need through the engine the way degraded
mode answers; here each need whose outcome is a case goes through Rasa, as a citizen's first
message: Rasa must start the case form with the need's category (never an FAQ answer or a
"did you mean"), ask for what is still missing, and file the case with that category.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.cases import category_by_code, is_valid_case_number
from bot.store import Database
from bot.store.cases import CaseStore
from tests.conversations.conftest import RasaStack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NEEDS = Path(__file__).resolve().parents[1] / "data" / "needs" / "everyday_needs.jsonl"
REPORTS = [
    row
    for line in NEEDS.read_text(encoding="utf-8").splitlines()
    if line.strip() and (row := json.loads(line))["outcome"] == "case"
]


@pytest.fixture
def client(chat_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=chat_url, timeout=30) as http:
        yield http


def _say(client: httpx.Client, sender: str, **body: Any) -> str:
    response = client.post("api/chat", json={"sender": sender, **body})
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["mode"] == "normal", reply
    return "\n".join(part["text"] for part in reply["replies"])


def _answer(question: str) -> str:
    last = question.splitlines()[-1]
    if "地點" in last or "地址" in last:
        return "鼓山區美術館路 100 號前"
    if "照片" in last:
        return "沒有"
    if "電話" in last or "聯絡" in last:
        return "不留"
    return "今天早上經過時發現的，很危險"


def test_the_needs_file_has_the_five_kinds_of_report() -> None:
    assert {row["case"] for row in REPORTS} == {
        "road_pothole",
        "street_light",
        "fallen_tree",
        "road_flooding",
        "traffic_signal",
    }


@pytest.mark.parametrize("need", REPORTS, ids=[row["need"] for row in REPORTS])
def test_a_report_starts_the_case_form_with_its_category_and_is_filed_so(
    need: dict[str, Any], client: httpx.Client, rasa_stack: RasaStack
) -> None:
    sender = f"web-{uuid.uuid4().hex[:12]}"
    label = category_by_code(need["case"]).name
    first = _say(client, sender, text=need["query"])
    assert f"問題類別「{label}」" in first, first
    assert "請問您是想問" not in first, "a report is not answered with a did-you-mean"
    # the form asks for what it still needs (the place, what happened, a photo, contact): each
    # question answered as a citizen would, until the summary asks for confirmation
    said = first
    for _ in range(6):
        if "確認送出" in said:
            break
        said = _say(client, sender, text=_answer(said))
    assert f"・問題類別：{label}" in said, said
    filed = _say(client, sender, payload="/affirm")
    number = next(w for w in filed.replace("：", " ").split() if is_valid_case_number(w))
    database = Database(rasa_stack.database_url)
    try:
        with database.session() as session:
            assert CaseStore(session).get(number).category == need["case"]
    finally:
        database.dispose()
