"""The Rasa server over HTTP (REST channel + HTTP API).

Contract with the actions: a bubble may arrive as plain text/buttons (domain responses) or
as ``{"custom": {"reply": Reply}}``; ``{"custom": {"turn": {...}}}`` carries what the turn
log needs (decision, candidates, faq_id, and the message's intent and confidence) and is
not shown. ``rasa_run.py`` adds one with the intent to every answer; a Rasa started
otherwise has only the actions' ones, and when none came the intent is read from the
conversation's tracker after the turn (one more request).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
from pydantic import ValidationError

from bot.chat.engine import EngineTurn, EngineUnavailable
from bot.messages import Button, Incoming, Reply

__all__ = ["ACTIONS_PATH", "RasaEngine", "RasaWarmUp", "message_text"]

ACTIONS_PATH = "/actions/webhook"  # where the bot serves Rasa's actions (bot.api.actions)

log = logging.getLogger(__name__)


def message_text(message: Incoming) -> str:
    """What Rasa is sent: the text, the button payload, a location as ``/share_location``
    (``"lat,lon"``), or a photo's reference."""
    if message.payload:
        return message.payload
    if message.location is not None:
        place = f"{message.location.latitude:.6f},{message.location.longitude:.6f}"
        return "/share_location" + json.dumps({"location": place})
    if message.photo_ref and not message.text:
        return message.photo_ref  # the case form's photo slot takes the reference as text
    return message.text


def _to_replies(messages: list[dict[str, Any]]) -> tuple[list[Reply], dict[str, Any]]:
    replies: list[Reply] = []
    turn: dict[str, Any] = {}
    for item in messages:
        custom = item.get("custom")
        if isinstance(custom, dict):
            if isinstance(custom.get("turn"), dict):
                turn.update(custom["turn"])
            if isinstance(custom.get("reply"), dict):
                try:
                    replies.append(Reply.model_validate(custom["reply"]))
                except ValidationError as error:
                    log.error("an action sent a malformed reply: %s", error)
            continue
        if item.get("text") or item.get("buttons"):
            buttons = [
                Button(
                    title=str(b.get("title", ""))[:100] or "…", payload=str(b.get("payload", ""))[:200] or "…"
                )
                for b in item.get("buttons") or []
            ]
            replies.append(Reply(text=str(item.get("text", "")), buttons=buttons))
    return replies, turn


class RasaEngine:
    """Every turn is one request to Rasa, through ``session`` (aiohttp: a fraction of httpx's
    CPU per request, which counts on a busy evening)."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, *, timeout: float, token: str = ""
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.params = {"token": token} if token else {}

    async def handle(self, conversation_id: str, message: Incoming) -> EngineTurn:
        body = {
            "sender": conversation_id,
            "message": message_text(message),
            "metadata": {"channel": message.channel, "photo_ref": message.photo_ref},
        }
        try:
            messages = await self._json("POST", "/webhooks/rest/webhook", self.params, body)
            if not isinstance(messages, list):
                raise EngineUnavailable("Rasa answered with something that is not a list of messages")
            replies, turn = _to_replies([m for m in messages if isinstance(m, dict)])
            intent: dict[str, Any] = {"name": turn.get("intent"), "confidence": turn.get("intent_confidence")}
            if "intent" not in turn:
                params = {**self.params, "include_events": "NONE"}
                tracker = await self._json("GET", f"/conversations/{conversation_id}/tracker", params)
                intent = (tracker.get("latest_message") or {}).get("intent") or {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise EngineUnavailable(f"Rasa at {self.base_url}: {type(error).__name__}: {error}") from error
        return EngineTurn(
            replies=replies,
            intent=str(intent.get("name") or ""),
            intent_confidence=float(intent["confidence"]) if intent.get("confidence") is not None else None,
            decision=str(turn.get("decision", "")),
            candidates=[str(c) for c in turn.get("candidates", [])],
            faq_id=str(turn.get("faq_id", "")),
        )

    async def _json(self, method: str, path: str, params: dict[str, str], body: Any = None) -> Any:
        async with self.session.request(
            method, self.base_url + path, params=params, json=body, timeout=self.timeout
        ) as response:
            response.raise_for_status()
            return await response.json(content_type=None)  # any content type: the body decides


class RasaWarmUp:
    """Make a freshly started Rasa answer at full speed before anyone relies on it.

    Rasa's first prediction builds its TensorFlow graphs and the action server's first FAQ
    lookup builds its index: together far longer than the chat's timeout, so the first
    citizen would land in degraded mode. Each call makes one attempt: once Rasa reports a
    loaded model, a throwaway parse and throwaway turns of a conversation of its own go
    through NLU, the policies, the action server and FAQ retrieval; True when a turn then
    takes less than ``turn_seconds``.

    ``message`` is what the throwaway turns send: ``/faq`` (the default) goes through the
    actions; :attr:`WITHOUT_ACTIONS` is answered by Rasa alone, for a Rasa whose actions are
    served by a bot that starts after it (``bot1999 run``: the bot warms its own index).
    """

    SENDER = "bot1999-warm-up"
    WITHOUT_ACTIONS = "/greet"

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        turn_seconds: float = 5.0,
        message: str = "/faq",
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.message = message
        self.params = {"token": token} if token else {}
        self.turn_seconds = turn_seconds
        self.last_turn_seconds: float | None = None
        self._clock = clock

    def __call__(self) -> bool:
        try:
            with httpx.Client(base_url=self.base_url, params=self.params, timeout=300.0) as client:
                status = client.get("/status", timeout=2.0)
                if status.status_code != 200 or not status.json().get("model_file"):
                    return False
                client.post("/model/parse", json={"text": "請問大型垃圾要怎麼丟"}).raise_for_status()
                for _ in range(3):
                    started = self._clock()
                    turn = client.post(
                        "/webhooks/rest/webhook", json={"sender": self.SENDER, "message": self.message}
                    )
                    turn.raise_for_status()
                    self.last_turn_seconds = self._clock() - started
                    if self.last_turn_seconds < self.turn_seconds and turn.json():
                        log.info("Rasa is warmed up: a turn takes %.0f ms", self.last_turn_seconds * 1000)
                        return True
        except (httpx.HTTPError, ValueError) as error:
            log.debug("Rasa at %s not ready yet: %s", self.base_url, error)
        return False
