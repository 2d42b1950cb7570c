"""Engine, sessions and migrations for SQLite (embedded default) and PostgreSQL (production).

PostgreSQL connections are checked before each use (``pool_pre_ping``), so after a server
restart the pool reconnects instead of handing out dead connections. While the server is
down, :func:`unavailable` tells such an error from a bad query, and
:func:`retry_while_unavailable` runs a unit of work again for a few seconds (a restart takes
about one); the HTTP routes answer 503 "try again" (``bot.api.unavailable``).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "current_revision",
    "make_engine",
    "make_session_factory",
    "migrate",
    "retry_while_unavailable",
    "session_scope",
    "unavailable",
]

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created, and SQLite gets WAL and FKs."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, json_serializer=_json_dumps, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, json_serializer=_json_dumps, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def upsert(session: Session, table: Any) -> Any:
    """``INSERT … ON CONFLICT`` for the session's database (PostgreSQL or SQLite): the
    dialect's ``insert(table)``, which has ``on_conflict_do_update``/``_do_nothing``."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def unavailable(error: BaseException) -> bool:
    """True when ``error`` means the database could not be reached or dropped the connection
    (down, restarting, too busy, or SQLite locked): worth trying again shortly, unlike a bad
    query or a broken constraint."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, exc.OperationalError | exc.InterfaceError):
        return False
    if isinstance(error.orig, sqlite3.Error):  # SQLite says OperationalError for bad queries too
        return any(word in str(error.orig) for word in ("locked", "busy", "unable to open"))
    return True


def retry_while_unavailable(
    work: Callable[[], T],
    *,
    seconds: float = 5.0,
    first_pause: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``work()`` (a whole unit of work: it is run again from the start), tried again after
    a doubling pause while the database is :func:`unavailable`, for up to ``seconds``; then
    the last error is raised."""
    deadline = clock() + seconds
    pause = first_pause
    while True:
        try:
            return work()
        except exc.DBAPIError as error:
            if not unavailable(error) or clock() + pause > deadline:
                raise
            log.warning("database unavailable (%s); trying again in %.1f s", type(error.orig).__name__, pause)
        sleep(pause)
        pause = min(pause * 2, 1.0)


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (idempotent)."""
    command.upgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as connection:
        value = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return str(value) if value is not None else None
