"""``POST /api/chat``: the web widget's endpoint (other channels call the same service)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, HTTPException, status

from bot.channels.inbox import EventLedger
from bot.chat.service import LOG_RETRY_SECONDS
from bot.deps import ChatDep, DatabaseDep, SettingsDep
from bot.messages import ChatRequest, ChatResponse, Incoming
from bot.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["chat"])


def lease_seconds(settings: Settings) -> float:
    """How long a message being answered is kept from a retry: longer than a turn can take
    (Rasa's answer and tracker, each within ``rasa.timeout_seconds``, and the turn log's retries
    while the database is away), short enough that when a replica dies mid-answer the widget's
    retry (answered 409 meanwhile) is taken up by another replica within seconds."""
    return 2 * settings.rasa.timeout_seconds + LOG_RETRY_SECONDS + 5.0


def web_event_id(sender: str, message_id: str) -> str:
    return hashlib.sha256(f"{sender}\n{message_id}".encode()).hexdigest()


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={409: {"description": "the same message_id is still being answered: send it again shortly"}},
)
async def chat(
    body: ChatRequest,
    service: ChatDep,
    database: DatabaseDep,
    settings: SettingsDep,
) -> ChatResponse:
    """Send one message (text, a button's payload, or a location); get the bot's replies.

    ``mode`` is ``degraded`` when the dialogue engine did not answer and the knowledge base
    answered directly. A ``message_id`` sent again by the same sender (a retry) gets the
    replies of the first time; no second turn is taken.
    """
    message = Incoming(
        channel="web",
        user_id=body.sender,
        text=body.text or "",
        payload=body.payload or "",
        location=body.location,
    )
    if body.message_id is None:
        return await service.handle(message)
    ledger = EventLedger(database, "web", lease_seconds=lease_seconds(settings))
    event_id = web_event_id(body.sender, body.message_id)
    new, held = await service.admit(message, ("web", event_id))  # one transaction for both
    if not new:
        _, saved, _ = await ledger.state(event_id)
        if saved is not None:
            return ChatResponse.model_validate(saved)
        if not await ledger.claim(event_id):  # the first request is still being answered
            raise HTTPException(status.HTTP_409_CONFLICT, "這則訊息正在處理中，請稍候再送一次。")
    try:  # handled in the same transaction as the turn log (a retry then gets this answer)
        return await service.handle(message, event=("web", event_id), held=held if new else None)
    except Exception:
        await ledger.release(event_id)  # not answered: a retry takes the turn
        raise
