"""Migration 0009 (failure resolutions) goes down and up again cleanly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from bot.store import Database
from bot.store.db import _alembic_config, current_revision

TABLES = {"failure_resolution", "failure_resolution_key"}


def test_0009_downgrades_and_upgrades(database: Database) -> None:
    assert set(inspect(database.engine).get_table_names()) >= TABLES
    head = current_revision(database.engine)
    command.downgrade(_alembic_config(database.engine), "0008")
    assert not TABLES & set(inspect(database.engine).get_table_names())
    database.migrate()
    assert set(inspect(database.engine).get_table_names()) >= TABLES
    assert current_revision(database.engine) == head
