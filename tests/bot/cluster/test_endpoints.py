"""Rasa's endpoints for a replica: what is generated, and that Rasa itself reads it into a
working SQL tracker store (real PostgreSQL) and Redis lock store (real Redis)."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import redis
import yaml

from bot.cluster.endpoints import (
    LOCK_PASSWORD_ENV,
    TRACKER_PASSWORD_ENV,
    cluster_endpoints,
    lock_store,
    store_secrets,
    tracker_store,
)
from bot.supervisor import ACTIONS_TOKEN_ENV
from tests.conftest import REPO, _unavailable, drop_rasa_tables

RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
REDIS_URL = "redis://127.0.0.1:6379/0"


def test_tracker_store_from_the_database_url() -> None:
    assert tracker_store("postgresql://bot@db.internal:6543/bot1999?sslmode=require") == {
        "type": "rasa_plugins.tracker_store.KnownCountSQLTrackerStore",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 6543,
        "db": "bot1999",
        "username": "bot",
        "query": {"sslmode": "require"},
    }
    assert tracker_store("postgresql+psycopg://127.0.0.1/bot1999_cluster") == {
        "type": "rasa_plugins.tracker_store.KnownCountSQLTrackerStore",
        "dialect": "postgresql",
        "url": "127.0.0.1",
        "port": 5432,
        "db": "bot1999_cluster",
    }


def test_tracker_store_needs_postgresql_and_a_database() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        tracker_store("sqlite:///var/bot1999.db")
    with pytest.raises(ValueError, match="no database"):
        tracker_store("postgresql://127.0.0.1:5432")


def test_lock_store_from_the_redis_url() -> None:
    assert lock_store("redis://127.0.0.1:6379/2", "bot1999") == {
        "type": "rasa_plugins.lock_store.RedisMutexLockStore",
        "url": "127.0.0.1",
        "port": 6379,
        "db": 2,
        "key_prefix": "bot1999",
    }
    secure = lock_store("rediss://user:p%40ss@cache.internal/0", "x")
    assert secure["use_ssl"] is True
    assert secure["username"] == "user"
    assert secure["password"] == "${" + LOCK_PASSWORD_ENV + "}"
    with pytest.raises(ValueError, match="redis://"):
        lock_store("memcached://127.0.0.1", "x")
    with pytest.raises(ValueError, match="number"):
        lock_store("redis://127.0.0.1/cache", "x")


def test_passwords_stay_out_of_the_file(tmp_path: Path) -> None:
    database_url = "postgresql://bot:S3cr%40t@127.0.0.1:5432/bot1999"
    redis_url = "redis://:r3dis@127.0.0.1:6379/0"
    target = cluster_endpoints(
        REPO / "endpoints.yml",
        tmp_path / "endpoints.yml",
        actions_url="http://127.0.0.1:5151/webhook",
        database_url=database_url,
        redis_url=redis_url,
        key_prefix="bot1999",
    )
    text = target.read_text(encoding="utf-8")
    assert "S3cr" not in text
    assert "r3dis" not in text
    endpoints = yaml.safe_load(text)
    assert endpoints["action_endpoint"] == {
        "url": "http://127.0.0.1:5151/webhook",
        "headers": {"Authorization": "Bearer ${BOT1999_RASA__ACTIONS_TOKEN}"},  # the token stays out too
    }
    assert endpoints["tracker_store"]["password"] == "${" + TRACKER_PASSWORD_ENV + "}"
    assert endpoints["lock_store"]["password"] == "${" + LOCK_PASSWORD_ENV + "}"
    assert store_secrets(database_url, redis_url) == {
        TRACKER_PASSWORD_ENV: "S3cr@t",
        LOCK_PASSWORD_ENV: "r3dis",
    }
    assert store_secrets("postgresql://127.0.0.1/x", REDIS_URL) == {}


RASA_CHECK = """
import asyncio, sys
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

path, sender = sys.argv[1], sys.argv[2]
trackers = TrackerStore.create(read_endpoint_config(path, "tracker_store"), domain=Domain.empty())
locks = LockStore.create(read_endpoint_config(path, "lock_store"))
print("actions:", read_endpoint_config(path, "action_endpoint").headers["Authorization"])

async def main():
    async with locks.lock(sender):
        tracker = await trackers.retrieve(sender) or DialogueStateTracker.from_events(sender, [])
        tracker.update(UserUttered("路燈不亮"))
        await trackers.save(tracker)
    stored = await trackers.retrieve(sender)
    print(type(getattr(trackers, "_tracker_store", trackers)).__name__, type(locks).__name__,
          locks.key_prefix, len(stored.events))

asyncio.run(main())
"""


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.slow
def test_rasa_reads_the_endpoints_into_shared_stores(postgres_url: str, tmp_path: Path) -> None:
    """Two Rasa processes given this file share one conversation: the second sees the first's event."""
    if not RASA_PYTHON.is_file():
        _unavailable(f"no Rasa environment at {RASA_PYTHON.parent.parent}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        _unavailable(f"Redis does not answer at {REDIS_URL}: {error}")
    base, _, name = postgres_url.rpartition("/")
    database_url = base.replace("@", ":not-asked-by-trust-auth@", 1) + "/" + name  # through ${…}
    endpoints = cluster_endpoints(
        REPO / "endpoints.yml",
        tmp_path / "endpoints.yml",
        actions_url="http://127.0.0.1:5151/webhook",
        database_url=database_url,
        redis_url=REDIS_URL,
        key_prefix="bot1999test",
    )
    env = {
        **os.environ,
        **store_secrets(database_url, REDIS_URL),
        ACTIONS_TOKEN_ENV: "t0ken-of-the-run",
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(REPO),  # rasa_plugins, as for `rasa_run.py` started in the repository
    }
    sender = f"cluster-test-{uuid.uuid4().hex[:8]}"
    outputs = []
    try:
        for _ in range(2):
            done = subprocess.run(
                [str(RASA_PYTHON), "-c", RASA_CHECK, str(endpoints), sender],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            assert "actions: Bearer t0ken-of-the-run" in done.stdout  # the bot's token, from the environment
            outputs.append(done.stdout.split()[-4:])
    finally:
        drop_rasa_tables(postgres_url)
    assert outputs[0][:3] == ["KnownCountSQLTrackerStore", "RedisMutexLockStore", "bot1999test:lock:"]
    assert int(outputs[1][3]) > int(outputs[0][3])  # the second process found the first one's tracker
