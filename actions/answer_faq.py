"""action_answer_faq: answer, offer "did you mean", or abstain honestly.

Every message NLU did not route elsewhere lands here, so this is also the last guard for
emergencies the classifier missed: a message with emergency keywords (the check degraded
mode uses) gets the 119 / 110 reply first. Retrieval still runs after it, because such
words also appear in ordinary questions ("車禍後怎麼申請理賠").
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.providers import faq_index
from actions.replies import send, send_turn
from bot.chat.emergency import EMERGENCY_REPLY, looks_like_emergency
from bot.chat.faq import abstain_replies, answer_replies, clarify_replies


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str(tracker.latest_message.get("text") or "")
        if looks_like_emergency(text):
            send(dispatcher, [EMERGENCY_REPLY])
        outcome = faq_index().answer(text)
        ids = [c.faq_id for c in outcome.candidates]
        if outcome.decision == "answer" and outcome.answer is not None:
            send(dispatcher, answer_replies(outcome.answer))
            send_turn(dispatcher, tracker, decision="answer", candidates=ids, faq_id=outcome.answer.id)
        elif outcome.decision == "clarify":
            send(dispatcher, clarify_replies(outcome.candidates))
            send_turn(dispatcher, tracker, decision="clarify", candidates=ids)
        else:
            send(dispatcher, abstain_replies())
            send_turn(dispatcher, tracker, decision="abstain", candidates=ids)
        return [SlotSet("faq_candidates", ids), SlotSet("last_question", text)]
