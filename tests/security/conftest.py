"""The real app for the security tests: seeded FAQs, a case, staff of every role; Rasa away."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.kb_import import import_rows
from knowledge.importers import Parsed
from tests.conftest import app_settings
from tests.e2e.live_server import closed_port
from tests.factories import faq

RECORDS = [
    faq("F-1"),
    faq(
        "F-2",
        question="房屋稅什麼時候繳？",
        answer="每年五月繳納房屋稅。",
        agency="稅捐稽徵處",
        category="稅務",
    ),
    faq("F-3", question="路燈不亮要找誰？", answer="請撥1999報修路燈。", agency="工務局", category="路燈"),
]
GENEROUS = {"requests": 100_000, "per_seconds": 60}
LIMITS = dict.fromkeys(
    (
        "chat_per_sender",
        "chat_per_ip",
        "webhook_per_ip",
        "case_form_per_ip",
        "open311_per_ip",
        "login_per_ip",
    ),
    GENEROUS,
)


def seed(database_url: str) -> None:
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
        CaseStore(session).file(
            NewCase(
                category="street_light",
                description="路燈不亮",
                channel="web",
                sender_id="s",
                location_text="中正路口",
                phone="0912345678",
            )
        )
    database.dispose()


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The real app over each database backend, called from 127.0.0.1; limits out of the way."""
    seed(database_url)
    settings = app_settings(
        database_url,
        tmp_path,
        rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1},
        limits=LIMITS,
        open311={"api_keys": ["k-1"]},
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as test_client:
        yield test_client


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    text_fields: list[str] = field(default_factory=list)


class _Forms(HTMLParser):
    """The forms of a page sent by ``method``: their fields and default values."""

    def __init__(self, page_path: str, method: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.method = method
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == self.method:
            self._form = Form(a.get("action") or self.page_path)
        elif self._form is None or not a.get("name") and tag != "option":
            return
        elif tag == "input" and a.get("type", "text") not in {
            "submit",
            "button",
            "checkbox",
            "radio",
            "file",
        }:
            self._form.fields[a["name"]] = a.get("value", "")
            if a.get("type", "text") in {"text", "search", "hidden"}:
                self._form.text_fields.append(a["name"])
        elif tag == "textarea":
            self._form.fields[a["name"]] = ""
            self._form.text_fields.append(a["name"])
            self._textarea = a["name"]
        elif tag == "select":
            self._select = a["name"]
            self._form.fields[a["name"]] = ""
            self._form.text_fields.append(a["name"])  # a select's value can be anything a client sends
        elif tag == "option" and self._select and "selected" in a:
            self._form.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def get_forms(page_path: str, html: str, method: str = "get") -> list[Form]:
    """The forms of a page that are sent with ``method`` (``get``: search boxes and filters)."""
    parser = _Forms(page_path, method)
    parser.feed(html)
    return parser.forms
