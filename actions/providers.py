"""Resources the actions share, made once per action-server process on first use.

The FAQ index is built from the store on first use and then follows the knowledge-base
version in a background thread, so a publish reaches the actions within seconds.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

from bot.kb_index import LiveIndex
from bot.retrieval import make_retriever
from bot.settings import get_settings
from bot.store import Database

__all__ = ["database", "faq_index"]

log = logging.getLogger(__name__)
_index_lock = threading.Lock()


@lru_cache(maxsize=1)
def database() -> Database:
    return Database(get_settings().database_url_plain)


@lru_cache(maxsize=1)
def _index() -> LiveIndex:
    settings = get_settings().knowledge
    index = LiveIndex(database(), make_retriever(settings))
    index.warm_up()
    index.start(interval=settings.refresh_seconds)
    return index


def faq_index() -> LiveIndex:
    with _index_lock:
        return _index()
