"""Stores: SQLAlchemy over SQLite (embedded default) or PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.store.db import make_engine, make_session_factory, migrate, session_scope

__all__ = ["Database"]


class Database:
    """An engine and its session factory; cheap to build, ``migrate()`` before first use."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)

    def migrate(self) -> None:
        migrate(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error."""
        with session_scope(self.sessions) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
