"""A loopback fake of the LINE Messaging API: two hosts, as LINE has.

``api`` (for ``channels.line.api_base_url``) answers ``POST /v2/bot/message/reply`` and
``POST /v2/bot/message/push``; ``data`` (for ``data_api_base_url``) answers
``GET /v2/bot/message/{messageId}/content``. Both check ``Authorization: Bearer <token>``
and answer in LINE's shapes, including its errors: 401 for a bad token, 400 ``Invalid reply
token`` for an unknown, used or expired reply token, 400 with ``details`` for a message LINE
would refuse (more than 5 messages, text over 5000 characters, more than 13 quick replies,
a postback label over 20 characters or data over 300), 409 for a push whose
``X-Line-Retry-Key`` was accepted before. Tests read what was delivered from ``replies``
and ``pushes`` and can make the next calls fail with ``fail_next``.

``signature(secret, body)`` signs a webhook body the way LINE does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.fakes.loopback import LoopbackApp, Request, Response, json_response

__all__ = ["Delivery", "FakeLineApi", "signature", "webhook_body"]

_CONTENT = re.compile(r"^/v2/bot/message/(?P<id>[^/]+)/content$")
AUTH_FAILED = {
    "message": "Authentication failed. Confirm that the access token in the authorization header is valid."
}


def signature(secret: str, body: bytes) -> str:
    """``X-Line-Signature``: base64 of the HMAC-SHA256 of the body with the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def webhook_body(*events: dict[str, Any], destination: str = "U0000000000000000000000000000bot") -> bytes:
    return json.dumps({"destination": destination, "events": list(events)}, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Delivery:
    """A reply or push LINE accepted: to whom (push) or which token (reply), and the messages."""

    kind: str  # "reply" or "push"
    to: str
    messages: list[dict[str, Any]]
    retry_key: str = ""

    @property
    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.messages]

    @property
    def quick_replies(self) -> list[dict[str, Any]]:
        """The actions of the last message's quick-reply items."""
        items = (self.messages[-1].get("quickReply") or {}).get("items") or []
        return [item["action"] for item in items]


def _message_errors(messages: Any) -> list[dict[str, str]]:
    errors = []
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return [{"message": "Size must be between 1 and 5", "property": "messages"}]
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if message.get("type") != "text":
            errors.append(
                {"message": "Only text messages are expected by this fake", "property": f"{where}.type"}
            )
            continue
        if not 1 <= len(message.get("text") or "") <= 5000:
            errors.append({"message": "Length must be between 1 and 5000", "property": f"{where}.text"})
        quick = message.get("quickReply")
        if quick is None:
            continue
        items = quick.get("items") or []
        if not 1 <= len(items) <= 13:
            errors.append(
                {"message": "Size must be between 1 and 13", "property": f"{where}.quickReply.items"}
            )
        for j, item in enumerate(items):
            action = item.get("action") or {}
            at = f"{where}.quickReply.items[{j}].action"
            if item.get("type") != "action":
                errors.append(
                    {"message": "Must be 'action'", "property": f"{where}.quickReply.items[{j}].type"}
                )
            if action.get("type") == "postback":
                if not 1 <= len(action.get("label") or "") <= 20:
                    errors.append({"message": "Length must be between 1 and 20", "property": f"{at}.label"})
                if not 1 <= len(action.get("data") or "") <= 300:
                    errors.append({"message": "Length must be between 1 and 300", "property": f"{at}.data"})
                if len(action.get("displayText") or "") > 300:
                    errors.append(
                        {"message": "Length must be between 0 and 300", "property": f"{at}.displayText"}
                    )
            elif action.get("type") == "uri":
                if not str(action.get("uri", "")).startswith(("https://", "http://", "tel:", "line://")):
                    errors.append({"message": "Invalid URI", "property": f"{at}.uri"})
            else:
                errors.append({"message": "Unexpected action type", "property": f"{at}.type"})
    return errors


class _Host(LoopbackApp):
    def __init__(self, owner: FakeLineApi, name: str) -> None:
        super().__init__()
        self.owner = owner
        self.name = name

    def handle(self, request: Request) -> Response:
        return self.owner._handle(self.name, request)


