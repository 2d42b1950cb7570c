"""validate_case_status_form: a case number with a valid check digit, and 3 phone digits.

A number given with the question (「查詢案件 261207-0001-4」) is taken, and only the phone
digits are asked for.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.cases import is_valid_case_number, normalise_case_number
from bot.cases.numbers import find_case_number


class ValidateCaseStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_case_status_form"

    def validate_case_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        starting = tracker.get_slot("requested_slot") is None  # the question that started the form
        number = find_case_number(text) or text
        if not is_valid_case_number(number):
            if not starting or find_case_number(text):  # asked for it, or a number that is wrong
                dispatcher.utter_message(text="案件編號好像不正確，格式像 261122-0042-7，請再確認一次。")
            return {"case_number": None}
        if starting:
            dispatcher.utter_message(text=f"好的，要查詢的案件編號是 {normalise_case_number(number)}。")
        return {"case_number": normalise_case_number(number)}

    def validate_phone_last3(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        digits = "".join(ch for ch in unicodedata.normalize("NFKC", str(value or "")) if ch.isdigit())
        if len(digits) != 3:
            dispatcher.utter_message(text="請輸入您留下的聯絡電話最後 3 碼數字。")
            return {"phone_last3": None}
        return {"phone_last3": digits}
