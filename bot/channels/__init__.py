"""Channels: the web widget, LINE and Telegram. Each converts at its edge to ``Incoming`` and
pushes through a ``ChannelGateway`` (the swap point for notifications and agent replies)."""

from bot.channels.base import ChannelGateway, Gateways, PushFailed

__all__ = ["ChannelGateway", "Gateways", "PushFailed"]
