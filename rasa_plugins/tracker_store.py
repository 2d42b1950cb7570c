"""Rasa's SQL tracker store: a lighter load, no count query on every save, one insert.

Loading a tracker reads only the events' JSON with one prepared text query (the same rows in
the same order as Rasa's ORM query: the conversation's events from its latest session start
on, or all of them), instead of building the ORM query and an ORM object per event each time.

``SQLTrackerStore.save`` finds the events to insert by counting the conversation's stored
events (a query with a subquery for the latest session start) and skipping that many; the
tracker it saves was loaded by the same store a moment before, under the conversation's lock,
so the count is already known. Here the store remembers how many events each tracker it
loaded or saved holds, and that a load just found no events at all for a conversation (Rasa
then creates its tracker and saves it at once, under the same lock: nothing is stored yet);
it asks the database only for a tracker it does not know (one built elsewhere). The new events
go in as one multi-row insert (SQLAlchemy Core) instead of one ORM object each: the same rows,
a fraction of the CPU of the ORM's unit of work, in the Rasa process whose event loop waits on
it.

A load that fails because its pooled connection was cut (PostgreSQL restarted) is tried once
more: SQLAlchemy then drops every connection of the pool from before the cut, so the second
attempt connects afresh. Rasa's own store fails that load, and Rasa's fail-safe wrapper carries
the turn on from an empty tracker (a citizen half-way through a case form is greeted as new);
every turn begins with a load, so the turn's save finds a fresh pool too. (``pool_pre_ping``
would do the same with a round trip before every use, blocking Rasa's event loop each time.)
Everything else, the table included, is Rasa's.

Endpoints file (the same keys as Rasa's ``type: SQL``)::

    tracker_store:
      type: rasa_plugins.tracker_store.KnownCountSQLTrackerStore
      dialect: postgresql
      url: 127.0.0.1
      db: bot1999
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import TextClause

__all__ = ["KnownCountSQLTrackerStore"]

STORED = "_bot1999_events_stored"  # on the tracker: how many of its events are in the table
NOTHING_STORED_FOR = 10.0  # seconds a load's "no events for this conversation" is relied on
NOTHING_STORED_KEPT = 10_000  # conversations remembered so at most (the oldest go first)


def _remember(tracker: DialogueStateTracker | None) -> None:
    if tracker is not None:
        setattr(tracker, STORED, len(tracker.events))


@lru_cache(maxsize=8)
def _events_query(table: str, all_sessions: bool) -> TextClause:
    """The events' JSON, in order: all of them, or from the latest session start on (all when
    there is none), as Rasa's ``SQLTrackerStore._event_query`` selects them. ``table`` is the
    store's own table name (never input); the sender is a bound parameter."""
    query = f'SELECT e.data FROM "{table}" e WHERE e.sender_id = :sender_id'  # noqa: S608 (see above)
    if not all_sessions:
        query = (
            f'SELECT e.data FROM "{table}" e, (SELECT MAX(s."timestamp") AS session_start FROM "{table}" s '  # noqa: S608
            f"WHERE s.sender_id = :sender_id AND s.type_name = '{SessionStarted.type_name}') latest "
            'WHERE e.sender_id = :sender_id AND (e."timestamp" >= latest.session_start '
            "OR latest.session_start IS NULL)"
        )
    return text(query + " ORDER BY e.id")


class KnownCountSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._nothing_stored: dict[str, float] = {}  # sender -> when a load found no events

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """``SQLTrackerStore._retrieve``, reading only the events' JSON (once more after a cut
        connection)."""
        query = _events_query(self.SQLEvent.__tablename__, fetch_events_from_all_sessions)
        try:
            events = self._load(query, sender_id)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            events = self._load(query, sender_id)  # the pool has dropped its connections from before
        self._nothing_stored.pop(sender_id, None)
        if not events:
            self._nothing_stored[sender_id] = time.monotonic()
            while len(self._nothing_stored) > NOTHING_STORED_KEPT:
                del self._nothing_stored[next(iter(self._nothing_stored))]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:  # save() counts from the latest session on
            _remember(tracker)
        return tracker

    def _load(self, query: TextClause, sender_id: str) -> list[dict[str, Any]]:
        with self.session_scope() as session:
            return [json.loads(data) for data in session.execute(query, {"sender_id": sender_id}).scalars()]

    async def save(self, tracker: DialogueStateTracker) -> None:
        """``SQLTrackerStore.save``: the same rows, in one statement."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = [
                self._row(tracker.sender_id, event) for event in self._additional_events(session, tracker)
            ]
            if rows:
                session.execute(insert(self.SQLEvent.__table__), rows)
            session.commit()
        _remember(tracker)

    @staticmethod
    def _row(sender_id: str, event: Any) -> dict[str, Any]:
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Any]:
        stored = getattr(tracker, STORED, None)
        found_empty = self._nothing_stored.pop(tracker.sender_id, None)
        if stored is None and found_empty is not None and time.monotonic() - found_empty < NOTHING_STORED_FOR:
            stored = 0  # the tracker Rasa created right after that load (under the same lock)
        if stored is None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))
