"""The push swap point: how a message reaches a citizen outside a reply to their own message.

Case notifications (filed, assigned, closed) and a live agent's replies are pushed through the
gateway of the channel the citizen used. LINE and Telegram call their platform's push API; the
web gateway queues the message for the widget to fetch.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.messages import Reply

__all__ = ["ChannelGateway", "Gateways", "PushFailed"]

log = logging.getLogger(__name__)


class PushFailed(Exception):
    """The channel did not accept the message (the caller keeps it to retry)."""


class ChannelGateway(Protocol):
    name: str

    async def push(self, address: str, replies: list[Reply]) -> None:
        """Deliver ``replies`` to the citizen at ``address``; raise ``PushFailed`` if it cannot."""
        ...


class Gateways:
    """The gateways of the channels that are on, by channel name."""

    def __init__(self) -> None:
        self._by_name: dict[str, ChannelGateway] = {}

    def register(self, gateway: ChannelGateway) -> None:
        self._by_name[gateway.name] = gateway

    def get(self, channel: str) -> ChannelGateway | None:
        return self._by_name.get(channel)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    async def push(self, channel: str, address: str, replies: list[Reply]) -> None:
        gateway = self._by_name.get(channel)
        if gateway is None:
            raise PushFailed(f"channel {channel!r} is off (no credentials in settings)")
        await gateway.push(address, replies)
