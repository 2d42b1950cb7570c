"""The notification outbox and the web mailbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import Database
from bot.store.db import migrate
from bot.store.outbox import NotificationStore, WebOutboxStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
SAY = [{"kind": "case", "text": "您的案件已派工"}]


def _enqueue(database: Database, conversation: str, kind: str = "case_assigned", **kw: object) -> int:
    with database.session() as session:
        row = NotificationStore(session).enqueue(conversation, kind, SAY, now=T0, **kw)  # type: ignore[arg-type]
        assert row is not None
        session.flush()
        return row.id


def test_enqueue_refuses_nothing_to_say_and_dedupes(database: Database) -> None:
    with database.session() as session:
        store = NotificationStore(session)
        with pytest.raises(ValueError, match="conversation"):
            store.enqueue("", "x", SAY)
        with pytest.raises(ValueError, match="say"):
            store.enqueue("p_1", "x", [])
        assert store.enqueue("p_1", "case_closed", SAY, dedupe_key="case:1:closed") is not None
        assert store.enqueue("p_1", "case_closed", SAY, dedupe_key="case:1:closed") is None
    with database.session() as session:  # and across transactions
        assert (
            NotificationStore(session).enqueue("p_1", "case_closed", SAY, dedupe_key="case:1:closed") is None
        )
        assert NotificationStore(session).counts().pending == 1


def test_claims_one_per_conversation_in_order_and_respects_leases(database: Database) -> None:
    a1, a2 = _enqueue(database, "p_a"), _enqueue(database, "p_a")
    b1 = _enqueue(database, "p_b")
    with database.session() as session:
        first = NotificationStore(session).claim(lease=LEASE, now=T0)
    assert [c.id for c in first] == [a1, b1], "the second notice of p_a waits for the first"
    with database.session() as session:
        assert NotificationStore(session).claim(lease=LEASE, now=T0 + timedelta(seconds=1)) == []
    with database.session() as session:
        assert NotificationStore(session).delivered(first[0], now=T0)
    with database.session() as session:
        second = NotificationStore(session).claim(lease=LEASE, now=T0 + timedelta(seconds=2))
    assert [c.id for c in second] == [a2]
    with database.session() as session:
        assert NotificationStore(session).delivered(second[0], now=T0)
    # b1's holder died: its lease runs out and b1 is claimable again; the old claim no longer counts
    with database.session() as session:
        again = NotificationStore(session).claim(lease=LEASE, now=T0 + LEASE + timedelta(seconds=5))
    assert [c.id for c in again] == [b1]
    with database.session() as session:
        store = NotificationStore(session)
        assert not store.delivered(first[1], now=T0), "a lost lease cannot mark delivered"
        assert store.delivered(again[0], now=T0)


def test_a_failed_push_waits_and_blocks_later_notices_of_its_conversation(database: Database) -> None:
    first, second = _enqueue(database, "p_a"), _enqueue(database, "p_a")
    with database.session() as session:
        (claim,) = NotificationStore(session).claim(lease=LEASE, now=T0)
        assert NotificationStore(session).retry_later(claim, "503", at=T0 + timedelta(seconds=10))
    with database.session() as session:
        assert NotificationStore(session).claim(lease=LEASE, now=T0 + timedelta(seconds=5)) == []
        (retry,) = NotificationStore(session).claim(lease=LEASE, now=T0 + timedelta(seconds=11))
    assert (retry.id, retry.attempts) == (first, 1)
    with database.session() as session:
        assert NotificationStore(session).give_up(retry, "410 gone", now=T0)
    with database.session() as session:
        (next_one,) = NotificationStore(session).claim(lease=LEASE, now=T0 + timedelta(seconds=12))
        counts = NotificationStore(session).counts()
    assert next_one.id == second, "a given-up notice no longer blocks its conversation"
    assert (counts.failed, counts.pending) == (1, 1)


def test_two_replicas_claiming_at_once_never_share_a_notice(database: Database) -> None:
    ids = {_enqueue(database, f"p_{n}") for n in range(60)}
    start = threading.Barrier(4)

    def replica(_: int) -> list[int]:
        start.wait()
        got: list[int] = []
        for _round in range(10):
            with database.session() as session:
                got += [c.id for c in NotificationStore(session).claim(lease=LEASE, limit=7, now=T0)]
        return got

    with ThreadPoolExecutor(max_workers=4) as pool:
        claims = list(pool.map(replica, range(4)))
    flat = [i for batch in claims for i in batch]
    assert len(flat) == len(set(flat)), "a notice was claimed twice"
    assert set(flat) == ids


def test_settling_a_filing_notice_told_in_the_reply(database: Database) -> None:
    _enqueue(database, "p_a", kind="case_filed", case_number="260302-0001-5")
    _enqueue(database, "p_a", kind="case_filed", case_number="260302-0002-0")
    with database.session() as session:
        settled = NotificationStore(session).settle_in_band("p_a", ["已為您立案，案件編號：260302-0001-5"])
    assert settled == 1
    with database.session() as session:
        rows = NotificationStore(session).for_conversation("p_a")
    assert [(r.case_number, r.delivered_via) for r in rows] == [
        ("260302-0001-5", "reply"),
        ("260302-0002-0", ""),
    ]


def test_the_web_mailbox_hands_out_by_id_and_prunes(database: Database) -> None:
    with database.session() as session:
        store = WebOutboxStore(session)
        old = store.put("web-a", [{"kind": "case", "text": "舊"}], now=T0 - timedelta(days=9))
        new = store.put("web-a", [{"kind": "agent", "text": "一"}, {"kind": "agent", "text": "二"}], now=T0)
        store.put("web-b", [{"kind": "agent", "text": "別人的"}], now=T0)
    with database.session() as session:
        store = WebOutboxStore(session)
        assert [r.reply["text"] for r in store.since("web-a", 0)] == ["舊", "一", "二"]
        assert [r.id for r in store.since("web-a", new[0])] == [new[1]]
        assert store.prune(before=T0 - timedelta(days=7)) == 1
        assert [r.id for r in store.since("web-a", 0)] == new
        assert old[0] not in [r.id for r in store.since("web-a", 0)]


def test_the_migration_goes_down_and_up_again(database: Database) -> None:
    migrate(database.engine, "0005")
    _ = database.engine.dispose()
    migrate(database.engine, "head")
    assert _enqueue(database, "p_a") > 0
