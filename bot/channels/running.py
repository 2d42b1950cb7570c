"""Start the chat channels whose credentials are set, and register their push gateways.

A channel without credentials is off: its webhook answers 404 and the start-up log says so.
Handled channel events are forgotten by ``bot1999 purge`` (``bot.store.retention``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import FastAPI

from bot.channels.base import Gateways
from bot.channels.line import LineChannel
from bot.channels.telegram import TelegramChannel
from bot.chat.service import ChatService
from bot.media import MediaStore
from bot.settings import Settings
from bot.store import Database

__all__ = ["RunningChannels", "start_channels"]

log = logging.getLogger(__name__)


@dataclass
class RunningChannels:
    gateways: Gateways
    line: LineChannel | None = None
    telegram: TelegramChannel | None = None
    _started: list[LineChannel | TelegramChannel] = field(default_factory=list)

    async def stop(self) -> None:
        for channel in reversed(self._started):
            try:
                await channel.stop()
            except Exception:
                log.exception("could not stop the %s channel cleanly", channel.name)
        self._started = []


async def start_channels(
    app: FastAPI, settings: Settings, chat: ChatService, database: Database
) -> RunningChannels:
    """Start LINE and Telegram as configured; put them and ``gateways`` on ``app.state``."""
    config = settings.channels
    media = MediaStore(config.media_dir, config.max_photo_bytes)
    throttle = getattr(app.state, "sender_throttle", None)  # bot.security.install: per-citizen limit
    running = RunningChannels(Gateways())
    if config.line.enabled:
        running.line = LineChannel(config, chat, database, media, throttle=throttle)
        await running.line.start()
        running._started.append(running.line)
        running.gateways.register(running.line.gateway)
        log.info("LINE channel on: webhook at /channels/line/webhook")
    else:
        log.info("LINE channel off: no credentials (channels.line.channel_secret and channel_access_token)")
    if config.telegram.enabled:
        running.telegram = TelegramChannel(config, chat, database, media, throttle=throttle)
        await running.telegram.start()
        running._started.append(running.telegram)
        running.gateways.register(running.telegram.gateway)
    else:
        log.info("Telegram channel off: no credentials (channels.telegram.bot_token)")
    if (config.line.enabled or config.telegram.enabled) and not config.public_base_url:
        log.warning(
            "channels.public_base_url is not set: links to the bot's own pages (the case form) "
            "are left out of LINE and Telegram messages"
        )
    app.state.gateways = running.gateways
    app.state.line = running.line
    app.state.telegram = running.telegram
    return running
