"""The dependencies of every route (API, console, web widget): one place for what a route gets.

A route takes ``Annotated`` aliases: ``SettingsDep``, ``DatabaseDep``, ``SessionDep``,
``IndexDep``, ``ChatDep`` (the chat service), and for staff the logged-in user with a role (``bot.security.auth.require_role``):
``StaffUser`` (staff, and admins), ``SupervisorUser``, ``AdminUser``, ``AnyUser``. A helper that
holds a request rather than being a route reads the same through ``settings_of``,
``database_of`` and ``index_of``. What the app puts on ``app.state`` is set in ``bot.app``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from bot.chat.service import ChatService
from bot.kb_index import LiveIndex
from bot.security.auth import ConsoleUser, require_role
from bot.settings import Settings
from bot.store import Database
from bot.store.users import Role

__all__ = [
    "AdminUser",
    "AnyUser",
    "ChatDep",
    "DatabaseDep",
    "IndexDep",
    "SessionDep",
    "SettingsDep",
    "StaffUser",
    "SupervisorUser",
    "chat_of",
    "database_of",
    "index_of",
    "settings_of",
]


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def database_of(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def index_of(request: Request) -> LiveIndex:
    index: LiveIndex = request.app.state.index
    return index


def chat_of(request: Request) -> ChatService:
    chat: ChatService = request.app.state.chat
    return chat


def _session(database: Annotated[Database, Depends(database_of)]) -> Iterator[Session]:
    with database.session() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(settings_of)]
DatabaseDep = Annotated[Database, Depends(database_of)]
IndexDep = Annotated[LiveIndex, Depends(index_of)]
ChatDep = Annotated[ChatService, Depends(chat_of)]
# "function": the unit of work commits before the response is sent, so a client never hears
# "created" for a change that then fails to commit, nor races its own next request past it.
SessionDep = Annotated[Session, Depends(_session, scope="function")]

StaffUser = Annotated[ConsoleUser, Depends(require_role(Role.STAFF))]
SupervisorUser = Annotated[ConsoleUser, Depends(require_role(Role.SUPERVISOR))]
AdminUser = Annotated[ConsoleUser, Depends(require_role(Role.ADMIN))]
AnyUser = Annotated[ConsoleUser, Depends(require_role())]
