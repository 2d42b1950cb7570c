"""Harvests against the loopback fake of the city API: exact counts, conflicts, gone entries,
one harvest among replicas, an interrupted one resumed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.harvest import Harvester
from bot.harvest.runs import Lease, start_run
from bot.schedule import Every
from bot.settings import HarvestSettings
from bot.store import Database
from bot.store.faqs import FaqStore, row_to_record
from bot.store.models import FaqReviewRow, FaqSourceRow, HarvestRunRow
from tests.conftest import app_settings
from tests.fakes.soweb_api import FakeEntry, FakeSowebApi, Fault, detail_key
from tests.waiting import wait_until

ORGAN = "397000000A"
CATEGORIES = [{"kind": "01", "kind_name": "工務"}]
T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def entry(n: int, **changes: str) -> FakeEntry:
    fields = {
        "question": f"第{n}個關於路燈的問題？",
        "answer": f"第{n}個答案：請撥1999。",
        "agency": "工務局",
    }
    fields.update(changes)
    return FakeEntry(
        ORGAN, n, fields["question"], fields["answer"], fields["agency"], "工務", "20200102", "20210304"
    )


def faq_id(n: int) -> str:
    return f"KHH-{ORGAN}-{n}"


def snapshot(api: FakeSowebApi, entries: list[FakeEntry]) -> None:
    api.entries = {(e.organ_no, e.seq_no): e for e in entries}


def harvest_settings(api: FakeSowebApi, state: Path, **options: object) -> HarvestSettings:
    return HarvestSettings.model_validate({"base_url": api.url, "state_dir": str(state), **options})


def staff_edit(database: Database, n: int, **fields: object) -> None:
    with database.session() as session:
        store = FaqStore(session)
        store.replace(row_to_record(store.get(faq_id(n))).model_copy(update=fields), actor="curator")


def test_a_changed_snapshot_is_counted_exactly_and_staff_work_survives(
    database: Database, tmp_path: Path
) -> None:
    with FakeSowebApi([entry(n) for n in range(1, 6)], CATEGORIES) as api:
        harvester = Harvester(database, harvest_settings(api, tmp_path / "state"), clock=lambda: T0)
        first = harvester.run(trigger="manual", actor="admin")
        assert first is not None
        assert first.run.counts == {
            "new": 5,
            "changed": 0,
            "unchanged": 0,
            "gone": 0,
            "conflicts": 0,
            "held": 0,
            "errors": 0,
        }
        staff_edit(database, 2, answer="我們改寫的答案：請撥1999或上網報修。")
        staff_edit(database, 3, alt_questions=["路燈不亮"])
        snapshot(
            api,
            [
                entry(1, answer="新的官方答案：請上網報修。"),  # changed, nobody touched it: applied
                entry(2, answer="市府改寫的答案。"),  # staff rewrote the answer: a conflict
                entry(3, question="第3個問題改了問法？"),  # staff added an alternative: both kept
                entry(5),  # unchanged; 4 is gone
                entry(6),  # new
            ],
        )
        second = harvester.run(trigger="manual", actor="admin")
    assert second is not None
    assert second.run.counts == {
        "new": 1,
        "changed": 2,
        "unchanged": 1,
        "gone": 1,
        "conflicts": 1,
        "held": 0,
        "errors": 0,
    }
    assert (second.run.status, second.complete) == ("done", True)
    with database.session() as session:
        store = FaqStore(session)
        assert store.get(faq_id(1)).answer == "新的官方答案：請上網報修。"
        assert store.get(faq_id(2)).answer == "我們改寫的答案：請撥1999或上網報修。"
        three = store.get(faq_id(3))
        assert (three.question, three.alt_questions) == ("第3個問題改了問法？", ["路燈不亮"])
        assert store.get(faq_id(4)).status == "published"  # flagged, never deleted
        assert session.get(FaqSourceRow, faq_id(4)).gone_at is not None  # type: ignore[union-attr]
        reviews = session.scalars(select(FaqReviewRow).order_by(FaqReviewRow.id)).all()
        assert [(r.faq_id, r.kind, r.conflicts) for r in reviews] == [
            (faq_id(2), "upstream", ["answer"]),
            (faq_id(4), "gone", []),
        ]


def test_an_entry_that_cannot_be_fetched_is_an_error_and_nothing_is_flagged_gone(
    database: Database, tmp_path: Path
) -> None:
    with FakeSowebApi([entry(n) for n in range(1, 4)], CATEGORIES) as api:
        harvester = Harvester(database, harvest_settings(api, tmp_path / "state"), clock=lambda: T0)
        harvester.run(trigger="manual", actor="admin")
        snapshot(api, [entry(1), entry(2, answer="改了")])
        api.always(detail_key(ORGAN, 2), Fault.NOT_FOUND)
        outcome = harvester.run(trigger="manual", actor="admin")
    assert outcome is not None
    assert outcome.run.counts["errors"] == 1
    assert (outcome.run.counts["gone"], outcome.run.status) == (0, "failed")
    assert "未能取得" in outcome.run.message


def test_with_the_schedule_due_two_replicas_run_exactly_one_harvest(
    database: Database, tmp_path: Path
) -> None:
    with FakeSowebApi([entry(n) for n in range(1, 4)], CATEGORIES) as api:
        settings = harvest_settings(api, tmp_path / "state")
        outcomes: list[object] = []
        barrier = threading.Barrier(2)

        def replica(name: str) -> None:
            own = Database(str(database.engine.url.render_as_string(hide_password=False)))
            harvester = Harvester(own, settings, schedule=Every(7 * 86400), holder=name, clock=lambda: T0)
            barrier.wait()
            outcomes.append(harvester.tick())
            own.dispose()

        threads = [threading.Thread(target=replica, args=(f"replica-{n}",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(outcome is not None for outcome in outcomes) == 1
    with database.session() as session:
        runs = session.scalars(select(HarvestRunRow)).all()
        assert [(r.status, r.counts["new"]) for r in runs] == [("done", 3)]


def test_a_harvest_is_due_again_only_when_the_schedule_says(database: Database, tmp_path: Path) -> None:
    now = [T0]
    with FakeSowebApi([entry(1)], CATEGORIES) as api:
        harvester = Harvester(
            database, harvest_settings(api, tmp_path / "state"), schedule=Every(86400), clock=lambda: now[0]
        )
        assert harvester.tick() is not None
        now[0] = T0 + timedelta(hours=23)
        assert harvester.tick() is None
        now[0] = T0 + timedelta(hours=24)
        assert harvester.tick() is not None


def test_a_harvest_interrupted_by_a_crash_is_resumed(database: Database, tmp_path: Path) -> None:
    """A replica took the lease, started a run and died; once the lease runs out another resumes it."""
    with database.session() as session:
        start_run(session, trigger="schedule", actor="harvest", holder="dead", now=T0)
    assert Lease(database, "dead", 900, lambda: T0).take()
    now = [T0 + timedelta(minutes=5)]
    with FakeSowebApi([entry(n) for n in range(1, 3)], CATEGORIES) as api:
        harvester = Harvester(
            database,
            harvest_settings(api, tmp_path / "state"),
            schedule=Every(7 * 86400),
            holder="alive",
            clock=lambda: now[0],
        )
        assert harvester.tick() is None  # the dead replica's lease still runs
        now[0] = T0 + timedelta(minutes=16)
        outcome = harvester.tick()
    assert outcome is not None
    with database.session() as session:
        runs = session.scalars(select(HarvestRunRow)).all()
        assert [(r.id, r.status, r.holder, r.counts["new"]) for r in runs] == [(1, "done", "alive", 2)]


def test_the_service_harvests_on_schedule_and_its_health_shows_the_scheduler_looking(
    database_url: str, tmp_path: Path
) -> None:
    """The app's own scheduler (in the lifespan): due at start-up, one harvest; it goes on
    looking (``/healthz`` counts the looks), and harvests no more while not due."""
    with FakeSowebApi([entry(n) for n in range(1, 3)], CATEGORIES) as api:
        harvest = {"schedule": "hourly", "base_url": api.url, "state_dir": str(tmp_path / "state")}
        settings = app_settings(database_url, tmp_path, harvest={**harvest, "poll_seconds": 0.05})
        with TestClient(create_app(settings)) as client:
            database: Database = client.app.state.database  # type: ignore[attr-defined]

            def runs() -> list[tuple[str, str]]:
                with database.session() as session:
                    return [(r.trigger, r.status) for r in session.scalars(select(HarvestRunRow))]

            wait_until(lambda: ("schedule", "done") in runs(), what="the scheduled harvest")
            seen = client.get("/healthz").json()["harvest_polls"]
            wait_until(
                lambda: client.get("/healthz").json()["harvest_polls"] >= seen + 3,
                what="the scheduler to look three more times",
            )
            assert runs() == [("schedule", "done")]
        assert api.count(detail_key(ORGAN, 1)) == 1
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        assert client.get("/healthz").json()["harvest_polls"] == 0  # no schedule: nobody looks
