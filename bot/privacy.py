"""Personal data in free text: Taiwanese ID numbers, phone numbers and e-mail addresses.

``redact`` replaces them with a tag so that analytics, logs and public APIs never carry
them; the original stays only where the service needs it (a case's contact phone).
"""

from __future__ import annotations

import hashlib
import hmac
import re

__all__ = ["PATTERNS", "pseudonymise", "redact"]

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")),
    # national ID / resident certificate: a letter, then 1/2 (or A-D / 8-9 for residents), then 8 digits
    ("id", re.compile(r"(?<![A-Za-z0-9])[A-Za-z][12ABCDabcd89]\d{8}(?!\d)")),
    # mobile 09xx-xxx-xxx, +886 9xx..., landline (0x) xxxx-xxxx, with spaces or dashes
    ("phone", re.compile(r"(?<!\d)(?:\+886[\s\-]?|0)9\d{2}[\s\-]?\d{3}[\s\-]?\d{3}(?!\d)")),
    ("phone", re.compile(r"(?<!\d)\(?0[2-8]\)?[\s\-]?\d{3,4}[\s\-]?\d{4}(?!\d)")),
)


_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def redact(text: str) -> str:
    """The text with every ID number, phone number and e-mail replaced by ``[id]``, ``[phone]``, ``[email]``.

    Full-width letters and digits are matched as their ASCII forms; the rest of the text is
    returned exactly as it was.
    """
    for tag, pattern in PATTERNS:
        folded = text.translate(_HALF_WIDTH)  # same length, so spans map back onto ``text``
        pieces, last = [], 0
        for match in pattern.finditer(folded):
            pieces += [text[last : match.start()], f"[{tag}]"]
            last = match.end()
        text = "".join(pieces) + text[last:]
    return text


def pseudonymise(channel: str, user_id: str, key: str) -> str:
    """A stable pseudonymous id for a channel's user: the same person maps to the same id,
    and the id cannot be turned back into the LINE / Telegram / web id without the key."""
    digest = hmac.new(key.encode("utf-8"), f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"p_{digest[:24]}"
