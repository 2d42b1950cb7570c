"""action_handoff: the citizen asks for a person.

In the agents' hours with an agent present, the conversation joins the takeover queue (the
agent sees the transcript, and the citizen is told when a person joins). Otherwise nothing is
filed: the bot says when agents are on line and offers 「留言請專人回覆」 (action_leave_message),
which asks for the message, a phone and consent before filing, or to call 1999.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.providers import database, settings
from actions.replies import send, send_turn
from bot.cases.for_a_person import LEAVE_MESSAGE, LEAVE_MESSAGE_PAYLOAD
from bot.handoff.takeover import request_human
from bot.messages import Button, Reply


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        channel = str((tracker.latest_message.get("metadata") or {}).get("channel") or "web")
        reason = str(tracker.get_slot("last_question") or "")
        with database().session() as session:
            outcome = request_human(
                session, tracker.sender_id, channel=channel, settings=settings().handoff, reason=reason
            )
        offer = [Button(title=LEAVE_MESSAGE, payload=LEAVE_MESSAGE_PAYLOAD)] if outcome.offers_message else []
        send(dispatcher, [Reply(kind="handoff", text=outcome.text, buttons=offer)])
        send_turn(dispatcher, decision="handoff")
        return []
