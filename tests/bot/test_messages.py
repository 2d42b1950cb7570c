import pytest
from pydantic import ValidationError

from bot.messages import ChatRequest, Incoming, parse_payload, pick_payload


def test_payload_round_trip() -> None:
    assert parse_payload(pick_payload("KHH-1-2")) == ("pick_suggestion", {"faq_id": "KHH-1-2"})
    assert parse_payload("/feedback_good") == ("feedback_good", {})
    assert parse_payload("hello") is None
    assert parse_payload('/pick_suggestion{"faq_id": ') is None


@pytest.mark.parametrize(
    "body",
    [
        {"sender": "s1"},
        {"sender": "s1", "text": "   "},
        {"sender": "s1", "text": "hi", "payload": "/greet"},
        {"sender": "bad sender!", "text": "hi"},
        {"sender": "s1", "text": "長" * 1001},
        {"sender": "s1", "text": "hi", "extra": 1},
        {"sender": "s1", "location": {"latitude": 91, "longitude": 0}},
    ],
)
def test_malformed_chat_requests_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ChatRequest.model_validate(body)


def test_an_incoming_message_needs_content() -> None:
    with pytest.raises(ValidationError, match="needs text"):
        Incoming(channel="web", user_id="u")
    assert Incoming(channel="line", user_id="u", photo_ref="line:123").photo_ref == "line:123"
