"""Telegram (Bot API, python-telegram-bot): the webhook, inline keyboards, photos and pushes.

``POST /channels/telegram/webhook`` accepts only requests carrying the configured secret in
``X-Telegram-Bot-Api-Secret-Token`` (Telegram sends the one given to ``setWebhook``; in
polling mode ``bot1999 telegram-poll`` fetches updates and posts them here with it). Each new
``update_id`` is stored (a repeated one is dropped) and the request is answered at once; the
updates are answered in the background (``bot.channels.inbox``).

Conversion at the edge: text, a pressed inline button (its ``callback_data``: our payload,
or a short token standing for a payload longer than Telegram's 64 bytes), a location and a
photo (downloaded with ``getFile``, kept by ``bot.media``) become an ``Incoming``; each reply
becomes a message, links written out, buttons as an inline keyboard. Only private chats are
answered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.channels.base import PushFailed
from bot.channels.inbox import EventLedger, Inbox
from bot.channels.text import OTHER_CONTENT_TEXT, WELCOME_TEXT, kept_of_long, reply_text, too_fast_text
from bot.chat.service import ChatService
from bot.media import MediaRejected, MediaStore
from bot.messages import Button, ChatResponse, Incoming, Location, Reply
from bot.security.guard import SenderThrottle
from bot.settings import ChannelsSettings, TelegramSettings
from bot.store import Database
from bot.store.buttons import TOKEN_PREFIX, ButtonPayloadStore

__all__ = [
    "ALLOWED_UPDATES",
    "TelegramChannel",
    "TelegramGateway",
    "WEBHOOK_PATH",
    "make_bot",
    "router",
    "webhook_secret",
]

log = logging.getLogger(__name__)
Json = dict[str, Any]

WEBHOOK_PATH = "/channels/telegram/webhook"
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_BODY_BYTES = 1_000_000
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
EXPIRED_BUTTON_TEXT = "這個按鈕已經失效了，請直接輸入您的問題。"


def webhook_secret(settings: TelegramSettings) -> str:
    """The configured secret, or one derived from the bot token when none is configured."""
    secret = settings.webhook_secret.get_secret_value()
    if secret:
        return secret
    token = settings.bot_token.get_secret_value().encode()
    return hmac.new(token, b"bot1999 telegram webhook", hashlib.sha256).hexdigest()


def make_bot(settings: TelegramSettings) -> Bot:
    base = settings.api_base_url.rstrip("/")
    return Bot(
        settings.bot_token.get_secret_value(), base_url=f"{base}/bot", base_file_url=f"{base}/file/bot"
    )


def _chat_id(update: Json) -> int | None:
    for key in ("message", "edited_message"):
        chat = (update.get(key) or {}).get("chat") or {}
        if "id" in chat:
            return int(chat["id"])
    query = update.get("callback_query") or {}
    chat = ((query.get("message") or {}).get("chat")) or {}
    if "id" in chat:
        return int(chat["id"])
    sender = query.get("from") or {}
    return int(sender["id"]) if "id" in sender else None


class TelegramGateway:
    """Pushes (case notifications, a live agent's replies) to a Telegram chat id."""

    name = "telegram"

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel

    async def push(self, address: str, replies: list[Reply]) -> None:
        try:
            await self.channel.send(int(address), replies)
        except (TelegramError, ValueError) as error:
            raise PushFailed(f"Telegram push to chat {address} failed: {error}") from error


class TelegramChannel:
    """The Telegram channel of one app: verification, update handling, replies and pushes."""

    name = "telegram"

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
        self.settings = settings.telegram
        self.public_base_url = settings.public_base_url
        self.chat = chat
        self.database = database
        self.media = media
        self.secret = webhook_secret(settings.telegram)
        self.bot = make_bot(settings.telegram)
        self.inbox = Inbox(EventLedger(database, "telegram"), self)
        self.gateway = TelegramGateway(self)

    async def start(self) -> None:
        """Check the token (getMe), register the webhook if asked to, start the inbox's workers.

        Telegram being unreachable at start-up does not stop the bot: it is logged, and the
        channel works as soon as Telegram answers.
        """
        try:
            await self.bot.initialize()
            log.info("Telegram channel on: @%s (%s mode)", self.bot.username, self.settings.mode)
        except TelegramError as error:
            log.error("Telegram channel: the Bot API did not confirm the token (%s); will keep trying", error)
        if self.settings.mode == "webhook":
            await self._register_webhook()
        self.inbox.start()

    async def stop(self) -> None:
        await self.inbox.stop()
        await self.bot.shutdown()

    async def _register_webhook(self) -> None:
        if not self.public_base_url:
            log.warning(
                "Telegram webhook mode without channels.public_base_url: register %s with setWebhook "
                "yourself (see docs/deployment.md)",
                WEBHOOK_PATH,
            )
            return
        url = self.public_base_url.rstrip("/") + WEBHOOK_PATH
        try:
            await self.bot.set_webhook(url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES)
            log.info("Telegram webhook set to %s", url)
        except TelegramError as error:
            log.error("Telegram did not accept the webhook %s: %s", url, error)

    # --- the webhook

    def verify(self, secret: str) -> bool:
        return hmac.compare_digest(secret.encode(), self.secret.encode())

    async def receive(self, update: Json) -> bool:
        """Accept one verified update; False if it was seen before. ValueError if it is not one."""
        update_id = update.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise ValueError("an update has an integer update_id")
        return bool(await self.inbox.accept([(str(update_id), update)]))

    # --- handling one update (ChannelHandler)

    def conversation_key(self, event: Json) -> str:
        chat_id = _chat_id(event)
        return "" if chat_id is None else str(chat_id)

    async def respond(self, event_id: str, event: Json) -> Json | None:
        update = Update.de_json(event, self.bot)
        if update.callback_query is not None:
            return await self._button(update)
        message = update.message
        if message is None or message.chat.type != "private":
            return None  # edits, channels, groups: not ours to answer
        chat_id = message.chat.id
        if message.text is not None:
            text = message.text
            if text.split("@")[0] in {"/start", "/help"}:
                return _replies(chat_id, Reply(text=WELCOME_TEXT))
            if not text.strip():
                return None
            text, cut = kept_of_long(text)  # over the limit: the start is read, and said so
            response = await self._turn(
                chat_id, Incoming(channel="telegram", user_id=str(chat_id), text=text)
            )
            return _told(chat_id, response, cut)
        if message.location is not None:
            place = Location(
                latitude=message.location.latitude,
                longitude=message.location.longitude,
                title=(message.venue.title if message.venue else "")[:200],
            )
            return await self._turn(
                chat_id, Incoming(channel="telegram", user_id=str(chat_id), location=place)
            )
        if message.photo or (message.document and (message.document.mime_type or "").startswith("image/")):
            try:
                ref = await self._photo(message)
            except MediaRejected as rejected:
                return _replies(chat_id, Reply(text=str(rejected)))
            return await self._turn(
                chat_id, Incoming(channel="telegram", user_id=str(chat_id), photo_ref=ref)
            )
        return _replies(chat_id, Reply(text=OTHER_CONTENT_TEXT))

    async def deliver(self, event_id: str, event: Json, response: Json) -> None:
        chat_id = int(response["chat_id"])
        try:
            await self.send(chat_id, ChatResponse.model_validate(response).replies)
        except (Forbidden, BadRequest) as error:  # blocked by the citizen, or a chat that is gone
            log.warning("Telegram would not deliver the answer to update %s: %s", event_id, error)

    # --- sending

    async def send(self, chat_id: int, replies: list[Reply]) -> None:
        for reply in replies:
            text = reply_text(reply, self.public_base_url, MAX_TEXT) or ("請選擇：" if reply.buttons else "")
            if not text:
                continue
            markup = await self._keyboard(reply.buttons) if reply.buttons else None
            await self.bot.send_message(chat_id, text, reply_markup=markup)

    async def _keyboard(self, buttons: list[Button]) -> InlineKeyboardMarkup:
        def fits(payload: str) -> bool:
            return len(payload.encode()) <= MAX_CALLBACK_BYTES and not payload.startswith(TOKEN_PREFIX)

        def data(payloads: list[str]) -> list[str]:
            if all(fits(p) for p in payloads):
                return payloads
            with self.database.session() as session:
                store = ButtonPayloadStore(session)
                return [p if fits(p) else store.token_for(p) for p in payloads]

        callback = await run_in_threadpool(data, [b.payload for b in buttons])
        rows = [
            [InlineKeyboardButton(b.title, callback_data=d)] for b, d in zip(buttons, callback, strict=True)
        ]
        return InlineKeyboardMarkup(rows)

    # --- receiving

    async def _button(self, update: Update) -> Json | None:
        query = update.callback_query
        assert query is not None
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        try:
            await query.answer()  # stops the button's spinner on the citizen's phone
        except TelegramError as error:
            log.info("Telegram did not take the answer to a button press: %s", error)
        data = query.data or ""
        if data.startswith(TOKEN_PREFIX):

            def lookup() -> str | None:
                with self.database.session() as session:
                    return ButtonPayloadStore(session).payload(data)

            payload = await run_in_threadpool(lookup)
            if payload is None:
                return _replies(chat_id, Reply(text=EXPIRED_BUTTON_TEXT))
            data = payload
        if not data or len(data) > 200:
            return _replies(chat_id, Reply(text=EXPIRED_BUTTON_TEXT))
        return await self._turn(chat_id, Incoming(channel="telegram", user_id=str(chat_id), payload=data))

    async def _photo(self, message: Message) -> str:
        if message.photo:
            fitting = [p for p in message.photo if not self.media.too_large(p.file_size)]
            if not fitting:
                raise MediaRejected(self.media.too_large_message())
            file_id = max(fitting, key=lambda p: p.width * p.height).file_id
        else:
            document = message.document
            assert document is not None
            if self.media.too_large(document.file_size):
                raise MediaRejected(self.media.too_large_message())
            file_id = document.file_id
        try:
            file = await self.bot.get_file(file_id)
            if self.media.too_large(file.file_size):
                raise MediaRejected(self.media.too_large_message())
            data = await file.download_as_bytearray()
        except BadRequest as error:  # e.g. a file over the Bot API's download limit, or gone
            raise MediaRejected("這張照片無法下載，請改傳另一張照片。") from error
        return await run_in_threadpool(self.media.save, bytes(data))

    async def _turn(self, chat_id: int, message: Incoming) -> Json | None:
        if self.throttle is not None:
            verdict = await self.throttle.check(self.name, message.user_id)
            if not verdict.allowed:
                log.info("Telegram: a citizen is over limits.channel_per_sender; told to wait")
                return _replies(chat_id, Reply(text=too_fast_text(verdict.retry_after_seconds)))
        response = await self.chat.handle(message)
        if not response.replies:
            return None  # an agent holds the conversation: the bot stays silent
        return {"chat_id": chat_id, **response.model_dump(mode="json")}


def _replies(chat_id: int, *replies: Reply) -> Json:
    return {"chat_id": chat_id, **ChatResponse(replies=list(replies)).model_dump(mode="json")}


def _told(chat_id: int, response: Json | None, notice: Reply | None) -> Json | None:
    """``response`` with ``notice`` (what part of a long message was read) as its first bubble."""
    if notice is None:
        return response
    if response is None:  # an agent holds the conversation: the citizen still learns what was kept
        return _replies(chat_id, notice)
    return {**response, "replies": [notice.model_dump(mode="json"), *response["replies"]]}


router = APIRouter(prefix="/channels/telegram", tags=["channels"])


@router.post("/webhook", include_in_schema=False)
async def telegram_webhook(
    request: Request,
    x_telegram_bot_api_secret_token: Annotated[str, Header()] = "",
) -> dict[str, bool]:
    """Telegram's webhook (and the poller's): verify the secret, store the update, answer at once."""
    channel: TelegramChannel | None = getattr(request.app.state, "telegram", None)
    if channel is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "the Telegram channel is off (no bot token in settings)"
        )
    if not x_telegram_bot_api_secret_token or not channel.verify(x_telegram_bot_api_secret_token):
        log.warning("Telegram webhook without the right secret token refused")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong X-Telegram-Bot-Api-Secret-Token")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "update too large")
    try:
        update = _json_object(body)
        accepted = await channel.receive(update)
    except ValueError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"malformed update: {error}") from None
    return {"accepted": accepted}


def _json_object(body: bytes) -> Json:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("an update is a JSON object")
    return data
