"""``GET /api/chat/updates``: what was pushed to a web-widget citizen since the widget last looked.

Case notices and a live agent's words reach a web citizen this way (``bot.handoff.web``). The
widget polls with the id of the last update it has; the answer says how soon to ask again —
often while a person is coming or talking, rarely otherwise.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ValidationError

from bot.deps import DatabaseDep, SettingsDep
from bot.messages import Reply
from bot.privacy import pseudonymise
from bot.store.handoff import HandoffState, HandoffStore
from bot.store.outbox import WebOutboxStore

__all__ = ["router", "UpdatesResponse", "Update", "POLL_ACTIVE_MS", "POLL_IDLE_MS"]

router = APIRouter(prefix="/api", tags=["chat"])
POLL_ACTIVE_MS = 2000
POLL_IDLE_MS = 20000
MAX_UPDATES = 50


class Update(BaseModel):
    id: int
    reply: Reply


class UpdatesResponse(BaseModel):
    updates: list[Update]
    last: int
    """Send this as ``after`` next time."""
    person: Literal["none", "waiting", "present"]
    """Whether a person is coming (``waiting``) or talking (``present``) in this conversation."""
    poll_ms: int
    """When to ask again."""


@router.get("/chat/updates", response_model=UpdatesResponse)
def chat_updates(
    response: Response,
    database: DatabaseDep,
    settings: SettingsDep,
    sender: Annotated[str, Query(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-:.]+$")],
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> UpdatesResponse:
    """Messages pushed to ``sender`` with an id above ``after`` (at most 50, oldest first)."""
    response.headers["Cache-Control"] = "no-store"
    conversation_id = pseudonymise("web", sender, settings.privacy.pseudonym_key.get_secret_value())
    with database.session() as session:
        rows = WebOutboxStore(session).since(sender, after, limit=MAX_UPDATES)
        handoff = HandoffStore(session).open_for(conversation_id)
        state = handoff.state if handoff else None
    updates: list[Update] = []
    for row in rows:
        try:
            updates.append(Update(id=row.id, reply=Reply.model_validate(row.reply)))
        except ValidationError:
            continue
    person: Literal["none", "waiting", "present"] = (
        "present" if state == HandoffState.HELD.value else "waiting" if state else "none"
    )
    more = len(rows) == MAX_UPDATES
    return UpdatesResponse(
        updates=updates,
        last=rows[-1].id if rows else after,
        person=person,
        poll_ms=0 if more else POLL_ACTIVE_MS if state else POLL_IDLE_MS,
    )
