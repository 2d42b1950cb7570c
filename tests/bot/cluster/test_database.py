"""The cluster's database on a real PostgreSQL: created once, then set up like `bot1999 setup`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from bot.cluster.database import ensure_database
from bot.cluster.run import prepare
from bot.settings import load_settings
from tests.conftest import POSTGRES_ADMIN_URL, _unavailable

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def missing_database() -> Iterator[str]:
    """The URL of a database that does not exist yet; dropped afterwards."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        _unavailable(f"PostgreSQL does not answer at {POSTGRES_ADMIN_URL}: {error}")
    name = f"bot1999_cluster_test_{uuid.uuid4().hex[:10]}"
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    with admin:
        try:
            yield f"{base}/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_ensure_database_creates_it_once(missing_database: str) -> None:
    assert ensure_database(missing_database) is True
    assert ensure_database(missing_database) is False
    with psycopg.connect(missing_database, connect_timeout=3) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (missing_database.rpartition("/")[2],)


@pytest.mark.slow
def test_prepare_creates_migrates_and_loads_the_default_knowledge_base(missing_database: str) -> None:
    settings = load_settings(cluster={"database_url": missing_database})
    shipped = sum(
        1
        for path in Path("knowledge/content").glob("*.jsonl")
        for line in path.read_text().splitlines()
        if line.strip()
    )
    first = list(prepare(settings))
    assert first[0] == "cluster database created"
    assert first[1] == "database schema up to date"
    assert f"{shipped} imported" in first[2]
    again = list(prepare(settings))
    assert again[0] == "cluster database present"
    assert "0 imported" in again[2]
    assert f"{shipped} unchanged" in again[2]
