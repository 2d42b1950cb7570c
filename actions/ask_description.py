"""action_ask_description: the case form asks for a description with its category's own example
(or, for a message for a person, for the message)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.cases.categories import describe_prompt
from bot.cases.for_a_person import MESSAGE_PROMPT


class ActionAskDescription(Action):
    def name(self) -> str:
        return "action_ask_description"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("message_for_person"):
            dispatcher.utter_message(text=MESSAGE_PROMPT)
        else:
            dispatcher.utter_message(text=describe_prompt(str(tracker.get_slot("category") or "")))
        return []
