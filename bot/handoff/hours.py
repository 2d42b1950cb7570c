"""When a person can answer: the agents' hours, and whether any agent is present right now.

"Nobody is available" must be true when the bot says it: the hours come from the settings
(``handoff.agent_hours`` in ``handoff.timezone``), and an agent counts as present only while
their inbox is open and checking in (a heartbeat within ``handoff.presence_seconds``) and they
have not paused taking conversations. If the presence record cannot be read (its Redis does not
answer), nobody counts as present: the citizen's conversation is filed as a case, never queued
for agents who may not be there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.handoff.presence import presence_for
from bot.settings import HandoffSettings
from bot.store.models import utcnow
from bot.store.presence import PresenceUnavailable

__all__ = ["AgentHours", "Availability", "availability"]


@dataclass(frozen=True, slots=True)
class AgentHours:
    """A daily window of local time; it may cross midnight (``22:00-06:00``)."""

    start: time
    end: time | None  # None: midnight at the end of the day ("24:00")
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, timezone: str) -> AgentHours:
        first, _, last = text.strip().partition("-")
        start = time.fromisoformat(first)
        end = None if last == "24:00" else time.fromisoformat(last)
        return cls(start, end, ZoneInfo(timezone))

    @classmethod
    def from_settings(cls, settings: HandoffSettings) -> AgentHours:
        return cls.parse(settings.agent_hours, settings.timezone)

    def open_at(self, when: datetime) -> bool:
        local = when.astimezone(self.zone).time().replace(tzinfo=None)
        if self.end is None:
            return local >= self.start
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # crosses midnight

    @property
    def label(self) -> str:
        end = "24:00" if self.end is None else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}–{end}"


@dataclass(frozen=True, slots=True)
class Availability:
    in_hours: bool
    agents: list[str]
    hours: str

    @property
    def open(self) -> bool:
        """A person can take a conversation now."""
        return self.in_hours and bool(self.agents)


def availability(session: Session, settings: HandoffSettings, *, now: datetime | None = None) -> Availability:
    now = now or utcnow()
    hours = AgentHours.from_settings(settings)
    since = now - timedelta(seconds=settings.presence_seconds)
    try:
        agents = presence_for(session, settings).present(since=since)
    except PresenceUnavailable:  # logged by the record: say nobody, rather than queue for nobody
        agents = []
    return Availability(hours.open_at(now), agents, hours.label)
