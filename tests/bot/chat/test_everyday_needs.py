"""The everyday needs of a city's 1999 line, and every example the bot offers, through the real engine.

``tests/data/needs/everyday_needs.jsonl`` lists the 60 most common needs (docs/knowledge-base.md,
"Everyday needs") with an everyday phrasing and the outcome it must get: ``answer`` (the entry
that answers it), ``route`` (the entry that says honestly which agency handles it and how to
reach them) or ``case`` (a report: the chat files a case). A row with a ``known_gap`` says why
it does not get its outcome yet (a strict xfail: it fails the run once it is fixed). Each runs through the shipped
knowledge base as ``bot1999 setup`` loads it, the real e5 encoder and the shipped engine, the
way degraded mode answers a citizen (the path that needs no Rasa): a question must be answered
with its entry, never offered a wrong "did you mean" or abstained; a report must be sent to
case filing with its category.

The examples the bot puts in citizens' mouths (the greeting, the widget's welcome, the input's
placeholder) are read from where they are written, so a new example is tested as soon as it is
added, and each must be answered directly with an entry that fits it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cases import category_by_code
from bot.chat.degraded import DegradedResponder, reported_category
from bot.kb_index import LiveIndex
from bot.messages import Incoming
from bot.retrieval import make_retriever
from bot.services import setup_store
from bot.settings import load_settings
from bot.store import Database

# The tests that ask the engine: the real encoder (the tier's marker, docs/testing.md).
real_engine = pytest.mark.encoder

REPO = Path(__file__).resolve().parents[3]
NEEDS = REPO / "tests" / "data" / "needs" / "everyday_needs.jsonl"
GREETING_SOURCES = (REPO / "domain.yml", REPO / "bot" / "web" / "static" / "widget.js")
# What an offered example must be answered with: the entry whose question it is about.
EXAMPLE_ANSWERS = {
    "垃圾車幾點來": "A-env-017",
    "怎麼申請育兒津貼": "B-welfare-009",
    "大型垃圾怎麼清運": "A-env-001",
}


def _needs() -> list[dict[str, Any]]:
    with NEEDS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


NEED_ROWS = _needs()


def offered_examples() -> list[str]:
    """The example questions the greeting, the welcome text and placeholders suggest to citizens.

    Examples are written as 「…」 or listed after 例如： up to the closing parenthesis; examples of
    a place (例如：三民區…) or a description (坑洞大約多大) belong to the case form, not to questions.
    """
    found: list[str] = []
    for path in GREETING_SOURCES:
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if not re.search(r"請直接輸入|請輸入您的問題|placeholder", line):
                continue
            found += re.findall(r"「([^」]+)」", line)
            for listed in re.findall(r"例如：([^）)」]+)[）)]", line):
                found += [part.strip() for part in re.split(r"[、，]", listed) if part.strip()]
    return list(dict.fromkeys(found))


def test_the_needs_list_has_60_needs_with_known_outcomes() -> None:
    assert len(NEED_ROWS) == 60
    assert len({row["query"] for row in NEED_ROWS}) == 60
    known_ids = {
        json.loads(line)["id"]
        for path in sorted((REPO / "knowledge" / "content").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    for row in NEED_ROWS:
        assert row["outcome"] in {"answer", "route", "case"}, row
        if row["outcome"] == "case":
            assert category_by_code(row["case"]).dispatch, row
        else:
            assert row["faq"] in known_ids, row


def test_the_offered_examples_are_found() -> None:
    """The reader above finds the greeting's and the widget's examples (else the test below is empty)."""
    assert set(EXAMPLE_ANSWERS) <= set(offered_examples())
    assert set(offered_examples()) <= set(EXAMPLE_ANSWERS), "a new example: say which entry answers it"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("巷口的路燈壞了整晚都不亮", "street_light"),
        ("路燈壞掉不亮要找誰修？", None),  # a question about reporting: the knowledge base answers it
        ("垃圾車幾點來", None),
        ("附近有噪音", None),  # a petition category: the knowledge base and Rasa's form handle it
    ],
)
def test_a_statement_naming_a_dispatch_problem_is_a_report(text: str, category: str | None) -> None:
    assert reported_category(text) == category


@pytest.fixture(scope="module")
def responder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DegradedResponder]:
    """The shipped base loaded as ``bot1999 setup`` loads it, behind the real engine and encoder."""
    folder = tmp_path_factory.mktemp("needs")
    configured = os.environ.get("BOT1999_MODEL_CACHE", "")
    cache = (REPO / "var" / "models") if configured.lower() in ("1", "true", "yes") else folder / "models"
    settings = load_settings(
        database_url=f"sqlite:///{folder / 'bot.db'}",
        knowledge={"content_dir": str(REPO / "knowledge" / "content"), "model_cache_dir": str(cache)},
    )
    list(setup_store(settings))
    database = Database(settings.database_url_plain)
    index = LiveIndex(database, make_retriever(settings.knowledge))
    index.warm_up()
    yield DegradedResponder(index)
    database.dispose()


def _outcome(responder: DegradedResponder, text: str) -> tuple[str, str, str]:
    """The decision (or the intent, for a report), the answered entry and the replies' kinds and text."""
    turn = responder.handle(Incoming(user_id="needs-test", channel="web", text=text))
    replies = " ".join(f"[{reply.kind}] {reply.text}" for reply in turn.replies)
    return turn.decision or turn.intent, turn.faq_id, replies


def _need_params() -> list[Any]:
    """Each need; one whose row names a ``known_gap`` is expected to fail (strictly: fixing it shows);
    one whose row says it is ``unstable`` gets its outcome on some machines and not on others (the
    reason says why), and is reported either way without failing the run."""

    def marks(row: dict[str, Any]) -> list[Any]:
        if row.get("known_gap"):
            return [pytest.mark.xfail(strict=True, reason=row["known_gap"])]
        if row.get("unstable"):
            return [pytest.mark.xfail(strict=False, reason=row["unstable"])]
        return []

    return [pytest.param(row, id=row["need"], marks=marks(row)) for row in NEED_ROWS]


@real_engine
@pytest.mark.parametrize("need", _need_params())
def test_every_everyday_need_gets_its_outcome(responder: DegradedResponder, need: dict[str, Any]) -> None:
    decision, faq_id, replies = _outcome(responder, need["query"])
    if need["outcome"] == "case":
        assert decision == "report_issue", (need["query"], decision, faq_id)
        assert "[handoff]" in replies
        assert category_by_code(need["case"]).name in replies
    else:
        assert (decision, faq_id) == ("answer", need["faq"]), need["query"]


@real_engine
@pytest.mark.parametrize("example", list(EXAMPLE_ANSWERS))
def test_every_example_the_bot_offers_is_answered_directly(
    responder: DegradedResponder, example: str
) -> None:
    decision, faq_id, _ = _outcome(responder, example)
    assert (decision, faq_id) == ("answer", EXAMPLE_ANSWERS[example])
