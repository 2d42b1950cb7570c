"""Shared fixtures: the shared data folder, and a real database on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from bench.private_services import PG_BIN, PrivatePostgres, free_port
from bot.settings import Settings, load_settings
from bot.store import Database
from bot.store.models import Base

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
POSTGRES_ADMIN_URL = os.environ.get("BOT1999_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))
pytest_plugins = ["tests.browser"]  # the one session-wide Chromium (e2e and security suites)


def _unavailable(reason: str) -> None:
    """Outside CI a missing service skips; in CI it fails, so nothing is silently skipped."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "kaohsiung_faq.jsonl").is_file():
        _unavailable(f"no shared data at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        _unavailable(f"PostgreSQL does not answer at {POSTGRES_ADMIN_URL}: {error}")
    name = f"bot1999_test_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
        try:
            yield f"{base}/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def drop_rasa_tables(postgres_url: str) -> None:
    """Rasa's SQL tracker store creates its own table (``events``) in the database it is given:
    a test that runs it on the session's database drops it after, so that the others (the
    migrations check) find only ours."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS events CASCADE")
        connection.execute("DROP SEQUENCE IF EXISTS events_seq")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of the test's own, for tests that stop or restart it (never the
    shared one); its data folder is removed afterwards."""
    if not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and shutil.which("runuser") is None):
        _unavailable(f"no PostgreSQL server programs at {PG_BIN} to start a private server")
    with PrivatePostgres(free_port(5100, 5199)) as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    cleanup = Database(url)
    Base.metadata.drop_all(cleanup.engine)
    with cleanup.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    cleanup.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


def app_settings(database_url: str, cache: Path, **overrides: object) -> Settings:
    """Settings for an app under test: a real store, the fast hashing encoder, no settings file."""
    knowledge = {"encoder": "hashing", "model_cache_dir": str(cache / "models"), "refresh_seconds": 0.2}
    return load_settings(database_url=database_url, knowledge=knowledge, **overrides)
