"""validate_case_status_form: a case number with a valid check digit, and 3 phone digits."""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.cases import is_valid_case_number, normalise_case_number


class ValidateCaseStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_case_status_form"

    def validate_case_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not is_valid_case_number(str(value or "")):
            dispatcher.utter_message(text="案件編號好像不正確，格式像 261122-0042-7，請再確認一次。")
            return {"case_number": None}
        return {"case_number": normalise_case_number(str(value))}

    def validate_phone_last3(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        digits = "".join(ch for ch in unicodedata.normalize("NFKC", str(value or "")) if ch.isdigit())
        if len(digits) != 3:
            dispatcher.utter_message(text="請輸入您留下的聯絡電話最後 3 碼數字。")
            return {"phone_last3": None}
        return {"phone_last3": digits}
