"""Resources the actions share: the settings, the store and the live FAQ index.

The bot serves Rasa's actions itself (``bot.api.actions``): around each action call it
lends the actions its own resources with :func:`hosting`, so a replica keeps one encoder
and one index, and a publish the bot's index has caught up with is what the actions
answer from. Run anywhere else (a test calling an action, ``python -m rasa_sdk`` by hand),
the actions make their own, once per process on first use; that index follows the
knowledge-base version in a background thread like the bot's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

from bot.kb_index import LiveIndex
from bot.retrieval import make_retriever
from bot.settings import Settings, get_settings
from bot.store import Database

__all__ = ["ActionResources", "database", "faq_index", "hosting", "reset", "settings"]

log = logging.getLogger(__name__)
_index_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ActionResources:
    settings: Settings
    database: Database
    index: LiveIndex


_hosted: ContextVar[ActionResources | None] = ContextVar("action_resources", default=None)


@contextmanager
def hosting(resources: ActionResources) -> Iterator[None]:
    """The actions called inside the block use ``resources`` (per context: two apps in one
    process each lend their own)."""
    token = _hosted.set(resources)
    try:
        yield
    finally:
        _hosted.reset(token)


def settings() -> Settings:
    hosted = _hosted.get()
    return hosted.settings if hosted is not None else get_settings()


def database() -> Database:
    hosted = _hosted.get()
    return hosted.database if hosted is not None else _own_database()


def faq_index() -> LiveIndex:
    hosted = _hosted.get()
    if hosted is not None:
        return hosted.index
    with _index_lock:
        return _own_index()


@lru_cache(maxsize=1)
def _own_database() -> Database:
    return Database(get_settings().database_url_plain)


@lru_cache(maxsize=1)
def _own_index() -> LiveIndex:
    knowledge = get_settings().knowledge
    index = LiveIndex(_own_database(), make_retriever(knowledge))
    index.warm_up()
    index.start(interval=knowledge.refresh_seconds)
    return index


def reset() -> None:
    """Forget the resources made here (stopping the index, closing the store) and the
    settings they were made from: the next call makes them again from the environment."""
    if _own_index.cache_info().currsize:
        _own_index().stop()
    if _own_database.cache_info().currsize:
        _own_database().dispose()
    for cached in (_own_index, _own_database, get_settings):
        cached.cache_clear()
