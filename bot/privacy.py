"""Personal data in free text: Taiwanese ID numbers, phone numbers, e-mail and street addresses.

``redact`` replaces them with a tag so that analytics, logs and public APIs never carry
them; the original stays only where the service needs it (a case's contact phone), and only
for as long as ``privacy.retention_days`` says (``bot1999 purge``).

``redact_identifiers`` also removes what opens a citizen's case — case numbers and answers
that look like the three phone digits of a status check — and names given as such (我是…). Free text that leaves the staff
side (the public case API, exports, logs) goes through it; ``install_log_redaction`` makes
every log record of the process go through it. ``street_level`` cuts an address down to its
street, for the public case API.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "IDENTIFIER_PATTERNS",
    "PATTERNS",
    "RedactingFilter",
    "install_log_redaction",
    "pseudonymise",
    "redact",
    "redact_case_keys",
    "redact_identifiers",
    "redact_record",
    "street_level",
]

# A street address down to the lane or the house number: [city][district][village] road [section]
# [lane][alley] number [floor], e.g. 高雄市苓雅區四維三路2號, 中正路100巷5弄3號之1 4樓, 五福一路12巷.
# A road name alone (中正路, 中正路與五福路口) is not personal and stays. Words like 在 / 住 / 我
# never belong to a road name, so "我家住在中正路1號" keeps "我家住在".
_CJK = r"(?:(?![在住於我你他她的是到從去往就要請])[\u4e00-\u9fff])"
_NUM = r"[0-9一二三四五六七八九十百零〇]+"
_ADDRESS = re.compile(
    rf"(?:{_CJK}{{1,3}}[市縣])?(?:{_CJK}{{1,3}}[區鄉鎮市])?(?:{_CJK}{{1,3}}[里村](?:{_NUM}鄰)?)?"
    rf"{_CJK}{{1,6}}(?:路|街|大道)(?:[一二三四五六七八九十0-9]{{1,2}}段)?"
    rf"(?:{_NUM}巷(?:{_NUM}弄)?(?:{_NUM}(?:之{_NUM})?號)?|{_NUM}(?:之{_NUM})?號)"
    rf"(?:之{_NUM})?(?:\s?{_NUM}(?:樓|F|f)(?:之{_NUM})?)?"
)

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")),
    # national ID / resident certificate: a letter, then 1/2 (or A-D / 8-9 for residents), then 8 digits
    ("id", re.compile(r"(?<![A-Za-z0-9])[A-Za-z][12ABCDabcd89]\d{8}(?!\d)")),
    # mobile 09xx-xxx-xxx, +886 9xx..., landline (0x) xxxx-xxxx, with spaces or dashes
    ("phone", re.compile(r"(?<!\d)(?:\+886[\s\-]?|0)9\d{2}[\s\-]?\d{3}[\s\-]?\d{3}(?!\d)")),
    ("phone", re.compile(r"(?<!\d)\(?0[2-8]\)?[\s\-]?\d{3,4}[\s\-]?\d{4}(?!\d)")),
    ("address", _ADDRESS),
)


# What opens a case: its number (YYMMDD-NNNN-C, any dashes or spaces, or 11 digits run together)
# and the three phone digits of a status check — said as such (末三碼 678, 後3碼是６７８) or as a
# message of three digits and nothing else (the answer to the bot's question).
_DASH = r"[\s\-‐‑‒–—―−－_.]?"
_DIGITS_WORD = r"(?:電話|手機)?(?:末|後|最後)\s*(?:三|3)\s*(?:碼|位|個數字)"
IDENTIFIER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("case", re.compile(rf"(?<!\d)\d{{6}}{_DASH}\d{{4,5}}{_DASH}\d(?!\d)")),
    ("digits", re.compile(rf"{_DIGITS_WORD}\s*(?:是|為|:|：)?\s*(?P<secret>\d{{3}})(?!\d)")),
    (
        "digits",
        re.compile(r"^[\s\W]*(?:(?:民眾|市民|我)\s*[：:])?[\s\W]*(?:是|就是)?\s*(?P<secret>\d{3})[\s\W]*$"),
    ),
    # a name the citizen gives: 我是王小明, 我叫陳美麗, 敝姓林, 聯絡人：張先生
    (
        "name",
        re.compile(
            r"(?:我是|我叫|我姓|敝姓|本人是|聯絡人|姓名)\s*[：:]?\s*"
            r"(?P<secret>[\u4e00-\u9fff]{1,3}(?:先生|小姐|太太)?)"
        ),
    ),
)

_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _replace(text: str, patterns: tuple[tuple[str, re.Pattern[str]], ...]) -> str:
    for tag, pattern in patterns:
        folded = text.translate(_HALF_WIDTH)  # same length, so spans map back onto ``text``
        pieces, last = [], 0
        for match in pattern.finditer(folded):
            span = match.span("secret") if "secret" in pattern.groupindex else match.span()
            pieces += [text[last : span[0]], f"[{tag}]"]
            last = span[1]
        text = "".join(pieces) + text[last:]
    return text


def redact(text: str) -> str:
    """The text with every ID number, phone number, e-mail and street address replaced by a tag:
    ``[id]``, ``[phone]``, ``[email]``, ``[address]``.

    Full-width letters and digits are matched as their ASCII forms; the rest of the text is
    returned exactly as it was.
    """
    return _replace(text, PATTERNS)


def redact_case_keys(text: str) -> str:
    """The text with every case number (``[case]``) and every answer that looks like the three
    phone digits of a status check (``[digits]``: a message of three digits alone, or three digits
    after 末三碼 / 後3碼 and the like) replaced. Each line is judged on its own."""
    text = _replace(text, IDENTIFIER_PATTERNS[:2])
    return "\n".join(_replace(line, IDENTIFIER_PATTERNS[2:3]) for line in text.split("\n"))


def redact_identifiers(text: str) -> str:
    """``redact``, ``redact_case_keys`` and the names a citizen gives as such (我是王小明 →
    我是[name]): for free text that leaves the staff side."""
    return _replace(redact_case_keys(redact(text)), IDENTIFIER_PATTERNS[3:])


# The street of an address: everything up to the road (and its section), without lane, alley,
# house number or floor.
_STREET = re.compile(r"^(?P<street>.*?(?:路|街|大道)(?:[一二三四五六七八九十0-9]{1,2}段)?)")


def street_level(text: str) -> str:
    """The text with every street address cut down to its street (中正路100巷5號3樓 → 中正路),
    and everything else ``redact_identifiers`` removes replaced by its tag."""
    folded = text.translate(_HALF_WIDTH)
    pieces, last = [], 0
    for match in _ADDRESS.finditer(folded):
        street = _STREET.match(text[match.start() : match.end()])
        pieces += [text[last : match.start()], street["street"] if street else "[address]"]
        last = match.end()
    return redact_identifiers("".join(pieces) + text[last:])


def pseudonymise(channel: str, user_id: str, key: str) -> str:
    """A stable pseudonymous id for a channel's user: the same person maps to the same id,
    and the id cannot be turned back into the LINE / Telegram / web id without the key."""
    digest = hmac.new(key.encode("utf-8"), f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"p_{digest[:24]}"


_TRACEBACKS = logging.Formatter()


def _redacted_arg(value: object) -> object:
    if isinstance(value, str):
        return redact_identifiers(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_identifiers(str(value))


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a log record in place: its message, its arguments, its traceback and stack."""
    if getattr(record, "_bot1999_redacted", False):
        return record
    record.msg = redact_identifiers(record.msg if isinstance(record.msg, str) else str(record.msg))
    if isinstance(record.args, Mapping):
        record.args = {key: _redacted_arg(value) for key, value in record.args.items()}
    elif record.args:
        record.args = tuple(_redacted_arg(value) for value in record.args)
    if record.exc_info and not record.exc_text:
        record.exc_text = _TRACEBACKS.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact_identifiers(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_identifiers(record.stack_info)
    record.__dict__["_bot1999_redacted"] = True
    return record


class RedactingFilter(logging.Filter):
    """A logging filter (for a handler, or ``logging.config``) that redacts every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install_log_redaction() -> None:
    """Make every log record of this process redacted as it is made (idempotent).

    A record factory sees every record of every logger and handler, including those
    configured later (uvicorn's); arguments keep their places, so formatters that read
    them (uvicorn's access log) still work.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, "_bot1999_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(current(*args, **kwargs))

    factory.__dict__["_bot1999_redacting"] = True
    logging.setLogRecordFactory(factory)
