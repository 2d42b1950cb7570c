"""action_handoff: the citizen asks for a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import send
from bot.chat.messages import Button, Reply


class ActionHandoff(Action):
    """Until the agents' live takeover exists, say honestly what happens: a case reaches a person."""

    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = (
            "目前沒有專人可以在線上即時接手。您可以在這裡留下案件，會由承辦人員處理並回覆；"
            "也可以直接撥打 1999（24 小時有人接聽）。"
        )
        send(
            dispatcher,
            [Reply(kind="handoff", text=text, buttons=[Button(title="留下案件", payload="/report_issue")])],
        )
        return []
