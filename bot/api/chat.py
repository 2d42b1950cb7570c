"""``POST /api/chat``: the web widget's endpoint (other channels call the same service)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status
from starlette.concurrency import run_in_threadpool

from bot.channels.inbox import EventLedger
from bot.chat.service import LOG_RETRY_SECONDS, ChatService
from bot.deps import ChatDep, DatabaseDep, SettingsDep
from bot.media import MediaRejected, MediaStore
from bot.messages import ChatRequest, ChatResponse, Incoming
from bot.settings import Settings
from bot.store import Database

__all__ = ["PHOTO_PATH", "router"]

router = APIRouter(prefix="/api", tags=["chat"])
SENDER_PATTERN = r"^[A-Za-z0-9_\-:.]+$"  # as ChatRequest's sender and message_id
PHOTO_PATH = "/api/chat/photo"


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
    return await _answer(message, body.message_id, settings, service, database)


@router.post(
    "/chat/photo",
    response_model=ChatResponse,
    responses={
        400: {"description": "not a JPEG, PNG or WebP photo, or too large (the detail says so in Chinese)"},
        409: {"description": "the same message_id is still being answered: send it again shortly"},
    },
)
async def chat_photo(
    service: ChatDep,
    database: DatabaseDep,
    settings: SettingsDep,
    sender: Annotated[str, Form(min_length=1, max_length=100, pattern=SENDER_PATTERN)],
    photo: Annotated[UploadFile, File(description="a JPEG, PNG or WebP photo")],
    message_id: Annotated[str | None, Form(min_length=1, max_length=100, pattern=SENDER_PATTERN)] = None,
) -> ChatResponse:
    """Send a photo from the web chat (multipart); it is kept like a LINE or Telegram photo.

    The bytes decide the type (JPEG, PNG or WebP), whatever the file's name or declared type;
    one larger than ``channels.max_photo_bytes`` is refused. The case form takes the photo's
    reference as its answer to 「請上傳一張現場照片」, as it does on the other channels.
    """
    config = settings.channels
    media = MediaStore(config.media_dir, config.max_photo_bytes)
    data = await photo.read(config.max_photo_bytes + 1)
    try:
        ref = await run_in_threadpool(media.save, data)
    except MediaRejected as rejected:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(rejected)) from None
    message = Incoming(channel="web", user_id=sender, photo_ref=ref)
    return await _answer(message, message_id, settings, service, database)


async def _answer(
    message: Incoming,
    message_id: str | None,
    settings: Settings,
    service: ChatService,
    database: Database,
) -> ChatResponse:
    if message_id is None:
        return await service.handle(message)
    ledger = EventLedger(database, "web", lease_seconds=lease_seconds(settings))
    event_id = web_event_id(message.user_id, message_id)
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
