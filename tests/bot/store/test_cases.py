from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.cases import CaseStatus, InvalidTransition, is_valid_case_number
from bot.store import Database
from bot.store.cases import CaseInputError, CaseStore, NewCase
from bot.store.errors import ConflictError

POTHOLE = NewCase(
    category="road_pothole",
    description="中正路和五福路口有一個大坑洞，機車差點摔倒",
    channel="web",
    sender_id="s-1",
    location_text="中正路與五福路口",
    phone="0912-345-678",
    contact_consent=True,
)


def test_filing_gives_number_agency_and_a_four_hour_target(database: Database) -> None:
    now = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    with database.session() as session:
        row = CaseStore(session).file(POTHOLE, now=now)
        number = row.number
    with database.session() as session:
        row = CaseStore(session).get(number)
        assert number.startswith("261122-0001-")
        assert is_valid_case_number(number)
        assert (row.agency, row.status, row.phone) == ("高雄市政府工務局", "received", "0912345678")
        assert row.due_at.replace(tzinfo=UTC) - now == timedelta(hours=4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category": "ufo_sighting"}, "unknown case category"),
        ({"description": "   "}, "description"),
        ({"description": "坑" * 2001}, "description"),
        ({"location_text": ""}, "location"),
        ({"phone": "12345"}, "phone"),
        ({"location_text": "", "latitude": 95.0, "longitude": 120.0}, "latitude"),
    ],
)
def test_bad_cases_are_refused_clearly(database: Database, change: dict[str, object], message: str) -> None:
    case = replace(POTHOLE, **change)  # type: ignore[arg-type]
    with pytest.raises((CaseInputError, KeyError), match=message), database.session() as session:
        CaseStore(session).file(case)
    with database.session() as session:
        assert CaseStore(session).count() == 0


def test_status_life_with_events_and_refused_steps(database: Database) -> None:
    with database.session() as session:
        number = CaseStore(session).file(POTHOLE).number
    with database.session() as session:
        store = CaseStore(session)
        store.change_status(number, CaseStatus.ASSIGNED, actor="agent-1", note="派工養工處")
        store.change_status(number, CaseStatus.IN_PROGRESS, actor="agency")
        with pytest.raises(InvalidTransition):
            store.change_status(number, CaseStatus.RECEIVED, actor="agent-1")
        store.change_status(number, CaseStatus.CLOSED, actor="agency", note="已補平")
    with database.session() as session:
        events = CaseStore(session).events(number)
        assert [(e.from_status, e.to_status, e.actor) for e in events] == [
            (None, "received", "citizen"),
            ("received", "assigned", "agent-1"),
            ("assigned", "in_progress", "agency"),
            ("in_progress", "closed", "agency"),
        ]
        assert CaseStore(session).get(number).closed_at is not None


def test_two_agents_never_lose_an_update(database: Database) -> None:
    with database.session() as session:
        number = CaseStore(session).file(POTHOLE).number
    with database.session() as session:
        CaseStore(session).change_status(number, CaseStatus.ASSIGNED, actor="a", expected_revision=1)
    with pytest.raises(ConflictError), database.session() as session:
        CaseStore(session).change_status(number, CaseStatus.REJECTED, actor="b", expected_revision=1)
    with database.session() as session:
        assert CaseStore(session).get(number).status == "assigned"


def test_the_status_lookup_needs_the_phone_digits(database: Database) -> None:
    with database.session() as session:
        number = CaseStore(session).file(POTHOLE).number
    with database.session() as session:
        store = CaseStore(session)
        assert store.lookup_for_citizen(number, "678") is not None
        assert store.lookup_for_citizen(number, "６７８") is not None
        assert store.lookup_for_citizen(number, "679") is None
        assert store.lookup_for_citizen(number, "") is None
        assert store.lookup_for_citizen("261122-9999-0", "678") is None


def test_overdue_cases(database: Database) -> None:
    long_ago = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    with database.session() as session:
        store = CaseStore(session)
        late = store.file(POTHOLE, now=long_ago).number
        fresh = store.file(POTHOLE).number
        done = store.file(POTHOLE, now=long_ago).number
        store.change_status(done, CaseStatus.REJECTED, actor="agent", note="重複案件")
    with database.session() as session:
        overdue = [row.number for row in CaseStore(session).overdue()]
    assert late in overdue
    assert fresh not in overdue
    assert done not in overdue


@pytest.mark.integration
def test_200_concurrent_filings_get_200_distinct_valid_numbers(database: Database) -> None:
    def file_one(n: int) -> str:
        case = replace(POTHOLE, sender_id=f"s-{n}")
        with database.session() as session:
            return CaseStore(session).file(case).number

    with ThreadPoolExecutor(max_workers=16) as pool:
        numbers = list(pool.map(file_one, range(200)))
    assert len(set(numbers)) == 200
    assert all(is_valid_case_number(n) for n in numbers)
    with database.session() as session:
        assert CaseStore(session).count() == 200
    sequences = sorted(int(n.split("-")[1]) for n in numbers if n.startswith(numbers[0][:6]))
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
