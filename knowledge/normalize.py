"""Text normalisation shared by importers, duplicate detection and retrieval.

``clean_text`` tidies stored text without changing its meaning (NFC, no control
characters, collapsed spaces). ``question_key`` is the aggressive form used to decide
that two questions are "the same question": NFKC (full/half width), Simplified to
Traditional, no punctuation or spaces, lower case.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["clean_text", "fold", "question_key", "to_traditional"]

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Tidy text for storage: NFC, no control or zero-width characters, single spaces."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


@lru_cache(maxsize=1)
def _s2t():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("s2twp")


def to_traditional(text: str) -> str:
    """Simplified to Traditional (Taiwan standard, with Taiwanese phrasing)."""
    return str(_s2t().convert(text))


def fold(text: str) -> str:
    """NFKC (full width to half width), lower case, Simplified to Traditional."""
    return to_traditional(unicodedata.normalize("NFKC", text).lower())


def question_key(text: str) -> str:
    """The key under which two questions count as duplicates: folded, letters and digits only."""
    return "".join(ch for ch in fold(text) if unicodedata.category(ch)[0] in "LN")
