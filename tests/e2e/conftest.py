"""Browser fixtures: the real app with fixture FAQs, Debian's Chromium driven by Playwright.

Without /usr/bin/chromium (or BOT1999_CHROMIUM) these tests skip, except in CI where they fail.
Every page is watched: an uncaught script error, a Content-Security-Policy violation or a
request leaving 127.0.0.1 fails the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request

from bot.app import create_app
from bot.store import Database
from bot.store.kb_import import import_rows
from bot.web import chat_page
from knowledge.importers import Parsed
from tests.browser import PATIENCE_MS
from tests.conftest import app_settings
from tests.e2e.live_server import closed_port, serve
from tests.factories import faq

TAX_WAYS = "房屋稅可以臨櫃、網路或信用卡繳納，每年五月開徵。"
RECORDS = [
    faq(
        "F-1",
        question="大型垃圾要怎麼預約清運？",
        alt_questions=["舊沙發要怎麼丟", "大型家具回收"],
        source_url="https://www.example.gov.tw/faq/bulky-waste",
    ),
    faq(
        "F-2",
        question="房屋稅什麼時候繳？",
        answer=TAX_WAYS,
        alt_questions=["房屋稅期限", "房屋稅怎麼繳"],
        agency="稅捐稽徵處",
        category="稅務",
        keywords=["房屋稅"],
    ),
    faq(
        "F-3",
        question="房屋稅可以刷卡嗎？",
        answer="房屋稅可以用信用卡或網路繳納，也可以臨櫃繳納。",
        alt_questions=["房屋稅怎麼繳"],
        agency="稅捐稽徵處",
        category="稅務",
        keywords=["房屋稅"],
    ),
    faq(
        "F-4",
        question="垃圾車晚上幾點來？",
        answer='<script>window.__pwned = "kb"</script>垃圾車<b>晚上七點</b>到。<img src=x onerror="window.__pwned=1">',
        alt_questions=["垃圾車時間"],
        keywords=["垃圾車"],
    ),
]


@dataclass(frozen=True)
class LiveApp:
    url: str
    database_url: str
    media_dir: Path


@dataclass
class PageWatch:
    """What a page did that it must not: script errors, CSP violations, requests off this machine."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


def with_chat_pages(app: FastAPI) -> FastAPI:
    paths = {getattr(route, "path", "") for route in app.routes}
    if "/widget.js" not in paths:  # until bot/app.py includes the router itself
        app.include_router(chat_page.router)
    return app


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The real app over a temporary SQLite store with the fixture FAQs; Rasa is down (degraded mode)."""
    folder = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    database.dispose()
    rasa = {"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    channels = {"media_dir": str(folder / "media")}  # the web chat's photos
    app = with_chat_pages(create_app(app_settings(database_url, folder, rasa=rasa, channels=channels)))
    with serve(app) as url:
        yield LiveApp(url, database_url, folder / "media")


@pytest.fixture
def new_context(browser: Browser, live_app: LiveApp) -> Iterator[Callable[..., tuple[BrowserContext, Page]]]:
    """Open a fresh context (empty storage: a new citizen) and a page in it; watched and closed after."""
    opened: list[tuple[BrowserContext, PageWatch]] = []

    def open_context(**options: Any) -> tuple[BrowserContext, Page]:
        options = {"locale": "zh-TW", "viewport": {"width": 1024, "height": 768}, **options}
        context = browser.new_context(**options)
        context.set_default_timeout(PATIENCE_MS)
        watch = PageWatch()

        def on_request(request: Request) -> None:
            if not request.url.startswith((live_app.url, "data:", "blob:", "about:")):
                watch.outside.append(request.url)

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                watch.errors.append(message.text)

        context.on("request", on_request)
        context.on("console", on_console)
        context.on("weberror", lambda error: watch.errors.append(str(error.error)))
        page = context.new_page()
        opened.append((context, watch))
        return context, page

    yield open_context
    for context, watch in opened:
        context.close()
        assert watch.errors == [], "the page reported errors"
        assert watch.outside == [], "the page made requests off this machine"


@pytest.fixture
def page(new_context: Callable[..., tuple[BrowserContext, Page]]) -> Page:
    _, page = new_context()
    return page
