"""Long button payloads behind short tokens, for channels whose button data is small.

Telegram's ``callback_data`` holds at most 64 bytes; a payload such as
``/pick_suggestion{"faq_id":"KHH-…"}`` may not fit. The token is derived from the payload,
so every replica hands out the same token for the same payload, and kept in the store, so a
button still works after a restart.
"""

from __future__ import annotations

import base64
import hashlib

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import ButtonPayloadRow

__all__ = ["ButtonPayloadStore", "TOKEN_PREFIX"]

TOKEN_PREFIX = "~"  # noqa: S105 (not a secret) -- no payload starts with it: payloads start with "/"


class ButtonPayloadStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def token(payload: str) -> str:
        digest = hashlib.sha256(payload.encode("utf-8")).digest()
        return TOKEN_PREFIX + base64.urlsafe_b64encode(digest[:18]).decode("ascii")

    def token_for(self, payload: str) -> str:
        """The short token for ``payload`` (25 ASCII characters), stored on first use."""
        token = self.token(payload)
        if self.session.get(ButtonPayloadRow, token) is None:
            try:
                with self.session.begin_nested():
                    self.session.add(ButtonPayloadRow(token=token, payload=payload))
            except IntegrityError:
                pass  # another replica stored the same token meanwhile
        return token

    def payload(self, token: str) -> str | None:
        row = self.session.get(ButtonPayloadRow, token)
        return row.payload if row is not None else None
