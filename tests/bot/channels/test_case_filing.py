"""Filing a case over LINE and over Telegram through the real Rasa form, with a location and a photo.

The real Rasa server and action server (tests/conversations' ``rasa_stack``), the real app on
that store, and the real SDKs against the loopback LINE and Telegram APIs. After filing, a
status change of the case is pushed to the citizen's chat by the notification loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.cases import CaseStatus
from bot.cases.numbers import is_valid_case_number
from bot.handoff.notifications import change_case_status
from bot.media import MediaStore
from bot.settings import Settings
from bot.store import Database
from bot.store.cases import CaseStore
from tests.bot.channels.conftest import JPEG
from tests.bot.channels.test_line import TOKEN, USER, event, line_channel, post, postback, text
from tests.bot.channels.test_telegram import BOT_TOKEN, CHAT
from tests.bot.channels.test_telegram import SECRET as TG_SECRET
from tests.conftest import app_settings
from tests.conversations.conftest import RasaStack, rasa_stack  # noqa: F401 (the shared fixture)
from tests.fakes.line_api import FakeLineApi
from tests.fakes.loopback import wait_until
from tests.fakes.telegram_api import (
    FakeTelegramApi,
    callback_update,
    location_update,
    photo_update,
    text_update,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _settings(stack: RasaStack, folder: Path, channels: dict[str, Any]) -> Settings:
    rasa = {"url": stack.rasa_url, "timeout_seconds": 60, "cool_off_seconds": 1}  # a loaded machine's turn
    handoff = {"delivery_poll_seconds": 0.2, "filed_notice_grace_seconds": 0}
    channels = {"media_dir": str(folder / "media"), "public_base_url": "https://bot.example.tw", **channels}
    return app_settings(stack.database_url, folder, rasa=rasa, channels=channels, handoff=handoff)


def _case_number(texts: list[str]) -> str:
    words = " ".join(texts).replace("：", " ").split()
    return next(word for word in words if is_valid_case_number(word))


def _assign(stack: RasaStack, number: str) -> None:
    """The agency takes the case: the citizen is told through their channel."""
    database = Database(stack.database_url)
    with database.session() as session:
        change_case_status(session, number, CaseStatus.ASSIGNED, actor="test-agency")
    database.dispose()


@pytest.fixture
def line_api() -> Iterator[FakeLineApi]:
    with FakeLineApi(TOKEN) as api:
        yield api


def test_a_case_filed_over_line_with_a_shared_location_and_a_photo(
    rasa_stack: RasaStack,  # noqa: F811 (the fixture imported above)
    line_api: FakeLineApi,
    tmp_path: Path,
) -> None:
    settings = _settings(rasa_stack, tmp_path, {"line": line_channel(line_api)})
    line_api.add_content("910001", JPEG)
    with TestClient(create_app(settings)) as client:
        steps: list[tuple[dict[str, Any], str]] = []

        def say(message: dict[str, Any], expect: str) -> Any:
            post(client, message)
            wait_until(lambda: len(line_api.replies) == len(steps) + 1, what=f"the answer before {expect!r}")
            steps.append((message, expect))
            answer = line_api.replies[-1]
            assert expect in "\n".join(answer.texts), answer.texts
            return answer

        unknown = say(
            text(line_api.issue_reply_token(), "請問身心障礙停車證要去哪裡申請"), "找不到可靠的答案"
        )
        report = next(a["data"] for a in unknown.quick_replies if a["displayText"] == "我要反映問題／報案")
        asked = say(postback(line_api.issue_reply_token(), report), "哪一類問題")
        street_light = next(a["data"] for a in asked.quick_replies if a["label"] == "路燈故障")
        say(postback(line_api.issue_reply_token(), street_light), "發生的地點")
        location = {
            "type": "location",
            "id": "1",
            "title": "路口",
            "address": "高雄市",
            "latitude": 22.6273,
            "longitude": 120.3014,
        }
        say(event("message", line_api.issue_reply_token(), message=location), "描述狀況")
        say(text(line_api.issue_reply_token(), "整條巷子的路燈晚上都不亮"), "照片")
        image = {"type": "image", "id": "910001", "quoteToken": "q", "contentProvider": {"type": "line"}}
        say(event("message", line_api.issue_reply_token(), message=image), "聯絡電話")
        say(text(line_api.issue_reply_token(), "0912-345-678"), "同意")
        say(postback(line_api.issue_reply_token(), "/affirm"), "請確認要送出的案件資料")
        filed = say(postback(line_api.issue_reply_token(), "/affirm"), "案件編號")

        number = _case_number(filed.texts)
        database = Database(rasa_stack.database_url)
        with database.session() as session:
            case = CaseStore(session).get(number)
            assert (case.category, case.latitude, case.longitude) == ("street_light", 22.6273, 120.3014)
            assert case.channel == "line"
            photo = MediaStore(settings.channels.media_dir, settings.channels.max_photo_bytes).path(
                case.photo_ref
            )
            assert photo is not None
            assert photo.read_bytes() == JPEG
        database.dispose()

        _assign(rasa_stack, number)
        wait_until(
            lambda: any(f"{number} 已派工" in t for p in line_api.pushes for t in p.texts),
            what="the status push",
        )
        push = next(p for p in line_api.pushes if any(f"{number} 已派工" in t for t in p.texts))
        assert push.to == USER


def test_a_case_filed_over_telegram_with_a_shared_location_and_a_photo(
    rasa_stack: RasaStack,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    with FakeTelegramApi(BOT_TOKEN) as api:
        channels = {
            "telegram": {"bot_token": BOT_TOKEN, "webhook_secret": TG_SECRET, "api_base_url": api.url}
        }
        settings = _settings(rasa_stack, tmp_path, channels)
        api.add_file("case-photo", JPEG)
        chat = CHAT + 1
        with TestClient(create_app(settings)) as client:
            update_ids = iter(range(9000, 9100))

            def send(update: dict[str, Any], expect: str) -> Any:
                before = len(api.sent)
                response = client.post(
                    "/channels/telegram/webhook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
                )
                assert response.status_code == 200
                wait_until(lambda: any(expect in m.text for m in api.sent[before:]), what=repr(expect))
                return api.sent[before:]

            unknown = send(
                text_update(next(update_ids), chat, "請問身心障礙停車證要去哪裡申請"), "找不到可靠的答案"
            )
            report = next(
                b["callback_data"] for m in unknown for b in m.buttons if b["text"] == "我要反映問題／報案"
            )
            asked = send(callback_update(next(update_ids), chat, report), "哪一類問題")
            street_light = next(
                b["callback_data"] for m in asked for b in m.buttons if b["text"] == "路燈故障"
            )
            send(callback_update(next(update_ids), chat, street_light), "發生的地點")
            send(location_update(next(update_ids), chat, 22.6273, 120.3014), "描述狀況")
            send(text_update(next(update_ids), chat, "整條巷子的路燈晚上都不亮"), "照片")
            send(photo_update(next(update_ids), chat, "case-photo", len(JPEG)), "聯絡電話")
            send(text_update(next(update_ids), chat, "0912345678"), "同意")
            send(callback_update(next(update_ids), chat, "/affirm"), "請確認要送出的案件資料")
            filed = send(callback_update(next(update_ids), chat, "/affirm"), "案件編號")

            number = _case_number([m.text for m in filed])
            database = Database(rasa_stack.database_url)
            with database.session() as session:
                case = CaseStore(session).get(number)
                assert (case.latitude, case.longitude, case.channel) == (22.6273, 120.3014, "telegram")
                assert case.photo_ref.startswith("media:")
                assert case.photo_ref.endswith(".jpg")
            database.dispose()

            _assign(rasa_stack, number)
            wait_until(
                lambda: any(f"{number} 已派工" in m.text and m.chat_id == chat for m in api.sent),
                what="the status push",
            )
