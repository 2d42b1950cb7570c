"""rasa_plugins/tracker_store.py in the Rasa environment, on a real PostgreSQL: each save stores
exactly the new events (the rows Rasa's own save would write), with no count query for a tracker the store loaded or saved
or a new conversation's, and with Rasa's own count for a tracker it does not know; a load gives the events Rasa's own load
gives, also after PostgreSQL cut the store's connections."""

from __future__ import annotations

import json
import subprocess
from typing import Any, cast

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import REPO, _unavailable, drop_rasa_tables

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"

CHECK = """
import asyncio, json, sys
from sqlalchemy import event
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
import rasa_plugins.tracker_store as plugin
from rasa_plugins.tracker_store import KnownCountSQLTrackerStore

host, port, db = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store = KnownCountSQLTrackerStore(Domain.empty(), dialect="postgresql", host=host, port=port, db=db,
                                  username="postgres")
counts = []
event.listen(store.engine, "before_cursor_execute",
             lambda conn, cursor, statement, *rest: counts.append("count(" in statement.lower()))

def rows(sender):
    with store.session_scope() as session:
        return session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).count()

def columns(sender):
    with store.session_scope() as session:
        found = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).order_by(store.SQLEvent.id)
        return [(e.type_name, e.timestamp, e.intent_name, e.action_name, e.data) for e in found]

async def main():
    out = {}
    new = DialogueStateTracker.from_events("c1", [ActionExecuted("action_listen"), UserUttered("路燈不亮", {"name": "report_problem", "confidence": 0.9})])
    await store.save(new)  # not loaded by the store: Rasa's count
    out["first"] = rows("c1")
    counts.clear()
    loaded = await store.retrieve("c1")
    loaded.update(ActionExecuted("utter_ask_location"))
    await store.save(loaded)
    await store.save(loaded)  # saved again unchanged: nothing more
    loaded.update(UserUttered("三民區建國二路"))
    await store.save(loaded)
    out["count_queries_for_known"] = sum(counts)
    out["after_known"] = rows("c1")
    elsewhere = DialogueStateTracker.from_events("c1", list(loaded.events) + [ActionExecuted("action_listen")])
    await store.save(elsewhere)  # built elsewhere: counted, so only the new event is added
    out["after_elsewhere"] = rows("c1")
    again = await store.retrieve("c1")
    out["events"] = [e.as_dict().get("name") or e.as_dict().get("text") for e in again.events]
    rasas = SQLTrackerStore(Domain.empty(), dialect="postgresql", host=host, port=port, db=db, username="postgres")
    await rasas.save(DialogueStateTracker.from_events("c2", list(again.events)))
    out["same_rows_as_rasa"] = columns("c1") == columns("c2")
    sessions = [ActionExecuted("action_session_start", timestamp=1), SessionStarted(timestamp=1),
                UserUttered("第一次", timestamp=2), ActionExecuted("action_session_start", timestamp=10),
                SessionStarted(timestamp=10), UserUttered("第二次", timestamp=11), ActionExecuted("action_listen", timestamp=12)]
    await rasas.save(DialogueStateTracker.from_events("c3", sessions))
    def dump(tracker):
        return None if tracker is None else [e.as_dict() for e in tracker.events]
    loads = {}
    for sender in ("c1", "c3", "nobody"):
        loads[sender] = [dump(await store.retrieve(sender)) == dump(await rasas.retrieve(sender)),
                         dump(await store.retrieve_full_tracker(sender)) == dump(await rasas.retrieve_full_tracker(sender))]
    out["loads_as_rasa"] = loads
    out["latest_session"] = [e.as_dict().get("text") for e in (await store.retrieve("c3")).events if e.type_name == "user"]
    counts.clear()
    created = await FailSafeTrackerStore(store).get_or_create_tracker("c-new")  # as Rasa's processor does
    out["count_queries_for_new"] = sum(counts)
    out["new_rows"] = [rows("c-new"), len(created.events)]
    assert await store.retrieve("c4") is None  # nothing stored, noted ...
    await rasas.save(DialogueStateTracker.from_events("c4", [ActionExecuted("action_listen"), UserUttered("你好")]))
    plugin.NOTHING_STORED_FOR = 0.0  # ... but no longer relied on: counted
    await store.save(DialogueStateTracker.from_events("c4", [ActionExecuted("action_listen"), UserUttered("你好"), ActionExecuted("utter_greet")]))
    out["stale_note_counted"] = rows("c4")
    print(json.dumps(out, ensure_ascii=False))

asyncio.run(main())
"""


