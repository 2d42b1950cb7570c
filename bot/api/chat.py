"""``POST /api/chat``: the web widget's endpoint (other channels call the same service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from bot.chat.messages import ChatRequest, ChatResponse, Incoming
from bot.chat.service import ChatService

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["chat"])


def _service(request: Request) -> ChatService:
    service: ChatService = request.app.state.chat
    return service


@router.post("/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, service: Annotated[ChatService, Depends(_service)]) -> ChatResponse:
    """Send one message (text, a button's payload, or a location); get the bot's replies.

    ``mode`` is ``degraded`` when the dialogue engine did not answer and the knowledge base
    answered directly.
    """
    message = Incoming(
        channel="web",
        user_id=body.sender,
        text=body.text or "",
        payload=body.payload or "",
        location=body.location,
    )
    return await service.handle(message)
