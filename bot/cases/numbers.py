"""Case numbers a citizen can read aloud over the phone.

Digits only (no letters to confuse: 0/O, 1/I/l), grouped as ``YYMMDD-NNNN-C``: the filing
date, that day's sequence number (four digits, more if a day ever needs them) and a Damm
check digit, which catches every single mistyped digit and every swap of two neighbours.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = [
    "check_digit",
    "find_case_number",
    "format_case_number",
    "is_valid_case_number",
    "normalise_case_number",
]

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_SHAPE = re.compile(r"^\d{6}-\d{4,}-\d$")
_IN_TEXT = re.compile(r"(?<!\d)\d{6}\s*[-‐‑–—−ー]?\s*\d{4,}\s*[-‐‑–—−ー]?\s*\d(?!\d)")


def check_digit(digits: str) -> int:
    """The Damm check digit of a string of digits."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def format_case_number(day: date, sequence: int) -> str:
    if sequence < 1:
        raise ValueError("sequence starts at 1")
    body = f"{day:%y%m%d}{sequence:04d}"
    return f"{body[:6]}-{body[6:]}-{check_digit(body)}"


def normalise_case_number(text: str) -> str:
    """What a citizen typed (full-width digits, spaces, other dashes) as ``YYMMDD-NNNN-C``."""
    import unicodedata

    digits = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())
    if len(digits) < 11:
        return text.strip()
    return f"{digits[:6]}-{digits[6:-1]}-{digits[-1]}"


def is_valid_case_number(text: str) -> bool:
    number = normalise_case_number(text)
    if not _SHAPE.match(number):
        return False
    body = number.replace("-", "")
    return check_digit(body[:-1]) == int(body[-1])


def find_case_number(text: str) -> str | None:
    """The first thing shaped like a case number in a sentence (``YYMMDD-NNNN-C``, spaces or
    other dashes allowed), normalised; None if there is none. Its check digit is not checked."""
    import unicodedata

    match = _IN_TEXT.search(unicodedata.normalize("NFKC", text))
    return None if match is None else normalise_case_number(match.group(0))
