"""Actions run against a real store and a real index, configured the way operators do: settings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker

from actions import providers
from bot.store import Database
from bot.store.kb_import import import_rows
from knowledge.importers import Parsed
from tests.factories import faq

RECORDS = [
    faq("F-1", question="大型垃圾要怎麼預約清運？", alt_questions=["舊沙發要怎麼丟", "大型家具回收"]),
    faq(
        "F-2",
        question="房屋稅什麼時候繳？",
        answer="每年五月繳納房屋稅。",
        alt_questions=["房屋稅期限", "房屋稅繳納期間"],
    ),
]


@pytest.fixture
def action_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("BOT1999_DATABASE_URL", url)
    monkeypatch.setenv("BOT1999_KNOWLEDGE__ENCODER", "hashing")
    monkeypatch.setenv("BOT1999_KNOWLEDGE__MODEL_CACHE_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("BOT1999_SETTINGS_FILE", "")
    providers.reset()
    db = Database(url)
    db.migrate()
    with db.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    yield db
    providers.reset()
    db.dispose()


def tracker(
    text: str = "",
    *,
    intent: str = "faq",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A real rasa-sdk Tracker, as the action server builds it from Rasa's JSON."""
    return Tracker.from_dict(
        {
            "sender_id": "p_conversation1",
            "slots": slots or {},
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.9},
                "entities": entities or [],
                "metadata": {"channel": "line"},
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def bubbles(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(json.dumps(m["custom"])) for m in messages if m.get("custom")]
