"""Retention on both databases: personal data past its time goes, the counts and redacted copies stay."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.cases import CaseStatus
from bot.settings import PrivacySettings, StatusCheckSettings
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.conversations import ChannelEventStore, ConversationStore
from bot.store.models import (
    CaseEventRow,
    CaseRow,
    ChannelEventRow,
    ConversationRow,
    NotificationRow,
    TurnRow,
    WebOutboxRow,
    utcnow,
)
from bot.store.retention import cutoffs, purge
from bot.store.status_checks import StatusChecks
from bot.store.turns import Turn, TurnStore

NOW = utcnow()
OLD = NOW - timedelta(days=200)
RECENT = NOW - timedelta(days=5)
RAW = "我住中正路100號，電話0912345678，身分證A123456789"


def _turn(
    conversation: str, at: datetime, text: str = RAW, reply: str = "好的，會以 0912345678 聯絡您"
) -> Turn:
    return Turn(
        conversation_id=conversation, sender=conversation, channel="line", text=text, reply=[reply], at=at
    )


def seed(database: Database) -> dict[str, str]:
    """Old and recent turns, cases open and closed long ago and lately, conversations and events."""
    with database.session() as session:
        turns = TurnStore(session)
        for conversation, at in (("p_old", OLD), ("p_old", OLD), ("p_new", RECENT)):
            turns.log(_turn(conversation, at))
        turns.log(_turn("p_old", OLD, text="", reply="請問還有什麼需要？"))  # a button press: no text
        conversations = ConversationStore(session)
        for conversation in ("p_old", "p_new", "p_case"):
            conversations.seen(conversation, "line", f"U-{conversation}")
        session.flush()
        for row in session.scalars(select(ConversationRow).where(ConversationRow.id != "p_new")):
            row.last_seen_at = OLD
        cases = CaseStore(session)

        def file(conversation: str, at: datetime) -> CaseRow:
            case = NewCase(
                category="street_light",
                description=f"路燈不亮，我家在五福一路12號，請打0912345678（{conversation}）",
                channel="line",
                sender_id=conversation,
                location_text="五福一路12號前",
                latitude=22.62,
                longitude=120.3,
                photo_ref="media/abc.jpg",
                phone="0912345678",
                contact_consent=True,
                conversation_id=conversation,
            )
            return cases.file(case, now=at)

        old_closed = file("p_x", OLD - timedelta(days=400))
        for status in (CaseStatus.ASSIGNED, CaseStatus.CLOSED):
            cases.change_status(
                old_closed.number,
                status,
                actor="agent",
                note="已聯絡 0912345678",
                now=OLD - timedelta(days=399),
            )
        old_open = file("p_case", OLD - timedelta(days=400))  # still open: never touched
        recent_closed = file("p_y", RECENT)
        cases.change_status(recent_closed.number, CaseStatus.REJECTED, actor="agent", now=RECENT)
        events = ChannelEventStore(session)
        for event_id in ("old", "new", "open"):
            assert events.first_time("line", event_id, {"raw": event_id})
        events.finish("line", "old")
        events.finish("line", "new")
        session.flush()
        for row in session.scalars(select(ChannelEventRow)):
            if row.event_id == "old":
                row.handled_at = OLD

        def notice(name: str, **times: datetime | None) -> NotificationRow:
            reply = {"kind": "notice", "text": f"{name}：案件已結案，聯絡電話 0912345678"}
            return NotificationRow(
                conversation_id="p_old", kind="closed", replies=[reply], created_at=OLD, **times
            )

        session.add_all(
            [
                notice("old delivered", delivered_at=OLD),
                notice("old given up", failed_at=OLD),
                notice("old still waiting"),  # never deleted before it went out
                notice("recent delivered", delivered_at=RECENT),
                WebOutboxRow(address="w-1", reply={"kind": "agent", "text": "我是專員"}, created_at=OLD),
                WebOutboxRow(address="w-1", reply={"kind": "agent", "text": "請稍候"}, created_at=RECENT),
            ]
        )
        return {"old_closed": old_closed.number, "old_open": old_open.number, "recent": recent_closed.number}


def test_purge_blanks_old_personal_data_and_keeps_every_count(database: Database) -> None:
    numbers = seed(database)
    turn_cutoff, case_cutoff = cutoffs(PrivacySettings(retention_days=90, case_retention_days=365), NOW)
    report = purge(database, turn_cutoff, case_cutoff)
    assert (report.turns, report.conversations, report.channel_events, report.cases, report.case_notes) == (
        2,
        1,
        1,
        1,
        2,
    )
    with database.session() as session:
        turns = list(session.scalars(select(TurnRow).order_by(TurnRow.id)))
        assert len(turns) == 4, "no turn is deleted: every figure stays"
        old, new = [t for t in turns if t.conversation_id == "p_old" and t.text_redacted], turns[2]
        assert [t.text for t in old] == ["", ""]
        assert old[0].text_redacted == "我住[address]，電話[phone]，身分證[id]"
        assert old[0].reply == ["好的，會以 [phone] 聯絡您"]
        assert new.text == RAW, "recent turns keep their text"
        assert (old[0].faq_id, old[0].channel, old[0].sender) == (new.faq_id, "line", "p_old")

        cases = {row.number: row for row in session.scalars(select(CaseRow))}
        purged = cases[numbers["old_closed"]]
        assert (purged.phone, purged.contact_consent, purged.photo_ref) == ("", False, "")
        assert purged.description == "路燈不亮，我家在[address]，請打[phone]（p_x）"
        assert purged.location_text == "[address]前"
        assert (purged.status, purged.category, purged.agency) == (
            "closed",
            "street_light",
            "高雄市政府工務局",
        )
        for kept in (numbers["old_open"], numbers["recent"]):
            assert cases[kept].phone == "0912345678", "open and recently closed cases keep their contact"
        notes = session.scalars(
            select(CaseEventRow.note).where(CaseEventRow.case_id == purged.id, CaseEventRow.note != "")
        ).all()
        assert notes == ["已聯絡 [phone]", "已聯絡 [phone]"]

        addresses = {row.id: row.address for row in session.scalars(select(ConversationRow))}
        assert addresses == {"p_old": "", "p_new": "U-p_new", "p_case": "U-p_case"}, (
            "an open case keeps its way back"
        )
        events = set(session.scalars(select(ChannelEventRow.event_id)))
        assert events == {"new", "open"}
        left = sorted(
            r["text"].split("：")[0] for n in session.scalars(select(NotificationRow)) for r in n.replies
        )
        assert left == ["old still waiting", "recent delivered"]
        assert [r.reply["text"] for r in session.scalars(select(WebOutboxRow))] == ["請稍候"]
    assert (report.notifications, report.web_messages) == (2, 1)

    again = purge(database, turn_cutoff, case_cutoff)
    assert (
        again.turns,
        again.conversations,
        again.channel_events,
        again.cases,
        again.case_notes,
        again.notifications,
        again.web_messages,
    ) == (0,) * 7


def test_a_dry_run_counts_and_changes_nothing(database: Database) -> None:
    seed(database)
    turn_cutoff, case_cutoff = cutoffs(PrivacySettings(), NOW)
    report = purge(database, turn_cutoff, case_cutoff, dry_run=True)
    assert (report.turns, report.cases, report.conversations) == (2, 1, 1)
    assert "2 raw texts would be blanked" in report.summary()
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TurnRow).where(TurnRow.text == RAW)) == 3
        assert session.scalar(select(func.count()).select_from(CaseRow).where(CaseRow.phone != "")) == 3


def test_the_purge_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    database = Database(url)
    database.migrate()
    seed(database)
    with database.session() as session:  # a failed status check long ago: its count is stale
        long_ago = datetime(2026, 1, 1, tzinfo=UTC)
        StatusChecks(session, StatusCheckSettings()).check("261207-9999-0", "123", now=long_ago)
    with database.engine.begin() as connection:  # Rasa's tracker store in the same database
        connection.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY, timestamp FLOAT)")
        connection.exec_driver_sql(
            f"INSERT INTO events VALUES (1, {OLD.timestamp()}), (2, {NOW.timestamp()})"
        )
    database.dispose()
    env = {
        **os.environ,
        "BOT1999_DATABASE_URL": url,
        "BOT1999_SETTINGS_FILE": "",
        "BOT1999_PRIVACY__RETENTION_DAYS": "30",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "purge"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "2 raw texts were blanked" in result.stdout
    assert "1 were cleared of personal data" in result.stdout
    assert "status checks: 1 stale failure count(s) deleted" in result.stdout
    assert "Rasa's tracker store: 1 events before" in result.stdout, "bot.cluster.tracker_events, beside"
    database = Database(url)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TurnRow).where(TurnRow.text != "")) == 1
    database.dispose()
