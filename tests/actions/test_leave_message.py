"""「留言請專人回覆」: the case form as a message for a person — the message, a phone and consent,
a summary, and only then a case, linked to the request nobody could take (issue 25 item 6).

The actions run as Rasa calls them: real rasa-sdk Trackers, the real store, settings from the
environment. The conversation through the real Rasa is tests/conversations/test_chat_with_rasa.py."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.ask_description import ActionAskDescription
from actions.case_form import confirm_reply
from actions.file_case import ActionFileCase
from actions.leave_message import ActionLeaveMessage
from bot.cases import is_valid_case_number
from bot.cases.for_a_person import MESSAGE_PLACE, MESSAGE_PROMPT
from bot.handoff.takeover import request_human
from bot.settings import HandoffSettings
from bot.store import Database
from bot.store.cases import CaseStore
from bot.store.handoff import HandoffStore
from tests.actions.conftest import bubbles, tracker

NOBODY = HandoffSettings(agent_hours="00:00-24:00")  # in hours, but no agent on line
CONVERSATION = "p_conversation1"  # tests.actions.conftest.tracker's sender


def _run(action: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker(**kwargs), {})
    return events, bubbles(dispatcher.messages) + [
        {"text": m["text"]} for m in dispatcher.messages if m.get("text")
    ]


def _message(phone: str, consent: bool) -> dict[str, Any]:
    events, _ = _run(ActionLeaveMessage(), intent="leave_message")
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return {
        **slots,
        "description": "想問明天可以去哪裡領回拖吊的機車，請回電",
        "phone": phone,
        "consent": consent,
    }


def test_leaving_a_message_sets_what_a_message_does_not_ask() -> None:
    events, said = _run(ActionLeaveMessage(), intent="leave_message")
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots == {
        "message_for_person": True,
        "category": "其他陳情",
        "location": MESSAGE_PLACE,
        "photo": "none",
    }
    assert said == [], "the form asks the next question"


def test_the_form_asks_for_the_message_and_sums_it_up_without_place_or_photo() -> None:
    _, asked = _run(ActionAskDescription(), slots={"message_for_person": True, "category": "其他陳情"})
    assert asked == [{"text": MESSAGE_PROMPT}]
    _, report = _run(ActionAskDescription(), slots={"category": "路燈故障"})
    assert report[0]["text"] != MESSAGE_PROMPT, "a report keeps its category's example"
    summary = confirm_reply(tracker(slots=_message("0912345678", True)))
    assert summary.text.splitlines() == [
        "請確認要送出的留言：",
        "・留言：想問明天可以去哪裡領回拖吊的機車，請回電",
        "・聯絡電話：0912***678（同意提供承辦單位聯絡）",
        "資料正確請按「確認送出」，要修改請點選該項目。",
    ]
    assert [b.title for b in summary.buttons] == ["確認送出", "修改留言", "修改聯絡電話", "取消不送出"]


@pytest.mark.parametrize(
    ("phone", "consent"), [("0912345678", True), ("none", False)], ids=["phone", "no-phone"]
)
def test_the_message_is_filed_only_now_linked_to_the_request_and_never_public(
    action_env: Database, phone: str, consent: bool
) -> None:
    with action_env.session() as session:
        asked = request_human(session, CONVERSATION, channel="line", settings=NOBODY)
    assert asked.offers_message
    with action_env.session() as session:
        assert CaseStore(session).count() == 0
    events, sent = _run(
        ActionFileCase(), intent="affirm", slots={**_message(phone, consent), "confirmed": True}
    )
    number = next(e["value"] for e in events if e.get("name") == "filed_case_number")
    assert is_valid_case_number(number)
    assert {e["name"]: e["value"] for e in events if e.get("event") == "slot"}["message_for_person"] is None
    text = sent[0]["reply"]["text"]
    assert text.startswith(f"已收到您的留言，案件編號：{number}")
    if consent:
        assert "專員上線後會打電話與您聯絡" in text
        assert "案件編號與電話末三碼" in text
    else:
        assert "專員上線後會在這裡回覆您" in text
        assert "查詢進度請撥 1999 並提供案件編號" in text
    with action_env.session() as session:
        case = CaseStore(session).get(number)
        (request,) = HandoffStore(session).history(CONVERSATION)
    assert (case.category, case.origin, case.location_text, case.conversation_id) == (
        "general",
        "conversation",
        MESSAGE_PLACE,
        CONVERSATION,
    )
    assert (case.phone, case.contact_consent) == (("0912345678", True) if consent else ("", False))
    assert case.description == "想問明天可以去哪裡領回拖吊的機車，請回電"
    assert request.case_number == number, "one request for a person, not two"
