"""action_clarify_pick: the citizen picked one of the "did you mean" candidates.

A button sends the entry's id; a typed pick ("第二個", "2", "最後一個") names its place
among the candidates the last "did you mean" offered (slot ``faq_candidates``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.providers import faq_index
from actions.replies import send, send_turn
from bot.chat.faq import MAX_OFFERED, abstain_replies, answer_replies

_ORDINALS = {"一": 0, "1": 0, "二": 1, "兩": 1, "2": 1, "三": 2, "3": 2, "四": 3, "4": 3, "五": 4, "5": 4}
_PLACE = re.compile(r"([一二兩三四五12345])\s*(個|項|題|則)?")


def picked_place(text: str, offered: int) -> int | None:
    """The 0-based place a typed pick names among ``offered`` candidates, or None."""
    text = unicodedata.normalize("NFKC", text)
    if offered and any(word in text for word in ("最後", "最下面", "last")):
        return offered - 1
    match = _PLACE.search(text)
    if match is None:
        return None
    place = _ORDINALS[match.group(1)]
    return place if place < offered else None


class ActionClarifyPick(Action):
    def name(self) -> str:
        return "action_clarify_pick"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        faq_id = next(tracker.get_latest_entity_values("faq_id"), None)
        if not faq_id:
            offered = [str(c) for c in tracker.get_slot("faq_candidates") or []][:MAX_OFFERED]
            place = picked_place(str(tracker.latest_message.get("text") or ""), len(offered))
            faq_id = offered[place] if place is not None else ""
        record = faq_index().get(str(faq_id)) if faq_id else None
        if record is None:  # withdrawn since it was offered, or no pick we can tell
            send(dispatcher, abstain_replies())
            send_turn(dispatcher, tracker, decision="abstain")
            return [SlotSet("faq_id", None)]
        send(dispatcher, answer_replies(record))
        send_turn(dispatcher, tracker, decision="answer", candidates=[record.id], faq_id=record.id)
        return [SlotSet("faq_id", None)]
