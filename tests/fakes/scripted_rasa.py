"""A loopback Rasa server that speaks Rasa's HTTP API and runs our real actions from a script.

It answers ``POST /webhooks/rest/webhook`` (the REST channel) and
``GET /conversations/{id}/tracker`` the way Rasa does, so the bot's real ``RasaEngine`` talks to
it; instead of NLU and policies, the first rule whose words appear in the message picks an
action from ``actions/``, which runs against a real rasa-sdk ``Tracker`` with the rule's slots.
The dialogue design itself is tested with the real Rasa in tests/conversations.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.fakes.loopback import LoopbackApp, Request, Response, json_response

__all__ = ["Rule", "ScriptedRasa"]

_TRACKER = re.compile(r"^/conversations/(?P<sender>[^/]+)/tracker$")


@dataclass
class Rule:
    """When ``words`` appear in the message: run ``action`` with ``slots`` as intent ``intent``."""

    words: tuple[str, ...]
    action: Action
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    delay_seconds: float = 0.0  # answer this late (after the action ran): a slow Rasa


class ScriptedRasa(LoopbackApp):
    name = "scripted-rasa"

    def __init__(self, rules: list[Rule]) -> None:
        super().__init__()
        self.rules = rules
        self.messages: list[tuple[str, str]] = []  # (sender, message) Rasa was asked about
        self._intents: dict[str, str] = {}

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/webhooks/rest/webhook":
            return self._webhook(request.json())
        match = _TRACKER.match(request.path)
        if request.method == "GET" and match:
            intent = self._intents.get(match["sender"], "")
            return json_response(200, {"latest_message": {"intent": {"name": intent, "confidence": 0.99}}})
        return json_response(404, {"error": "not found"})

    def _webhook(self, body: dict[str, Any]) -> Response:
        sender, text = str(body["sender"]), str(body.get("message") or "")
        with self.lock:
            self.messages.append((sender, text))
        rule = next((r for r in self.rules if any(word in text for word in r.words)), None)
        if rule is None:
            self._intents[sender] = "chitchat"
            return json_response(200, [{"recipient_id": sender, "text": f"機器人回覆：{text}"}])
        self._intents[sender] = rule.intent
        tracker = Tracker.from_dict(
            {
                "sender_id": sender,
                "slots": dict(rule.slots),
                "latest_message": {
                    "text": text,
                    "intent": {"name": rule.intent, "confidence": 0.99},
                    "entities": [],
                    "metadata": body.get("metadata") or {},
                },
                "events": [],
                "paused": False,
                "followup_action": None,
                "active_loop": {},
                "latest_action_name": "action_listen",
            }
        )
        dispatcher = CollectingDispatcher()
        rule.action.run(dispatcher, tracker, {})
        out: list[dict[str, Any]] = []
        for message in dispatcher.messages:
            if message.get("custom"):
                out.append({"recipient_id": sender, "custom": message["custom"]})
            elif message.get("text"):
                out.append({"recipient_id": sender, "text": message["text"]})
        if rule.delay_seconds:
            time.sleep(rule.delay_seconds)
        return json_response(200, out)

    def asked(self, sender: str) -> int:
        """How many messages of ``sender`` (a conversation id) reached Rasa."""
        with self.lock:
            return sum(1 for who, _ in self.messages if who == sender)
