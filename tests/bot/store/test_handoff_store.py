"""Takeover state and agent presence, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import Database
from bot.store.handoff import HandoffConflict, HandoffState, HandoffStore, NotHeld, PresenceStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_request_is_queued_once_and_taken_by_one_agent(database: Database) -> None:
    with database.session() as session:
        store = HandoffStore(session)
        row, new = store.request("p_a", channel="line", reason="想找真人", now=T0)
        again, new_again = store.request("p_a", channel="line", now=T0)
        assert (new, new_again, again.id) == (True, False, row.id)
        store.request("p_b", channel="web", now=T0 + timedelta(seconds=1))
        assert [r.conversation_id for r in store.queued()] == ["p_a", "p_b"]
        assert store.queue_position(store.open_for("p_b")) == 2  # type: ignore[arg-type]
    with database.session() as session:
        store = HandoffStore(session)
        taken, fresh = store.take("p_a", "amy", channel="line", now=T0)
        assert (taken.state, taken.agent, fresh) == ("held", "amy", True)
        assert store.take("p_a", "amy", channel="line")[1] is False, "taking again is a no-op"
        with pytest.raises(HandoffConflict, match="amy"):
            store.take("p_a", "bob", channel="line")
        assert store.held_by("p_a") == "amy"
        assert store.held_by("p_b") is None, "queued is not held"


def test_release_hands_back_and_a_new_request_can_follow(database: Database) -> None:
    with database.session() as session:
        store = HandoffStore(session)
        store.take("p_a", "amy", channel="web", now=T0)
        with pytest.raises(NotHeld):
            store.release("p_a", "bob", ended_by="agent")
        row = store.release("p_a", "amy", ended_by="agent", now=T0)
        assert (row.state, row.open_key, row.ended_by) == ("released", None, "agent")
        with pytest.raises(NotHeld):
            store.release("p_a", "amy", ended_by="agent")
        assert store.held_by("p_a") is None
        second, new = store.request("p_a", channel="web")
        assert new
        assert second.id != row.id
        assert [h.state for h in store.history("p_a")] == ["released", "queued"]


@pytest.mark.parametrize("queued", [True, False], ids=["from-the-queue", "straight-from-the-bot"])
def test_two_agents_taking_at_once_one_wins_one_is_told(database: Database, queued: bool) -> None:
    if queued:
        with database.session() as session:
            HandoffStore(session).request("p_a", channel="web")
    start = threading.Barrier(2)

    def take(agent: str) -> str:
        start.wait()
        try:
            with database.session() as session:
                HandoffStore(session).take("p_a", agent, channel="web")
        except HandoffConflict as error:
            return f"conflict: {error}"
        return "took"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(take, ["amy", "bob"]))
    assert outcomes[1] == "took"
    assert outcomes[0].startswith("conflict: another agent")
    with database.session() as session:
        store = HandoffStore(session)
        assert len(store.history("p_a")) == 1
        assert store.open_for("p_a").state == HandoffState.HELD.value  # type: ignore[union-attr]


def test_presence_counts_recent_available_agents(database: Database) -> None:
    with database.session() as session:
        presence = PresenceStore(session)
        presence.heartbeat("amy", now=T0)
        presence.heartbeat("bob", now=T0 - timedelta(minutes=5))
        presence.set_available("cat", False, now=T0)
    with database.session() as session:
        presence = PresenceStore(session)
        assert presence.present(since=T0 - timedelta(seconds=90)) == ["amy"]
        assert presence.seen_since("bob", T0 - timedelta(minutes=6))
        assert not presence.seen_since("nobody", T0 - timedelta(days=1))
        presence.set_available("cat", True, now=T0)
        assert presence.present(since=T0 - timedelta(seconds=90)) == ["amy", "cat"]
