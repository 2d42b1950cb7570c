"""The definitions, on hand-made conversations: question, answered, successful, feedback, topic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.metrics.outcomes import TurnFacts, TurnOutcome, command_of, local_day, outcomes

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
TOPICS = {"F-1": ("環保與垃圾", "環境保護局"), "F-2": ("稅務", "稅捐稽徵處"), "F-3": ("稅務", "稅捐稽徵處")}


def conversation(*turns: dict[str, Any]) -> list[TurnOutcome]:
    facts = [
        TurnFacts(
            id=n, conversation_id="c", sender="s", channel="web", at=T0 + timedelta(seconds=n), **fields
        )
        for n, fields in enumerate(turns, 1)
    ]
    return outcomes(facts, TOPICS.get)


def ask(text: str, decision: str, faq_id: str = "", candidates: list[str] | None = None) -> dict[str, Any]:
    return {
        "text_redacted": text,
        "intent": "faq",
        "decision": decision,
        "faq_id": faq_id,
        "candidates": candidates if candidates is not None else ([faq_id] if faq_id else []),
    }


def button(intent: str, **fields: Any) -> dict[str, Any]:
    return {"payload": f"/{intent}", "intent": intent, **fields}


def pick(faq_id: str, decision: str = "answer", **fields: Any) -> dict[str, Any]:
    return {
        **fields,
        "payload": f'/pick_suggestion{{"faq_id": "{faq_id}"}}',
        "intent": "pick_suggestion",
        "decision": decision,
        "faq_id": faq_id if decision == "answer" else "",
        "candidates": [faq_id],
    }


def test_a_confident_answer_with_nothing_after_it_is_a_successful_question() -> None:
    [row] = conversation(ask("房屋稅什麼時候繳", "answer", "F-2"))
    assert (row.question, row.decision, row.answered, row.successful) == (1, "answer", 1, 1)
    assert (row.category, row.agency) == ("稅務", "稅捐稽徵處")
    assert row.text_key == row.text_sample == ""


def test_a_picked_suggestion_answers_the_clarified_question_and_is_not_a_question_itself() -> None:
    question, chosen = conversation(ask("房屋稅", "clarify", candidates=["F-2", "F-3"]), pick("F-3"))
    assert (question.question, question.decision, question.answered, question.successful) == (
        1,
        "clarify",
        1,
        1,
    )
    assert (chosen.question, chosen.answered, chosen.decision) == (0, 0, "")
    assert question.category == chosen.category == "稅務"


@pytest.mark.parametrize(
    "after",
    [
        pytest.param([button("feedback_bad")], id="negative-feedback"),
        pytest.param([button("ask_human")], id="asks-for-a-human"),
        pytest.param([{"intent": "ask_human", "text_redacted": "我要真人"}], id="asks-for-a-human-in-words"),
        pytest.param([{"intent": "deny", "text_redacted": "沒有"}], id="typed-no-right-after"),
        pytest.param([ask("房屋稅 什麼時候繳？", "answer", "F-2")], id="same-text-again"),
        pytest.param(
            [ask("房屋稅期限是哪天", "clarify", candidates=["F-3", "F-2"])], id="rephrase-retrieves-same-faq"
        ),
        pytest.param([{"intent": "greet"}, button("feedback_bad")], id="complaint-second-turn-after"),
    ],
)
def test_complaints_within_two_turns_undo_success(after: list[dict[str, Any]]) -> None:
    rows = conversation(ask("房屋稅什麼時候繳", "answer", "F-2"), *after)
    assert (rows[0].answered, rows[0].successful) == (1, 0)


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(
            [{"intent": "greet"}, {"intent": "thank"}, button("feedback_bad")], id="third-turn-is-too-late"
        ),
        pytest.param([{"intent": "greet"}, {"intent": "deny"}], id="no-not-right-after-is-not-feedback"),
        pytest.param([button("feedback_good")], id="positive-feedback"),
        pytest.param([ask("垃圾車幾點來", "answer", "F-1")], id="a-different-question"),
        pytest.param([button("report_issue")], id="reporting-an-issue-is-not-asking-for-a-human"),
    ],
)
def test_what_does_not_undo_success(after: list[dict[str, Any]]) -> None:
    rows = conversation(ask("房屋稅什麼時候繳", "answer", "F-2"), *after)
    assert (rows[0].answered, rows[0].successful) == (1, 1)


def test_the_window_after_a_picked_answer_starts_at_the_pick() -> None:
    rows = conversation(
        ask("房屋稅", "clarify", candidates=["F-2", "F-3"]), pick("F-2"), button("feedback_bad")
    )
    assert (rows[0].answered, rows[0].successful, rows[0].feedback) == (1, 0, "")
    rows = conversation(
        ask("房屋稅", "clarify", candidates=["F-2"]), pick("F-2", feedback="bad"), button("feedback_bad")
    )
    assert rows[0].feedback == "bad"


def test_unanswered_questions() -> None:
    clarify_left, other, abstain, withdrawn_pick = conversation(
        ask("房屋稅", "clarify", candidates=["F-3", "F-2"]),
        {"intent": "greet"},
        ask("我家 0912345678 的狗走失", "abstain", candidates=[]),
        pick("F-9", decision="abstain"),  # a pick of a withdrawn entry: not a new question
    )
    assert (clarify_left.question, clarify_left.answered, clarify_left.successful) == (1, 0, 0)
    assert (clarify_left.category, other.category) == ("稅務", "稅務")  # best candidate; context
    assert clarify_left.text_key == "房屋稅"
    assert (abstain.question, abstain.decision, abstain.answered) == (1, "abstain", 0)
    assert (abstain.category, abstain.agency) == ("", "")
    assert (withdrawn_pick.question, withdrawn_pick.category) == (0, "")
    assert abstain.text_key == "我家0912345678的狗走失"


def test_the_chat_s_own_topic_wins_over_the_faq_table_and_unknown_faqs_are_blank() -> None:
    recorded, unknown = conversation(
        {**ask("房屋稅什麼時候繳", "answer", "F-2"), "category": "自訂", "agency": "某局"},
        ask("舊問題", "answer", "GONE-1"),
    )
    assert (recorded.category, recorded.agency) == ("自訂", "某局")
    assert (unknown.category, unknown.agency, unknown.answered) == ("", "", 1)


def test_feedback_of_an_answer() -> None:
    stored = conversation(
        {**ask("房屋稅什麼時候繳", "answer", "F-2"), "feedback": "good"}, button("feedback_good")
    )
    assert stored[0].feedback == "good"
    assert stored[1].feedback == ""  # the button press is not a question
    typed_yes = conversation(ask("房屋稅什麼時候繳", "answer", "F-2"), {"intent": "affirm"})
    assert typed_yes[0].feedback == "good"
    typed_no = conversation(ask("房屋稅什麼時候繳", "answer", "F-2"), {"intent": "deny"})
    assert (typed_no[0].feedback, typed_no[0].successful) == ("bad", 0)


def test_other_turns_and_handoffs() -> None:
    greet, human, case = conversation({"intent": "greet"}, button("ask_human"), button("report_issue"))
    assert [r.question for r in (greet, human, case)] == [0, 0, 0]
    assert [r.handoff for r in (greet, human, case)] == [0, 1, 0]
    assert greet.category == ""


def test_turns_an_agent_handles_are_not_timed_and_other_decisions_are_not_questions() -> None:
    agent, emergency, timed = conversation(
        {"decision": "agent", "latency_ms": 3.0, "text_redacted": "你好"},
        {"decision": "emergency", "intent": "emergency", "latency_ms": 40.0},
        {"intent": "greet", "latency_ms": 50.0},
    )
    assert (agent.latency_ms, agent.question, emergency.question) == (None, 0, 0)
    assert (emergency.latency_ms, timed.latency_ms) == (40.0, 50.0)


def test_commands_and_local_days() -> None:
    facts = TurnFacts(1, "c", "s", "web", T0, payload='/pick_suggestion{"faq_id": "F-1"}', intent="")
    assert command_of(facts) == "pick_suggestion"
    assert command_of(TurnFacts(1, "c", "s", "web", T0, payload="not a payload", intent="faq")) == "faq"
    assert local_day(datetime(2026, 2, 28, 16, 0, tzinfo=UTC)) == "2026-03-01"
    assert local_day(datetime(2026, 2, 28, 15, 59)) == "2026-02-28"  # naive is UTC
