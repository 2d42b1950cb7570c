"""The cluster's processes and their configuration, from the settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.cluster.plan import AllReady, cluster_children, replicas, shared_environment
from bot.settings import SettingsError, load_settings


def test_every_process_of_two_replicas_in_start_up_order(tmp_path: Path) -> None:
    settings = load_settings(
        cluster={"bot_port": 8101, "rasa_port": 5101, "balancer_port": 8100},
        limits={"redis_url": "redis://127.0.0.1:6379/3"},
    )
    children = cluster_children(settings, endpoints_dir=tmp_path)
    assert [c.name for c in children] == [
        "rasa-1",
        "rasa-2",
        "bot-1",
        "bot-2",
        "balancer",
    ]
    by_name = {c.name: c for c in children}
    assert not any("rasa_sdk" in c.argv for c in children), "no separate action server"
    # the bots start once both Rasas are warm, the balancer once both bots are healthy
    assert [c.name for c in children if c.ready is not None] == ["rasa-2", "bot-2"]
    rasa = by_name["rasa-2"].argv
    assert rasa[rasa.index("--port") + 1] == "5102"
    endpoints = yaml.safe_load(Path(rasa[rasa.index("--endpoints") + 1]).read_text(encoding="utf-8"))
    # Rasa 2 calls the actions bot 2 serves, with the token from its environment
    assert endpoints["action_endpoint"] == {
        "url": "http://127.0.0.1:8102/actions/webhook",
        "headers": {"Authorization": "Bearer ${BOT1999_RASA__ACTIONS_TOKEN}"},
    }
    assert endpoints["tracker_store"] == {
        "type": "rasa_plugins.tracker_store.KnownCountSQLTrackerStore",
        "dialect": "postgresql",
        "url": "127.0.0.1",
        "port": 5432,
        "db": "bot1999_cluster",
        "username": "postgres",
    }
    assert endpoints["lock_store"]["db"] == 3
    bot = by_name["bot-1"].argv
    assert bot[:2] == ["env", "BOT1999_RASA__URL=http://127.0.0.1:5101"]  # bot 1 asks Rasa 1
    assert bot[-4:] == ["--host", "127.0.0.1", "--port", "8101"]
    balancer = by_name["balancer"].argv
    assert balancer[balancer.index("--port") + 1] == "8100"
    assert [balancer[i + 1] for i, arg in enumerate(balancer) if arg == "--backend"] == [
        "http://127.0.0.1:8101",
        "http://127.0.0.1:8102",
    ]


def test_what_every_child_shares() -> None:
    settings = load_settings(
        cluster={"database_url": "postgresql://bot:pw@db:5432/cluster"},
        limits={"redis_url": "redis://:rpw@cache:6379/0", "trusted_proxies": ["10.0.0.0/8"]},
    )
    env = shared_environment(settings)
    assert env["BOT1999_DATABASE_URL"] == "postgresql://bot:pw@db:5432/cluster"
    assert env["BOT1999_LIMITS__BACKEND"] == "redis"
    assert env["BOT1999_HANDOFF__PRESENCE"] == "redis"  # agents' presence shared through Redis
    assert env["BOT1999_HANDOFF__PRESENCE_REDIS_URL"] == "redis://:rpw@cache:6379/0"
    assert json.loads(env["BOT1999_LIMITS__TRUSTED_PROXIES"]) == ["10.0.0.0/8", "127.0.0.1/32"]
    assert env["RASA_TRACKER_STORE_PASSWORD"] == "pw"
    assert env["RASA_LOCK_STORE_PASSWORD"] == "rpw"
    assert len(env["BOT1999_RASA__ACTIONS_TOKEN"]) >= 32, "a token for the action endpoints, made for the run"
    assert shared_environment(settings)["BOT1999_RASA__ACTIONS_TOKEN"] != env["BOT1999_RASA__ACTIONS_TOKEN"]
    chosen = load_settings(rasa={"actions_token": "t0ken"})
    assert shared_environment(chosen)["BOT1999_RASA__ACTIONS_TOKEN"] == "t0ken"
    # what the children read back is valid settings
    assert load_settings(limits={"trusted_proxies": json.loads(env["BOT1999_LIMITS__TRUSTED_PROXIES"])})


def test_replica_ports_follow_the_first() -> None:
    settings = load_settings(cluster={"replicas": 3, "bot_port": 9001, "rasa_port": 6001})
    assert [(r.number, r.bot_port, r.rasa_port, r.actions_url) for r in replicas(settings)] == [
        (1, 9001, 6001, "http://127.0.0.1:9001/actions/webhook"),
        (2, 9002, 6002, "http://127.0.0.1:9002/actions/webhook"),
        (3, 9003, 6003, "http://127.0.0.1:9003/actions/webhook"),
    ]


def test_overlapping_ports_and_sqlite_are_refused() -> None:
    with pytest.raises(SettingsError, match="bot_port and rasa_port overlap"):
        load_settings(cluster={"replicas": 3, "bot_port": 5000, "rasa_port": 5002})
    with pytest.raises(SettingsError, match="BOT1999_CLUSTER__DATABASE_URL.*PostgreSQL"):
        load_settings(cluster={"database_url": "sqlite:///var/cluster.db"})


def test_all_ready_waits_for_every_check_and_asks_each_until_it_passes() -> None:
    calls: list[str] = []
    answers = {"a": [False, True], "b": [False, False, True]}

    def check(name: str) -> Callable[[], bool]:
        def attempt() -> bool:
            calls.append(name)
            return answers[name].pop(0)

        return attempt

    ready = AllReady([check("a"), check("b")])
    assert [ready(), ready(), ready()] == [False, False, True]
    assert calls == ["a", "b", "a", "b", "b"]  # a passed once and is not asked again
