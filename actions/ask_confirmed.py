"""action_ask_confirmed: the case form's last question, a summary to confirm or correct."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.case_form import confirm_reply
from actions.replies import send


class ActionAskConfirmed(Action):
    def name(self) -> str:
        return "action_ask_confirmed"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        send(dispatcher, [confirm_reply(tracker)])
        return []
