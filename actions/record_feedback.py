"""action_record_feedback: rate the last answer (buttons, typed words, or yes / no right after it)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.providers import database
from actions.replies import send, send_turn
from bot.learning.citizens import after_rating
from bot.messages import Button, Reply
from bot.settings import get_settings
from bot.store.turns import TurnStore

GOOD_INTENTS = frozenset({"feedback_good", "affirm"})


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        good = (tracker.latest_message.get("intent") or {}).get("name") in GOOD_INTENTS
        # The conversation's latest answered turn; the chat service logs this turn itself
        # afterwards (and sets the same rating again for a button, which changes nothing).
        value = "good" if good else "bad"
        with database().session() as session:
            rated = TurnStore(session).set_feedback(tracker.sender_id, value)
            after_rating(session, rated, value, get_settings().citizen_learning)
        if good:
            send(dispatcher, [Reply(text="謝謝您的回饋！還有其他問題都可以問我。")])
        else:
            buttons = [
                Button(title="我要反映問題", payload="/report_issue"),
                Button(title="轉接專人", payload="/ask_human"),
            ]
            send(
                dispatcher,
                [Reply(text="抱歉沒有幫上忙。您可以換個說法再問，或請專人協助。", buttons=buttons)],
            )
        send_turn(dispatcher, tracker)
        return []
