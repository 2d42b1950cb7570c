"""Nothing personal leaves through what anyone may read without logging in.

Cases of every kind are filed through every channel — the web chat (a citizen who checked another
case, told the bot about their health, family and money, then asked for a person out of hours),
the case form, Open311, LINE and Telegram (each filing through the real actions behind a scripted
Rasa, and LINE asking for a person too) — with personal data in every field and in free text.
Then every GET route of the app is read without a log-in, path parameters filled with every
case number, conversation and category, Open311's list with every filter; no answer may carry
any of it. The routes are read from the app itself, so a new public route is read too (and one
with a path parameter this test cannot fill fails it until it is taught).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from actions import providers
from actions.case_status import ActionCaseStatus
from actions.file_case import ActionFileCase
from actions.handoff import ActionHandoff
from bot.app import create_app
from bot.cases import CATEGORIES
from bot.cases.for_a_person import MESSAGE_PLACE
from bot.store import Database
from bot.store.models import CaseRow, TurnRow, utcnow
from tests.bot.channels.test_line import TOKEN as LINE_TOKEN
from tests.bot.channels.test_line import USER, line_channel
from tests.bot.channels.test_line import post as line_post
from tests.bot.channels.test_line import text as line_text
from tests.bot.channels.test_telegram import BOT_TOKEN, telegram_channel
from tests.bot.channels.test_telegram import SECRET as TG_SECRET
from tests.conftest import app_settings
from tests.fakes.line_api import FakeLineApi
from tests.fakes.scripted_rasa import Rule, ScriptedRasa
from tests.fakes.telegram_api import FakeTelegramApi, text_update
from tests.waiting import wait_until

OPEN311_KEY = "privacy-suite-filing-key"
READ_KEY = "privacy-suite-read-key"
TG_CHAT = 581_327_904
CHECK_DIGITS = "813"  # the form citizen's phone ends in them; the chat citizen types them
NUMBER = re.compile(r"\d{6}-\d{4,}-\d")

# Everything personal that goes in, as it must never come out
SECRETS = [
    # the form citizen (a public category: the case itself is published, redacted)
    "王小明",
    "0937246813",
    "0937-246-813",
    "B223456789",
    "中正四路211巷",
    "211巷5號",
    # the chat citizen (a request for a person out of hours, then a message: never public)
    "陳美麗",
    "0955111222",
    "中山一路88號",
    "憂鬱症",
    "卡債",
    "失業",
    # Open311
    "林志明",
    "zhiming.lin@example.com.tw",
    "0911222333",
    "F128765432",
    "account-7788",
    "device-5566",
    "和平一路66巷",
    # LINE and Telegram
    USER,
    "0988777666",
    "自由一路55巷",
    "0922333444",
    "住院",
    "老公",
    "民權二路9號",
    str(TG_CHAT),
]


def _hours_excluding_now() -> str:
    taipei = utcnow() + timedelta(hours=8)
    start = (taipei + timedelta(hours=2)).replace(minute=0)
    end = (taipei + timedelta(hours=3)).replace(minute=0)
    return f"{start:%H:%M}-{end:%H:%M}"


@dataclass
class World:
    client: TestClient
    rasa: ScriptedRasa
    line: FakeLineApi
    telegram: FakeTelegramApi
    database: Database
    filed: dict[str, str] = field(default_factory=dict)  # channel -> case number


def _message_slots(message: str, phone: str) -> dict[str, Any]:
    """The case form's slots for 「留言請專人回覆」 (actions/leave_message.py sets the first four)."""
    return {
        "message_for_person": True,
        "category": "其他陳情",
        "location": MESSAGE_PLACE,
        "photo": "none",
        "description": message,
        "phone": phone,
        "consent": True,
        "confirmed": True,
    }


def _case_slots(category: str, location: str, description: str, phone: str) -> dict[str, Any]:
    return {
        "category": category,
        "location": location,
        "description": description,
        "photo": "none",
        "phone": phone,
        "consent": True,
        "confirmed": True,
    }


