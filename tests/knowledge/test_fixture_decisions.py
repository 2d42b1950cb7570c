"""The retrieval decisions the conversation (Rasa) and browser tests rely on, checked without
Rasa or a browser: their fixture bases, the app's hashing encoder, the shipped config."""

from __future__ import annotations

import pytest

from knowledge.encoder import HashingEncoder
from knowledge.faq import FaqRecord
from knowledge.retriever import Retriever, RetrieverConfig
from tests.conversations.conftest import RECORDS as CONVERSATION_RECORDS
from tests.e2e.conftest import RECORDS as BROWSER_RECORDS

EXPECTED = {
    # query: (decision, FAQs offered first)
    "房屋稅怎麼繳": ("clarify", {"F-2", "F-3"}),  # two entries share this alternative question
    "舊沙發要怎麼丟": ("answer", {"F-1"}),
    "房屋稅什麼時候繳？": ("answer", {"F-2"}),
    "請問身心障礙停車證要去哪裡申請": ("abstain", set()),
    "我家門口的水溝蓋不見了": ("abstain", set()),
}
CONVERSATION_ONLY = {"垃圾車幾點到": ("answer", {"F-4"}), "寵物登記要去哪裡辦": ("abstain", set())}
BROWSER_ONLY = {
    "垃圾車晚上幾點來？": ("answer", {"F-4"}),
    '<svg onload="alert(1)"><details open ontoggle="alert(2)">': ("abstain", set()),  # the XSS test
}


@pytest.mark.parametrize(
    "config", [RetrieverConfig(), RetrieverConfig.first_stage_defaults()], ids=["shipped", "first-stage"]
)
@pytest.mark.parametrize(
    ("records", "expected"),
    [
        (CONVERSATION_RECORDS, {**EXPECTED, **CONVERSATION_ONLY}),
        (BROWSER_RECORDS, {**EXPECTED, **BROWSER_ONLY}),
    ],
    ids=["conversations", "browser"],
)
def test_the_fixture_questions_get_the_decisions_the_stack_tests_expect(
    records: list[FaqRecord], expected: dict[str, tuple[str, set[str]]], config: RetrieverConfig
) -> None:
    retriever = Retriever(HashingEncoder(), config)
    retriever.build(records)
    for query, (kind, first) in expected.items():
        decision = retriever.decide(query)
        assert decision.kind == kind, query
        assert {c.faq_id for c in decision.candidates[: len(first)]} == first, query
        if kind == "clarify":
            assert 2 <= len(decision.candidates) <= 3, query  # "offers at most three" in the Rasa test
            assert decision.reason == "tie"
