"""Rasa's lock store on Redis as a mutex: one ``SET NX PX`` takes a conversation, one script frees it.

Rasa's ``type: redis`` lock store keeps a JSON queue of tickets per conversation and reads
and rewrites it seven times per message (get, set, get, get, set, get, delete), each a
blocking round trip on Rasa's event loop, and without a transaction: two replicas issuing
tickets for one conversation at the same moment can both read the queue empty and both go
ahead. Here a message of a conversation waits until ``SET key token NX PX lifetime``
succeeds (polling with backoff from 5 ms to 100 ms, without blocking the event loop between
tries) and frees it with a script that deletes the key only if it still holds its own token.
A replica that dies while holding a conversation frees it when the key expires
(``lock_lifetime``, Rasa's 60 s by default).

It gives mutual exclusion, not arrival order among messages waiting for the same
conversation; the bot already sends one conversation's messages one at a time (channels
through a per-citizen queue, the widget one message after the other).

Endpoints file (the same keys as Rasa's ``type: redis``)::

    lock_store:
      type: rasa_plugins.lock_store.RedisMutexLockStore
      url: 127.0.0.1
      port: 6379
      key_prefix: bot1999
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

__all__ = ["RedisMutexLockStore"]

# delete the key only if it still holds this holder's token (an expired lock may have been
# taken by someone else since)
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
FIRST_PAUSE = 0.005
LONGEST_PAUSE = 0.1


class RedisMutexLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        settings: dict[str, Any] = dict(endpoint_config.kwargs)
        super().__init__(host=endpoint_config.url or "localhost", **settings)
        self._release = self.red.register_script(RELEASE)

    def key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}mutex:{conversation_id}"

    @asynccontextmanager
    async def lock(  # type: ignore[override]
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold ``conversation_id`` for at most ``lock_lifetime`` seconds; waits up to as
        long for it (``LockError`` after that). ``wait_time_in_seconds`` is Rasa's polling
        interval: here it only caps the backoff."""
        key, token = self.key(conversation_id), secrets.token_hex(16)
        lifetime_ms = max(1, int(lock_lifetime * 1000))
        deadline = time.monotonic() + lock_lifetime
        pause = FIRST_PAUSE
        while not self.red.set(key, token, nx=True, px=lifetime_ms):
            if time.monotonic() > deadline:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE, wait_time_in_seconds)
        try:
            yield TicketLock(conversation_id)
        finally:
            self._release(keys=[key], args=[token])