@pytest.fixture
def world(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    hours = _hours_excluding_now()
    for name, value in {  # the action server's settings
        "BOT1999_DATABASE_URL": database_url,
        "BOT1999_SETTINGS_FILE": "",
        "BOT1999_KNOWLEDGE__ENCODER": "hashing",
        "BOT1999_HANDOFF__AGENT_HOURS": hours,
        "BOT1999_HANDOFF__FILED_NOTICE_GRACE_SECONDS": "3600",
    }.items():
        monkeypatch.setenv(name, value)
    providers.reset()
    rules = [
        Rule(("我要找真人",), ActionHandoff(), "ask_human"),
        Rule(("報修",), ActionFileCase(), "report_issue"),
        Rule(("我要留言",), ActionFileCase(), "leave_message"),
        Rule(("查詢案件",), ActionCaseStatus(), "check_case_status"),
    ]
    with (
        ScriptedRasa(rules) as rasa,
        FakeLineApi(LINE_TOKEN) as line,
        FakeTelegramApi(BOT_TOKEN) as telegram,
    ):
        channels = {
            "line": line_channel(line),
            **telegram_channel(telegram),
            "media_dir": str(tmp_path / "m"),
        }
        settings = app_settings(
            database_url,
            tmp_path,
            rasa={"url": rasa.url, "timeout_seconds": 60, "cool_off_seconds": 0},
            channels=channels,
            open311={"api_keys": [OPEN311_KEY], "read_keys": [READ_KEY]},
            handoff={"agent_hours": hours, "delivery_poll_seconds": 0.1, "filed_notice_grace_seconds": 3600},
        )
        with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
            yield World(client, rasa, line, telegram, client.app.state.database)  # type: ignore[attr-defined]
    providers.reset()


def _rule(world: World, words: str) -> Rule:
    return next(rule for rule in world.rasa.rules if words in rule.words)


def _chat(world: World, sender: str, text: str) -> str:
    response = world.client.post("/api/chat", json={"sender": sender, "text": text})
    assert response.status_code == 200, response.text
    return " ".join(str(reply.get("text", "")) for reply in response.json()["replies"])


def _file_through_the_form(world: World) -> str:
    response = world.client.post(
        "/cases",
        data={
            "category": "street_light",
            "location_text": "中正四路211巷5號3樓前",
            "description": "路燈不亮。我是王小明，電話0937-246-813，身分證B223456789",
            "phone": "0937246813",
            "consent": "yes",
        },
    )
    assert response.status_code == 200, response.text  # post/redirect/get: the confirmation page
    assert response.history, response.text
    assert response.history[0].status_code == 303, response.history
    found = NUMBER.search(response.text)
    assert found, response.text
    return found.group()


def _chat_then_ask_for_a_person_out_of_hours(world: World, other_case: str) -> str:
    citizen = "web-citizen-privacy"
    _chat(world, citizen, "我最近憂鬱症很嚴重，先生失業還欠了卡債五十萬")
    _chat(world, citizen, "我叫陳美麗，電話0955111222，住中山一路88號")
    _rule(world, "查詢案件").slots = {"case_number": other_case, "phone_last3": CHECK_DIGITS}
    assert "已受理" in _chat(world, citizen, "我要查詢案件"), "the digits open the other case"
    _chat(world, citizen, other_case)  # typed as the status check asks them
    _chat(world, citizen, CHECK_DIGITS)
    _chat(world, citizen, f"案件{other_case}末三碼{CHECK_DIGITS}，怎麼還沒修")
    answer = _chat(world, citizen, "我要找真人")
    assert "留言請專人回覆" in answer, answer
    assert not NUMBER.search(answer), "out of hours nothing is filed unasked (issue 25 item 6)"
    _rule(world, "我要留言").slots = _message_slots(
        "我叫陳美麗，電話0955111222，住中山一路88號。憂鬱症很嚴重，先生失業還欠卡債，請回電", "0955111222"
    )
    filed = _chat(world, citizen, "我要留言")
    found = NUMBER.search(filed)
    assert found, filed
    return found.group()


def _file_through_open311(world: World) -> str:
    response = world.client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": OPEN311_KEY,
            "service_code": "road_pothole",
            "lat": "22.627312",
            "long": "120.301488",
            "address_string": "和平一路66巷2號",
            "email": "zhiming.lin@example.com.tw",
            "device_id": "device-5566",
            "account_id": "account-7788",
            "first_name": "志明",
            "last_name": "林",
            "phone": "0911222333",
            "description": "我是林志明，坑洞很大，身分證F128765432，電話0911222333",
            "media_url": "https://example.com/pothole.jpg",
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()[0]["service_request_id"])


def _file_through_line(world: World) -> None:
    _rule(world, "報修").slots = _case_slots(
        "道路坑洞", "自由一路55巷3號", "家門口有坑洞，電話0988777666", "0988777666"
    )
    _rule(world, "我要留言").slots = _message_slots("請專人回電，我家門口坑洞，電話0988777666", "0988777666")
    for words in ("我要報修", "我要找真人", "我要留言"):
        before = len(world.line.deliveries)
        line_post(world.client, line_text(world.line.issue_reply_token(), words))
        wait_until(
            lambda before=before: len(world.line.deliveries) > before, what=f"LINE's answer to {words}"
        )


def _file_through_telegram(world: World) -> None:
    cases = [
        _case_slots("路樹傾倒", "民權二路9號對面", "路樹倒了，打0922333444找我", "0922333444"),
        _case_slots("噪音陳情", "民權二路9號", "樓上每晚吵，我老公住院剛回家需要休息", "0922333444"),
    ]
    for update_id, slots in enumerate(cases, 1):
        _rule(world, "報修").slots = slots
        before = len(world.telegram.sent)
        response = world.client.post(
            "/channels/telegram/webhook",
            json=text_update(update_id, TG_CHAT, "我要報修"),
            headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
        )
        assert response.status_code == 200
        wait_until(lambda before=before: len(world.telegram.sent) > before, what="Telegram's answer")


