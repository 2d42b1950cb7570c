from datetime import UTC, datetime
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.answer_faq import ActionAnswerFaq
from actions.case_status import ActionCaseStatus
from actions.clarify_pick import ActionClarifyPick, picked_place
from actions.file_case import ActionFileCase
from actions.record_feedback import ActionRecordFeedback
from actions.validate_case_form import ValidateCaseForm
from actions.validate_case_status_form import ValidateCaseStatusForm
from bot.cases import is_valid_case_number
from bot.settings import get_settings
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.models import TurnRow
from bot.store.turns import Turn, TurnStore
from tests.actions.conftest import bubbles, tracker


def _run(action: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker(**kwargs), {})
    return events, bubbles(dispatcher.messages)


def test_answer_faq_answers_and_reports_the_turn(action_env: Database) -> None:
    events, sent = _run(ActionAnswerFaq(), text="舊沙發要怎麼丟")
    kinds = [b["reply"]["kind"] for b in sent if "reply" in b]
    turn = next(b["turn"] for b in sent if "turn" in b)
    assert kinds == ["answer", "feedback"]
    assert (turn["decision"], turn["faq_id"]) == ("answer", "F-1")
    assert {"event": "slot", "name": "last_question", "value": "舊沙發要怎麼丟", "timestamp": None} in events


def test_a_pick_answers_the_picked_entry(action_env: Database) -> None:
    _, sent = _run(
        ActionClarifyPick(),
        text='/pick_suggestion{"faq_id":"F-2"}',
        entities=[{"entity": "faq_id", "value": "F-2"}],
    )
    assert sent[0]["reply"]["text"].startswith("每年五月繳納房屋稅。")
    assert sent[-1]["turn"]["faq_id"] == "F-2"


def test_the_case_form_validates_each_slot() -> None:
    form, dispatcher = ValidateCaseForm(), CollectingDispatcher()
    t = tracker()
    assert form.validate_category("我家門口路燈不亮", dispatcher, t, {}) == {"category": "路燈故障"}
    assert form.validate_category("隨便", dispatcher, t, {}) == {"category": None}
    assert form.validate_location("22.6273,120.3014", dispatcher, t, {}) == {"location": "22.6273,120.3014"}
    assert form.validate_location(" ", dispatcher, t, {}) == {"location": None}
    assert form.validate_phone("0912-345-678", dispatcher, t, {}) == {"phone": "0912345678"}
    assert form.validate_phone("12345", dispatcher, t, {}) == {"phone": None}
    assert form.validate_photo("沒有", dispatcher, t, {}) == {"photo": "none"}
    assert len(dispatcher.messages) == 3, "each refusal says what is wanted"


def test_filing_then_checking_the_status(action_env: Database) -> None:
    slots = {
        "category": "路燈故障",
        "location": "22.6273,120.3014",
        "description": "整排路燈都不亮",
        "photo": "none",
        "phone": "0912345678",
        "consent": True,
    }
    events, sent = _run(ActionFileCase(), slots=slots)
    number = next(e["value"] for e in events if e.get("name") == "filed_case_number")
    assert is_valid_case_number(number)
    assert number in sent[0]["reply"]["text"]
    with action_env.session() as session:
        case = CaseStore(session).get(number)
        assert (case.category, case.channel, case.latitude, case.phone) == (
            "street_light",
            "line",
            22.6273,
            "0912345678",
        )
    status_form, dispatcher = ValidateCaseStatusForm(), CollectingDispatcher()
    assert status_form.validate_case_number(number.replace("-", " "), dispatcher, tracker(), {}) == {
        "case_number": number
    }
    assert status_form.validate_case_number("123", dispatcher, tracker(), {}) == {"case_number": None}
    _, right = _run(ActionCaseStatus(), slots={"case_number": number, "phone_last3": "678"})
    _, wrong = _run(ActionCaseStatus(), slots={"case_number": number, "phone_last3": "999"})
    assert "已受理" in right[0]["reply"]["text"]
    assert number not in wrong[0]["reply"]["text"]
    assert "查不到" in wrong[0]["reply"]["text"]


def test_emergency_words_reaching_faq_retrieval_get_119_110_first(action_env: Database) -> None:
    _, sent = _run(ActionAnswerFaq(), text="樓下好像失火了一直冒煙")
    assert [b["reply"]["kind"] for b in sent if "reply" in b] == ["emergency", "abstain"]
    assert next(b["turn"] for b in sent if "turn" in b)["decision"] == "abstain", "retrieval still ran"
    _, plain = _run(ActionAnswerFaq(), text="舊沙發要怎麼丟")
    assert "emergency" not in [b["reply"]["kind"] for b in plain if "reply" in b]


def test_a_typed_pick_names_a_place_among_the_offered_candidates(action_env: Database) -> None:
    assert picked_place("第二個", 3) == 1
    assert picked_place("選 3", 3) == 2
    assert picked_place("最後一個", 2) == 1
    assert picked_place("第三個", 2) is None
    assert picked_place("都可以", 3) is None
    _, sent = _run(
        ActionClarifyPick(), text="第二個", intent="pick_suggestion", slots={"faq_candidates": ["F-1", "F-2"]}
    )
    assert sent[0]["reply"]["text"].startswith("每年五月繳納房屋稅。")
    _, unclear = _run(
        ActionClarifyPick(), text="嗯", intent="pick_suggestion", slots={"faq_candidates": ["F-1"]}
    )
    assert unclear[0]["reply"]["kind"] == "abstain"


def test_typed_feedback_and_a_yes_after_an_answer_rate_that_answer(action_env: Database) -> None:
    with action_env.session() as session:
        turns = TurnStore(session)
        turns.log(
            Turn(conversation_id="p_conversation1", sender="p_conversation1", channel="line", faq_id="F-1")
        )
    _, sent = _run(ActionRecordFeedback(), text="不太有用", intent="feedback_bad")
    assert "抱歉沒有幫上忙" in sent[0]["reply"]["text"]
    with action_env.session() as session:
        assert session.scalar(select(TurnRow.feedback).where(TurnRow.faq_id == "F-1")) == "bad"
    _run(ActionRecordFeedback(), text="對", intent="affirm")
    with action_env.session() as session:
        assert session.scalar(select(TurnRow.feedback).where(TurnRow.faq_id == "F-1")) == "good"


def test_the_status_reply_gives_the_time_in_the_citys_zone(
    action_env: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored in UTC (SQLite keeps no zone); read by a citizen in handoff.timezone."""
    with action_env.session() as session:
        number = (
            CaseStore(session)
            .file(
                NewCase(
                    category="street_light",
                    description="路燈不亮",
                    channel="line",
                    sender_id="s",
                    location_text="中正路",
                    phone="0912345678",
                ),
                now=datetime(2026, 12, 6, 23, 23, tzinfo=UTC),
            )
            .number
        )
    _, said = _run(ActionCaseStatus(), slots={"case_number": number, "phone_last3": "678"})
    assert "最後更新 2026-12-07 07:23" in said[0]["reply"]["text"]
    monkeypatch.setenv("BOT1999_HANDOFF__TIMEZONE", "Asia/Tokyo")
    get_settings.cache_clear()
    _, said = _run(ActionCaseStatus(), slots={"case_number": number, "phone_last3": "678"})
    assert "最後更新 2026-12-07 08:23" in said[0]["reply"]["text"]
