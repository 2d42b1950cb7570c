import pytest

from bot.privacy import pseudonymise
from bot.store import Database
from bot.store.turns import Turn, TurnStore


def test_turns_are_logged_with_a_redacted_copy(database: Database) -> None:
    sender = pseudonymise("line", "U1234567890abcdef", "k")
    with database.session() as session:
        store = TurnStore(session)
        store.log(
            Turn(
                "c-1",
                sender,
                "line",
                text="我電話0912345678，路燈壞了",
                intent="report_issue",
                intent_confidence=0.93,
            )
        )
        store.log(
            Turn(
                "c-1",
                sender,
                "line",
                text="房屋稅何時繳",
                decision="answer",
                faq_id="F-1",
                candidates=["F-1", "F-2"],
                reply=["五月"],
            )
        )
    with database.session() as session:
        first, second = TurnStore(session).transcript("c-1")
    assert first.text == "我電話0912345678，路燈壞了"
    assert first.text_redacted == "我電話[phone]，路燈壞了"
    assert (second.decision, second.candidates, second.reply) == ("answer", ["F-1", "F-2"], ["五月"])
    assert sender.startswith("p_")
    assert "U1234567890abcdef" not in sender


def test_feedback_goes_to_the_latest_answer(database: Database) -> None:
    with database.session() as session:
        store = TurnStore(session)
        store.log(Turn("c-2", "p_x", "web", text="問一", decision="answer", faq_id="F-1"))
        answered = store.log(Turn("c-2", "p_x", "web", text="問二", decision="answer", faq_id="F-2"))
        store.log(Turn("c-2", "p_x", "web", text="謝謝", intent="thank"))
        assert store.set_feedback("c-2", "bad") == answered
        assert store.set_feedback("nobody", "good") is None
        with pytest.raises(ValueError, match="feedback"):
            store.set_feedback("c-2", "meh")
    with database.session() as session:
        assert [t.feedback for t in TurnStore(session).transcript("c-2")] == ["", "bad", ""]


def test_pseudonyms_are_stable_per_key_and_channel() -> None:
    assert pseudonymise("web", "u", "k") == pseudonymise("web", "u", "k")
    assert pseudonymise("web", "u", "k") != pseudonymise("line", "u", "k")
    assert pseudonymise("web", "u", "k") != pseudonymise("web", "u", "other")
