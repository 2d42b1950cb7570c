"""Shared fixtures: the shared data folder, and a real database on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from psycopg import sql

from bench.private_services import PG_BIN, PrivatePostgres
from bot.settings import Settings, load_settings
from bot.store import Database
from bot.store.db import _alembic_config
from bot.store.models import Base

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
POSTGRES_ADMIN_URL = os.environ.get("BOT1999_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))
pytest_plugins = ["tests.browser"]  # the one session-wide Chromium (e2e and security suites)


# Tiers (docs/testing.md). A test's tier markers come from what it uses, so none can be
# forgotten: `make check` runs everything that needs none of these.
TIER_FIXTURES = {
    "rasa": {"rasa_stack", "chat_url"},  # the real Rasa and the app serving its actions (tests/conversations)
    "browser": {"browser"},  # Debian's Chromium (tests/browser.py)
    "cluster": {"under_load"},  # bot1999 run-cluster on a private PostgreSQL and Redis
    "encoder": {"model_dir", "st_encoder", "st_tokenizer", "nano_encoder"},  # the real e5 model
}
TIER_FOLDERS = {
    "rasa": ("tests/conversations/", "tests/rasa_plugins/"),  # these run code in the Rasa environment
}


# Under pytest-xdist (`make test` runs two workers, --dist loadgroup) the tests that share an
# expensive session fixture run on one worker, so it starts once: one Rasa stack, one Chromium,
# one cluster. Tests that share a module-scoped fixture stay together for the same reason.
SHARED_ONCE = {
    "rasa_stack": "rasa",
    "chat_url": "rasa",
    "browser": "browser",
    "under_load": "cluster",
    **dict.fromkeys(TIER_FIXTURES["encoder"], "encoder"),
}


def _xdist_group(item: pytest.Item, used: set[str]) -> str | None:
    for fixture, group in SHARED_ONCE.items():
        if fixture in used:
            return group
    if item.get_closest_marker("encoder") is not None:  # e.g. encoders asked for by getfixturevalue
        return "encoder"
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    if any(d.scope == "module" for defs in definitions.values() for d in defs):
        return item.path.relative_to(REPO).as_posix()
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        path = item.path.relative_to(REPO).as_posix()
        for tier, fixtures in TIER_FIXTURES.items():
            if used & fixtures or path.startswith(TIER_FOLDERS.get(tier, ())):
                item.add_marker(tier)
        group = _xdist_group(item, used)
        if group is not None and config.pluginmanager.has_plugin("xdist"):  # not under -p no:xdist
            item.add_marker(pytest.mark.xdist_group(group))


def pytest_collection_finish(session: pytest.Session) -> None:
    """On an xdist worker with --dist loadgroup, a group is kept together by a suffix xdist adds
    to the test's node id; without it the groups above would be split, silently."""
    if not getattr(session.config.option, "loadgroup", False):  # set on xdist's workers only
        return
    for item in session.items:
        if item.get_closest_marker("xdist_group") is not None and "@" not in item.nodeid:
            raise pytest.UsageError(
                f"pytest-xdist did not group {item.nodeid}: this pytest and pytest-xdist do not work together"
            )


def _unavailable(reason: str) -> None:
    """Outside CI a missing service skips; in CI it fails, so nothing is silently skipped."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2 at its lowest cost in the test process: the same hashing and verifying code,
    without a third of a second of CPU for every account created and every log-in (hundreds
    in the console and security suites). Servers started as child processes keep the default."""
    from bot.store import users

    default = users._hasher
    users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    users._hasher = default


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
    with PrivatePostgres.on_free_port(5100, 5199) as server:
        yield server


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite store made once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "store.db"
    template = Database(f"sqlite:///{path}")
    template.migrate()
    template.dispose()
    return path


@functools.cache
def head_revision() -> str:
    """The newest migration (what ``Database.migrate`` brings a store to)."""
    script = ScriptDirectory.from_config(_alembic_config(Database("sqlite://").engine))
    head = script.get_current_head()
    assert head is not None
    return head


def fresh_postgres(url: str, head: str) -> None:
    """Empty the session's PostgreSQL database, migrated once: every table of ours emptied
    (identities restarted) when it is at ``head``, else (a test migrated down, or dropped
    tables) everything dropped and migrated again. Tables a test made itself go too."""
    with psycopg.connect(url, autocommit=True) as connection:
        tables = [
            str(row[0])
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        version = None
        if connection.execute("SELECT to_regclass('public.alembic_version')").fetchone() != (None,):
            version = connection.execute("SELECT max(version_num) FROM alembic_version").fetchone()
        ours = {table.name for table in Base.metadata.sorted_tables}
        if version == (head,) and set(tables) >= ours:
            for extra in sorted(set(tables) - ours):  # e.g. Rasa's events table
                connection.execute(sql.SQL("DROP TABLE {} CASCADE").format(sql.Identifier(extra)))
            names = sql.SQL(", ").join(sql.Identifier(table) for table in sorted(ours))
            connection.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(names))
            return
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    database = Database(url)
    database.migrate()
    database.dispose()


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_url: str) -> str:
    """The session's PostgreSQL database, migrated once."""
    database = Database(postgres_url)
    database.migrate()
    database.dispose()
    return postgres_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated, empty database, once per backend.

    Migrations run once per session and backend: SQLite stores are copies of a migrated
    file, and the PostgreSQL database is emptied (or, when a test left it at another
    revision, rebuilt) before each test."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("migrated_postgres_url")
    fresh_postgres(url, head_revision())
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    db = Database(database_url)
    yield db
    db.dispose()


def app_settings(database_url: str, cache: Path, **overrides: object) -> Settings:
    """Settings for an app under test: a real store, the fast hashing encoder, no settings file."""
    knowledge = {"encoder": "hashing", "model_cache_dir": str(cache / "models"), "refresh_seconds": 0.2}
    return load_settings(database_url=database_url, knowledge=knowledge, **overrides)
