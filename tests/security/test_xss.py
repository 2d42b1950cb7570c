"""XSS through what citizens write, shown to staff in the console, and through reflected search terms.

Citizens' chat messages (kept in the turn log) and a case filed through the form carry script
payloads; staff then open the conversation, the case queue and the case, and search the
console with payloads. Over HTTP every payload must arrive as escaped text. In headless
Chromium, with the Content-Security-Policy switched off (so that only escaping protects the
page), no payload may run, and each shows as the literal text the citizen typed.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from bot.app import create_app
from bot.privacy import pseudonymise
from bot.settings import DEVELOPMENT_PSEUDONYM_KEY
from bot.store import Database
from bot.store.models import CaseRow
from bot.store.users import Role, UserStore
from tests.bot.console.client import login_as
from tests.browser import PATIENCE_MS
from tests.conftest import app_settings
from tests.e2e.live_server import closed_port, serve
from tests.security.conftest import LIMITS, seed

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    '"><svg onload="window.__xss=3">',
    "</textarea><script>window.__xss=4</script>",
    "'-window.__xss=5-'",
    "{{ 7*7 }}{% raw %}",
]
SENDER = "web-xss-1"
CONVERSATION = pseudonymise("web", SENDER, DEVELOPMENT_PSEUDONYM_KEY)
RAW = re.compile(r"<script>window\.__xss|<img src=x onerror|<svg onload|</textarea><script>")
PASSWORD = "a long xss test password"


def plant(client: TestClient) -> str:
    """Chat messages and a case carrying the payloads; the case's number."""
    for payload in PAYLOADS:
        response = client.post("/api/chat", json={"sender": SENDER, "text": f"請問 {payload} 垃圾車"})
        assert response.status_code == 200
    form = {
        "category": "street_light",
        "location_text": PAYLOADS[1],
        "description": " ".join(PAYLOADS),
        "phone": "0912345678",
        "consent": "yes",
    }
    filed = client.post("/cases", data=form)  # post/redirect/get: the confirmation page
    assert filed.status_code == 200, filed.text
    assert "已收到您的反映" in filed.text, filed.text
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        rows = session.query(CaseRow).filter(CaseRow.location_text == PAYLOADS[1]).all()
        return rows[0].number


def reflected_pages() -> list[str]:
    pages = []
    for payload in PAYLOADS[:4]:
        term = quote(payload)
        pages += [
            f"/console/kb?q={term}",
            f"/console/kb/try?q={term}",
            f"/console/test-bot?q={term}",
            f"/console/audit?actor={term}",
            f"/console/cases?agency={term}",
            f"/console/kb/synonyms?q={term}",
            f"/console/login?next={term}",
            f"/console/dashboard?agency={term}",
        ]
    return pages


def test_citizens_words_reach_staff_pages_as_escaped_text(client: TestClient) -> None:
    number = plant(client)
    login_as(client, "admin")
    showing = {
        f"/console/conversations/{CONVERSATION}": "&lt;script&gt;window.__xss=1&lt;/script&gt;",
        f"/console/cases/{number}": "&lt;img src=x onerror=",
    }
    for path, escaped in showing.items():
        page = client.get(path)
        assert page.status_code == 200, path
        assert escaped in page.text, f"{path} does not show the citizen's words"
        assert not RAW.search(page.text), f"{path} has a payload as markup"
    transcript = client.get(f"/console/conversations/{CONVERSATION}").text
    assert "{{ 7*7 }}{% raw %}" in transcript, "template syntax in a message is shown, not evaluated"
    for path in reflected_pages():
        page = client.get(path)
        assert page.status_code < 500, path
        assert not RAW.search(page.text), f"{path} reflects a payload as markup"


def test_a_rejected_case_form_gives_the_words_back_escaped(client: TestClient) -> None:
    form = {"category": "street_light", "location_text": PAYLOADS[3], "description": "", "phone": "<b>0912"}
    page = client.post("/cases", data=form)
    assert page.status_code == 400
    assert not RAW.search(page.text)
    assert "&lt;/textarea&gt;&lt;script&gt;" in page.text


@pytest.mark.e2e
def test_no_payload_runs_in_a_browser_even_without_the_csp(browser: Browser, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    seed(url)
    database = Database(url)
    with database.session() as session:
        UserStore(session).create("agent", PASSWORD, Role.ADMIN, actor="test")
    database.dispose()
    settings = app_settings(
        url, tmp_path, rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}, limits=LIMITS
    )
    with serve(create_app(settings)) as base, TestClient(create_app(settings)) as seeder:
        number = plant(seeder)
        context = browser.new_context(locale="zh-TW", bypass_csp=True)
        context.set_default_timeout(PATIENCE_MS)
        dialogs: list[str] = []
        errors: list[str] = []
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(base + "console/login")
        page.fill("input[name=username]", "agent")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/console$"))
        for path in [
            f"console/conversations/{CONVERSATION}",
            f"console/cases/{number}",
            *[p.lstrip("/") for p in reflected_pages()[:8]],
        ]:
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)  # the pages' own scripts refresh the transcript
            assert page.evaluate("() => window.__xss") is None, f"a payload ran on /{path}"
        page.goto(base + f"console/conversations/{CONVERSATION}")
        shown = page.locator(".line-text").all_inner_texts()
        assert any(PAYLOADS[0] in text for text in shown), shown
        assert dialogs == []
        context.close()
    assert not [e for e in errors if "__xss" in e]
