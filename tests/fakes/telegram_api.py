"""A loopback fake of the Telegram Bot API (for ``channels.telegram.api_base_url``).

Methods at ``/bot<token>/<method>`` (form-encoded or JSON parameters, as the Bot API takes
them): ``getMe``, ``sendMessage``, ``answerCallbackQuery``, ``getFile``, ``getUpdates``
(long polling with ``offset``), ``setWebhook``, ``deleteWebhook``; files at
``/file/bot<token>/<file_path>``. Answers are in the Bot API's envelope
(``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description"}``) with its
errors: 401 for a bad token, 404 for an unknown method, 409 for getUpdates while a webhook
is set, 403 for a chat that blocked the bot, 400 for ``callback_data`` over 64 bytes
(``BUTTON_DATA_INVALID``), an empty or over-long text or an unknown file.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.loopback import LoopbackApp, Request, Response, json_response

__all__ = [
    "FakeTelegramApi",
    "Sent",
    "callback_update",
    "document_update",
    "location_update",
    "photo_update",
    "text_update",
]

BOT_USER = {"id": 7000001999, "is_bot": True, "first_name": "1999 客服", "username": "bot1999_test_bot"}


def _user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "市民", "language_code": "zh-hant"}


def _chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": "市民"}


def _message(update_id: int, chat_id: int, **content: Any) -> dict[str, Any]:
    message = {
        "message_id": update_id % 100000,
        "date": int(time.time()),
        "chat": _chat(chat_id),
        "from": _user(chat_id),
    }
    return {"update_id": update_id, "message": {**message, **content}}


def text_update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    return _message(update_id, chat_id, text=text)


def location_update(update_id: int, chat_id: int, latitude: float, longitude: float) -> dict[str, Any]:
    return _message(update_id, chat_id, location={"latitude": latitude, "longitude": longitude})


def photo_update(update_id: int, chat_id: int, file_id: str, size: int) -> dict[str, Any]:
    sizes = [
        {
            "file_id": f"{file_id}-thumb",
            "file_unique_id": f"{file_id}-t",
            "width": 90,
            "height": 67,
            "file_size": 1200,
        },
        {
            "file_id": file_id,
            "file_unique_id": f"{file_id}-u",
            "width": 1280,
            "height": 960,
            "file_size": size,
        },
    ]
    return _message(update_id, chat_id, photo=sizes)


def document_update(update_id: int, chat_id: int, file_id: str, size: int, mime_type: str) -> dict[str, Any]:
    """A file sent as a document (an uncompressed photo, say)."""
    document = {
        "file_id": file_id,
        "file_unique_id": f"{file_id}-u",
        "file_name": "IMG_1999.jpg",
        "mime_type": mime_type,
        "file_size": size,
    }
    return _message(update_id, chat_id, document=document)


def callback_update(update_id: int, chat_id: int, data: str, message_id: int = 1) -> dict[str, Any]:
    message = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": _chat(chat_id),
        "from": BOT_USER,
        "text": "…",
    }
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cbq-{update_id}",
            "from": _user(chat_id),
            "message": message,
            "chat_instance": "-1999",
            "data": data,
        },
    }


@dataclass(frozen=True)
class Sent:
    chat_id: int
    text: str
    keyboard: list[list[dict[str, Any]]]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [button for row in self.keyboard for button in row]


def _error(code: int, description: str) -> Response:
    return json_response(code, {"ok": False, "error_code": code, "description": description})


def _ok(result: Any) -> Response:
    return json_response(200, {"ok": True, "result": result})


class FakeTelegramApi(LoopbackApp):
    name = "fake-telegram"

    def __init__(self, token: str, *, long_poll_cap: float = 0.5) -> None:
        super().__init__()
        self.token = token
        self.long_poll_cap = long_poll_cap
        self.sent: list[Sent] = []
        self.answered: list[str] = []
        self.webhook: dict[str, Any] | None = None
        self.webhook_calls: list[dict[str, Any]] = []
        self.blocked: set[int] = set()
        self.updates: list[dict[str, Any]] = []
        self.confirmed = 0  # the highest update_id a getUpdates offset confirmed
        self._files: dict[str, tuple[str, bytes]] = {}
        self._file_sizes: dict[str, int] = {}
        self._new_update = threading.Condition(self.lock)
        self._message_ids = itertools.count(1000)

    # -- what tests set up
    def add_file(self, file_id: str, data: bytes, *, announced_size: int | None = None) -> None:
        self._files[file_id] = (f"photos/file_{len(self._files)}.jpg", data)
        self._file_sizes[file_id] = len(data) if announced_size is None else announced_size

    def queue_update(self, update: dict[str, Any]) -> None:
        with self._new_update:
            self.updates.append(update)
            self._new_update.notify_all()

    def calls(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/" + method)]

    # -- serving
    def handle(self, request: Request) -> Response:
        prefix, file_prefix = f"/bot{self.token}/", f"/file/bot{self.token}/"
        if request.path.startswith(file_prefix):
            path = request.path.removeprefix(file_prefix)
            for file_path, data in self._files.values():
                if file_path == path:
                    return Response(200, data, "application/octet-stream")
            return _error(404, "Not Found")
        if not request.path.startswith(prefix):
            return _error(401, "Unauthorized")
        method = request.path.removeprefix(prefix)
        params = self._params(request)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        result: Response = handler(params)
        return result

    @staticmethod
    def _params(request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            data = request.json() or {}
            return dict(data)
        raw = {k: v[-1] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
        params: dict[str, Any] = {}
        for key, value in raw.items():  # complex values are JSON-serialised, as the Bot API takes them
            try:
                params[key] = json.loads(value) if value[:1] in "[{" else value
            except json.JSONDecodeError:
                params[key] = value
        return params

    def _m_getMe(self, params: dict[str, Any]) -> Response:
        return _ok(BOT_USER)

    def _m_sendMessage(self, params: dict[str, Any]) -> Response:
        chat_id = int(params.get("chat_id", 0))
        text = str(params.get("text", ""))
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        markup = params.get("reply_markup") or {}
        keyboard = markup.get("inline_keyboard") or []
        for row in keyboard:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    return _error(400, "Bad Request: BUTTON_DATA_INVALID")
                if data is None and "url" not in button:
                    return _error(400, "Bad Request: can't parse inline keyboard button")
        with self.lock:
            self.sent.append(Sent(chat_id, text, keyboard))
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": BOT_USER,
            "text": text,
        }
        if keyboard:
            message["reply_markup"] = {"inline_keyboard": keyboard}
        return _ok(message)

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Response:
        with self.lock:
            self.answered.append(str(params.get("callback_query_id", "")))
        return _ok(True)

    def _m_getFile(self, params: dict[str, Any]) -> Response:
        file_id = str(params.get("file_id", ""))
        if file_id not in self._files:
            return _error(400, "Bad Request: invalid file_id")
        file_path, _ = self._files[file_id]
        size = self._file_sizes[file_id]
        if size > 20 * 1024 * 1024:
            return _error(400, "Bad Request: file is too big")
        return _ok(
            {"file_id": file_id, "file_unique_id": file_id + "-u", "file_size": size, "file_path": file_path}
        )

    def _m_setWebhook(self, params: dict[str, Any]) -> Response:
        with self.lock:
            self.webhook_calls.append(params)
            self.webhook = params
        return _ok(True)

    def _m_deleteWebhook(self, params: dict[str, Any]) -> Response:
        with self.lock:
            self.webhook_calls.append({"delete": True, **params})
            self.webhook = None
        return _ok(True)

    def _m_getUpdates(self, params: dict[str, Any]) -> Response:
        if self.webhook is not None:
            return _error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), self.long_poll_cap)
        deadline = time.monotonic() + timeout
        with self._new_update:
            if offset:
                self.confirmed = max(self.confirmed, offset - 1)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and not self.stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._new_update.wait(left)
            return _ok(list(self.updates[:100]))
