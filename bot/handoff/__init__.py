"""Human handoff: case notifications to citizens, and live takeover of a conversation by an agent.

- ``notifications``: what citizens are told when their case is filed, assigned, closed or
  rejected, enqueued in the same transaction as the change (the outbox, ``bot.store.outbox``);
- ``delivery``: the loop that pushes the outbox through each citizen's channel, with retries;
- ``takeover``: ask for a person, take, reply, hand back; what happens when nobody can come;
- ``hours``: the agents' hours and presence, so "nobody is available" is said only when true;
- ``presence``: where agents' heartbeats are kept (``handoff.presence``: the database or Redis);
- ``transcript``: a conversation as the agent reads it (the citizen, the bot, the agents, notices);
- ``web``: the web widget's push channel (a mailbox the widget polls).
"""

from bot.handoff.delivery import DeliveryLoop, DeliveryRound
from bot.handoff.hours import AgentHours, Availability, availability
from bot.handoff.notifications import change_case_status, notify_case_filed, notify_case_status
from bot.handoff.takeover import (
    HumanRequest,
    Unreachable,
    agent_reply,
    expire_queue,
    human_asker,
    release,
    release_abandoned,
    request_human,
    take,
)
from bot.handoff.web import WebGateway

__all__ = [
    "AgentHours",
    "Availability",
    "DeliveryLoop",
    "DeliveryRound",
    "HumanRequest",
    "Unreachable",
    "WebGateway",
    "agent_reply",
    "availability",
    "change_case_status",
    "expire_queue",
    "human_asker",
    "notify_case_filed",
    "notify_case_status",
    "release",
    "release_abandoned",
    "request_human",
    "take",
]
