"""Faults under load over real processes: ``bot1999 run-cluster`` on a private PostgreSQL and
Redis, citizens talking to it all along (resending unanswered messages with the same
``message_id``, as the web widget does), and one fault after another: kill -9 of a bot (which
serves its Rasa's actions too) and of a Rasa, a PostgreSQL restart, Redis stopped for 10 s.

After each fault every message is still answered (normally, in degraded mode, or after a
retry the client was asked to make), none with an empty reply or a 500, and the service
recovers by itself; at the end nothing the bot accepted is lost or stored twice.

Slow (the cluster comes up once for the module: two Rasa servers load on two cores).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.fault_cluster import FAULTS, Fault, FaultCluster
from bench.fault_load import LoadThread
from bench.faults import FaultResult, check_after, inject
from bench.loadtest import read_questions
from bench.private_services import PG_BIN
from bot.settings import get_settings
from bot.store import Database
from tests.conftest import REPO, _unavailable

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.shared_data]

RATE = 8.0  # turns a second: enough traffic that every fault meets messages in flight
SETTLE = 10.0
MAX_RECOVERY = 240.0  # generous: a killed Rasa loads its model again on a loaded machine
NEVER_SEEN = ("HTTP 500", "answer with no reply", "no answer after retries")


@pytest.fixture(scope="module")
def under_load(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FaultCluster, LoadThread]]:
    if (
        not (REPO / ".venv-rasa" / "bin" / "python").exists()
        or not (REPO / "models" / "bot1999.tar.gz").exists()
    ):
        _unavailable("no Rasa environment or model (make setup)")
    if not (PG_BIN / "initdb").exists() or shutil.which("redis-server") is None:
        _unavailable("no PostgreSQL server programs or redis-server for a private PostgreSQL and Redis")
    cluster = FaultCluster(tmp_path_factory.mktemp("faults"))
    try:
        cluster.start()
        load = LoadThread(
            cluster.url, RATE, read_questions(shared_data / "eval" / "kaohsiung_dev_queries.jsonl")
        )
        load.start()
        yield cluster, load
        load.stop()
    finally:
        cluster.stop()


def _fault(name: str) -> Fault:
    return next(fault for fault in FAULTS if fault.name == name)


def _survive(name: str, under_load: tuple[FaultCluster, LoadThread]) -> FaultResult:
    cluster, load = under_load
    result = inject(_fault(name), cluster, load, settle=SETTLE, max_recovery=MAX_RECOVERY, say=lambda _: None)
    assert load.error is None
    assert result.recovered, (
        f"{name}: not normal again within {MAX_RECOVERY:.0f} s: {result.seen}\n{cluster.log_tail()}"
    )
    assert result.back_seconds is not None
    assert not [what for what in NEVER_SEEN if what in result.seen], result.seen
    return result


def test_a_killed_bot_replica_is_routed_around_and_restarted(
    under_load: tuple[FaultCluster, LoadThread],
) -> None:
    cluster, _ = under_load
    before = cluster.pid("bot", 1)
    _survive("kill -9 bot-1", under_load)
    assert cluster.pid("bot", 1) != before, "the supervisor started it again"
    assert any("bot-1 was killed by SIGKILL" in line for line in cluster.supervisor_lines())


def test_a_killed_rasa_means_degraded_answers_until_it_is_back(
    under_load: tuple[FaultCluster, LoadThread],
) -> None:
    cluster, _ = under_load
    before = cluster.pid("rasa", 1)
    result = _survive("kill -9 rasa-1", under_load)
    assert cluster.pid("rasa", 1) != before
    assert result.seen.get("degraded answer", 0) > 0, "its bot answered from the knowledge base meanwhile"


def test_a_postgresql_restart_is_ridden_out(under_load: tuple[FaultCluster, LoadThread]) -> None:
    _survive("PostgreSQL restart", under_load)


def test_redis_going_away_and_coming_back_empty_is_ridden_out(
    under_load: tuple[FaultCluster, LoadThread],
) -> None:
    _survive("Redis stop", under_load)


def test_afterwards_nothing_accepted_was_lost_or_stored_twice(
    under_load: tuple[FaultCluster, LoadThread],
) -> None:
    cluster, load = under_load
    load.stop()
    database = Database(cluster.database_url)
    try:
        check = check_after(database, load, get_settings().privacy.pseudonym_key.get_secret_value())
    finally:
        database.dispose()
    assert check.answered > 0
    assert check.cases > 0, "cases were filed through the faults"
    assert check.ratings > 0, "answers were rated through the faults"
    assert check.lost == [], "\n".join(check.lost)
    assert check.duplicated == [], "\n".join(check.duplicated)
