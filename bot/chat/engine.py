"""The dialogue-engine swap point: Rasa in production, the degraded responder when it is away."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.messages import Incoming, Reply

__all__ = ["DialogueEngine", "EngineTurn", "EngineUnavailable"]


class EngineUnavailable(Exception):
    """The engine did not answer in time or answered with an error."""


@dataclass(frozen=True, slots=True)
class EngineTurn:
    """The replies to one message, and what the turn log records about how they came about."""

    replies: list[Reply]
    intent: str = ""
    intent_confidence: float | None = None
    decision: str = ""
    candidates: list[str] = field(default_factory=list)
    faq_id: str = ""


class DialogueEngine(Protocol):
    async def handle(self, conversation_id: str, message: Incoming) -> EngineTurn:
        """Answer one message; raise ``EngineUnavailable`` if the engine cannot."""
        ...
