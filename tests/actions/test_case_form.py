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
        }
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
