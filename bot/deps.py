"""FastAPI dependencies: one place for settings, sessions and access rules."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.store import Database

__all__ = ["SettingsDep", "DatabaseDep", "SessionDep", "LocalOnly", "ACTOR_HEADER"]

ACTOR_HEADER = "X-Bot1999-Actor"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _session(database: Annotated[Database, Depends(_database)]) -> Iterator[Session]:
    with database.session() as session:
        yield session


def _local_only(request: Request) -> None:
    """Refuse any client that is not on this machine (until staff log-in exists)."""
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the knowledge-base API is only open to 127.0.0.1")


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
# "function": the unit of work commits before the response is sent, so a client never hears
# "created" for a change that then fails to commit, nor races its own next request past it.
SessionDep = Annotated[Session, Depends(_session, scope="function")]
LocalOnly = Depends(_local_only)
