"""validate_case_form: check each slot of the case form as the citizen gives it."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.cases import category_by_code, match_category
from bot.store.cases import MAX_DESCRIPTION_CHARS, CaseInputError, normalise_phone

_LAT_LON = re.compile(r"^-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?$")
_NO = {"none", "沒有", "無", "不用", "不需要", "沒", "no"}
Slots = dict[str, Any]


class ValidateCaseForm(FormValidationAction):
    def name(self) -> str:
        return "validate_case_form"

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
        try:
            return {"phone": normalise_phone(str(value or ""))}
        except CaseInputError:
            dispatcher.utter_message(text="這個號碼看起來不對，請輸入手機（09 開頭 10 碼）或含區碼的市話。")
            return {"phone": None}
