"""Telegram through the real python-telegram-bot against a loopback Bot API, with the real app.

Rasa is not running, so the chat answers in degraded mode (FAQ answers straight from the
knowledge base); case filing through the Rasa form is in test_case_filing.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.channels.base import PushFailed
from bot.channels.telegram import WEBHOOK_PATH, make_bot, webhook_secret
from bot.channels.telegram_poll import TelegramPoller
from bot.messages import Button, Reply, pick_payload
from bot.settings import Settings, TelegramSettings
from tests.bot.channels.conftest import BULKY_WASTE_ANSWER, JPEG, LONG_ID, PNG, channel_events, turns
from tests.e2e.live_server import serve
from tests.fakes.loopback import LoopbackApp, Request, Response, json_response, wait_until
from tests.fakes.telegram_api import (
    FakeTelegramApi,
    callback_update,
    document_update,
    location_update,
    photo_update,
    text_update,
)

BOT_TOKEN = "7000001999:AAE-test-token-for-the-fake-bot-api"
SECRET = "telegram-webhook-secret_1999"
CHAT = 424242


@pytest.fixture
def telegram_api() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi(BOT_TOKEN) as api:
        yield api


def telegram_channel(api: FakeTelegramApi, **fields: Any) -> dict[str, Any]:
    return {
        "telegram": {"bot_token": BOT_TOKEN, "webhook_secret": SECRET, "api_base_url": api.url, **fields},
        "public_base_url": "https://bot.example.tw",
        "max_photo_bytes": 50_000,
    }


@pytest.fixture
def tg_settings(make_settings: Callable[..., Settings], telegram_api: FakeTelegramApi) -> Settings:
    return make_settings(telegram_channel(telegram_api))


@pytest.fixture
def client(tg_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(tg_settings)) as test_client:
        yield test_client


def post(client: TestClient, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post(WEBHOOK_PATH, json=update, headers=headers)


def test_start_up_checks_the_token_and_registers_the_webhook(
    client: TestClient, telegram_api: FakeTelegramApi
) -> None:
    assert len(telegram_api.calls("getMe")) == 1
    assert telegram_api.webhook == {
        "url": "https://bot.example.tw/channels/telegram/webhook",
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
    }


def nothing_else_was_answered(
    client: TestClient, telegram_api: FakeTelegramApi, database_url: str, update_id: int
) -> list[str]:
    """Prove, without waiting a while, that no earlier update of CHAT is still to be answered:
    a marker message there is answered after all of them (the inbox answers a chat's updates one
    after another, in order), and every stored update is handled by then. The texts sent since."""
    before = len(telegram_api.sent)
    assert post(client, text_update(update_id, CHAT, "舊沙發要怎麼丟")).json() == {"accepted": True}
    wait_until(
        lambda: (
            all(e.handled_at is not None for e in channel_events(database_url, "telegram"))
            and any(m.text.startswith(BULKY_WASTE_ANSWER) for m in telegram_api.sent[before:])
        ),
        what="the answer to the marker message, every stored update handled",
    )
    return [m.text for m in telegram_api.sent[before:]]


def test_updates_without_the_secret_token_are_refused_and_nothing_is_processed(
    client: TestClient, telegram_api: FakeTelegramApi, database_url: str
) -> None:
    assert post(client, text_update(1, CHAT, "舊沙發要怎麼丟"), secret=None).status_code == 401
    assert post(client, text_update(1, CHAT, "舊沙發要怎麼丟"), secret="guessed").status_code == 401
    assert post(client, text_update(1, CHAT, "舊沙發要怎麼丟"), secret=SECRET + "x").status_code == 401
    assert channel_events(database_url, "telegram") == []  # stored before the webhook answers: none
    since = nothing_else_was_answered(client, telegram_api, database_url, update_id=2)
    assert len(since) == len(telegram_api.sent) == 3  # the marker's notice, answer and feedback only
    assert len(channel_events(database_url, "telegram")) == 1
    for body in ({"message": {}}, {"update_id": "7"}, [1, 2]):
        assert post(client, body).status_code == 400


def test_a_faq_exchange_with_an_inline_keyboard(
    client: TestClient, telegram_api: FakeTelegramApi, database_url: str
) -> None:
    assert post(client, text_update(100, CHAT, "舊沙發要怎麼丟")).json() == {"accepted": True}
    wait_until(lambda: len(telegram_api.sent) == 3, what="the answer")
    notice, answer, feedback = telegram_api.sent
    assert {m.chat_id for m in telegram_api.sent} == {CHAT}
    assert "簡易模式" in notice.text
    assert "線上反映表單：https://bot.example.tw/cases/new" in notice.text
    assert answer.text.startswith(BULKY_WASTE_ANSWER)
    assert answer.keyboard == []
    assert feedback.text == "這個回答有幫助嗎？"
    assert feedback.buttons == [
        {"text": "有幫助", "callback_data": "/feedback_good"},
        {"text": "沒幫助", "callback_data": "/feedback_bad"},
    ]

    assert post(client, callback_update(101, CHAT, "/feedback_good")).status_code == 200
    wait_until(lambda: len(telegram_api.sent) == 5, what="the thanks")
    assert telegram_api.answered == ["cbq-101"]  # the button's spinner is stopped
    assert telegram_api.sent[-1].text == "謝謝您的回饋！"
    logged = turns(database_url, "telegram")
    assert [t.payload for t in logged] == ["", "/feedback_good"]
    assert logged[0].faq_id == "F-1"
    assert logged[0].feedback == "good"


def test_long_payloads_travel_as_short_tokens(client: TestClient, telegram_api: FakeTelegramApi) -> None:
    gateways = client.app.state.gateways
    choices = Reply(
        kind="clarify",
        text="請問您想問的是下面哪一個？",
        buttons=[
            Button(title="路燈不亮要找誰修？", payload=pick_payload(LONG_ID)),
            Button(title="都不是", payload="/ask_human"),
        ],
    )
    client.portal.call(gateways.push, "telegram", str(CHAT), [choices])
    [sent] = telegram_api.sent
    token, short = (b["callback_data"] for b in sent.buttons)
    assert short == "/ask_human"
    assert token.startswith("~")
    assert len(token.encode()) <= 64

    post(client, callback_update(200, CHAT, token))
    wait_until(lambda: len(telegram_api.sent) == 4, what="the picked answer")
    assert telegram_api.sent[2].text.startswith("路燈故障請撥 1999")

    post(client, callback_update(201, CHAT, "~not-a-token-we-gave"))
    wait_until(lambda: len(telegram_api.sent) == 5, what="the expired-button notice")
    assert telegram_api.sent[-1].text == "這個按鈕已經失效了，請直接輸入您的問題。"


def test_a_repeated_update_is_answered_once(
    client: TestClient, telegram_api: FakeTelegramApi, database_url: str
) -> None:
    update = text_update(300, CHAT, "房屋稅期限")
    assert post(client, update).json() == {"accepted": True}
    assert post(client, update).json() == {"accepted": False}
    wait_until(lambda: len(telegram_api.sent) == 3, what="the answer")
    since = nothing_else_was_answered(client, telegram_api, database_url, update_id=301)
    assert len(since) == 3  # none to the repeat
    assert since[1].startswith(BULKY_WASTE_ANSWER)
    assert len(telegram_api.sent) == 6
    assert len(turns(database_url, "telegram")) == 2


def test_a_location_and_photos_reach_the_conversation(
    client: TestClient, telegram_api: FakeTelegramApi, tg_settings: Settings, database_url: str
) -> None:
    post(client, location_update(400, CHAT, 22.6273, 120.3014))
    wait_until(
        lambda: any("收到位置或照片了" in m.text for m in telegram_api.sent), what="the location answer"
    )

    telegram_api.add_file("photo-1", JPEG)
    post(client, photo_update(401, CHAT, "photo-1", len(JPEG)))
    wait_until(
        lambda: sum("收到位置或照片了" in m.text for m in telegram_api.sent) == 2, what="the photo answer"
    )
    [stored] = tg_settings.channels.media_dir.rglob("*.jpg")
    assert stored.read_bytes() == JPEG
    assert [c.body for c in telegram_api.calls("getFile")] == [b"file_id=photo-1"]

    telegram_api.add_file("photo-2", b"GIF89a not what we take")
    post(client, photo_update(402, CHAT, "photo-2", 30))
    wait_until(lambda: telegram_api.sent[-1].text.startswith("只能收 JPEG"), what="the refusal of a GIF")
    post(
        client, document_update(403, CHAT, "doc-1", 900_000, "image/jpeg")
    )  # announced too large: not fetched
    wait_until(
        lambda: telegram_api.sent[-1].text.startswith("照片太大了（上限 0.05 MB）"), what="the size refusal"
    )
    assert len(telegram_api.calls("getFile")) == 2
    assert len(turns(database_url, "telegram")) == 2

    # of the sizes Telegram offers, the largest within the limit is taken
    telegram_api.add_file("photo-4-thumb", PNG)
    post(client, photo_update(405, CHAT, "photo-4", 900_000))
    wait_until(lambda: len(turns(database_url, "telegram")) == 3, what="the photo in a smaller size")
    assert telegram_api.calls("getFile")[-1].body == b"file_id=photo-4-thumb"
    assert len(list(tg_settings.channels.media_dir.rglob("*.png"))) == 1

    sticker = text_update(404, CHAT, "")
    sticker["message"].pop("text")
    sticker["message"]["sticker"] = {
        "file_id": "s",
        "file_unique_id": "s",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    post(client, sticker)
    wait_until(lambda: "只看得懂文字、位置和照片" in telegram_api.sent[-1].text, what="the sticker answer")


def test_groups_are_not_answered_and_start_greets(
    client: TestClient, telegram_api: FakeTelegramApi, database_url: str
) -> None:
    group = text_update(500, -100777, "房屋稅期限")
    group["message"]["chat"] = {"id": -100777, "type": "supergroup", "title": "里民群組"}
    post(client, group)
    post(client, text_update(501, CHAT, "/start"))
    wait_until(lambda: len(telegram_api.sent) == 1, what="the greeting")
    nothing_else_was_answered(client, telegram_api, database_url, update_id=502)  # the group's handled too
    assert {m.chat_id for m in telegram_api.sent} == {CHAT}
    assert len(telegram_api.sent) == 4  # the greeting, then the marker's three messages
    assert "1999 智慧客服" in telegram_api.sent[0].text


def test_a_push_notification_through_the_gateway(client: TestClient, telegram_api: FakeTelegramApi) -> None:
    gateways = client.app.state.gateways
    assert "telegram" in gateways.names()
    client.portal.call(gateways.push, "telegram", str(CHAT), [Reply(kind="case", text="您的案件已結案。")])
    assert [(m.chat_id, m.text) for m in telegram_api.sent] == [(CHAT, "您的案件已結案。")]
    telegram_api.blocked.add(777)
    with pytest.raises(PushFailed, match="blocked"):
        client.portal.call(gateways.push, "telegram", "777", [Reply(text="通知")])


def test_the_channel_is_off_without_credentials(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.running")
    with TestClient(create_app(make_settings({}))) as client:
        response = client.post(
            WEBHOOK_PATH, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
        )
        assert response.status_code == 404
        assert "telegram" not in client.app.state.gateways.names()
    assert "Telegram channel off: no credentials" in caplog.text


def test_without_a_configured_secret_one_is_derived_from_the_token() -> None:
    derived = webhook_secret(TelegramSettings(bot_token=BOT_TOKEN))
    assert derived == webhook_secret(TelegramSettings(bot_token=BOT_TOKEN))
    assert derived != webhook_secret(TelegramSettings(bot_token=BOT_TOKEN + "2"))
    assert len(derived) == 64
    assert BOT_TOKEN not in derived


# --- polling mode ---------------------------------------------------------------------------


class FlakyService(LoopbackApp):
    """Stands in for a bot service that is down for the first ``down`` requests."""

    name = "flaky-bot-service"

    def __init__(self, down: int) -> None:
        super().__init__()
        self.down = down

    def handle(self, request: Request) -> Response:
        if len(self.requests) <= self.down:
            return json_response(503, {"detail": "starting"})
        return json_response(200, {"accepted": True})


def test_the_poller_confirms_an_update_only_once_the_service_took_it(telegram_api: FakeTelegramApi) -> None:
    telegram_api.webhook = {"url": "https://old.example/hook"}  # getUpdates refuses while it is set
    telegram_api.queue_update(text_update(600, CHAT, "房屋稅期限"))
    telegram_api.queue_update(text_update(601, CHAT, "舊沙發要怎麼丟"))
    with FlakyService(down=2) as service:

        async def run() -> TelegramPoller:
            bot = make_bot(TelegramSettings(bot_token=BOT_TOKEN, api_base_url=telegram_api.url))
            async with httpx.AsyncClient() as http:
                poller = TelegramPoller(
                    bot, http, service.url + WEBHOOK_PATH, SECRET, poll_timeout=1, min_backoff=0.05
                )
                await poller.prepare()
                while poller.forwarded < 2:
                    await poller.poll_once()
                await poller.poll_once()  # confirms the batch
                await bot.shutdown()
                return poller

        poller = asyncio.run(run())
        bodies = [r.json() for r in service.requests]
        secrets = {r.headers["x-telegram-bot-api-secret-token"] for r in service.requests}
    assert telegram_api.webhook is None
    assert [b["update_id"] for b in bodies] == [600, 600, 600, 601]  # retried until taken, in order
    assert bodies[0]["message"]["text"] == "房屋稅期限"
    assert secrets == {SECRET}
    assert poller.offset == 602
    assert telegram_api.confirmed == 601


def test_polling_mode_end_to_end_with_the_telegram_poll_command(
    make_settings: Callable[..., Settings], telegram_api: FakeTelegramApi, tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(telegram_channel(telegram_api, mode="polling", webhook_secret=""))
    with serve(create_app(settings)) as url:
        assert telegram_api.webhook_calls == []  # polling mode registers no webhook
        port = url.rstrip("/").rsplit(":", 1)[1]
        env = {
            **os.environ,
            "BOT1999_SETTINGS_FILE": "",
            "BOT1999_SERVER__PORT": port,
            "BOT1999_CHANNELS__TELEGRAM__BOT_TOKEN": BOT_TOKEN,
            "BOT1999_CHANNELS__TELEGRAM__API_BASE_URL": telegram_api.url,
            "BOT1999_CHANNELS__TELEGRAM__MODE": "polling",
        }
        poller = subprocess.Popen(
            [sys.executable, "-m", "bot", "telegram-poll"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        output: list[bytes] = []
        reader = threading.Thread(target=lambda: output.extend(poller.stdout or []), daemon=True)
        reader.start()
        try:
            telegram_api.queue_update(text_update(700, CHAT, "房屋稅期限"))
            wait_until(lambda: len(telegram_api.sent) == 3, what="the answer through the poller")
            assert telegram_api.sent[1].text.startswith("每年五月繳納房屋稅。")
            telegram_api.queue_update(text_update(700, CHAT, "房屋稅期限"))  # Telegram sends it again
            telegram_api.queue_update(callback_update(701, CHAT, "/feedback_good"))
            wait_until(lambda: telegram_api.answered == ["cbq-701"], what="the button press")
            wait_until(lambda: telegram_api.sent[-1].text == "謝謝您的回饋！", what="the thanks")
            assert len(telegram_api.sent) == 5
            assert {"delete": True} in [
                {k: v for k, v in c.items() if k == "delete"} for c in telegram_api.webhook_calls
            ]
        finally:
            os.killpg(poller.pid, signal.SIGTERM)
            poller.wait(timeout=60)  # bounds a hang at shutdown only
            reader.join(timeout=5)
            if poller.stdout is not None:
                poller.stdout.close()
    assert len(turns(database_url, "telegram")) == 2
    assert "polling Telegram" in b"".join(output).decode()


def test_the_poll_command_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    env = {**os.environ, "BOT1999_SETTINGS_FILE": ""}
    env.pop("BOT1999_CHANNELS__TELEGRAM__BOT_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "telegram-poll"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "BOT1999_CHANNELS__TELEGRAM__BOT_TOKEN" in result.stderr


def test_the_supervisor_starts_the_poller_only_in_polling_mode() -> None:
    from bot.settings import load_settings
    from bot.supervisor import children_for

    def names(**telegram: str) -> list[str]:
        settings = load_settings(channels={"telegram": telegram}, rasa={"venv": "/nonexistent"})
        return [child.name for child in children_for(settings)]

    polling = load_settings(
        channels={"telegram": {"bot_token": BOT_TOKEN, "mode": "polling"}}, rasa={"venv": "/nonexistent"}
    )
    [poller] = [c for c in children_for(polling) if c.name == "telegram"]
    assert poller.argv[-2:] == ["bot", "telegram-poll"]
    assert "telegram" not in names(bot_token=BOT_TOKEN, mode="webhook")
    assert "telegram" not in names(mode="polling")  # no token: the channel is off


def test_a_citizen_over_the_per_sender_limit_is_told_to_wait(
    make_settings: Callable[..., Settings], telegram_api: FakeTelegramApi, database_url: str
) -> None:
    limited = make_settings(
        telegram_channel(telegram_api), limits={"channel_per_sender": {"requests": 1, "per_seconds": 600}}
    )
    with TestClient(create_app(limited)) as client:
        post(client, text_update(300, CHAT, "房屋稅期限"))
        wait_until(lambda: any("每年五月" in m.text for m in telegram_api.sent), what="the answer")
        answered = len(telegram_api.sent)
        post(client, text_update(301, CHAT, "房屋稅期限"))
        wait_until(lambda: len(telegram_api.sent) == answered + 1, what="the refusal")
    refused = telegram_api.sent[-1]
    assert refused.chat_id == CHAT
    assert refused.text.startswith("您傳訊息的速度太快了，剛才這則沒有處理。請等 ")
    assert "119 或 110" in refused.text
    assert len(turns(database_url, "telegram")) == 1


def test_a_message_over_the_limit_is_read_up_to_it_and_the_citizen_is_told_what_was_kept(
    client: TestClient, telegram_api: FakeTelegramApi, database_url: str
) -> None:
    words = "舊沙發要怎麼丟" + "，" * 1500
    assert post(client, text_update(300, CHAT, words)).json() == {"accepted": True}
    wait_until(lambda: len(telegram_api.sent) >= 3, what="the answer")
    told = telegram_api.sent[0].text
    assert told.startswith(f"您的訊息有 {len(words)} 字，超過 1000 字的上限：我只讀了前 1000 字")
    assert f"後面的 {len(words) - 1000} 字沒有讀到" in told
    assert "簡易模式" in telegram_api.sent[1].text, "then the answer to the part that was read"
    assert [len(t.text) for t in turns(database_url, "telegram")] == [1000]
