"""Actions on a cluster: alternative questions for an FAQ, a new draft, dismissal (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.learning import top_clusters
from bot.learning.actions import ActionError, Picked, add_alternatives, dismiss, open_draft
from bot.store import Database
from bot.store.errors import ConflictError
from bot.store.faqs import FaqStore
from bot.store.kb_import import import_rows
from bot.store.models import AuditRow
from knowledge.importers import Parsed
from knowledge.normalize import question_key
from tests.bot.learning.conftest import T0, TurnLog
from tests.factories import faq

DAY = timedelta(days=1)


@pytest.fixture
def kb(database: Database) -> Database:
    records = [
        faq("F-1", question="大型垃圾要怎麼預約清運？", alt_questions=["舊沙發要怎麼丟", "床墊誰來收"]),
        faq("F-9", question="草稿題目", answer="草稿答案", status="draft"),
    ]
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(records, 1)], actor="test")
    return database


def _picked(*texts: str) -> list[Picked]:
    return [Picked(question_key(t), t) for t in texts]


def test_phrasings_become_alternative_questions_of_a_live_faq_and_leave_the_queue(kb: Database) -> None:
    log = TurnLog(kb)
    log.ask("不要的床墊誰來收", "abstain", who="p_1")
    log.ask("不要的床墊誰會來收", "abstain", who="p_2")
    log.ask("床墊誰來收?", "abstain", who="p_3")  # the FAQ has this one already (by its key)
    with kb.session() as session:
        (cluster,) = top_clusters(session, T0, T0 + DAY)
        version = FaqStore(session).kb_version()
        revision = FaqStore(session).get("F-1").revision
    assert cluster.count == 3
    with kb.session() as session:
        done = add_alternatives(
            session,
            faq_id="F-1",
            picked=[Picked(p.key, p.text) for p in cluster.phrasings],
            actor="staff-a",
            expected_revision=revision,
            label=cluster.label,
            questions=cluster.count,
        )
    assert set(done.added) == {"不要的床墊誰來收", "不要的床墊誰會來收"}
    assert done.present == ("床墊誰來收?",)
    assert (done.published, done.revision) == (True, revision + 1)
    with kb.session() as session:
        store = FaqStore(session)
        row = store.get("F-1")
        assert row.alt_questions[:2] == ["舊沙發要怎麼丟", "床墊誰來收"]
        assert set(row.alt_questions[2:]) == set(done.added)
        assert store.kb_version() == version + 1  # the live index refreshes on this
        assert store.history("F-1")[-1].actor == "staff-a"
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "learning.alternatives")).one()
        assert (audit.actor, audit.target, audit.detail["questions"]) == ("staff-a", "F-1", 3)
        assert top_clusters(session, T0, T0 + DAY) == []


def test_an_edit_made_on_an_old_revision_is_refused_and_nothing_is_kept(kb: Database) -> None:
    with kb.session() as session:
        revision = FaqStore(session).get("F-1").revision
    with pytest.raises(ConflictError), kb.session() as session:
        add_alternatives(
            session, faq_id="F-1", picked=_picked("床墊誰會來收"), actor="a", expected_revision=revision - 1
        )
    with kb.session() as session:
        assert FaqStore(session).get("F-1").alt_questions == ["舊沙發要怎麼丟", "床墊誰來收"]
        assert session.scalars(select(AuditRow)).all() == []


@pytest.mark.parametrize(
    ("texts", "message"),
    [((), "至少勾選"), (("我的電話[phone]要改",), "個人資料"), (("長" * 501,), "500"), (("？？",), "空白")],
)
def test_bad_choices_get_a_clear_answer(kb: Database, texts: tuple[str, ...], message: str) -> None:
    picked = [Picked(f"k{n}", t) for n, t in enumerate(texts)]
    with pytest.raises(ActionError, match=message), kb.session() as session:
        add_alternatives(session, faq_id="F-1", picked=picked, actor="a")


def test_a_draft_faq_gains_alternatives_without_going_live(kb: Database) -> None:
    with kb.session() as session:
        version = FaqStore(session).kb_version()
        done = add_alternatives(session, faq_id="F-9", picked=_picked("草稿的另一種問法"), actor="a")
        assert done.published is False
        assert FaqStore(session).kb_version() == version


def test_a_new_draft_is_opened_from_a_cluster_and_the_cluster_is_handled(kb: Database) -> None:
    log = TurnLog(kb)
    log.ask("公園可以放風箏嗎", "abstain")
    log.ask("公園能不能放風箏", "abstain", who="p_2")
    with kb.session() as session:
        (cluster,) = top_clusters(session, T0, T0 + DAY)
        open_draft(
            session,
            faq_id="NEW-kites",
            question="公園可以放風箏嗎？",
            answer="市區公園可以放風箏，但請遠離高壓電線。",
            alt_questions=[p.text for p in cluster.phrasings],
            keys=cluster.keys,
            actor="staff-b",
            agency="工務局",
            label=cluster.label,
            questions=cluster.count,
        )
    with kb.session() as session:
        row = FaqStore(session).get("NEW-kites")
        assert (row.status, row.agency) == ("draft", "高雄市政府工務局"), (
            "the agency under its canonical name"
        )
        assert row.alt_questions == ["公園能不能放風箏"]  # the question itself is not repeated
        assert top_clusters(session, T0, T0 + DAY) == []
        with pytest.raises(ActionError, match="已經有人使用"):
            open_draft(
                session, faq_id="F-1", question="q", answer="a", alt_questions=[], keys=["k"], actor="x"
            )
        with pytest.raises(ActionError, match="answer"):
            open_draft(
                session, faq_id="NEW-2", question="q", answer="", alt_questions=[], keys=["k"], actor="x"
            )


def test_a_dismissed_cluster_leaves_the_queue_and_the_kb_is_untouched(kb: Database) -> None:
    log = TurnLog(kb)
    log.ask("你是機器人嗎", "abstain")
    with kb.session() as session:
        (cluster,) = top_clusters(session, T0, T0 + DAY)
        version = FaqStore(session).kb_version()
        dismiss(session, keys=cluster.keys, actor="staff-c", note="閒聊", label=cluster.label, questions=1)
    with kb.session() as session:
        assert top_clusters(session, T0, T0 + DAY) == []
        assert FaqStore(session).kb_version() == version
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "learning.dismiss")).one()
        assert audit.detail["note"] == "閒聊"
