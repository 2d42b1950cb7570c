"""action_clarify_pick: the citizen picked one of the "did you mean" candidates."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.providers import faq_index
from actions.replies import send, send_turn
from bot.chat.faq import abstain_replies, answer_replies


class ActionClarifyPick(Action):
    def name(self) -> str:
        return "action_clarify_pick"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        faq_id = next(tracker.get_latest_entity_values("faq_id"), None) or tracker.get_slot("faq_id") or ""
        record = faq_index().get(str(faq_id))
        if record is None:  # withdrawn since it was offered
            send(dispatcher, abstain_replies())
            send_turn(dispatcher, decision="abstain")
            return []
        send(dispatcher, answer_replies(record))
        send_turn(dispatcher, decision="answer", candidates=[record.id], faq_id=record.id)
        return []
