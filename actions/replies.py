"""How actions send the chat's typed replies through Rasa (the bot reads them back)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.messages import Reply

__all__ = ["send", "send_turn"]


def send(dispatcher: CollectingDispatcher, replies: list[Reply]) -> None:
    for reply in replies:
        dispatcher.utter_message(json_message={"reply": reply.model_dump(mode="json")})


def send_turn(dispatcher: CollectingDispatcher, tracker: Tracker | None = None, **turn: Any) -> None:
    """What the turn log records about this turn (decision, candidates, faq_id); not shown.

    With the tracker, the message's intent goes along, so the bot need not ask Rasa for it.
    """
    if tracker is not None:
        intent = tracker.latest_message.get("intent") or {}
        turn.setdefault("intent", str(intent.get("name") or ""))
        turn.setdefault("intent_confidence", intent.get("confidence"))
    dispatcher.utter_message(json_message={"turn": turn})
