"""Channel events on both backends: accepted once, leased, released, finished; long button payloads."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.store import Database
from bot.store.buttons import ButtonPayloadStore
from bot.store.conversations import ChannelEventStore
from bot.store.models import ChannelEventRow, utcnow


def test_an_event_is_accepted_once_per_channel(database: Database) -> None:
    with database.session() as session:
        store = ChannelEventStore(session)
        assert store.first_time("line", "E1", {"type": "message"})
        assert not store.first_time("line", "E1", {"type": "message"})
        assert store.first_time("telegram", "E1")
    with database.session() as session:
        row = ChannelEventStore(session).get("line", "E1")
        assert row is not None
        assert row.payload == {"type": "message"}
        assert row.attempts == 1
        assert row.claimed_at is not None
        assert row.handled_at is None


def test_a_lease_is_taken_over_only_when_it_ran_out_or_was_released(database: Database) -> None:
    with database.session() as session:
        ChannelEventStore(session).first_time("line", "E1", {"n": 1})
    with database.session() as session:
        store = ChannelEventStore(session)
        assert not store.claim("line", "E1", lease_seconds=60)  # the first receiver holds it
        assert store.unhandled("line", lease_seconds=60, max_attempts=5) == []
    with database.session() as session:
        session.execute(update(ChannelEventRow).values(claimed_at=utcnow() - timedelta(seconds=120)))
    with database.session() as session:
        store = ChannelEventStore(session)
        assert store.unhandled("line", lease_seconds=60, max_attempts=5) == [("E1", {"n": 1})]
        assert store.claim("line", "E1", lease_seconds=60)
        assert not store.claim("line", "E1", lease_seconds=60)  # and now this one holds it
        store.release("line", "E1")
        assert store.unhandled("line", lease_seconds=60, max_attempts=5) == [("E1", {"n": 1})]
        assert store.unhandled("line", lease_seconds=60, max_attempts=2) == []  # tried twice: given up
        assert store.claim("line", "E1", lease_seconds=60)
        store.finish("line", "E1", {"replies": []})
        assert not store.claim("line", "E1", lease_seconds=0)
        store.release("line", "E1")  # a late release does not reopen a handled event
    with database.session() as session:
        row = ChannelEventStore(session).get("line", "E1")
        assert row is not None
        assert row.handled_at is not None
        assert row.payload is None
        assert row.response == {"replies": []}
        assert row.attempts == 3
        assert ChannelEventStore(session).unhandled("line", lease_seconds=0, max_attempts=9) == []


def test_only_the_first_finish_of_an_event_counts(database: Database) -> None:
    with database.session() as session:
        ChannelEventStore(session).first_time("web", "E1")
    with database.session() as session:
        assert ChannelEventStore(session).finish_first("web", "E1", {"replies": ["first"]})
    with database.session() as session:
        assert not ChannelEventStore(session).finish_first("web", "E1", {"replies": ["second"]})
        assert not ChannelEventStore(session).finish_first("web", "no-such-event")
    with database.session() as session:
        row = ChannelEventStore(session).get("web", "E1")
        assert row is not None
        assert row.response == {"replies": ["first"]}


def test_long_button_payloads_get_stable_short_tokens(database: Database) -> None:
    payload = '/pick_suggestion{"faq_id":"KHH-PWB-2026-street-light-repair-000123"}'
    with database.session() as session:
        token = ButtonPayloadStore(session).token_for(payload)
        assert token == ButtonPayloadStore(session).token_for(payload)  # stored once
    assert token.startswith("~")
    assert len(token.encode()) <= 64
    with database.session() as session:
        store = ButtonPayloadStore(session)
        assert store.payload(token) == payload
        assert store.payload("~unknown") is None
        assert store.token_for(payload + " ") != token
