"""LINE (Messaging API, line-bot-sdk v3): the webhook, replies with quick replies, and pushes.

``POST /channels/line/webhook`` accepts only bodies signed with the channel secret
(``X-Line-Signature``: base64 HMAC-SHA256 of the body), stores each new event (a redelivered
``webhookEventId`` is dropped) and answers 200 at once; the events are answered in the
background (``bot.channels.inbox``). A reply uses the event's reply token while it is fresh
and falls back to a push (with a retry key, so a retried push is delivered once) when the
token has expired or is refused.

Conversion at the edge: text, a postback (a button: its data is our payload), a location and
an image (downloaded through the blob API and kept by ``bot.media``) become an ``Incoming``;
our replies become text messages, links written out, and the buttons become quick-reply
postback actions on the last message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from typing import Annotated, Any

import aiohttp
from fastapi import APIRouter, Header, HTTPException, Request, status
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhook import SignatureValidator
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
)
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from bot.channels.base import PushFailed
from bot.channels.inbox import EventLedger, Inbox
from bot.channels.text import (
    OTHER_CONTENT_TEXT,
    WELCOME_TEXT,
    clip,
    kept_of_long,
    reply_text,
    too_fast_text,
)
from bot.chat.service import ChatService
from bot.media import MediaRejected, MediaStore
from bot.messages import ChatResponse, Incoming, Location, Reply
from bot.security.guard import SenderThrottle
from bot.settings import ChannelsSettings
from bot.store import Database

__all__ = ["LineChannel", "LineGateway", "router", "to_line_messages"]

log = logging.getLogger(__name__)
Json = dict[str, Any]

MAX_BODY_BYTES = 1_000_000
MAX_MESSAGES = 5  # per reply or push request
MAX_TEXT = 5000
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
REPLY_TOKEN_SECONDS = 50  # LINE accepts a reply token for about a minute; later, push
_RETRY_KEYS = uuid.UUID("6f1c5a52-3c1e-4f0e-9a53-1999a1b2c3d4")


def to_line_messages(replies: list[Reply], public_base_url: str = "") -> list[Any]:
    """Our replies as at most five LINE text messages; every button a quick reply on the last."""
    texts = [text for r in replies if (text := reply_text(r, public_base_url, MAX_TEXT))]
    buttons = [b for r in replies for b in r.buttons]
    if not texts:
        texts = ["請選擇：" if buttons else "…"]
    if len(texts) > MAX_MESSAGES:
        texts = texts[: MAX_MESSAGES - 1] + [clip("\n\n".join(texts[MAX_MESSAGES - 1 :]), MAX_TEXT)]
    seen: set[str] = set()
    items: list[Any] = []
    for button in buttons:
        if button.payload in seen or len(items) == MAX_QUICK_REPLIES:
            continue
        seen.add(button.payload)
        action = PostbackAction(
            label=clip(button.title, MAX_LABEL), data=button.payload, display_text=clip(button.title, 300)
        )
        items.append(QuickReplyItem(action=action))
    messages = [TextMessage(text=text) for text in texts]
    if items:
        messages[-1] = TextMessage(text=texts[-1], quick_reply=QuickReply(items=items))
    return messages


def _status(error: BaseException) -> int | None:
    return getattr(error, "status", None) if isinstance(error, ApiException) else None


class LineGateway:
    """Pushes (case notifications, a live agent's replies) to a LINE user id."""

    name = "line"

    def __init__(self, channel: LineChannel) -> None:
        self.channel = channel

    async def push(self, address: str, replies: list[Reply]) -> None:
        try:
            await self.channel.push(address, replies, retry_key=str(uuid.uuid4()))
        except (ApiException, aiohttp.ClientError, TimeoutError) as error:
            raise PushFailed(f"LINE push to {address[:6]}… failed: {_status(error) or error}") from error


class LineChannel:
    """The LINE channel of one app: verification, event handling, replies and pushes."""

    name = "line"

    def __init__(
        self,
        settings: ChannelsSettings,
        chat: ChatService,
        database: Database,
        media: MediaStore,
        *,
        throttle: SenderThrottle | None = None,
    ) -> None:
        self.throttle = throttle  # limits.channel_per_sender, per citizen
        line = settings.line
        self.public_base_url = settings.public_base_url
        self.chat = chat
        self.media = media
        self._validator = SignatureValidator(line.channel_secret.get_secret_value())
        self._token = line.channel_access_token.get_secret_value()
        self._api_url = line.api_base_url.rstrip("/")
        self._data_url = line.data_api_base_url.rstrip("/")
        self.inbox = Inbox(EventLedger(database, "line"), self)
        self.gateway = LineGateway(self)
        self._clients: list[Any] = []
        self._api: Any = None
        self._blob: Any = None

    async def start(self) -> None:
        """Open the API clients (inside the running loop) and the inbox's workers."""
        api = AsyncApiClient(Configuration(host=self._api_url, access_token=self._token))
        blob = AsyncApiClient(Configuration(host=self._data_url, access_token=self._token))
        self._clients = [api, blob]
        self._api, self._blob = AsyncMessagingApi(api), AsyncMessagingApiBlob(blob)
        self.inbox.start()

    async def stop(self) -> None:
        await self.inbox.stop()
        for client in self._clients:
            await client.close()
        self._clients = []

    # --- the webhook

    def verify(self, body: bytes, signature: str) -> bool:
        try:
            return bool(self._validator.validate(body.decode("utf-8"), signature))
        except UnicodeDecodeError:
            return False

    async def receive(self, body: bytes) -> list[str]:
        """Accept a verified webhook body's events; raise ValueError if it is not one."""
        data = json.loads(body)
        events = data.get("events") if isinstance(data, dict) else None
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise ValueError("a LINE webhook body has a list of events")
        return await self.inbox.accept([(_event_id(event), event) for event in events])

    # --- handling one event (ChannelHandler)

    def conversation_key(self, event: Json) -> str:
        return str((event.get("source") or {}).get("userId") or "")

    async def respond(self, event_id: str, event: Json) -> Json | None:
        user_id = self.conversation_key(event)
        if event.get("mode", "active") != "active" or not user_id:
            return None  # standby (another channel answers) or a group or room: not ours to answer
        try:
            parsed = Event.from_dict(event)
        except (ValueError, TypeError) as error:
            log.info("LINE event %s of type %r not handled: %s", event_id, event.get("type"), error)
            return None
        if isinstance(parsed, FollowEvent):
            return _replies(Reply(text=WELCOME_TEXT))
        if isinstance(parsed, PostbackEvent):
            data = str(parsed.postback.data or "")
            if not data or len(data) > 200:
                return None
            return await self._turn(Incoming(channel="line", user_id=user_id, payload=data))
        if not isinstance(parsed, MessageEvent):
            return None
        content = parsed.message
        if isinstance(content, TextMessageContent):
            if not content.text.strip():
                return None
            text, cut = kept_of_long(content.text)  # over the limit: the start is read, and said so
            response = await self._turn(Incoming(channel="line", user_id=user_id, text=text))
            return _told(response, cut)
        if isinstance(content, LocationMessageContent):
            place = Location(
                latitude=content.latitude,
                longitude=content.longitude,
                title=clip(str(content.title or content.address or ""), 200),
            )
            return await self._turn(Incoming(channel="line", user_id=user_id, location=place))
        if isinstance(content, ImageMessageContent):
            try:
                ref = await self._photo(content)
            except MediaRejected as rejected:
                return _replies(Reply(text=str(rejected)))
            return await self._turn(Incoming(channel="line", user_id=user_id, photo_ref=ref))
        return _replies(Reply(text=OTHER_CONTENT_TEXT))

    async def deliver(self, event_id: str, event: Json, response: Json) -> None:
        replies = ChatResponse.model_validate(response).replies
        token = str(event.get("replyToken") or "")
        age = time.time() - float(event.get("timestamp") or 0) / 1000
        if token and age < REPLY_TOKEN_SECONDS:
            request = ReplyMessageRequest(
                reply_token=token, messages=to_line_messages(replies, self.public_base_url)
            )
            try:
                await self._api.reply_message(request)
                return
            except ApiException as error:
                log.info(
                    "LINE refused the reply token of event %s (%s): pushing instead", event_id, error.status
                )
        else:
            log.info(
                "LINE event %s is %.0f s old: its reply token has expired, pushing instead", event_id, age
            )
        # the same retry key for every attempt at this event: LINE delivers it once
        key = str(uuid.uuid5(_RETRY_KEYS, event_id))
        try:
            await self.push(self.conversation_key(event), replies, retry_key=key)
        except ApiException as error:
            if error.status in {
                400,
                403,
                404,
            }:  # a user who blocked the bot, or a bad id: retrying won't help
                log.warning(
                    "LINE would not deliver the answer to event %s: %s %s", event_id, error.status, error.body
                )
                return
            raise

    # --- sending

    async def push(self, user_id: str, replies: list[Reply], *, retry_key: str) -> None:
        request = PushMessageRequest(to=user_id, messages=to_line_messages(replies, self.public_base_url))
        try:
            await self._api.push_message(request, x_line_retry_key=retry_key)
        except ApiException as error:
            if error.status != 409:  # 409: this retry key was accepted before, so it is delivered
                raise

    async def _photo(self, content: Any) -> str:
        provider = getattr(content.content_provider, "type", "line")
        if provider != "line":
            raise MediaRejected("這張照片存在別的網站上，我們無法取得。請直接從手機相簿傳送照片。")
        try:
            data = await self._blob.get_message_content(message_id=content.id)
        except (ApiException, aiohttp.ClientError, TimeoutError) as error:
            if _status(error) in {404, 410}:
                raise MediaRejected("照片已經無法下載了，請再傳一次。") from error
            raise  # LINE or the network failed: the event is tried again
        return await _save(self.media, bytes(data))

    async def _turn(self, message: Incoming) -> Json | None:
        if self.throttle is not None:
            verdict = await self.throttle.check(self.name, message.user_id)
            if not verdict.allowed:
                log.info("LINE: a citizen is over limits.channel_per_sender; told to wait")
                return _replies(Reply(text=too_fast_text(verdict.retry_after_seconds)))
        response = await self.chat.handle(message)
        if not response.replies:
            return None  # an agent holds the conversation: the bot stays silent
        return response.model_dump(mode="json")


async def _save(media: MediaStore, data: bytes) -> str:
    return await run_in_threadpool(media.save, data)


def _replies(*replies: Reply) -> Json:
    return ChatResponse(replies=list(replies)).model_dump(mode="json")


def _told(response: Json | None, notice: Reply | None) -> Json | None:
    """``response`` with ``notice`` (what part of a long message was read) as its first bubble."""
    if notice is None:
        return response
    if response is None:  # an agent holds the conversation: the citizen still learns what was kept
        return _replies(notice)
    return {**response, "replies": [notice.model_dump(mode="json"), *response["replies"]]}


def _event_id(event: Json) -> str:
    event_id = event.get("webhookEventId")
    if isinstance(event_id, str) and 0 < len(event_id) <= 100:
        return event_id
    # not sent by LINE for every event in the past: fall back to the event's own content
    return "sha256:" + hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()[:64]


router = APIRouter(prefix="/channels/line", tags=["channels"])


@router.post("/webhook", include_in_schema=False)
async def line_webhook(request: Request, x_line_signature: Annotated[str, Header()] = "") -> dict[str, int]:
    """LINE's webhook: verify the signature, store the new events, answer at once."""
    channel: LineChannel | None = getattr(request.app.state, "line", None)
    if channel is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the LINE channel is off (no credentials in settings)")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "webhook body too large")
    if not x_line_signature:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "missing X-Line-Signature")
    if not channel.verify(body, x_line_signature):
        log.warning("LINE webhook with a bad signature refused")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid X-Line-Signature")
    try:
        accepted = await channel.receive(body)
    except (ValueError, ValidationError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"malformed webhook body: {error}") from None
    return {"accepted": len(accepted)}
