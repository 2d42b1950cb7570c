"""action_leave_message: 「留言請專人回覆」 starts the case form as a message for a person.

The category (其他陳情), the place (none) and the photo (none) are set, so the form asks only
for the message, a phone and consent, then shows the summary (bot/cases/for_a_person.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.case_form import NONE
from bot.cases import category_by_code
from bot.cases.for_a_person import MESSAGE_PLACE


class ActionLeaveMessage(Action):
    def name(self) -> str:
        return "action_leave_message"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return [
            SlotSet("message_for_person", True),
            SlotSet("category", category_by_code("general").name),
            SlotSet("location", MESSAGE_PLACE),
            SlotSet("photo", NONE),
        ]
