"""Rasa's SQL tracker store without the count query on every save, and with one insert.

``SQLTrackerStore.save`` finds the events to insert by counting the conversation's stored
events (a query with a subquery for the latest session start) and skipping that many; the
tracker it saves was loaded by the same store a moment before, under the conversation's lock,
so the count is already known. Here the store remembers how many events each tracker it
loaded or saved holds, and asks the database only for a tracker it does not know (a new
conversation, or one built elsewhere). The new events go in as one multi-row insert
(SQLAlchemy Core) instead of one ORM object each: the same rows, a fraction of the CPU of
the ORM's unit of work, in the Rasa process whose event loop waits on it. Everything else,
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
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import insert

__all__ = ["KnownCountSQLTrackerStore"]

STORED = "_bot1999_events_stored"  # on the tracker: how many of its events are in the table


def _remember(tracker: DialogueStateTracker | None) -> None:
    if tracker is not None:
        setattr(tracker, STORED, len(tracker.events))


class KnownCountSQLTrackerStore(SQLTrackerStore):
    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
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