def _get_routes(app: FastAPI) -> list[str]:
    """Every GET route's path, including those of included routers."""
    paths: list[str] = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for candidate in (contexts() if callable(contexts) else contexts) or [route]:
            methods = getattr(candidate, "methods", None) or set()
            path = getattr(candidate, "path_format", None) or getattr(candidate, "path", None)
            if "GET" in methods and path:
                paths.append(str(path))
    return sorted(set(paths))


def _urls(world: World) -> list[str]:
    with world.database.session() as session:
        numbers = list(session.scalars(select(CaseRow.number)))
        conversations = sorted(set(session.scalars(select(TurnRow.conversation_id))))
    values = {
        "service_request_id": numbers,
        "number": numbers,
        "conversation_id": conversations,
        "service_code": [c.code for c in CATEGORIES],
        "faq_id": ["F-1"],
        "job_id": ["1"],
        "review_id": ["1"],
        "cluster_id": ["1"],
        "year": ["2026"],
        "month": ["12"],
    }
    urls: list[str] = []
    for path in _get_routes(world.client.app):  # type: ignore[arg-type]
        expanded = [path]
        for name in re.findall(r"\{(\w+)(?::\w+)?\}", path):
            assert name in values, f"{path}: teach this test a value for {{{name}}}"
            expanded = [re.sub(rf"\{{{name}(?::\w+)?\}}", v, url) for url in expanded for v in values[name]]
        urls += expanded
    requests = "/open311/v2/requests.json"
    urls += [f"{requests}?status={s}" for s in ("open", "closed")]
    urls += [f"{requests}?service_code={c.code}" for c in CATEGORIES]
    urls += [f"{requests}?service_request_id={','.join(numbers)}", f"{requests}?start_date=2000-01-01"]
    urls += ["/api/chat/updates?sender=someone-else"]
    return urls


def _body(response: Any) -> str:
    if "json" in response.headers.get("content-type", ""):
        return json.dumps(response.json(), ensure_ascii=False)
    return str(response.text)


def test_nothing_personal_is_readable_without_logging_in(world: World) -> None:
    form_case = _file_through_the_form(world)
    excerpt_case = _chat_then_ask_for_a_person_out_of_hours(world, form_case)
    open311_case = _file_through_open311(world)
    _file_through_line(world)
    _file_through_telegram(world)
    with world.database.session() as session:
        cases = {
            row.number: (row.channel, row.category, row.origin) for row in session.scalars(select(CaseRow))
        }
    assert sorted(cases.values()) == sorted(
        [
            ("web", "street_light", "citizen"),
            ("web", "general", "conversation"),
            ("open311", "road_pothole", "citizen"),
            ("line", "road_pothole", "citizen"),
            ("line", "general", "conversation"),
            ("telegram", "fallen_tree", "citizen"),
            ("telegram", "noise", "citizen"),
        ]
    ), "a case of every kind through every channel"

    client = TestClient(world.client.app, client=("203.0.113.9", 40000))  # a stranger, no log-in
    read = {url: client.get(url) for url in _urls(world)}
    assert all(r.status_code < 500 for r in read.values()), {u: r.status_code for u, r in read.items()}
    digits = re.compile(rf"(?<!\d){CHECK_DIGITS}(?!\d)")
    for url, response in read.items():
        body = _body(response)
        for asked in [url, *NUMBER.findall(url)]:  # a 404 or the log-in page repeats what was asked
            body = body.replace(asked, "")
        leaked = [secret for secret in SECRETS if secret in body]
        assert not leaked, f"{url} shows {leaked}"
        assert not digits.search(body), f"{url} shows the check digits"
        assert excerpt_case not in body, f"{url} shows a case built from a conversation"

    # what is public is there, at street level
    public = read["/open311/v2/requests.json"].json()
    shown = {r["service_request_id"]: r for r in public}
    assert form_case in shown
    assert open311_case in shown
    assert {r["service_code"] for r in public} == {"street_light", "road_pothole", "fallen_tree"}
    assert shown[form_case]["address"] == "中正四路前"
    assert (shown[open311_case]["lat"], shown[open311_case]["long"]) == (22.627, 120.301)
    assert "noise" not in {r["service_code"] for r in public}


def test_a_read_key_sees_more_cases_but_no_conversation_and_nothing_personal(world: World) -> None:
    _file_through_the_form(world)
    excerpt_case = _chat_then_ask_for_a_person_out_of_hours(world, _file_through_the_form(world))
    _file_through_telegram(world)
    response = world.client.get("/open311/v2/requests.json", params={"api_key": READ_KEY})
    assert response.status_code == 200
    codes = {r["service_code"] for r in response.json()}
    assert codes == {"street_light", "fallen_tree", "noise"}
    body = _body(response)
    assert excerpt_case not in body
    assert not [secret for secret in SECRETS if secret in body]