def _run_in_rasa(script: str, postgres_url: str) -> dict[str, Any]:
    """Runs ``script`` in the Rasa environment on the session's database (dropping Rasa's
    table after) and gives the JSON of its last line."""
    if not RASA_PYTHON.is_file():
        _unavailable(f"no Rasa environment at {RASA_PYTHON.parent.parent}")
    url = make_url(postgres_url)
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", script, url.host or "127.0.0.1", str(url.port or 5432), str(url.database)],
        cwd=REPO,
        env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    drop_rasa_tables(postgres_url)
    assert done.returncode == 0, done.stderr[-3000:]
    return cast(dict[str, Any], json.loads(done.stdout.strip().splitlines()[-1]))


def test_saves_exactly_the_new_events(postgres_url: str) -> None:
    seen = _run_in_rasa(CHECK, postgres_url)
    assert seen["first"] == 2
    assert seen["count_queries_for_known"] == 0
    assert seen["after_known"] == 4
    assert seen["after_elsewhere"] == 5
    assert seen["same_rows_as_rasa"]  # every column as Rasa's own save writes it
    # loads: the latest session only (or all events), the same as Rasa's; None for no events
    assert seen["loads_as_rasa"] == {"c1": [True, True], "c3": [True, True], "nobody": [True, True]}
    assert seen["latest_session"] == ["第二次"]
    # a new conversation: no count query (the load found nothing), its first event stored once
    assert seen["count_queries_for_new"] == 0
    assert seen["new_rows"] == [1, 1]
    assert seen["stale_note_counted"] == 3  # an old "nothing stored" note is not relied on
    assert seen["events"] == [
        "action_listen",
        "路燈不亮",
        "utter_ask_location",
        "三民區建國二路",
        "action_listen",
    ]


CUT = """
import asyncio, json, sys
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.core.tracker_store import SQLTrackerStore
from rasa_plugins.tracker_store import KnownCountSQLTrackerStore

host, port, db = sys.argv[1], int(sys.argv[2]), sys.argv[3]
admin = sa.create_engine(f"postgresql://postgres@{host}:{port}/{db}")

def cut(name):  # what a PostgreSQL restart does to the store's pooled connections
    with admin.connect() as connection:
        return connection.execute(sa.text(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE application_name = :name"), {"name": name}).scalar()

async def load_after_cut(store_class, name):
    store = store_class(Domain.empty(), dialect="postgresql", host=host, port=port, db=db,
                        username="postgres", query={"application_name": name})
    sender = "cut-" + name
    await store.save(DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen"), UserUttered("路燈不亮")]))
    await store.retrieve(sender)
    cut_connections = cut(name)
    try:
        tracker = await store.retrieve(sender)
    except Exception as error:
        return {"cut": cut_connections, "loaded": type(error).__name__}
    tracker.update(UserUttered("三民區"))  # the rest of the turn: its save
    await store.save(tracker)
    again = await store.retrieve(sender)
    return {"cut": cut_connections, "loaded": [e.as_dict().get("text") for e in again.events if e.type_name == "user"]}

async def main():
    print(json.dumps({"ours": await load_after_cut(KnownCountSQLTrackerStore, "bot1999-cut-ours"),
                      "rasas": await load_after_cut(SQLTrackerStore, "bot1999-cut-rasas")}, ensure_ascii=False))

asyncio.run(main())
"""


def test_loads_after_its_connections_were_cut(postgres_url: str) -> None:
    """After PostgreSQL dropped the store's pooled connections (a restart), the next load
    reconnects and gives the conversation; Rasa's own store fails that load (and Rasa's
    fail-safe wrapper would carry the turn on from an empty tracker)."""
    seen = _run_in_rasa(CUT, postgres_url)
    assert seen["rasas"] == {"cut": 1, "loaded": "OperationalError"}  # the failure it guards against
    assert seen["ours"] == {"cut": 1, "loaded": ["路燈不亮", "三民區"]}
