"""Every console page and every reply template in plain Traditional Chinese (issue 25 item 11).

Each console page an admin can open is rendered over a seeded store (turns, FAQs with a
history, cases, handoffs, an import with a rejected row, a refusal); its visible text (not
markup, scripts or attributes) and every reply a citizen can get (domain.yml's responses, the
texts in actions/ and in the bot's chat, handoff, channel and case modules) are scanned for
Latin-alphabet words outside a small allow-list (product names, formats, codes), and for a
doubled punctuation mark or a doubled 已 / 的 (「已已結案」, 「。。」).
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from bench.seed_turns import seed
from bot.app import create_app
from bot.console.dashboard_view import today
from bot.console.diff import field_diffs
from bot.store import Database
from bot.store.faq_layers import flag_gone
from bot.store.handoff import HandoffStore
from bot.store.models import CaseRow, FaqRow
from tests.bot.console.client import app_routes, login_as
from tests.bot.console.conftest import closed_port
from tests.conftest import app_settings
from tests.waiting import eventually

REPO = Path(__file__).resolve().parents[3]
# Latin words a page or a reply may hold: product and channel names, file formats, codes.
ALLOWED = {
    "MB", "KB", "AI", "LINE", "Telegram", "Excel", "CSV", "XLSX", "JSONL", "JSON", "XML", "HTML",
    "UTF", "JPEG", "PNG", "WebP", "URL", "APP", "App", "Email", "FAQ", "ID", "Taipei", "Open311",
    "PDF", "GPS", "Rasa",
}  # fmt: skip
# a word of letters only: codes with digits (S-0000, KHH-397…, 0912…) are ids, not words
_LATIN = re.compile(r"(?<![A-Za-z0-9_./:@#%-])[A-Za-z]{2,}(?:'[a-z]+)?(?![A-Za-z0-9_-])")
# URLs, e-mail addresses, file names and settings keys (「harvest.schedule」: a code, not a word)
_URLISH = re.compile(
    r"(https?://|www\.)\S+|\S+@\S+\.\S+|[\w.-]+\.(?:jsonl|csv|xlsx|xml|json|png)\b"
    r"|\b[a-z_]+(?:\.[a-z_]+)+\b"
)
_DOUBLED = re.compile(r"([。，、！？：；])\1|已已|的的")
_HIDDEN = re.compile(r"<(script|style|svg|template)\b.*?</\1>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_PLACEHOLDER = re.compile(r"\{[a-z_][a-z_0-9]*(?:![rs])?(?::[^{}]*)?\}")  # str.format's {name}


def visible_text(page: str) -> str:
    return html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", page)))


# Data, not the console's words: accounts (names people chose), a citizen's own words in the
# seeded turns (「mail [email]」), a shipped synonym rule (「被fire → 解僱」).
DATA = {"ada", "amy", "test", "mail", "fire"}


def problems(text: str) -> list[str]:
    rest = _URLISH.sub(" ", text)
    found = [f"Latin word {w!r}" for w in _LATIN.findall(rest) if w not in ALLOWED | DATA]
    found += [f"doubled {m.group(0)!r}" for m in _DOUBLED.finditer(text)]
    return found


def test_the_scan_finds_what_it_should() -> None:
    assert problems("此案件已已結案") == ["doubled '已已'"]
    assert problems("已送出。。") == ["doubled '。。'"]
    assert problems("原因：this needs the supervisor role") != []
    assert problems("狀態 published") == ["Latin word 'published'"]
    assert problems("請用 LINE 或 https://example.org/a?b=c 查詢，檔案 faq.csv，1999 專線") == []
    assert problems("未設定（harvest.schedule）") == []
    assert problems("未設定 harvest") == ["Latin word 'harvest'"]


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    folder: Path = tmp_path_factory.mktemp("language")
    url = f"sqlite:///{folder / 'store.db'}"
    database = Database(url)
    database.migrate()
    seed(database, turns=400, seed=7, first_day=today() - timedelta(days=10), days=11)
    database.dispose()
    settings = app_settings(
        url, folder, rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1}
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        login_as(client, "staff", "amy")  # a refusal to read later
        client.cookies.clear()
        csrf = login_as(client, "admin", "ada")
        db: Database = client.app.state.database  # type: ignore[attr-defined]
        with db.session() as session:
            faq = session.scalars(select(FaqRow).order_by(FaqRow.id)).first()
            case_number = session.scalars(select(CaseRow.number).order_by(CaseRow.id)).first()
        assert faq is not None
        assert case_number is not None
        # an edit, a publication and a rollback, so the history has a diff of every kind
        form = {"question": faq.question + "？", "answer": faq.answer, "agency": faq.agency,
                "category": faq.category, "revise_date": "2026-12-06", "revision": str(faq.revision),
                "action": "save", "csrf_token": csrf}  # fmt: skip
        client.post(f"/console/kb/faq/{faq.id}", data=form)
        content = "編號,問題,答案\nL-1,路燈不亮找誰？,請撥1999。\nL-2,,沒有問題\n".encode()
        job = client.post("/console/kb/import", files={"file": ("faq.csv", content)}, follow_redirects=False)
        job_url = job.headers["location"]
        eventually(
            lambda: client.get(f"/console/api/kb/import/{job_url.rsplit('/', 1)[1]}").json()["finished"],
            what="the import",
        )
        # a citizen waiting for a person (the inbox links the conversation) and an entry gone
        # from its source (the review queue links the item)
        with db.session() as session:
            HandoffStore(session).request("language-web-1", channel="web", reason="想找專人")
            assert flag_gone(session, "L-1", run_id=None)
        month = today()
        yield (
            client,
            {
                "faq": f"/console/kb/faq/{faq.id}",
                "history": f"/console/kb/faq/{faq.id}/history",
                "case": f"/console/cases/{case_number}",
                "job": job_url,
                "year": f"/console/reports/{month.year}",
                "month": f"/console/reports/{month.year}/{month.month}",
            },
        )


# Console pages that are not HTML a person reads, or not reached by a link: said why.
NOT_CRAWLED = {
    "/console/dashboard/export.csv": "a CSV file (its headers are checked by the dashboard's tests)",
    "/console/dashboard/export.xlsx": "a spreadsheet (its headers are checked by the dashboard's tests)",
    "/console/kb/import/{job_id}/rejected.csv": "a CSV file of the rejected rows, in the rows' own words",
}
_HREF = re.compile(r'href="(/console[^"#]*)"')
_ROUTE_PARAM = re.compile(r"\{[^}]+\}")


def _console_pages(client: TestClient) -> dict[str, re.Pattern[str]]:
    """Every GET route of the console that answers a page, as a pattern of its paths."""
    pages: dict[str, re.Pattern[str]] = {}
    for path, methods in app_routes(client.app.routes):  # type: ignore[attr-defined]
        if "GET" in methods and path.startswith("/console") and not path.startswith("/console/api"):
            pieces = [re.escape(piece) for piece in _ROUTE_PARAM.split(path)]
            pages[path] = re.compile("[^/?]+".join(pieces) + r"(?:\?.*)?")
    return pages


def crawl(client: TestClient, starts: list[str], per_page: int = 3) -> dict[str, list[str]]:
    """Follow the console's links from ``starts``: at most ``per_page`` paths of each route (so a
    list of a thousand entries is read once, not a thousand times); what each route was seen at."""
    pages = _console_pages(client)
    seen: dict[str, list[str]] = {}
    queue, visited = list(starts), set()
    while queue:
        path = html.unescape(queue.pop(0))
        route = next((r for r, pattern in pages.items() if pattern.fullmatch(path)), None)
        if path in visited or route is None or route in NOT_CRAWLED or "logout" in path:
            continue
        if len(seen.get(route, [])) >= per_page:
            continue
        visited.add(path)
        response = client.get(path)
        assert response.status_code in (200, 404), f"{path}: HTTP {response.status_code}"
        seen.setdefault(route, []).append(path)
        if issues := problems(visible_text(response.text)):
            seen.setdefault("!problems", []).append(f"{path}: {sorted(set(issues))}")
        queue += _HREF.findall(response.text)
    return seen


def test_every_console_page_is_in_chinese(admin: tuple[TestClient, dict[str, str]]) -> None:
    """Every console page an admin can reach by a link (and each listed start), crawled; every
    page route of the console must be reached, so a new page is scanned as soon as it exists."""
    client, paths = admin
    starts = [
        "/console", "/console/kb/try?q=房屋稅", "/console/kb/faq/NO-SUCH-ID",
        *paths.values(),
    ]  # fmt: skip
    seen = crawl(client, starts)
    found = seen.pop("!problems", [])
    # a refusal, and the log-in page, as a member of staff sees them
    client.cookies.clear()
    for path in ("/console/login",):
        seen.setdefault(path, []).append(path)
        if issues := problems(visible_text(client.get(path).text)):
            found.append(f"{path}: {sorted(set(issues))}")
    login_as(client, "staff", "amy")
    refused = client.get("/console/users")
    assert refused.status_code == 403
    if issues := problems(visible_text(refused.text)):
        found.append(f"403: {issues}")
    missed = set(_console_pages(client)) - set(seen) - set(NOT_CRAWLED)
    assert not missed, (
        f"console pages no link reached (seed what they show, or add a start): {sorted(missed)}"
    )
    assert not found, "\n".join(found)


def _python_replies(path: Path) -> Iterator[str]:
    """String constants (and the constant parts of f-strings) that hold Chinese."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            regex = node.value.startswith("^") or "(?" in node.value or "\\" in node.value
            if re.search(r"[\u4e00-\u9fff]", node.value) and not regex:
                yield node.value


def _docstrings(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                out.add(value.value)
    return out


REPLY_MODULES = [
    *sorted((REPO / "actions").glob("*.py")),
    *sorted((REPO / "bot" / "chat").glob("*.py")),
    *sorted((REPO / "bot" / "handoff").glob("*.py")),
    *sorted((REPO / "bot" / "channels").glob("*.py")),
    *sorted((REPO / "bot" / "cases").glob("*.py")),
    # the console's own words: flash messages after an action, form errors, refusals
    *sorted((REPO / "bot" / "console").glob("*.py")),
    REPO / "bot" / "media.py",
]


def test_every_reply_template_is_in_chinese() -> None:
    domain = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
    texts = [
        (f"domain.yml {name}", str(variant.get("text", "")))
        for name, variants in domain["responses"].items()
        for variant in variants
    ]
    texts += [
        (f"domain.yml {name} button", str(button["title"]))
        for name, variants in domain["responses"].items()
        for variant in variants
        for button in variant.get("buttons", [])
    ]
    for module in REPLY_MODULES:
        docs = _docstrings(module)
        texts += [
            # 「第 {revision} 版」: a str.format placeholder is filled in, never shown
            (str(module.relative_to(REPO)), _PLACEHOLDER.sub(" ", text))
            for text in _python_replies(module)
            if text not in docs
        ]
    assert len(texts) > 100
    found = {f"{where}: {text[:60]}": issues for where, text in texts if (issues := problems(text))}
    assert not found, "\n".join(f"{where}: {issues}" for where, issues in found.items())


def test_a_change_of_date_or_status_reads_as_old_and_new_values() -> None:
    """Not a character diff such as 「20236-12-06-29」, nor 「狀態 published」."""
    labels = {"revise_date": "修訂日期", "status": "狀態", "answer": "答案"}
    before = {"revise_date": "2023-12-29", "status": "draft", "answer": "每年五月繳納。"}
    after = {"revise_date": "2026-12-06", "status": "published", "answer": "每年五月底前繳納。"}
    diffs = {d.field: [(s.kind, s.text) for s in d.segments] for d in field_diffs(before, after, labels)}
    assert diffs["revise_date"] == [("del", "2023-12-29"), ("ins", "2026-12-06")]
    assert diffs["status"] == [("del", "草稿"), ("ins", "已發布")]
    assert ("ins", "底前") in diffs["answer"]  # text still shows what changed inside it
    assert field_diffs(None, {"status": "published"}, labels)[0].segments[0].text == "已發布"
