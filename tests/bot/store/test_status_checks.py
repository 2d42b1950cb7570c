"""Status checks with a lock-out per case number, on both databases, with the clock passed in."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from bot.settings import StatusCheckSettings
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.models import StatusCheckRow
from bot.store.status_checks import Outcome, StatusCheck, StatusChecks

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
POLICY = StatusCheckSettings(max_failures=3, window_minutes=60, lockout_minutes=30)
LIGHT = NewCase(
    category="street_light",
    description="路燈不亮",
    channel="web",
    sender_id="s-1",
    location_text="中正路口",
    phone="0912345678",
    contact_consent=True,
)


def _file(database: Database) -> str:
    with database.session() as session:
        return CaseStore(session).file(LIGHT, now=T0).number


def _check(database: Database, number: str, digits: str, at: datetime) -> StatusCheck:
    with database.session() as session:
        return StatusChecks(session, POLICY).check(number, digits, now=at)


def test_the_right_digits_find_the_case_and_wrong_ones_do_not_say_why(database: Database) -> None:
    number = _file(database)
    assert _check(database, number, "678", T0).outcome is Outcome.FOUND
    assert _check(database, number, "６７８", T0).case is not None
    assert _check(database, number, "679", T0).outcome is Outcome.NOT_FOUND
    assert _check(database, "261207-9999-0", "678", T0).outcome is Outcome.NOT_FOUND


def test_a_few_failures_lock_the_number_even_against_the_right_digits(database: Database) -> None:
    number = _file(database)
    assert [_check(database, number, d, T0).outcome for d in ("100", "101")] == [Outcome.NOT_FOUND] * 2
    locked = _check(database, number, "102", T0 + timedelta(minutes=1))
    assert locked.outcome is Outcome.LOCKED
    assert locked.locked_until == T0 + timedelta(minutes=31)
    assert _check(database, number, "678", T0 + timedelta(minutes=30)).outcome is Outcome.LOCKED
    assert _check(database, number, "678", T0 + timedelta(minutes=31)).outcome is Outcome.FOUND


def test_failures_age_out_of_the_window_and_a_success_clears_them(database: Database) -> None:
    number = _file(database)
    _check(database, number, "100", T0)
    _check(database, number, "101", T0 + timedelta(minutes=10))
    assert _check(database, number, "102", T0 + timedelta(minutes=61)).outcome is Outcome.NOT_FOUND, (
        "the window started at the first failure and is over: the count starts again"
    )
    _check(database, number, "678", T0 + timedelta(minutes=62))
    with database.session() as session:
        assert session.get(StatusCheckRow, number) is None, "a success leaves nothing behind"


def test_the_number_is_counted_however_it_is_written(database: Database) -> None:
    number = _file(database)
    for written in (number, number.replace("-", ""), number.replace("-", " ")):
        _check(database, written, "100", T0)
    assert _check(database, number, "678", T0).outcome is Outcome.LOCKED


def test_concurrent_guesses_never_get_past_the_count(database: Database) -> None:
    number = _file(database)
    digits = [f"{n:03d}" for n in range(20) if f"{n:03d}" != "678"]
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda d: _check(database, number, d, T0).outcome, digits))
    assert outcomes.count(Outcome.NOT_FOUND) == POLICY.max_failures - 1
    assert outcomes.count(Outcome.LOCKED) == len(digits) - POLICY.max_failures + 1


def test_stale_counts_are_forgotten(database: Database) -> None:
    number = _file(database)
    _check(database, number, "100", T0)
    _check(database, "261207-9999-0", "100", T0)
    with database.session() as session:
        assert StatusChecks(session, POLICY).forget_stale(now=T0 + timedelta(minutes=30)) == 0
    with database.session() as session:
        assert StatusChecks(session, POLICY).forget_stale(now=T0 + timedelta(minutes=61)) == 2
