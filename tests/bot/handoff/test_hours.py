from datetime import UTC, datetime, timedelta

import pytest

from bot.handoff.hours import AgentHours, availability
from bot.settings import SettingsError, load_settings
from bot.store import Database
from bot.store.handoff import PresenceStore
from tests.bot.handoff.conftest import handoff_settings


def _taipei(hour: int, minute: int = 0) -> datetime:
    # 2026-03-02 in Taipei (UTC+8)
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC) - timedelta(hours=8) + timedelta(days=1)


@pytest.mark.parametrize(
    ("hours", "open_at", "closed_at"),
    [
        ("08:00-22:00", [(8, 0), (12, 0), (21, 59)], [(7, 59), (22, 0), (3, 0)]),
        ("22:00-06:00", [(22, 0), (23, 59), (0, 0), (5, 59)], [(6, 0), (12, 0), (21, 59)]),
        ("00:00-24:00", [(0, 0), (12, 0), (23, 59)], []),
    ],
)
def test_agent_hours_in_taipei_time(
    hours: str, open_at: list[tuple[int, int]], closed_at: list[tuple[int, int]]
) -> None:
    window = AgentHours.parse(hours, "Asia/Taipei")
    assert all(window.open_at(_taipei(*t)) for t in open_at)
    assert not any(window.open_at(_taipei(*t)) for t in closed_at)
    assert window.label == hours.replace("-", "–")


@pytest.mark.parametrize("bad", ["8-22", "08:00", "25:00-26:00", "08:00-24:30"])
def test_bad_hours_are_refused_naming_the_setting(bad: str) -> None:
    with pytest.raises(SettingsError, match=r"handoff\.agent_hours \(BOT1999_HANDOFF__AGENT_HOURS\)"):
        load_settings(handoff={"agent_hours": bad})


def test_nobody_is_available_without_a_recent_heartbeat(database: Database) -> None:
    settings = handoff_settings(agent_hours="08:00-22:00", presence_seconds=60)
    noon, night = _taipei(12), _taipei(23)
    with database.session() as session:
        assert availability(session, settings, now=noon).open is False  # in hours, nobody there
        PresenceStore(session).heartbeat("amy", now=noon - timedelta(seconds=30))
        assert availability(session, settings, now=noon).open is True
        assert availability(session, settings, now=noon + timedelta(seconds=31)).open is False
        PresenceStore(session).heartbeat("amy", now=night)
        at_night = availability(session, settings, now=night)
        assert (at_night.in_hours, at_night.agents, at_night.open) == (False, ["amy"], False)