class FakeLineApi:
    """Start with ``with FakeLineApi(token) as line:``; ``line.api_url`` and ``line.data_url``."""

    def __init__(self, access_token: str, *, reply_token_seconds: float = 60.0) -> None:
        self.access_token = access_token
        self.reply_token_seconds = reply_token_seconds
        self.api = _Host(self, "fake-line-api")
        self.data = _Host(self, "fake-line-data")
        self.deliveries: list[Delivery] = []
        self.refused: list[tuple[str, int, Any]] = []  # (path, status, error body)
        self._tokens: dict[str, float] = {}
        self._retry_keys: dict[str, str] = {}
        self._contents: dict[str, tuple[bytes, str]] = {}
        self._failures: deque[tuple[str, int, dict[str, Any]]] = deque()
        self._ids = itertools.count(461230966842064897)

    def __enter__(self) -> FakeLineApi:
        self.api.start()
        self.data.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.stop()
        self.data.stop()

    @property
    def api_url(self) -> str:
        return self.api.url

    @property
    def data_url(self) -> str:
        return self.data.url

    # -- what tests set up
    def issue_reply_token(self, *, expired: bool = False) -> str:
        token = uuid.uuid4().hex
        with self.api.lock:
            self._tokens[token] = time.monotonic() - (self.reply_token_seconds + 1 if expired else 0)
        return token

    def add_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        self._contents[message_id] = (data, content_type)

    def fail_next(self, path: str, status: int, body: dict[str, Any] | None = None) -> None:
        self._failures.append((path, status, body or {"message": "An error occurred in the fake"}))

    # -- what tests read
    @property
    def replies(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.kind == "reply"]

    @property
    def pushes(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.kind == "push"]

    def calls(self, path: str) -> list[Request]:
        return [r for r in self.api.requests + self.data.requests if r.path == path]

    # -- serving
    def _handle(self, host: str, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return self._refuse(request.path, 401, AUTH_FAILED)
        for i, (path, status, body) in enumerate(self._failures):
            if path == request.path:
                del self._failures[i]
                return self._refuse(request.path, status, body)
        if host == "fake-line-api" and request.method == "POST":
            if request.path == "/v2/bot/message/reply":
                return self._reply(request)
            if request.path == "/v2/bot/message/push":
                return self._push(request)
        if host == "fake-line-data" and request.method == "GET":
            match = _CONTENT.match(request.path)
            if match and match["id"] in self._contents:
                data, content_type = self._contents[match["id"]]
                return Response(200, data, content_type)
        return self._refuse(request.path, 404, {"message": "Not found"})

    def _refuse(self, path: str, status: int, body: dict[str, Any]) -> Response:
        with self.api.lock:
            self.refused.append((path, status, body))
        return json_response(status, body, {"x-line-request-id": str(uuid.uuid4())})

    def _sent(self, count: int) -> dict[str, Any]:
        return {
            "sentMessages": [
                {"id": str(next(self._ids)), "quoteToken": uuid.uuid4().hex} for _ in range(count)
            ]
        }

    def _reply(self, request: Request) -> Response:
        body = request.json()
        token = body.get("replyToken", "")
        with self.api.lock:
            issued = self._tokens.pop(token, None)
        if issued is None or time.monotonic() - issued > self.reply_token_seconds:
            return self._refuse(request.path, 400, {"message": "Invalid reply token"})
        errors = _message_errors(body.get("messages"))
        if errors:
            with self.api.lock:
                self._tokens[token] = issued  # a refused request does not use the token up
            return self._refuse(
                request.path,
                400,
                {"message": f"The request body has {len(errors)} error(s)", "details": errors},
            )
        with self.api.lock:
            self.deliveries.append(Delivery("reply", token, body["messages"]))
        return json_response(200, self._sent(len(body["messages"])), {"x-line-request-id": str(uuid.uuid4())})

    def _push(self, request: Request) -> Response:
        body = request.json()
        key = request.headers.get("x-line-retry-key", "")
        if key:
            try:
                uuid.UUID(key)
            except ValueError:
                return self._refuse(request.path, 400, {"message": "The retry key is invalid"})
            with self.api.lock:
                accepted = self._retry_keys.get(key)
            if accepted is not None:
                return json_response(
                    409,
                    {"message": "The retry key is already accepted", **self._sent(0)},
                    {"x-line-accepted-request-id": accepted, "x-line-request-id": str(uuid.uuid4())},
                )
        to = body.get("to", "")
        if not re.fullmatch(r"U[0-9a-f]{32}", to):
            return self._refuse(
                request.path,
                400,
                {"message": "The property, 'to', in the request body is invalid (line: -, column: -)"},
            )
        errors = _message_errors(body.get("messages"))
        if errors:
            return self._refuse(
                request.path,
                400,
                {"message": f"The request body has {len(errors)} error(s)", "details": errors},
            )
        request_id = str(uuid.uuid4())
        with self.api.lock:
            if key:
                self._retry_keys[key] = request_id
            self.deliveries.append(Delivery("push", to, body["messages"], key))
        return json_response(200, self._sent(len(body["messages"])), {"x-line-request-id": request_id})
