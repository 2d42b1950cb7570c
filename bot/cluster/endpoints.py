"""Rasa's endpoints for a replica: its bot's action endpoint, the SQL tracker store, the Redis lock store.

Passwords never go into the generated file: it says ``${RASA_TRACKER_STORE_PASSWORD}`` (and
``${RASA_LOCK_STORE_PASSWORD}``), which Rasa fills in from its environment when it reads the
file; :func:`store_secrets` gives those variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from sqlalchemy.engine import make_url

from bot.supervisor import action_endpoint

__all__ = [
    "LOCK_PASSWORD_ENV",
    "TRACKER_PASSWORD_ENV",
    "cluster_endpoints",
    "lock_store",
    "store_secrets",
    "tracker_store",
]

TRACKER_PASSWORD_ENV = "RASA_TRACKER_STORE_PASSWORD"  # noqa: S105 (a variable name)
LOCK_PASSWORD_ENV = "RASA_LOCK_STORE_PASSWORD"  # noqa: S105 (a variable name)
# Rasa's stores with fewer round trips per message (rasa_plugins/, loaded by Rasa by path)
TRACKER_STORE_CLASS = "rasa_plugins.tracker_store.KnownCountSQLTrackerStore"
LOCK_STORE_CLASS = "rasa_plugins.lock_store.RedisMutexLockStore"


def tracker_store(database_url: str) -> dict[str, Any]:
    """Rasa's SQL tracker store (table ``events``) in the PostgreSQL database of ``database_url``."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        raise ValueError(f"the tracker store needs PostgreSQL, not {url.drivername}")
    if not url.database:
        raise ValueError("the database URL names no database")
    config: dict[str, Any] = {
        "type": TRACKER_STORE_CLASS,  # Rasa's SQL store, without its count query per save
        "dialect": "postgresql",  # Rasa's own driver (psycopg2 in .venv-rasa)
        "url": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "db": url.database,
    }
    if url.username:
        config["username"] = url.username
    if url.password:
        config["password"] = "${" + TRACKER_PASSWORD_ENV + "}"
    if url.query:
        config["query"] = {key: str(value) for key, value in url.query.items()}
    return config


def lock_store(redis_url: str, key_prefix: str) -> dict[str, Any]:
    """Rasa's lock store on Redis (one conversation's messages at a time, across Rasa
    replicas): ``rasa_plugins.lock_store``, a mutex with Rasa's ``type: redis`` settings."""
    url = urlsplit(redis_url)
    if url.scheme not in {"redis", "rediss"}:
        raise ValueError(f"the lock store needs a redis:// URL, not {url.scheme or redis_url!r}")
    db = url.path.strip("/") or "0"
    if not db.isdigit():
        raise ValueError(f"the Redis database must be a number, not {db!r}")
    config: dict[str, Any] = {
        "type": LOCK_STORE_CLASS,
        "url": url.hostname or "127.0.0.1",
        "port": url.port or 6379,
        "db": int(db),
        "key_prefix": key_prefix,
    }
    if url.username:
        config["username"] = unquote(url.username)
    if url.password:
        config["password"] = "${" + LOCK_PASSWORD_ENV + "}"
    if url.scheme == "rediss":
        config["use_ssl"] = True
    return config


def store_secrets(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment Rasa needs to read the passwords the endpoints file refers to."""
    secrets: dict[str, str] = {}
    database_password = make_url(database_url).password
    if database_password:
        secrets[TRACKER_PASSWORD_ENV] = str(database_password)
    redis_password = urlsplit(redis_url).password
    if redis_password:
        secrets[LOCK_PASSWORD_ENV] = unquote(redis_password)
    return secrets


def cluster_endpoints(
    source: Path,
    target: Path,
    *,
    actions_url: str,
    database_url: str,
    redis_url: str,
    key_prefix: str,
) -> Path:
    """``source`` (the project's endpoints.yml) for one replica, written to ``target``."""
    endpoints = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    endpoints["action_endpoint"] = action_endpoint(endpoints, actions_url)
    endpoints["tracker_store"] = tracker_store(database_url)
    endpoints["lock_store"] = lock_store(redis_url, key_prefix)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(endpoints, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target
