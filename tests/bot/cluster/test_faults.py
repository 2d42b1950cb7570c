"""Faults under load over real processes: ``bot1999 run-cluster`` on a private PostgreSQL and
Redis, citizens talking to it all along (resending unanswered messages with the same
``message_id``, as the web widget does), and one fault after another: kill -9 of a bot (which
serves its Rasa's actions too) and of a Rasa, a PostgreSQL restart, Redis stopped for 10 s.

After each fault every message is still answered (normally, in degraded mode, or after a
retry the client was asked to make), none with an empty reply or a 500, and the service
recovers by itself; at the end nothing the bot accepted is lost or stored twice.

The same cluster has its harvest schedule due at start-up and the loopback fake of the city's
FAQ API as its source: both replicas look every second, exactly one harvest runs.

Slow (the cluster comes up once for the module: two Rasa servers load on two cores).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bench.fault_cluster import FAULTS, Fault, FaultCluster
from bench.fault_load import LoadThread
from bench.faults import FaultResult, check_after, inject
from bench.loadtest import read_questions
from bench.private_services import PG_BIN
from bot.settings import get_settings
from bot.store import Database
from bot.store.models import HarvestRunRow
from tests.conftest import REPO, _unavailable
from tests.fakes.soweb_api import CATEGORY, FakeEntry, FakeSowebApi, detail_key
from tests.waiting import PATIENCE, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.shared_data]

ORGAN = "397000000A"
CITY_ENTRIES = [
    FakeEntry(ORGAN, n, question, f"{question}請洽工務局。", "工務局", "工務", "20240102", "20250304")
    for n, question in enumerate(("人行道破損怎麼通報？", "公園路燈不亮找誰？", "路樹擋住號誌怎麼辦？"), 1)
]
RATE = 8.0  # turns a second: enough traffic that every fault meets messages in flight
HARVEST_PATIENCE = 300.0  # the cluster just started on two loaded cores: a generous deadline, not a timing
SETTLE = 10.0
MAX_RECOVERY = 240.0  # generous: a killed Rasa loads its model again on a loaded machine
NEVER_SEEN = ("HTTP 500", "answer with no reply", "no answer after retries")


@pytest.fixture(scope="module")
def city_api() -> Iterator[FakeSowebApi]:
    """The city's FAQ API, three entries the cluster's scheduled harvest brings in."""
    with FakeSowebApi(CITY_ENTRIES, [{"kind": "01", "kind_name": "工務"}]) as api:
        yield api


@pytest.fixture(scope="module")
def under_load(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory, city_api: FakeSowebApi
) -> Iterator[tuple[FaultCluster, LoadThread]]:
    if (
        not (REPO / ".venv-rasa" / "bin" / "python").exists()
        or not (REPO / "models" / "bot1999.tar.gz").exists()
    ):
        _unavailable("no Rasa environment or model (make setup)")
    if not (PG_BIN / "initdb").exists() or shutil.which("redis-server") is None:
        _unavailable("no PostgreSQL server programs or redis-server for a private PostgreSQL and Redis")
    cluster = FaultCluster(tmp_path_factory.mktemp("faults"))
    cluster.env.update(  # the harvest is due at once (no run yet); each replica looks every second
        {
            "BOT1999_HARVEST__SCHEDULE": "hourly",
            "BOT1999_HARVEST__BASE_URL": city_api.url,
            "BOT1999_HARVEST__STATE_DIR": str(cluster.workdir / "scrape"),
            "BOT1999_HARVEST__POLL_SECONDS": "1",
            "BOT1999_HARVEST__LEASE_SECONDS": "300",
        }
    )
    try:
        cluster.start()
        # the faults below must not fall in the middle of the harvest (a replica killed while
        # holding the lease leaves the run 'running' for the lease's 300 s): it runs first
        database = Database(cluster.database_url)
        try:
            wait_until(
                lambda: _harvest_ended(database), timeout=HARVEST_PATIENCE, what="the scheduled harvest"
            )
        finally:
            database.dispose()
        load = LoadThread(
            cluster.url, RATE, read_questions(shared_data / "eval" / "kaohsiung_dev_queries.jsonl")
        )
        load.start()
        yield cluster, load
        load.stop()
    finally:
        cluster.stop()


def _runs(database: Database) -> list[tuple[str, str, dict[str, int]]]:
    with database.session() as session:
        rows = session.scalars(select(HarvestRunRow).order_by(HarvestRunRow.id)).all()
        return [(row.trigger, row.status, dict(row.counts)) for row in rows]


def _harvest_ended(database: Database) -> bool:
    return any(status != "running" for _, status, _ in _runs(database))


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


def _polls(cluster: FaultCluster, number: int) -> int | None:
    """How many times bot ``number``'s harvest scheduler has looked (None while it is away)."""
    try:
        health = httpx.get(f"http://127.0.0.1:{cluster.port('bot', number)}/healthz", timeout=PATIENCE)
    except httpx.HTTPError:
        return None
    return int(health.json()["harvest_polls"]) if health.status_code == 200 else None


def test_with_the_harvest_due_exactly_one_replica_harvests(
    under_load: tuple[FaultCluster, LoadThread], city_api: FakeSowebApi
) -> None:
    cluster, _ = under_load
    database = Database(cluster.database_url)
    try:
        wait_until(lambda: _harvest_ended(database), what="the scheduled harvest")
        before = {number: _polls(cluster, number) for number in (1, 2)}

        def both_looked_again() -> bool:
            now = {number: _polls(cluster, number) for number in (1, 2)}
            return all(now[n] is not None and now[n] != before[n] for n in now)

        wait_until(both_looked_again, what="both replicas to look for a due harvest after it")
        done = _runs(database)
    finally:
        database.dispose()
    assert [(trigger, status) for trigger, status, _ in done] == [("schedule", "done")]
    counts = done[0][2]
    assert (counts["new"], counts["changed"], counts["gone"], counts["errors"]) == (3, 0, 0, 0)
    assert city_api.count(CATEGORY) == 1, "the city's API was scraped once"
    assert [city_api.count(detail_key(ORGAN, n)) for n in (1, 2, 3)] == [1, 1, 1]
