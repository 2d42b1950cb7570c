"""action_record_feedback: thank the citizen (the chat service stores the rating on the answer)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import send
from bot.chat.messages import Button, Reply


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_intent_of_latest_message() == "feedback_good":
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
        return []
