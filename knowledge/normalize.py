"""Text normalisation shared by importers, duplicate detection and retrieval.

``clean_text`` tidies stored text without changing its meaning (NFC, no control
characters, collapsed spaces). ``question_key`` is the aggressive form used to decide
that two questions are "the same question": NFKC (full/half width), Simplified to
Traditional, no punctuation or spaces, lower case. ``for_retrieval`` is the form both
queries and FAQ text take before searching: folded, punctuation turned into spaces, and
rewritten by an optional synonym rule set (see ``knowledge.synonyms``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

__all__ = ["clean_text", "fold", "for_retrieval", "question_key", "to_simplified", "to_traditional"]

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


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("tw2sp")


def to_simplified(text: str) -> str:
    """Traditional (Taiwan) to Simplified; used only to segment text with jieba's dictionary."""
    return str(_t2s().convert(text))


def to_traditional(text: str) -> str:
    """Simplified to Traditional (Taiwan standard, with Taiwanese phrasing)."""
    return str(_s2t().convert(text))


def fold(text: str) -> str:
    """NFKC (full width to half width), lower case, Simplified to Traditional."""
    return to_traditional(unicodedata.normalize("NFKC", text).lower())


def question_key(text: str) -> str:
    """The key under which two questions count as duplicates: folded, letters and digits only."""
    return "".join(ch for ch in fold(text) if unicodedata.category(ch)[0] in "LN")


def _is_separator(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "PSZC" and ch not in "%+#"


_SEPARATORS = re.compile(r"\s+")


def for_retrieval(text: str, rewrite: Callable[[str], str] | None = None) -> str:
    """Fold ``text``, turn punctuation and symbols into single spaces, then apply ``rewrite``.

    ``rewrite`` is typically ``Synonyms.apply``; it sees folded text without punctuation.
    """
    folded = "".join(" " if _is_separator(ch) else ch for ch in fold(text))
    folded = _SEPARATORS.sub(" ", folded).strip()
    return rewrite(folded) if rewrite is not None else folded
