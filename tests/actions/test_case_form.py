"""The case form's corrections, optional phone and confirmation summary, through the real validation action."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.ask_confirmed import ActionAskConfirmed
from actions.case_form import corrected_field
from actions.file_case import ActionFileCase
from actions.validate_case_form import ValidateCaseForm
from bot.store import Database
from bot.store.cases import CaseStore
from tests.actions.conftest import bubbles, tracker

DOMAIN: dict[str, Any] = {
    "forms": {
        "case_form": {
            "required_slots": [
                "category",
                "location",
                "description",
                "photo",
                "phone",
                "consent",
                "confirmed",
            ]
        },
        "case_status_form": {"required_slots": ["case_number", "phone_last3"]},
    },
    "slots": {},
}
FILLED = {
    "category": "路燈故障",
    "location": "苓雅區三多一路 200 巷口",
    "description": "整條巷子都是暗的",
    "photo": "none",
    "phone": "0912345678",
    "consent": True,
}


def _validate(text: str, *, intent: str, slots: dict[str, Any], entities: list[dict[str, Any]] | None = None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ValidateCaseForm().run(
            dispatcher, tracker(text, intent=intent, slots=slots, entities=entities), DOMAIN
        )
    )
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, dispatcher.messages


def test_a_named_correction_empties_that_answer_and_says_so() -> None:
    slots = {**FILLED, "phone": None, "consent": None, "requested_slot": "phone"}
    changed, said = _validate("地址打錯了", intent="correct", slots=slots)
    assert changed == {"confirmed": None, "location": None}
    assert said[0]["text"] == "好的，請重新提供地點。"


def test_a_summary_button_names_the_field_and_a_phone_correction_asks_consent_again() -> None:
    slots = {**FILLED, "requested_slot": "confirmed"}
    entities = [{"entity": "form_field", "value": "phone"}]
    changed, _ = _validate(
        '/correct{"form_field": "phone"}', intent="correct", slots=slots, entities=entities
    )
    assert changed == {"confirmed": None, "phone": None, "consent": None}


def test_an_unnamed_correction_is_the_answer_given_last() -> None:
    at_photo = tracker(
        "我打錯了", intent="correct", slots={**FILLED, "photo": None, "requested_slot": "photo"}
    )
    assert corrected_field(at_photo) == "description"
    at_consent = tracker("剛剛打錯", intent="correct", slots={**FILLED, "requested_slot": "consent"})
    assert corrected_field(at_consent) == "phone"
    nothing_yet = tracker("我打錯了", intent="correct", slots={"requested_slot": "category"})
    assert corrected_field(nothing_yet) is None
    changed, said = _validate("我打錯了", intent="correct", slots={"requested_slot": "category"})
    assert changed == {"confirmed": None}, "the form simply asks its question again"
    assert said == [], "the form simply asks its question again"


def test_the_phone_is_optional_and_then_there_is_nothing_to_consent_to() -> None:
    form, dispatcher, t = ValidateCaseForm(), CollectingDispatcher(), tracker()
    assert form.validate_phone("不留", dispatcher, t, {}) == {"phone": "none", "consent": False}
    assert form.validate_phone("none", dispatcher, t, {}) == {"phone": "none", "consent": False}
    assert form.validate_phone("07-336-8333", dispatcher, t, {}) == {"phone": "073368333"}
    assert form.validate_phone("0912", dispatcher, t, {}) == {"phone": None}
    assert "不留" in dispatcher.messages[0]["text"]


def test_consent_is_yes_or_no_and_anything_else_asks_again() -> None:
    form, dispatcher, t = ValidateCaseForm(), CollectingDispatcher(), tracker()
    assert form.validate_consent(True, dispatcher, t, {}) == {"consent": True}
    assert form.validate_consent(False, dispatcher, t, {}) == {"consent": False}
    assert form.validate_consent("也許", dispatcher, t, {}) == {"consent": None}


def test_confirming_keeps_going_and_declining_asks_what_to_change() -> None:
    form, dispatcher, t = ValidateCaseForm(), CollectingDispatcher(), tracker()
    assert form.validate_confirmed(True, dispatcher, t, {}) == {"confirmed": True}
    assert dispatcher.messages == []
    assert form.validate_confirmed(False, dispatcher, t, {}) == {"confirmed": None}
    assert "要修改的項目" in dispatcher.messages[0]["text"]


def test_the_summary_shows_every_answer_with_the_phone_masked() -> None:
    dispatcher = CollectingDispatcher()
    ActionAskConfirmed().run(dispatcher, tracker(slots={**FILLED, "location": "22.6273,120.3014"}), {})
    reply = bubbles(dispatcher.messages)[0]["reply"]
    assert "路燈故障" in reply["text"]
    assert "您分享的位置（22.6273,120.3014）" in reply["text"]
    assert "0912***678（同意提供承辦單位聯絡）" in reply["text"]
    assert "0912345678" not in reply["text"]
    payloads = {b["title"]: b["payload"] for b in reply["buttons"]}
    assert payloads["確認送出"] == "/affirm"
    assert payloads["修改地點"] == '/correct{"form_field": "location"}'
    assert payloads["取消不送出"] == "/cancel"

    no_phone = CollectingDispatcher()
    ActionAskConfirmed().run(no_phone, tracker(slots={**FILLED, "phone": "none", "consent": False}), {})
    assert "未留電話" in bubbles(no_phone.messages)[0]["reply"]["text"]


def test_a_case_without_a_phone_is_filed_and_says_how_to_follow_it(action_env: Database) -> None:
    dispatcher = CollectingDispatcher()
    slots = {**FILLED, "phone": "none", "consent": False, "confirmed": True}
    events = ActionFileCase().run(dispatcher, tracker(slots=slots), {})
    number = next(e["value"] for e in events if e.get("name") == "filed_case_number")
    assert {"event": "slot", "name": "confirmed", "value": None, "timestamp": None} in events
    assert "請撥 1999 並提供案件編號" in bubbles(dispatcher.messages)[0]["reply"]["text"]
    with action_env.session() as session:
        case = CaseStore(session).get(number)
        assert (case.phone, case.contact_consent) == ("", False)


def _starting_form(
    text: str, intent: str, candidates: dict[str, Any], form: Any
) -> tuple[dict[str, Any], list[str]]:
    """Run a form's validation action as Rasa does when the form starts: the slots the first
    message filled are the last events of the tracker."""
    from rasa_sdk import Tracker

    t = Tracker.from_dict(
        {
            "sender_id": "p_conversation1",
            "slots": dict(candidates),
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
            "events": [
                {"event": "user", "text": text},
                *({"event": "slot", "name": name, "value": value} for name, value in candidates.items()),
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(form.run(dispatcher, t, DOMAIN))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return slots, [m["text"] for m in dispatcher.messages if m.get("text")]


def test_a_report_naming_its_place_is_not_asked_for_it_and_hears_what_was_taken() -> None:
    text = "三民區九如一路有個大坑洞"
    slots, said = _starting_form(
        text, "report_issue", {"category": "道路坑洞", "location": text}, ValidateCaseForm()
    )
    assert (slots["category"], slots["location"]) == ("道路坑洞", "三民區九如一路")
    assert said == [
        "好的，我記下了問題類別「道路坑洞」、地點「三民區九如一路」；送出前會再請您確認，也可以修改。"
    ]


def test_a_report_without_a_place_is_asked_for_it_without_a_complaint() -> None:
    slots, said = _starting_form(
        "我要報修路燈",
        "report_issue",
        {"category": "路燈故障", "location": "我要報修路燈"},
        ValidateCaseForm(),
    )
    assert slots["location"] is None, "the form asks for the place"
    assert said == ["好的，我記下了問題類別「路燈故障」；送出前會再請您確認，也可以修改。"]
    _, nothing = _starting_form("我要報案", "report_issue", {"location": "我要報案"}, ValidateCaseForm())
    assert nothing == []


def test_a_status_question_with_its_number_is_asked_only_for_the_phone_digits() -> None:
    from actions.validate_case_status_form import ValidateCaseStatusForm

    form = ValidateCaseStatusForm()
    text = "查詢案件 261207-0001-4"
    slots, said = _starting_form(text, "check_case_status", {"case_number": text}, form)
    assert slots["case_number"] == "261207-0001-4"
    assert said == ["好的，要查詢的案件編號是 261207-0001-4。"]
    plain, quiet = _starting_form(
        "我要查詢案件進度", "check_case_status", {"case_number": "我要查詢案件進度"}, form
    )
    assert plain["case_number"] is None
    assert quiet == [], "no number given: the form simply asks"
    wrong, told = _starting_form(
        "查詢案件 261207-0001-5", "check_case_status", {"case_number": "x 261207-0001-5"}, form
    )
    assert wrong["case_number"] is None
    assert "好像不正確" in told[0]


def test_the_description_is_asked_with_the_categorys_example() -> None:
    from actions.ask_description import ActionAskDescription

    asked = {}
    for category in ("道路坑洞", "路燈故障", "路樹傾倒"):
        dispatcher = CollectingDispatcher()
        ActionAskDescription().run(dispatcher, tracker(slots={"category": category}), {})
        asked[category] = dispatcher.messages[0]["text"]
    assert "坑洞" in asked["道路坑洞"]
    assert "坑洞" not in asked["路燈故障"]
    assert "燈桿上的編號" in asked["路燈故障"]
    assert "坑洞" not in asked["路樹傾倒"]
    assert "擋住" in asked["路樹傾倒"]
