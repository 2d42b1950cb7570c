"""Learning from citizens through the real chat service (degraded path, real store): picks and
"helpful" ratings become pairings, enough distinct citizens make a suggestion, staff approve."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.chat.breaker import Breaker
from bot.chat.degraded import DegradedResponder
from bot.chat.engine import EngineTurn, EngineUnavailable
from bot.chat.service import ChatService
from bot.learning.actions import ActionError
from bot.learning.suggestions import (
    AUTO,
    approve,
    conflicts,
    decisions,
    reject,
    roll_back,
    suggestions,
)
from bot.messages import Incoming, pick_payload
from bot.settings import CitizenLearningSettings
from bot.store import Database
from bot.store.faqs import FaqStore
from bot.store.kb_import import import_rows
from bot.store.models import LearnedPairingRow
from knowledge.importers import Parsed
from tests.factories import faq
from tests.fakes.faq_answerer import OverlapAnswerer

RECORDS = [
    faq("F-1", question="大型垃圾要怎麼預約清運？", alt_questions=["舊沙發要怎麼丟"]),
    faq("F-2", question="房屋稅什麼時候繳？", answer="每年五月繳納。", alt_questions=["房屋稅期限"]),
    faq("F-3", question="房屋稅可以刷卡嗎？", answer="可以用信用卡繳。", alt_questions=[]),
]
ASKED = "房屋稅要怎麼繳"  # the fake answerer offers F-2 and F-3 for it


class DownEngine:
    """Rasa away: every turn goes through the degraded responder (the same recording path)."""

    async def handle(self, conversation_id: str, message: Incoming) -> EngineTurn:
        raise EngineUnavailable("connection refused")


class Citizens:
    def __init__(self, database: Database, settings: CitizenLearningSettings) -> None:
        self.chat = ChatService(
            DownEngine(),
            DegradedResponder(OverlapAnswerer(RECORDS, answer_at=0.8)),
            database,
            pseudonym_key="k",
            breaker=Breaker(0),
            citizen_learning=settings,
        )

    def say(self, who: str, **fields: str) -> list[str]:
        response = asyncio.run(self.chat.handle(Incoming(channel="web", user_id=who, **fields)))
        return [reply.kind for reply in response.replies]

    def pick(self, who: str, text: str, faq_id: str, rating: str = "") -> None:
        assert "clarify" in self.say(who, text=text)
        assert "answer" in self.say(who, payload=pick_payload(faq_id))
        if rating:
            self.say(who, payload=f"/feedback_{rating}")

    def pseudonym(self, who: str) -> str:
        return self.chat.conversation_id(Incoming(channel="web", user_id=who, text="x"))


@pytest.fixture
def kb(database: Database) -> Database:
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    return database


@pytest.fixture
def settings() -> CitizenLearningSettings:
    return CitizenLearningSettings()


@pytest.fixture
def citizens(kb: Database, settings: CitizenLearningSettings) -> Citizens:
    return Citizens(kb, settings)


def _pairings(database: Database) -> list[tuple[str, str, str, str, str]]:
    with database.session() as session:
        rows = session.scalars(select(LearnedPairingRow).order_by(LearnedPairingRow.id))
        return [(r.phrasing, r.faq_id, r.sender, r.source, r.verdict) for r in rows]


def test_a_pick_from_the_did_you_mean_list_pairs_the_question_with_the_entry(
    citizens: Citizens, kb: Database
) -> None:
    citizens.pick("c-1", ASKED, "F-2")
    assert _pairings(kb) == [(ASKED, "F-2", citizens.pseudonym("c-1"), "pick", "confirmed")]


def test_a_pick_then_rated_unhelpful_counts_against_the_pairing(citizens: Citizens, kb: Database) -> None:
    citizens.pick("c-1", ASKED, "F-3", rating="bad")
    assert [p[-1] for p in _pairings(kb)] == ["unhelpful"]
    citizens.pick("c-2", ASKED, "F-3", rating="good")
    assert [p[-1] for p in _pairings(kb)] == ["unhelpful", "confirmed"]


def test_a_direct_answer_teaches_only_when_rated_helpful(citizens: Citizens, kb: Database) -> None:
    assert "answer" in citizens.say("c-1", text="舊沙發要怎麼丟呢")
    assert _pairings(kb) == [], "an answer alone confirms nothing"
    citizens.say("c-1", payload="/feedback_good")
    assert _pairings(kb) == [("舊沙發要怎麼丟呢", "F-1", citizens.pseudonym("c-1"), "helpful", "confirmed")]
    assert "answer" in citizens.say("c-2", text="舊沙發要怎麼丟掉")
    citizens.say("c-2", payload="/feedback_bad")
    assert _pairings(kb)[-1][-1] == "unhelpful"


@pytest.mark.parametrize(
    "personal",
    [
        "A123456789",
        "0912-345-678",
        "me@example.com",
        "高雄市苓雅區四維三路2號",
        "我是王小明",
    ],
)
def test_a_phrasing_with_personal_data_is_never_kept_nor_suggested(
    citizens: Citizens, kb: Database, personal: str
) -> None:
    for who in ("c-1", "c-2", "c-3"):
        citizens.pick(who, f"{ASKED} {personal}", "F-2", rating="good")
    assert _pairings(kb) == []
    with kb.session() as session:
        assert suggestions(session, min_citizens=1) == []


def test_one_citizen_counts_once_and_cannot_get_a_phrasing_approved(
    kb: Database, settings: CitizenLearningSettings
) -> None:
    script = Citizens(kb, settings.model_copy(update={"auto_approve": True, "daily_cap": 1000}))
    for _ in range(12):  # a script with one sender, picking and rating helpful over and over
        script.pick("bot-script", ASKED, "F-3", rating="good")
    assert len(_pairings(kb)) == 12
    with kb.session() as session:
        assert suggestions(session, min_citizens=2) == []
        with pytest.raises(ActionError, match="已不是待審的建議"):
            approve(session, [("房屋稅要怎麼繳", "F-3")], actor="staff", min_citizens=2)
        assert FaqStore(session).get("F-3").alt_questions == []
        assert decisions(session) == []


def test_a_citizen_over_the_daily_cap_is_not_recorded(
    kb: Database, settings: CitizenLearningSettings
) -> None:
    capped = Citizens(kb, settings.model_copy(update={"daily_cap": 2}))
    for text in (ASKED, "房屋稅怎麼繳費", "房屋稅要去哪裡繳"):
        capped.pick("c-1", text, "F-2")
    assert [p[0] for p in _pairings(kb)] == [ASKED, "房屋稅怎麼繳費"]


def test_distinct_citizens_make_a_suggestion_that_staff_approve_live_with_history(
    citizens: Citizens, kb: Database
) -> None:
    citizens.pick("c-1", ASKED, "F-2")
    with kb.session() as session:
        assert suggestions(session, min_citizens=2) == []
    citizens.pick("c-2", "請問房屋稅要怎麼繳呢？", "F-2")  # near-identical: the same group
    with kb.session() as session:
        (suggestion,) = suggestions(session, min_citizens=2)
        assert (suggestion.faq_id, suggestion.citizens, suggestion.conflict_with) == ("F-2", 2, ())
        assert set(suggestion.examples) == {ASKED, "請問房屋稅要怎麼繳呢?"}  # normalised: width folded
        version = FaqStore(session).kb_version()
    with kb.session() as session:
        (done,) = approve(session, [(suggestion.key, "F-2")], actor="staff-a", min_citizens=2)
    with kb.session() as session:
        store = FaqStore(session)
        assert ASKED in store.get("F-2").alt_questions
        assert store.kb_version() == version + 1, "approval publishes like any edit"
        assert store.history("F-2")[-1].actor == "staff-a"
        assert suggestions(session, min_citizens=2) == []
        assert [d.id for d in decisions(session)] == [done.id]


def test_a_phrasing_confirmed_for_two_entries_is_a_conflict_not_a_suggestion(
    citizens: Citizens, kb: Database
) -> None:
    citizens.pick("c-1", ASKED, "F-2")
    citizens.pick("c-2", ASKED, "F-2")
    citizens.pick("c-3", ASKED, "F-3")
    with kb.session() as session:
        assert suggestions(session, min_citizens=2) == []
        assert {(c.faq_id, c.citizens) for c in conflicts(session, min_citizens=2)} == {
            ("F-2", 2),
            ("F-3", 1),
        }
        with pytest.raises(ActionError):
            approve(session, [(conflicts(session, min_citizens=2)[0].key, "F-2")], actor="s", min_citizens=2)


def test_staff_reject_several_at_once_and_they_are_not_suggested_again(
    citizens: Citizens, kb: Database
) -> None:
    for who in ("c-1", "c-2"):
        citizens.pick(who, ASKED, "F-2")
        citizens.pick(who, "房屋稅能刷卡", "F-3")
    with kb.session() as session:
        found = suggestions(session, min_citizens=2)
        assert len(found) == 2
        reject(session, [(s.key, s.faq_id) for s in found], actor="staff-a", min_citizens=2)
    citizens.pick("c-3", ASKED, "F-2")
    with kb.session() as session:
        assert suggestions(session, min_citizens=2) == []
        assert FaqStore(session).get("F-2").alt_questions == ["房屋稅期限"]


def test_nothing_is_published_without_a_person_unless_auto_approval_is_on(
    citizens: Citizens, kb: Database
) -> None:
    for who in ("c-1", "c-2", "c-3", "c-4"):
        citizens.pick(who, ASKED, "F-2", rating="good")
    with kb.session() as session:
        assert FaqStore(session).get("F-2").alt_questions == ["房屋稅期限"]
        assert decisions(session) == []


def test_auto_approval_publishes_at_the_threshold_and_can_be_rolled_back(
    kb: Database, settings: CitizenLearningSettings
) -> None:
    auto = Citizens(kb, settings.model_copy(update={"auto_approve": True}))
    auto.pick("c-1", ASKED, "F-2")
    auto.pick("c-2", ASKED, "F-2")
    with kb.session() as session:
        assert FaqStore(session).get("F-2").alt_questions == ["房屋稅期限"], "2 < auto_min_citizens (3)"
    auto.pick("c-3", ASKED, "F-2")
    with kb.session() as session:
        assert FaqStore(session).get("F-2").alt_questions == ["房屋稅期限", ASKED]
        (done,) = decisions(session)
        assert (done.status, done.citizens) == (AUTO, 3)
    with kb.session() as session:
        roll_back(session, done.id, actor="staff-a")
    with kb.session() as session:
        assert FaqStore(session).get("F-2").alt_questions == ["房屋稅期限"]
        assert decisions(session) == []
        assert FaqStore(session).history("F-2")[-1].actor == "staff-a"


def test_auto_approval_waits_for_a_person_after_an_unhelpful_rating_or_a_conflict(
    kb: Database, settings: CitizenLearningSettings
) -> None:
    auto = Citizens(kb, settings.model_copy(update={"auto_approve": True}))
    auto.pick("c-0", ASKED, "F-2", rating="bad")
    auto.pick("c-4", "房屋稅能刷卡", "F-2")
    for who in ("c-1", "c-2", "c-3"):
        auto.pick(who, ASKED, "F-2")
        auto.pick(who, "房屋稅能刷卡", "F-3")
    with kb.session() as session:
        assert FaqStore(session).get("F-2").alt_questions == ["房屋稅期限"]
        assert FaqStore(session).get("F-3").alt_questions == []
        assert [s.key for s in suggestions(session, min_citizens=2)] == ["房屋稅要怎麼繳"]
