"""Rasa's SQL tracker store: a lighter load, no count query on every save, one insert.

Loading a tracker reads only the events' JSON with one prepared text query (the same rows in
the same order as Rasa's ORM query: the conversation's events from its latest session start
on, or all of them), instead of building the ORM query and an ORM object per event each time.

``SQLTrackerStore.save`` finds the events to insert by counting the conversation's stored
events (a query with a subquery for the latest session start) and skipping that many; the
tracker it saves was loaded by the same store a moment before, under the conversation's lock,
so the count is already known. Here the store remembers how many events each tracker it
loaded or saved holds, and asks the database only for a tracker it does not know (a new
conversation, or one built elsewhere). The new events go in as one multi-row insert
(SQLAlchemy Core) instead of one ORM object each: the same rows, a fraction of the CPU of
the ORM's unit of work, in the Rasa process whose event loop waits on it.

Pooled connections are checked before each use (``pool_pre_ping``, as the bot's own stores
do). Rasa's engine has no such check: after a PostgreSQL restart the first load on each
stale pooled connection failed, and Rasa's fail-safe wrapper then carried the turn on from an
empty tracker (a citizen half-way through a case form was greeted as new). Everything else,
the table included, is Rasa's.

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
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import insert, text
from sqlalchemy.sql.elements import TextClause

__all__ = ["KnownCountSQLTrackerStore"]

STORED = "_bot1999_events_stored"  # on the tracker: how many of its events are in the table


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
        url = self.engine.url  # Rasa's, after it created the table (and the database)
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker.configure(bind=self.engine)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """``SQLTrackerStore._retrieve``, reading only the events' JSON."""
        query = _events_query(self.SQLEvent.__tablename__, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            events = [json.loads(data) for data in session.execute(query, {"sender_id": sender_id}).scalars()]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:  # save() counts from the latest session on
            _remember(tracker)
        return tracker

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
        if stored is None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))
