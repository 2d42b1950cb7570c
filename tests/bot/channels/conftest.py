"""Channel tests: the real app (degraded mode: no Rasa on the port) with fixture FAQs."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.settings import Settings
from bot.store import Database
from bot.store.kb_import import import_rows
from bot.store.models import ChannelEventRow, TurnRow
from knowledge.importers import Parsed
from tests.conftest import app_settings
from tests.factories import faq

LONG_ID = "KHH-PWB-2026-street-light-repair-000123"
RECORDS = [
    faq("F-1", question="大型垃圾要怎麼預約清運？", alt_questions=["舊沙發要怎麼丟", "大型家具回收"]),
    faq("F-2", question="房屋稅什麼時候繳？", answer="每年五月繳納房屋稅。", alt_questions=["房屋稅期限"]),
    # an id long enough that its "did you mean" payload exceeds Telegram's 64-byte button data
    faq(
        LONG_ID,
        question="路燈不亮要找誰修？",
        answer="路燈故障請撥 1999 或使用線上反映表單，並告知路燈編號。",
        alt_questions=["路燈壞了"],
        agency="工務局",
        keywords=["路燈"],
    ),
]
BULKY_WASTE_ANSWER = RECORDS[0].answer

# small but real images: the first bytes are what the media store checks
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def seeded_database_url(database_url: str) -> str:
    db = Database(database_url)
    db.migrate()
    with db.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    db.dispose()
    return database_url


@pytest.fixture
def make_settings(seeded_database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings for the app under test, Rasa away (degraded mode), with channel overrides."""

    def make(channels: dict[str, Any], **overrides: Any) -> Settings:
        rasa = {"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1, "cool_off_seconds": 60}
        channels = {"media_dir": str(tmp_path / "media"), **channels}
        return app_settings(seeded_database_url, tmp_path, rasa=rasa, channels=channels, **overrides)

    return make


def channel_events(database_url: str, channel: str) -> list[ChannelEventRow]:
    db = Database(database_url)
    with db.session() as session:
        rows = list(session.scalars(select(ChannelEventRow).where(ChannelEventRow.channel == channel)))
    db.dispose()
    return rows


def turns(database_url: str, channel: str) -> list[TurnRow]:
    db = Database(database_url)
    with db.session() as session:
        rows = list(session.scalars(select(TurnRow).where(TurnRow.channel == channel).order_by(TurnRow.id)))
    db.dispose()
    return rows
