"""Retention for Rasa's SQL tracker store where it shares the database (bot/cluster/tracker_events.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.cluster.tracker_events import purge_tracker_events
from bot.store import Database
from bot.store.models import utcnow

NOW = utcnow()
OLD = NOW - timedelta(days=200)
RECENT = NOW - timedelta(days=5)
RAW = "我住中正路100號，電話0912345678，身分證A123456789"


def test_tracker_events_past_retention_are_deleted(database: Database) -> None:
    """Where Rasa's SQL tracker store shares the database (run-cluster), its old events go."""
    with database.engine.begin() as connection:  # Rasa's table, as its SQLTrackerStore creates it
        connection.exec_driver_sql("DROP TABLE IF EXISTS events")  # another test's Rasa may have made one
        connection.exec_driver_sql(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
            "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, data TEXT)"
        )
        for number, at in enumerate((OLD, OLD, RECENT, NOW), start=1):
            connection.exec_driver_sql(
                "INSERT INTO events (id, sender_id, type_name, timestamp, data) VALUES "
                f"({number}, 'p_old', 'user', {at.timestamp()}, '{{\"text\": \"{RAW}\"}}')"
            )
    cutoff = NOW - timedelta(days=90)
    assert purge_tracker_events(database, cutoff, dry_run=True) == 2
    with database.engine.connect() as connection:
        assert len(list(connection.exec_driver_sql("SELECT id FROM events"))) == 4, "a dry run only counts"
    assert purge_tracker_events(database, cutoff) == 2
    with database.engine.connect() as connection:
        assert [row[0] for row in connection.exec_driver_sql("SELECT id FROM events ORDER BY id")] == [3, 4]
    assert purge_tracker_events(database, cutoff) == 0
    with database.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE events")


def test_without_rasa_tables_nothing_is_counted(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS events")
    assert purge_tracker_events(database, NOW) == 0
