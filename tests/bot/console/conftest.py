from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.store import Database
from bot.store.kb_import import import_rows
from knowledge.importers import Parsed
from tests.conftest import app_settings
from tests.factories import faq

RECORDS = [
    faq("F-1", question="大型垃圾要怎麼預約清運？", alt_questions=["舊沙發要怎麼丟", "大型家具回收"]),
    faq("F-2", question="房屋稅什麼時候繳？", answer="每年五月繳納房屋稅。", alt_questions=["房屋稅期限"]),
    faq("F-3", question="路燈不亮要找誰？", answer="請撥1999報修路燈。", agency="工務局", category="路燈"),
]


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    with db.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    db.dispose()


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The real app (Rasa away: degraded answers) over a seeded database, called from 127.0.0.1."""
    seed(database_url)
    settings = app_settings(
        database_url, tmp_path, rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        yield client
