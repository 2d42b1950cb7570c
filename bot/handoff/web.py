"""The web widget's push channel: pushes wait in the web outbox until the widget fetches them.

The widget has no connection the server can write to, so ``WebGateway.push`` stores each
message under the widget's sender id and ``GET /api/chat/updates`` (``bot.api.chat_updates``)
hands them out by increasing id. The store is the database, so any replica can serve them.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from bot.messages import Reply
from bot.store import Database
from bot.store.outbox import WebOutboxStore

__all__ = ["WebGateway"]


class WebGateway:
    """The ``web`` channel's ``ChannelGateway``."""

    name = "web"

    def __init__(self, database: Database) -> None:
        self.database = database

    def _put(self, address: str, replies: list[Reply]) -> None:
        with self.database.session() as session:
            WebOutboxStore(session).put(address, [reply.model_dump(mode="json") for reply in replies])

    async def push(self, address: str, replies: list[Reply]) -> None:
        await run_in_threadpool(self._put, address, replies)
