"""Reading failed questions from the turn log (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from bot.learning.failures import failed_questions
from bot.store import Database
from tests.bot.learning.conftest import T0, TurnLog

DAY = timedelta(days=1)


def test_abstain_clarify_and_negative_feedback_are_failures_and_answers_are_not(database: Database) -> None:
    log = TurnLog(database)
    log.ask("公園可以放風箏嗎", "abstain", who="p_a")
    clarify = log.ask("房屋稅怎麼繳", "clarify", who="p_b", candidates=["F-2", "F-3"])
    log.pick("F-3", who="p_b")
    log.bad(who="p_b")  # the picked answer did not help either
    wrong = log.ask("垃圾車時間", "answer", who="p_c", candidates=["F-4"], faq_id="F-4")
    log.bad(who="p_c")
    log.ask("舊沙發要怎麼丟", "answer", who="p_d", candidates=["F-1"], faq_id="F-1")  # answered, no complaint
    log.ask("", "", who="p_d")  # a turn without text (a location, say) is no question
    with database.session() as session:
        questions, truncated = failed_questions(session, T0, T0 + DAY)
    assert not truncated
    by_text = {q.text: q for q in questions}
    assert set(by_text) == {"公園可以放風箏嗎", "房屋稅怎麼繳", "垃圾車時間"}
    assert by_text["公園可以放風箏嗎"].reasons == {"abstain"}
    taxes = by_text["房屋稅怎麼繳"]
    assert (taxes.turn_id, taxes.reasons, taxes.picked, taxes.answered) == (
        clarify,
        {"clarify", "negative"},
        "F-3",
        "F-3",
    )
    assert taxes.suggested == ("F-2", "F-3")
    garbage = by_text["垃圾車時間"]
    assert (garbage.turn_id, garbage.reasons, garbage.suggested) == (wrong, {"negative"}, ("F-4",))
    assert [q.text for q in questions] == ["垃圾車時間", "房屋稅怎麼繳", "公園可以放風箏嗎"]  # newest first


def test_window_channel_and_reason_narrow_the_list(database: Database) -> None:
    log = TurnLog(database)
    log.ask("公園可以放風箏嗎", "abstain", channel="line", at=T0 - timedelta(minutes=1))  # before
    log.ask("路邊可以烤肉嗎", "abstain", channel="line")
    log.ask("房屋稅怎麼繳", "clarify", channel="telegram", candidates=["F-2"])
    log.ask("動物園幾點關門", "abstain", channel="web", at=T0 + DAY)  # the window is half-open
    with database.session() as session:
        everything = {q.text for q in failed_questions(session, T0, T0 + DAY)[0]}
        line = {q.text for q in failed_questions(session, T0, T0 + DAY, channel="line")[0]}
        clarified = {q.text for q in failed_questions(session, T0, T0 + DAY, reason="clarify")[0]}
        newest, truncated = failed_questions(session, T0, T0 + DAY, limit=1)
    assert everything == {"路邊可以烤肉嗎", "房屋稅怎麼繳"}
    assert line == {"路邊可以烤肉嗎"}
    assert clarified == {"房屋稅怎麼繳"}
    assert ([q.text for q in newest], truncated) == (["房屋稅怎麼繳"], True)


def test_only_redacted_text_is_read(database: Database) -> None:
    log = TurnLog(database)
    log.ask("我的電話0912345678 可以幫我查嗎", "abstain")
    with database.session() as session:
        (question,), _ = failed_questions(session, T0, T0 + DAY)
    assert question.text == "我的電話[phone] 可以幫我查嗎"
    assert "0912345678" not in question.key
