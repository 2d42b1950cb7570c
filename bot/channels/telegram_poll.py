"""Telegram polling mode (``bot1999 telegram-poll``): no public address needed.

The poller long-polls ``getUpdates`` and hands each update to the running bot service's own
webhook route (with the webhook secret), so updates are handled exactly as in webhook mode.
An update is confirmed to Telegram (the next ``offset``) only after the bot service has
accepted it; while the service is down the poller waits and tries the same update again, so
nothing is lost, and the service drops an update it has already seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import httpx
from telegram import Bot
from telegram.error import TelegramError

from bot.channels.telegram import ALLOWED_UPDATES, WEBHOOK_PATH, make_bot, webhook_secret
from bot.settings import Settings

__all__ = ["TelegramPoller", "run_poller", "service_url"]

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 30.0


class TelegramPoller:
    def __init__(
        self,
        bot: Bot,
        client: httpx.AsyncClient,
        forward_url: str,
        secret: str,
        *,
        poll_timeout: int = 25,
        min_backoff: float = 1.0,
    ) -> None:
        self.bot = bot
        self.client = client
        self.forward_url = forward_url
        self.secret = secret
        self.poll_timeout = poll_timeout
        self.min_backoff = min_backoff
        self.offset: int | None = None
        self.forwarded = 0

    async def prepare(self) -> None:
        """Check the token, then remove any webhook: Telegram refuses getUpdates while one is set
        (pending updates stay). Telegram being unreachable is waited out, not fatal."""
        await self._retrying("getMe", self.bot.initialize)
        await self._retrying("deleteWebhook", self.bot.delete_webhook)

    async def poll_once(self) -> int:
        """Fetch one batch, hand every update over, then move past it; the number of updates."""
        updates = await self.bot.get_updates(
            offset=self.offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
        )
        for update in updates:
            await self._forward(update.update_id, update.to_dict())
            self.offset = update.update_id + 1
        return len(updates)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        await self.prepare()
        log.info("polling Telegram; updates go to %s", self.forward_url)
        delay = self.min_backoff
        while stop is None or not stop.is_set():
            try:
                await self.poll_once()
                delay = self.min_backoff
            except TelegramError as error:
                log.warning("getUpdates failed (%s); trying again in %.0f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    async def _forward(self, update_id: int, update: dict[str, object]) -> None:
        delay = self.min_backoff
        while True:
            try:
                response = await self.client.post(
                    self.forward_url,
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": self.secret},
                    timeout=30,
                )
            except httpx.HTTPError as error:
                reason = f"the bot service did not answer ({type(error).__name__})"
            else:
                if response.status_code == 200:
                    self.forwarded += 1
                    return
                if response.status_code in {400, 413}:
                    log.error("the bot service refused update %d: %s; skipping it", update_id, response.text)
                    return
                reason = f"the bot service answered {response.status_code}: {response.text[:200]}"
            log.warning("update %d not handed over: %s; trying again in %.0f s", update_id, reason, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    async def _retrying(self, what: str, call: Callable[[], Awaitable[object]]) -> None:
        delay = self.min_backoff
        while True:
            try:
                await call()
                return
            except TelegramError as error:
                log.warning("%s failed (%s); trying again in %.0f s", what, error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)


def service_url(settings: Settings) -> str:
    """The bot service's Telegram route on this machine."""
    host = settings.server.host
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 -- bound on every address: reach it on loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.server.port}{WEBHOOK_PATH}"


async def run_poller(settings: Settings) -> None:
    telegram = settings.channels.telegram
    bot = make_bot(telegram)
    try:
        async with httpx.AsyncClient() as client:
            await TelegramPoller(bot, client, service_url(settings), webhook_secret(telegram)).run()
    finally:
        await bot.shutdown()
