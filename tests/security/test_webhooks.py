"""Forged LINE and Telegram webhooks, beyond the channels' own tests.

tests/bot/channels/ checks that an unsigned, wrongly signed or tampered LINE webhook and a
Telegram update without the right secret are refused and nothing is processed. Here: near-miss
signatures (the right HMAC in hex, a signature of the same JSON spelt differently, of the
body with a newline added), a Telegram secret sent anywhere but its header, and a flood of
forgeries, which the request guard cuts off per client address before any signature is
computed (and oversized ones before they are read). Nothing forged reaches the store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.store import Database
from bot.store.models import ChannelEventRow, TurnRow
from tests.conftest import app_settings
from tests.e2e.live_server import closed_port
from tests.fakes.line_api import FakeLineApi, signature, webhook_body
from tests.fakes.telegram_api import FakeTelegramApi
from tests.security.conftest import seed

LINE_SECRET = "line-channel-secret-for-security-tests"
LINE_TOKEN = "line-access-token-for-security-tests"
BOT_TOKEN = "7000001999:AAE-security-test-token-for-the-fake"
TG_SECRET = "telegram-webhook-secret_security"
LINE_PATH = "/channels/line/webhook"
TG_PATH = "/channels/telegram/webhook"


@pytest.fixture
def channels_client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The app with LINE and Telegram on (loopback fakes of their APIs); 5 webhooks a minute per address."""
    seed(database_url)
    with FakeLineApi(LINE_TOKEN) as line, FakeTelegramApi(BOT_TOKEN) as telegram:
        channels = {
            "line": {
                "channel_secret": LINE_SECRET,
                "channel_access_token": LINE_TOKEN,
                "api_base_url": line.api_url,
                "data_api_base_url": line.data_url,
            },
            "telegram": {"bot_token": BOT_TOKEN, "webhook_secret": TG_SECRET, "api_base_url": telegram.url},
            "public_base_url": "https://bot.example.tw",
            "media_dir": str(tmp_path / "media"),
        }
        settings = app_settings(
            database_url,
            tmp_path,
            rasa={"url": f"http://127.0.0.1:{closed_port()}", "timeout_seconds": 1},
            channels=channels,
            limits={"webhook_per_ip": {"requests": 5, "per_seconds": 60}, "max_body_kb": 64},
        )
        with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
            yield client


def line_event(words: str) -> dict[str, Any]:
    return {
        "type": "message",
        "mode": "active",
        "timestamp": 1_700_000_000_000,
        "source": {"type": "user", "userId": "U" + "4af4980629" * 3 + "ab"},
        "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": uuid.uuid4().hex,
        "message": {"type": "text", "id": "1", "quoteToken": "q", "text": words},
    }


def telegram_update(update_id: int) -> dict[str, Any]:
    chat = {"id": 424242, "type": "private"}
    sender = {"id": 424242, "is_bot": False, "first_name": "市民"}
    message = {"message_id": 1, "date": 1_700_000_000, "chat": chat, "from": sender, "text": "舊沙發要怎麼丟"}
    return {"update_id": update_id, "message": message}


def stored(client: TestClient) -> tuple[int, int]:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        events = session.scalar(select(func.count()).select_from(ChannelEventRow)) or 0
        turns = session.scalar(select(func.count()).select_from(TurnRow)) or 0
    return int(events), int(turns)


def test_near_miss_line_signatures_are_refused(channels_client: TestClient) -> None:
    body = webhook_body(line_event("舊沙發要怎麼丟"))
    digest = hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()
    respelt = json.dumps(json.loads(body), ensure_ascii=True, indent=1).encode()
    attempts = {
        "hex digest": (body, digest.hex()),
        "same JSON, other spelling": (respelt, signature(LINE_SECRET, body)),
        "a newline added": (body + b"\n", signature(LINE_SECRET, body)),
        "urlsafe base64 without padding": (body, base64.urlsafe_b64encode(digest).decode().rstrip("=")),
        "the secret as the signature": (body, LINE_SECRET),
    }
    for what, (content, signed) in attempts.items():
        response = channels_client.post(
            LINE_PATH,
            content=content,
            headers={"content-type": "application/json", "x-line-signature": signed},
        )
        assert response.status_code in {400, 401}, what
    assert stored(channels_client) == (0, 0)


def test_the_telegram_secret_counts_only_in_its_header(channels_client: TestClient) -> None:
    update = telegram_update(1)
    attempts = [
        channels_client.post(TG_PATH, json=update, params={"secret_token": TG_SECRET}),
        channels_client.post(TG_PATH, json=update, headers={"Authorization": f"Bearer {TG_SECRET}"}),
        channels_client.post(
            TG_PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET.upper()}
        ),
        channels_client.post(TG_PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": BOT_TOKEN}),
    ]
    assert [r.status_code for r in attempts] == [401] * 4
    assert stored(channels_client) == (0, 0)


def test_a_flood_of_forgeries_is_cut_off_per_address_before_verification(channels_client: TestClient) -> None:
    body = webhook_body(line_event("舊沙發要怎麼丟"))
    forged = {"content-type": "application/json", "x-line-signature": signature("guessed", body)}
    codes = [channels_client.post(LINE_PATH, content=body, headers=forged).status_code for _ in range(7)]
    assert codes == [401] * 5 + [429] * 2
    refused = channels_client.post(
        TG_PATH, json=telegram_update(2), headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    )
    assert refused.status_code == 429, "the address's webhook budget is spent, whatever it signs"
    assert int(refused.headers["retry-after"]) >= 1
    assert stored(channels_client) == (0, 0)


def test_an_oversized_forgery_is_refused_before_it_is_read(channels_client: TestClient) -> None:
    body = webhook_body(line_event("長" * 40_000))
    response = channels_client.post(
        LINE_PATH, content=body, headers={"content-type": "application/json", "x-line-signature": "x"}
    )
    assert response.status_code == 413
    assert stored(channels_client) == (0, 0)
