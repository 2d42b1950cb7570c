"""The store surviving a database outage: what counts as one, and a unit of work tried again."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import exc, text

from bench.private_services import PrivatePostgres
from bot.store import Database
from bot.store.db import retry_while_unavailable, unavailable


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeTime:
    """``sleep`` moves ``clock`` on, so giving up is tested without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def _select_one(database: Database) -> int:
    with database.session() as session:
        return int(session.execute(text("SELECT 1")).scalar_one())


def test_a_server_that_does_not_answer_is_unavailable_and_a_broken_constraint_is_not(
    database: Database,
) -> None:
    away = Database(f"postgresql://postgres@127.0.0.1:{_closed_port()}/none")
    with pytest.raises(exc.OperationalError) as refused:
        _select_one(away)
    away.dispose()
    assert unavailable(refused.value)
    with database.session() as session:
        session.execute(text("CREATE TABLE one (id int PRIMARY KEY)"))
    with pytest.raises(exc.IntegrityError) as broken, database.session() as session:
        session.execute(text("INSERT INTO one VALUES (1), (1)"))
    with database.session() as session:
        session.execute(text("DROP TABLE one"))
    assert not unavailable(broken.value)


def test_a_bad_query_is_not_tried_again(database: Database) -> None:
    attempts: list[int] = []

    def work() -> None:
        attempts.append(1)
        with database.session() as session:
            session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(exc.DBAPIError):
        retry_while_unavailable(work, seconds=10)
    assert len(attempts) == 1


def test_while_the_server_stays_away_it_gives_up_after_its_time_with_the_error() -> None:
    away = Database(f"postgresql://postgres@127.0.0.1:{_closed_port()}/none")
    fake = FakeTime()
    with pytest.raises(exc.OperationalError):
        retry_while_unavailable(lambda: _select_one(away), seconds=2, sleep=fake.sleep, clock=fake.clock)
    away.dispose()
    assert len(fake.pauses) > 2, "tried several times"
    assert sum(fake.pauses) <= 2


@pytest.mark.integration
def test_work_goes_through_once_a_stopped_server_is_back(private_postgres: PrivatePostgres) -> None:
    database = Database(private_postgres.url("postgres"))
    try:
        with database.session() as session:
            session.execute(text("CREATE TABLE done (n int)"))
        private_postgres.restart()  # every pooled connection is cut: the pool reconnects
        assert _select_one(database) == 1
        private_postgres.stop()
        back = threading.Timer(1.0, private_postgres.start)
        back.start()

        def work() -> None:
            with database.session() as session:
                session.execute(text("INSERT INTO done VALUES (1)"))

        retry_while_unavailable(work, seconds=60)
        back.join()
        with database.session() as session:
            assert session.execute(text("SELECT count(*) FROM done")).scalar_one() == 1
    finally:
        database.dispose()
