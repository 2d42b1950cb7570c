"""Schemathesis against the bot's own OpenAPI document, over a real server on 127.0.0.1.

Every operation is called with generated requests, valid and invalid: no answer may be a
5xx, and every answer must have a status, a content type, headers and a body that the
document declares. The budget is bounded (``BOT1999_FUZZ_EXAMPLES`` per operation, 20 by
default, same examples on every run) so that the whole file runs in well under a minute.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.app import create_app
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.kb_import import import_rows
from bot.store.users import Role, UserStore
from knowledge.importers import Parsed
from tests.conftest import app_settings
from tests.e2e.live_server import closed_port, serve
from tests.factories import faq
from tests.waiting import PATIENCE

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("BOT1999_FUZZ_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PASSWORD = "a long fuzzing password"
FOLDER: dict[str, Path] = {}
GENEROUS = {
    "requests": 100_000,
    "per_seconds": 60,
}  # the fuzzer is one busy client: limits have their own tests


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'store.db'}"
    database = Database(url)
    database.migrate()
    with database.session() as session:
        records = [faq("F-1"), faq("F-2", question="房屋稅什麼時候繳？", answer="每年五月繳納。")]
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(records, 1)], actor="test")
        for category, origin in (
            ("street_light", "citizen"),
            ("noise", "citizen"),
            ("general", "conversation"),
        ):
            CaseStore(session).file(
                NewCase(
                    category=category,
                    description="路燈不亮",
                    channel="web",
                    sender_id="s",
                    location_text="中正路100號",
                    latitude=22.627312,
                    longitude=120.301488,
                    origin=origin,
                )
            )
    database.dispose()
    limits = dict.fromkeys(
        ("chat_per_sender", "chat_per_ip", "webhook_per_ip", "case_form_per_ip", "open311_per_ip"), GENEROUS
    )
    app = create_app(
        app_settings(
            url,
            Path(folder),
            rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1},
            open311={"api_keys": ["fuzz-key"]},
            limits=limits,
        )
    )
    with serve(app) as base:
        FOLDER[base] = Path(folder)
        yield base


@pytest.fixture(scope="module")
def staff_session(live_url: str) -> Iterator[requests.Session]:
    """A logged-in admin's session (cookie and CSRF header): the knowledge-base API needs one."""
    database = Database(f"sqlite:///{FOLDER[live_url] / 'store.db'}")
    with database.session() as session:
        UserStore(session).create("fuzzer", PASSWORD, Role.ADMIN, actor="test")
    database.dispose()
    http = requests.Session()
    page = http.get(live_url + "console/login", timeout=PATIENCE)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    form = {"username": "fuzzer", "password": PASSWORD, "csrf_token": token.group(1)}
    assert (
        http.post(live_url + "console/login", data=form, allow_redirects=False, timeout=PATIENCE).status_code
        == 303
    )
    http.headers["X-CSRF-Token"] = http.get(live_url + "console/api/session", timeout=PATIENCE).json()[
        "csrf_token"
    ]
    yield http
    http.close()


def _operations() -> list[APIOperation]:
    """The app's operations, read from its OpenAPI document (building the app needs no server)."""
    unused = Path("var/fuzz-collect")
    spec = create_app(app_settings(f"sqlite:///{unused / 'never-opened.db'}", unused)).openapi()
    return [result.ok() for result in schemathesis.openapi.from_dict(spec).get_all_operations()]


OPERATIONS = _operations()


def _has_input(operation: APIOperation) -> bool:
    return bool(list(operation.iter_parameters())) or bool(operation.get_request_payload_content_types())


CALLS = [(op, GenerationMode.POSITIVE) for op in OPERATIONS] + [
    (op, GenerationMode.NEGATIVE) for op in OPERATIONS if _has_input(op)
]


@pytest.mark.parametrize(
    ("operation", "mode"), CALLS, ids=lambda x: getattr(x, "label", getattr(x, "value", ""))
)
def test_no_operation_fails_or_breaks_its_contract(
    live_url: str, staff_session: requests.Session, operation: APIOperation, mode: GenerationMode
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=live_url.rstrip("/"), session=staff_session, checks=CHECKS)

    try:
        call()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("every request this operation's schema allows is valid: nothing invalid to send")
