"""Three phone digits cannot be enumerated: a guesser trying all 1,000 is stopped after a few,
whichever conversation each guess comes from, and told so in words a citizen understands."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.case_status import ActionCaseStatus
from bot.settings import get_settings
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from tests.actions.conftest import bubbles

CASE = NewCase(
    category="street_light",
    description="整排路燈都不亮",
    channel="line",
    sender_id="s-1",
    location_text="中正路口",
    phone="0912345678",
    contact_consent=True,
)


def _ask(sender: str, number: str, digits: str) -> str:
    tracker = Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": {"case_number": number, "phone_last3": digits},
            "latest_message": {"text": digits, "intent": {"name": "inform"}, "entities": [], "metadata": {}},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )
    dispatcher = CollectingDispatcher()
    ActionCaseStatus().run(dispatcher, tracker, {})
    reply: dict[str, Any] = bubbles(dispatcher.messages)[0]["reply"]
    return str(reply["text"])


@pytest.fixture
def number(action_env: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BOT1999_STATUS_CHECK__MAX_FAILURES", "5")
    get_settings.cache_clear()
    with action_env.session() as session:
        return CaseStore(session).file(CASE).number


def test_trying_all_1000_digits_is_stopped_early(number: str) -> None:
    answers = [_ask(f"guesser-{n % 7}", number, f"{n:03d}") for n in range(1000)]
    not_found = [a for a in answers if "查不到" in a]
    locked = [a for a in answers if "查詢錯誤次數太多" in a]
    assert len(not_found) == 4, "four wrong answers, then the fifth locks the number"
    assert len(locked) == 996
    assert all("已受理" not in a for a in answers), "not even the right digits (678) got through"
    assert all(number not in a for a in answers)
    assert "1999" in locked[-1]


def test_the_owner_is_answered_before_a_lock_and_unknown_numbers_answer_alike(number: str) -> None:
    assert "已受理" in _ask("owner", number, "678")
    unknown = "261207-9999-0"
    assert _ask("someone", unknown, "678") == _ask("someone", number, "111"), "no hint a case exists"
