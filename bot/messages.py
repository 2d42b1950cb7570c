"""The one message type no channel owns (web, LINE and Telegram convert at the edge).

Payload conventions, shared with Rasa and the actions: ``/pick_suggestion{"faq_id":"X"}`` picks a
"did you mean" candidate, ``/feedback_good`` and ``/feedback_bad`` rate the last answer,
``/report_issue`` starts case filing, ``/ask_human`` asks for a person.
A reply of kind ``agent`` was written by a person (live takeover), not by the bot.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Button",
    "CHANNEL_NAMES",
    "Channel",
    "ChatRequest",
    "ChatResponse",
    "Incoming",
    "Link",
    "Location",
    "Reply",
    "ReplyKind",
    "MAX_TEXT_CHARS",
    "pick_payload",
    "parse_payload",
]

MAX_TEXT_CHARS = 1000
Channel = Literal["web", "line", "telegram"]
CHANNEL_NAMES: dict[str, str] = {"web": "網頁", "line": "LINE", "telegram": "Telegram"}  # as staff read them
ReplyKind = Literal[
    "text", "answer", "clarify", "abstain", "emergency", "notice", "handoff", "case", "feedback", "agent"
]
_PAYLOAD = re.compile(r"^/(?P<intent>[a-z_]{1,40})(?P<entities>\{.*\})?$", re.DOTALL)


class Button(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    payload: str = Field(min_length=1, max_length=200)


class Link(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=2000)


class Reply(BaseModel):
    """One bubble: text, optional buttons (quick replies) and links."""

    kind: ReplyKind = "text"
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)


class Location(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    title: str = Field(default="", max_length=200)


class Incoming(BaseModel):
    """A citizen's message as every channel delivers it to the chat service."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    user_id: str = Field(min_length=1, max_length=100)
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)
    payload: str = Field(default="", max_length=200)
    location: Location | None = None
    photo_ref: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _something_to_say(self) -> Incoming:
        if not (self.text.strip() or self.payload or self.location or self.photo_ref):
            raise ValueError("a message needs text, a payload, a location or a photo")
        return self


class ChatRequest(BaseModel):
    """``POST /api/chat``: one of ``text``, ``payload`` (a button) or ``location``.

    ``message_id`` (optional, chosen by the client) makes a retry safe: the same id from the
    same sender is answered with the replies of the first time, without a second turn.
    """

    model_config = ConfigDict(extra="forbid")

    sender: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-:.]+$")
    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    payload: str | None = Field(default=None, max_length=200)
    location: Location | None = None
    # the client's id for this message: sent again on a retry, it gets the first answer again
    message_id: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-:.]+$")

    @model_validator(mode="after")
    def _exactly_one(self) -> ChatRequest:
        given = [name for name in ("text", "payload", "location") if getattr(self, name) not in (None, "")]
        if len(given) != 1:
            raise ValueError("send exactly one of text, payload or location")
        if self.text is not None and not self.text.strip():
            raise ValueError("text is empty")
        return self


class ChatResponse(BaseModel):
    replies: list[Reply]
    mode: Literal["normal", "degraded"] = "normal"


def pick_payload(faq_id: str) -> str:
    return "/pick_suggestion" + json.dumps({"faq_id": faq_id}, ensure_ascii=False)


def parse_payload(payload: str) -> tuple[str, dict[str, str]] | None:
    """``/intent{"entity": "value"}`` as (intent, entities), or None if it is not one."""
    match = _PAYLOAD.match(payload.strip())
    if match is None:
        return None
    entities: dict[str, str] = {}
    if match["entities"]:
        try:
            raw = json.loads(match["entities"])
        except json.JSONDecodeError:
            return None
        if not isinstance(raw, dict):
            return None
        entities = {str(k): str(v) for k, v in raw.items()}
    return match["intent"], entities
