"""action_handoff: the citizen asks for a person.

In the agents' hours with an agent present, the conversation joins the takeover queue (the
agent sees the transcript, and the citizen is told when a person joins). Otherwise the bot says
honestly that nobody can come now, files a case carrying the conversation, and gives its number.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.providers import database, settings
from actions.replies import send, send_turn
from bot.handoff.takeover import request_human
from bot.messages import Reply


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        handoff = settings().handoff
        channel = str((tracker.latest_message.get("metadata") or {}).get("channel") or "web")
        reason = str(tracker.get_slot("last_question") or "")
        with database().session() as session:
            outcome = request_human(
                session,
                tracker.sender_id,
                channel=channel,
                settings=handoff,
                reason=reason,
                grace=timedelta(seconds=handoff.filed_notice_grace_seconds),
            )
        send(dispatcher, [Reply(kind="handoff", text=outcome.text)])
        send_turn(dispatcher, decision="handoff")
        return []
