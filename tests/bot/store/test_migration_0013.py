"""Migration 0013: rows stored under another name of an agency take its canonical name; the
figures' day rows are summed again so one agency is one row; unknown names stay."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import text

from bot.metrics.figures import Filters
from bot.metrics.queries import breakdown
from bot.metrics.refresh import refresh
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.db import _alembic_config, current_revision
from bot.store.faqs import FaqStore
from bot.store.turns import Turn, TurnStore
from tests.factories import faq

AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
MARCH = Filters(date(2026, 3, 1), date(2026, 3, 31))


def _as_before(database: Database) -> None:
    """The names as rows stored before the agency list had them (as main had them before 0013)."""
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE faq SET agency = '環保局' WHERE id = 'F-1'"))
        connection.execute(text("UPDATE faq SET agency = '某某里辦公處' WHERE id = 'F-3'"))
        connection.execute(text("UPDATE case_file SET agency = '工務局養護工程處'"))
        connection.execute(text("UPDATE turn SET agency = '環保局' WHERE conversation_id = 'a'"))
        connection.execute(text("UPDATE metric_turn SET agency = '環保局' WHERE conversation_id = 'a'"))
        connection.execute(text("DELETE FROM metric_day"))
        connection.execute(
            text(
                "INSERT INTO metric_day (day, channel, category, agency, turns, questions, answered, successful,"
                " clarified, abstained, feedback_good, feedback_bad, timed)"
                " SELECT day, channel, category, agency, COUNT(*), SUM(question), SUM(answered), SUM(successful),"
                " 0, 0, 0, 0, COUNT(latency_ms) FROM metric_turn GROUP BY day, channel, category, agency"
            )
        )


def test_0013_renames_aliases_everywhere_and_merges_the_figures(database: Database) -> None:
    head = current_revision(database.engine)
    with database.session() as session:
        faqs = FaqStore(session)
        faqs.create(faq("F-1", agency="高雄市政府環境保護局"), actor="test")
        faqs.create(faq("F-2", question="廚餘怎麼丟？", agency="高雄市政府環境保護局"), actor="test")
        faqs.create(faq("F-3", question="里長在哪裡？", agency="高雄市政府民政局"), actor="test")
        CaseStore(session).file(
            NewCase("street_light", "路燈不亮", "web", "s", location_text="中正路口"), now=AT
        )
        turns = TurnStore(session)
        for who, faq_id in (("a", "F-1"), ("b", "F-2")):
            turns.log(Turn(who, who, "web", at=AT, text="垃圾怎麼丟", intent="faq", decision="answer",
                           faq_id=faq_id, candidates=[faq_id], latency_ms=10.0))  # fmt: skip
    refresh(database)
    _as_before(database)
    with database.session() as session:
        before = {f.key: f.questions for f in breakdown(session, MARCH, "agency", now=AT)}
    assert before == {"環保局": 1, "高雄市政府環境保護局": 1, "高雄市政府工務局": 0}, "the defect: two rows"

    command.downgrade(_alembic_config(database.engine), "0012")
    database.migrate()
    assert current_revision(database.engine) == head
    with database.engine.connect() as connection:
        faq_names = dict(connection.execute(text("SELECT id, agency FROM faq")).all())
        case_names = set(connection.execute(text("SELECT agency FROM case_file")).scalars())
        turn_names = set(connection.execute(text("SELECT agency FROM turn")).scalars())
    assert faq_names == {"F-1": "高雄市政府環境保護局", "F-2": "高雄市政府環境保護局", "F-3": "某某里辦公處"}
    assert case_names == {"高雄市政府工務局"}
    assert turn_names <= {"高雄市政府環境保護局", ""}
    with database.session() as session:
        after = {
            f.key: (f.questions, f.unique_users, f.cases_filed)
            for f in breakdown(session, MARCH, "agency", now=AT)
        }
    assert after == {"高雄市政府環境保護局": (2, 2, 0), "高雄市政府工務局": (0, 0, 1)}
