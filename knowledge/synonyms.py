"""Staff-editable synonyms: colloquial wording and common typos mapped to the FAQ's wording.

The list lives in ``knowledge/lexicon/synonyms.tsv`` (``variant<TAB>canonical``, ``#``
comments). :class:`Synonyms` rewrites text in one left-to-right pass, longest variant
first, so a rewritten span is never rewritten again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from knowledge.normalize import fold

__all__ = [
    "DEFAULT_SYNONYMS_PATH",
    "Synonyms",
    "SynonymError",
    "default_synonyms",
    "load_synonyms",
    "parse_synonyms",
]

log = logging.getLogger(__name__)

DEFAULT_SYNONYMS_PATH = Path(__file__).resolve().parent / "lexicon" / "synonyms.tsv"


class SynonymError(ValueError):
    """A malformed line in a synonym list (the message names the line)."""


class Synonyms:
    """A compiled variant → canonical mapping (keys and values already folded)."""

    def __init__(self, rules: Mapping[str, str] | None = None) -> None:
        self.rules: dict[str, str] = dict(rules or {})
        table = dict(self.rules)
        # A canonical form that contains a variant is protected: it maps to itself, and
        # being longer it wins, so "違規停車" never becomes "違規違規停車".
        for canonical in set(table.values()):
            if canonical not in table and any(variant in canonical for variant in self.rules):
                table[canonical] = canonical
        self._table = table
        variants = sorted(table, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in variants)) if variants else None

    def __len__(self) -> int:
        return len(self.rules)

    def apply(self, text: str) -> str:
        """Rewrite every variant in already folded ``text`` to its canonical form."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self._table[match.group(0)], text)


def parse_synonyms(lines: Iterable[str], source: str = "<synonyms>") -> Synonyms:
    """Parse ``variant<TAB>canonical`` lines; raise :class:`SynonymError` on a bad line."""
    rules: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].rstrip("\r\n")
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("\t")]
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise SynonymError(f"{source}:{number}: expected 'variant<TAB>canonical', got {raw.strip()!r}")
        variant, canonical = fold(parts[0]), fold(parts[1])
        if variant in rules and rules[variant] != canonical:
            log.warning("%s:%d: %r redefined (%r -> %r)", source, number, variant, rules[variant], canonical)
        if variant != canonical:
            rules[variant] = canonical
    return Synonyms(rules)


def load_synonyms(path: Path | str = DEFAULT_SYNONYMS_PATH) -> Synonyms:
    """Load a synonym list file (UTF-8)."""
    path = Path(path)
    synonyms = parse_synonyms(path.read_text(encoding="utf-8").splitlines(), source=str(path))
    log.debug("loaded %d synonyms from %s", len(synonyms), path)
    return synonyms


@lru_cache(maxsize=1)
def default_synonyms() -> Synonyms:
    """The bundled list, loaded once."""
    return load_synonyms(DEFAULT_SYNONYMS_PATH)
