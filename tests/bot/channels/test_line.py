"""LINE through the real line-bot-sdk against a loopback LINE API, with the real app and store.

Rasa is not running, so the chat answers in degraded mode (FAQ answers straight from the
knowledge base); case filing through the Rasa form is in test_case_filing.py.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.channels.base import PushFailed
from bot.channels.line import LineChannel, to_line_messages
from bot.messages import Button, Link, Reply
from bot.settings import Settings
from tests.bot.channels.conftest import BULKY_WASTE_ANSWER, JPEG, channel_events, turns
from tests.fakes.line_api import FakeLineApi, signature, webhook_body
from tests.fakes.loopback import wait_until

SECRET = "line-channel-secret-for-tests"
TOKEN = "line-access-token-for-tests"
USER = "U" + "4af4980629" * 3 + "ab"


@pytest.fixture
def line_api() -> Iterator[FakeLineApi]:
    with FakeLineApi(TOKEN) as api:
        yield api


def line_channel(api: FakeLineApi) -> dict[str, Any]:
    """The ``channels.line`` settings that point the SDK at the loopback LINE API."""
    return {
        "channel_secret": SECRET,
        "channel_access_token": TOKEN,
        "api_base_url": api.api_url,
        "data_api_base_url": api.data_url,
    }


@pytest.fixture
def line_settings(make_settings: Callable[..., Settings], line_api: FakeLineApi) -> Settings:
    return make_settings(
        {
            "line": line_channel(line_api),
            "public_base_url": "https://bot.example.tw",
            "max_photo_bytes": 50_000,
        }
    )


@pytest.fixture
def client(line_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(line_settings)) as test_client:
        yield test_client


def event(
    kind: str, reply_token: str, *, event_id: str | None = None, age: float = 0.0, **fields: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": int((time.time() - age) * 1000),
        "source": {"type": "user", "userId": USER},
        "webhookEventId": event_id or "01" + uuid.uuid4().hex[:24].upper(),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": reply_token,
        **fields,
    }


def text(reply_token: str, words: str, **kw: Any) -> dict[str, Any]:
    message = {"type": "text", "id": str(uuid.uuid4().int)[:18], "quoteToken": "q", "text": words}
    return event("message", reply_token, message=message, **kw)


def postback(reply_token: str, data: str, **kw: Any) -> dict[str, Any]:
    return event("postback", reply_token, postback={"data": data}, **kw)


def post(client: TestClient, *events: dict[str, Any], secret: str = SECRET, sign: bool = True) -> Any:
    body = webhook_body(*events)
    headers = {"content-type": "application/json"}
    if sign:
        headers["x-line-signature"] = signature(secret, body)
    return client.post("/channels/line/webhook", content=body, headers=headers)


def nothing_else_was_answered(client: TestClient, line_api: FakeLineApi, database_url: str) -> None:
    """Prove, without waiting a while, that no earlier event of USER is still to be answered:
    a marker message of theirs is answered after all of them (the inbox answers a citizen's
    events one after another, in order), and every stored event is handled by then."""
    before = len(line_api.deliveries)
    post(client, text(line_api.issue_reply_token(), "舊沙發要怎麼丟"))
    wait_until(lambda: len(line_api.deliveries) > before, what="the answer to the marker message")
    wait_until(
        lambda: all(e.handled_at is not None for e in channel_events(database_url, "line")),
        what="every stored event handled",
    )
    marker = line_api.deliveries[before]
    assert any(t.startswith(BULKY_WASTE_ANSWER) for t in marker.texts), "something came before the marker"
    assert len(line_api.deliveries) == before + 1


def test_unsigned_and_forged_webhooks_are_refused_and_nothing_is_processed(
    client: TestClient, line_api: FakeLineApi, database_url: str
) -> None:
    token = line_api.issue_reply_token()
    unsigned = post(client, text(token, "舊沙發要怎麼丟"), sign=False)
    assert unsigned.status_code == 400
    forged = post(client, text(token, "舊沙發要怎麼丟"), secret="someone-elses-secret")
    assert forged.status_code == 401
    body = webhook_body(text(token, "舊沙發要怎麼丟"))
    tampered = client.post(
        "/channels/line/webhook",
        content=body.replace("舊沙發".encode(), "房屋稅".encode()),
        headers={"x-line-signature": signature(SECRET, body)},
    )
    assert tampered.status_code == 401
    assert channel_events(database_url, "line") == []  # stored before the webhook answers: none
    nothing_else_was_answered(client, line_api, database_url)
    assert len(line_api.deliveries) == 1  # the marker's answer only
    assert len(channel_events(database_url, "line")) == 1
    assert [t.payload for t in turns(database_url, "line")] == [""]  # the marker's turn only
    # LINE's "Verify" button: a signed body without events
    assert post(client).status_code == 200


def test_a_faq_exchange_with_quick_reply_feedback(
    client: TestClient, line_api: FakeLineApi, database_url: str
) -> None:
    response = post(client, text(line_api.issue_reply_token(), "舊沙發要怎麼丟"))
    assert response.status_code == 200
    wait_until(lambda: len(line_api.replies) == 1, what="the answer")
    answer = line_api.replies[0]
    assert len(answer.texts) == 3  # limited-mode notice, the answer, the feedback question
    assert "簡易模式" in answer.texts[0]
    assert "線上反映表單：https://bot.example.tw/cases/new" in answer.texts[0]  # our page, made absolute
    assert answer.texts[1].startswith(BULKY_WASTE_ANSWER)
    assert answer.texts[2] == "這個回答有幫助嗎？"
    assert answer.quick_replies == [
        {"type": "postback", "label": "有幫助", "data": "/feedback_good", "displayText": "有幫助"},
        {"type": "postback", "label": "沒幫助", "data": "/feedback_bad", "displayText": "沒幫助"},
    ]

    assert post(client, postback(line_api.issue_reply_token(), "/feedback_good")).status_code == 200
    wait_until(lambda: len(line_api.replies) == 2, what="the thanks")
    assert "謝謝您的回饋！" in line_api.replies[1].texts
    logged = turns(database_url, "line")
    assert [t.payload for t in logged] == ["", "/feedback_good"]
    assert logged[0].faq_id == "F-1"
    assert logged[0].feedback == "good"
    wait_until(  # the inbox records an event as handled after its answer reached LINE
        lambda: all(e.handled_at is not None for e in channel_events(database_url, "line")),
        what="both events recorded as handled",
    )
    assert line_api.pushes == []


def test_a_redelivered_event_is_answered_once(
    client: TestClient, line_api: FakeLineApi, database_url: str
) -> None:
    first = text(line_api.issue_reply_token(), "房屋稅期限")
    assert post(client, first).json() == {"accepted": 1}
    wait_until(lambda: len(line_api.replies) == 1, what="the answer")
    again = {**first, "replyToken": line_api.issue_reply_token(), "deliveryContext": {"isRedelivery": True}}
    assert post(client, again).json() == {"accepted": 0}
    nothing_else_was_answered(client, line_api, database_url)
    assert len(line_api.deliveries) == 2  # the answer, then the marker's: none to the redelivery
    assert len(turns(database_url, "line")) == 2


def test_an_expired_reply_token_falls_back_to_a_push_delivered_once(
    client: TestClient, line_api: FakeLineApi, database_url: str
) -> None:
    refused = text(line_api.issue_reply_token(expired=True), "房屋稅期限")
    post(client, refused)
    wait_until(lambda: len(line_api.pushes) == 1, what="the push instead of the reply")
    push = line_api.pushes[0]
    assert push.to == USER
    assert push.retry_key
    assert any(t.startswith("每年五月繳納房屋稅。") for t in push.texts)
    assert [r[1:] for r in line_api.refused] == [(400, {"message": "Invalid reply token"})]

    late = text("", "舊沙發要怎麼丟", age=120)  # queued for two minutes: no reply attempted at all
    post(client, late)
    wait_until(lambda: len(line_api.pushes) == 2, what="the late push")
    assert len(line_api.calls("/v2/bot/message/reply")) == 1
    assert len(turns(database_url, "line")) == 2


def test_an_interrupted_event_is_taken_up_again_without_a_second_turn(
    client: TestClient, line_api: FakeLineApi, database_url: str
) -> None:
    line_api.fail_next("/v2/bot/message/reply", 500)
    line_api.fail_next("/v2/bot/message/push", 500)
    post(client, text(line_api.issue_reply_token(), "房屋稅期限"))
    wait_until(lambda: len(line_api.refused) == 2, what="the reply and the push to fail")
    wait_until(lambda: channel_events(database_url, "line")[0].claimed_at is None, what="the event released")
    assert line_api.deliveries == []
    channel: LineChannel = client.app.state.line
    client.portal.call(channel.inbox.sweep)  # (or the periodic sweep did it already)
    wait_until(lambda: len(line_api.deliveries) == 1, what="the retried answer")
    assert line_api.deliveries[0].kind == "reply"  # the reply token was still fresh
    assert len(turns(database_url, "line")) == 1  # the turn was not taken twice
    # the inbox records the event as handled after the answer reached LINE: wait for that too
    wait_until(lambda: channel_events(database_url, "line")[0].handled_at is not None, what="handled")
    [row] = channel_events(database_url, "line")
    assert row.attempts == 2
    assert row.payload is None


def test_a_push_retried_with_the_same_key_is_delivered_once(
    client: TestClient, line_api: FakeLineApi
) -> None:
    channel: LineChannel = client.app.state.line
    key = str(uuid.uuid4())
    for _ in range(2):
        client.portal.call(lambda: channel.push(USER, [Reply(text="案件已受理")], retry_key=key))
    assert [p.texts for p in line_api.pushes] == [["案件已受理"]]
    assert [r[1] for r in line_api.refused] == []  # the 409 of the second push is not an error
    assert len(line_api.calls("/v2/bot/message/push")) == 2


def test_a_location_and_photos_reach_the_conversation(
    client: TestClient, line_api: FakeLineApi, database_url: str, line_settings: Settings
) -> None:
    location = {
        "type": "location",
        "id": "325708",
        "title": "建國二路口",
        "address": "高雄市三民區建國二路",
        "latitude": 22.6394,
        "longitude": 120.3025,
    }
    post(client, event("message", line_api.issue_reply_token(), message=location))
    wait_until(lambda: len(line_api.replies) == 1, what="the answer to the location")
    assert any("收到位置或照片了" in t for t in line_api.replies[0].texts)

    line_api.add_content("900001", JPEG)
    image = {"type": "image", "id": "900001", "quoteToken": "q", "contentProvider": {"type": "line"}}
    post(client, event("message", line_api.issue_reply_token(), message=image))
    wait_until(lambda: len(line_api.replies) == 2, what="the answer to the photo")
    assert any("收到位置或照片了" in t for t in line_api.replies[1].texts)
    assert line_api.calls("/v2/bot/message/900001/content")[0].headers["authorization"] == f"Bearer {TOKEN}"
    stored = list(line_settings.channels.media_dir.rglob("*.jpg"))
    assert len(stored) == 1
    assert stored[0].read_bytes() == JPEG

    line_api.add_content("900002", b"%PDF-1.4 a document, not a photo")
    line_api.add_content("900003", b"\xff\xd8\xff" + b"\x00" * 60_000)
    for n, message_id in enumerate(["900002", "900003"], 3):
        image = {"type": "image", "id": message_id, "quoteToken": "q", "contentProvider": {"type": "line"}}
        post(client, event("message", line_api.issue_reply_token(), message=image))
        wait_until(lambda n=n: len(line_api.replies) == n, what="the refusal")
    assert line_api.replies[2].texts == ["只能收 JPEG、PNG 或 WebP 格式的照片，請改傳一張照片。"]
    assert line_api.replies[3].texts == ["照片太大了（上限 0.05 MB），請縮小或改傳另一張照片。"]
    assert len(list(line_settings.channels.media_dir.rglob("*.*"))) == 1
    assert len(turns(database_url, "line")) == 2  # the refused files took no turn

    sticker = {
        "type": "sticker",
        "id": "1",
        "quoteToken": "q",
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
    }
    post(client, event("message", line_api.issue_reply_token(), message=sticker))
    wait_until(lambda: len(line_api.replies) == 5, what="the answer to a sticker")
    assert "只看得懂文字、位置和照片" in line_api.replies[4].texts[0]


def test_a_push_notification_through_the_gateway(client: TestClient, line_api: FakeLineApi) -> None:
    gateways = client.app.state.gateways
    assert "line" in gateways.names()
    notice = [
        Reply(kind="case", text="您的案件 1150101-0001 已結案。", links=[Link(title="查看", url="/cases/1")])
    ]
    client.portal.call(gateways.push, "line", USER, notice)
    [push] = line_api.pushes
    assert push.to == USER
    assert push.texts == ["您的案件 1150101-0001 已結案。\n查看：https://bot.example.tw/cases/1"]
    uuid.UUID(push.retry_key)
    with pytest.raises(PushFailed, match="LINE push"):
        client.portal.call(gateways.push, "line", "not-a-line-user", notice)


def test_the_follow_event_greets_and_unknown_events_are_ignored(
    client: TestClient, line_api: FakeLineApi, database_url: str
) -> None:
    post(client, event("follow", line_api.issue_reply_token(), follow={"isUnblocked": False}))
    wait_until(lambda: len(line_api.replies) == 1, what="the greeting")
    assert "1999 智慧客服" in line_api.replies[0].texts[0]
    assert post(client, event("somethingNew", line_api.issue_reply_token())).status_code == 200
    standby = {**text(line_api.issue_reply_token(), "房屋稅期限"), "mode": "standby"}
    assert post(client, standby).status_code == 200
    nothing_else_was_answered(client, line_api, database_url)
    assert len(line_api.deliveries) == 2  # the greeting, then the marker's answer


def test_malformed_bodies_are_refused(client: TestClient) -> None:
    for body in (b"not json", b'{"events": "nope"}', b"[1, 2]"):
        response = client.post(
            "/channels/line/webhook", content=body, headers={"x-line-signature": signature(SECRET, body)}
        )
        assert response.status_code == 400, body


def test_replies_become_at_most_five_messages_with_quick_replies_line_accepts() -> None:
    long_title = "大型垃圾清運需要先預約嗎？如果沒有預約可以直接放在路邊嗎？"
    replies = [Reply(text=f"第 {n} 則") for n in range(7)] + [
        Reply(
            kind="clarify",
            text="請問您想問的是？",
            buttons=[Button(title=long_title, payload=f"/x{n}") for n in range(15)],
        ),
        Reply(text="", links=[Link(title="表單", url="/cases/new")]),
    ]
    messages = [m.to_dict() for m in to_line_messages(replies)]
    assert len(messages) == 5
    assert "第 4 則" in messages[4]["text"]
    assert "請問您想問的是？" in messages[4]["text"]
    assert "表單" not in json.dumps(messages, ensure_ascii=False)  # a relative link without a public address
    items = messages[-1]["quickReply"]["items"]
    assert len(items) == 13
    assert all(len(i["action"]["label"]) <= 20 and i["action"]["displayText"] == long_title for i in items)
    assert "quickReply" not in messages[0]


def test_the_channel_is_off_without_credentials(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.running")
    settings = make_settings({"line": {"channel_secret": SECRET}})  # a secret but no access token
    with TestClient(create_app(settings)) as client:
        body = webhook_body()
        response = client.post(
            "/channels/line/webhook", content=body, headers={"x-line-signature": signature(SECRET, body)}
        )
        assert response.status_code == 404
        assert "off" in response.json()["detail"]
        assert "line" not in client.app.state.gateways.names()
    assert "LINE channel off: no credentials" in caplog.text


def test_a_citizen_over_the_per_sender_limit_is_told_to_wait(
    make_settings: Callable[..., Settings], line_api: FakeLineApi, database_url: str
) -> None:
    limited = make_settings(
        {"line": line_channel(line_api)}, limits={"channel_per_sender": {"requests": 2, "per_seconds": 600}}
    )
    other = {"type": "user", "userId": "U" + "1234567890" * 3 + "cd"}
    with TestClient(create_app(limited)) as client:
        for n in range(3):
            post(client, text(line_api.issue_reply_token(), "房屋稅期限"))
            wait_until(lambda n=n: len(line_api.replies) == n + 1, what=f"reply {n + 1}")
        post(client, text(line_api.issue_reply_token(), "房屋稅期限", source=other))
        wait_until(lambda: len(line_api.replies) == 4, what="another citizen's answer")
    (refused,) = line_api.replies[2].texts
    wait = re.fullmatch(
        r"您傳訊息的速度太快了，剛才這則沒有處理。請等 (\d+) 秒後再傳一次。緊急狀況請直接撥 119 或 110。",
        refused,
    )
    assert wait is not None, refused
    assert 1 <= int(wait.group(1)) <= 300  # 2 per 600 s: the next one is allowed after 300 s at most
    assert any("每年五月" in t for t in line_api.replies[3].texts)  # the limit is per citizen
    assert len(turns(database_url, "line")) == 3  # the first citizen's two turns and the other's one


def test_a_message_over_the_limit_is_read_up_to_it_and_the_citizen_is_told_what_was_kept(
    client: TestClient, line_api: FakeLineApi, database_url: str
) -> None:
    words = "舊沙發要怎麼丟" + "，" * 990 + "後面還有很多字沒有讀到" + "。" * 200
    post(client, text(line_api.issue_reply_token(), words))
    wait_until(lambda: len(line_api.replies) == 1, what="the answer")
    texts = line_api.replies[0].texts
    assert texts[0] == (
        f"您的訊息有 {len(words)} 字，超過 1000 字的上限：我只讀了前 1000 字"
        f"（到「…{words[988:1000]}」為止），後面的 {len(words) - 1000} 字沒有讀到，請分成另一則再傳一次。"
    )
    assert "簡易模式" in texts[1], "then the answer to the part that was read"
    assert [len(t.text) for t in turns(database_url, "line")] == [1000]
