"""validate_case_form: check each slot of the case form as the citizen gives it, and corrections.

The report that starts the form is read first: a category (the NLU's entity) and a place
(``bot.cases.places``) it names are taken, said back to the citizen, and not asked again —
「三民區九如一路有個大坑洞」 goes straight to the description. The summary before filing
shows them again with 修改 buttons.

A correction ("地址打錯了", or a 修改 button on the summary) empties the named answer (the
last one given when none is named) and the form asks for it again, then for the rest.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.case_form import FIELD_LABELS, NONE, corrected_field
from bot.cases import category_by_code, match_category
from bot.cases.places import find_place
from bot.store.cases import MAX_DESCRIPTION_CHARS, CaseInputError, normalise_phone

_LAT_LON = re.compile(r"^-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?$")
_NO = {"none", "沒有", "無", "不用", "不需要", "沒", "no", "沒照片", "沒有照片"}
_NO_PHONE = re.compile(r"^(none|不留|不要|不用|不想|沒有|不方便|免)")
Slots = dict[str, Any]


class ValidateCaseForm(FormValidationAction):
    def name(self) -> str:
        return "validate_case_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if (tracker.latest_message.get("intent") or {}).get("name") != "correct":
            events: list[EventType] = await super().run(dispatcher, tracker, domain)
            if _starting(tracker):
                _say_what_was_taken(dispatcher, events)
            return events
        field = corrected_field(tracker)
        events = [SlotSet("confirmed", None)]
        if field is None:  # nothing answered yet: the form asks its current question again
            return events
        events.append(SlotSet(field, None))
        if field == "phone":
            events.append(SlotSet("consent", None))
        dispatcher.utter_message(text=f"好的，請重新提供{FIELD_LABELS[field]}。")
        return events

    def validate_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        code = match_category(str(value or ""))
        if code is None:
            dispatcher.utter_message(
                text="抱歉，我不確定是哪一類問題，請從按鈕選擇或用幾個字描述（例如：路燈不亮）。"
            )
            return {"category": None}
        return {"category": category_by_code(code).name}

    def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        text = str(value or "").strip()
        if _LAT_LON.match(text.replace(" ", "")):
            return {"location": text.replace(" ", "")}
        if _starting(tracker):  # the report itself: its place if it names one, else the form asks
            return {"location": find_place(text)}
        if len(text) < 2:
            dispatcher.utter_message(
                text="請告訴我地點，例如路名與路口、門牌或明顯地標，也可以直接分享位置。"
            )
            return {"location": None}
        return {"location": text[:300]}

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        text = str(value or "").strip()
        if not text:
            dispatcher.utter_message(text="請簡單描述狀況。")
            return {"description": None}
        return {"description": text[:MAX_DESCRIPTION_CHARS]}

    def validate_photo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        text = str(value or "").strip()
        return {"photo": "none" if not text or text.lower() in _NO else text[:500]}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        text = str(value or "").strip()
        if _NO_PHONE.match(text.lower()):  # no phone: nothing to consent to
            return {"phone": NONE, "consent": False}
        try:
            return {"phone": normalise_phone(text)}
        except CaseInputError:
            dispatcher.utter_message(
                text="這個號碼看起來不對，請輸入手機（09 開頭 10 碼）或含區碼的市話；不想留請回覆「不留」。"
            )
            return {"phone": None}

    def validate_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """同意 / 不同意 (the buttons, or words meaning yes or no); anything else asks again."""
        return {"consent": value if isinstance(value, bool) else None}

    def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        if value is True:
            return {"confirmed": True}
        dispatcher.utter_message(text="好的，請點選要修改的項目；不送出請按「取消」。")
        return {"confirmed": None}


def _starting(tracker: Tracker) -> bool:
    """The form is reading the report that started it (nothing has been asked yet)."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return tracker.get_slot("requested_slot") is None and intent == "report_issue"


def _say_what_was_taken(dispatcher: CollectingDispatcher, events: list[EventType]) -> None:
    taken = {e["name"]: e["value"] for e in events if e.get("event") == "slot" and e.get("value")}
    parts = [f"{FIELD_LABELS[name]}「{taken[name]}」" for name in ("category", "location") if name in taken]
    if parts:
        dispatcher.utter_message(text=f"好的，我記下了{'、'.join(parts)}；送出前會再請您確認，也可以修改。")
