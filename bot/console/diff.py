"""What changed between two versions of an entry, field by field, as marked-up segments.

Templates render the segments with ``<del>`` / ``<ins>`` (autoescaped); nothing here builds HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

__all__ = ["FieldDiff", "Segment", "field_diffs", "segments"]


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str  # "same", "del" or "ins"
    text: str


@dataclass(frozen=True, slots=True)
class FieldDiff:
    field: str
    label: str
    segments: list[Segment]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return str(value)


def segments(before: str, after: str) -> list[Segment]:
    """Character-level changes (Chinese has no spaces to split words on)."""
    out: list[Segment] = []
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(Segment("same", before[a1:a2]))
            continue
        if op in {"delete", "replace"}:
            out.append(Segment("del", before[a1:a2]))
        if op in {"insert", "replace"}:
            out.append(Segment("ins", after[b1:b2]))
    return out


# Fields whose value is one thing (a date, a status, a link): a change shows the old value
# struck out and the new one whole, never a character mix such as 「20236-12-06-29」.
WHOLE_VALUE_FIELDS = frozenset({"post_date", "revise_date", "status", "source_url"})
STATUS_NAMES = {"draft": "草稿", "published": "已發布", "archived": "已封存"}


def _shown(field: str, value: str) -> str:
    return STATUS_NAMES.get(value, value) if field == "status" else value


def field_diffs(
    before: dict[str, Any] | None, after: dict[str, Any] | None, labels: dict[str, str]
) -> list[FieldDiff]:
    """The fields that differ, in the order of ``labels``."""
    old, new = before or {}, after or {}
    diffs = []
    for field, label in labels.items():
        a, b = _text(old.get(field)), _text(new.get(field))
        if a == b:
            continue
        if field in WHOLE_VALUE_FIELDS:
            a, b = _shown(field, a), _shown(field, b)
            whole = [Segment("del", a)] * bool(a) + [Segment("ins", b)] * bool(b)
            diffs.append(FieldDiff(field, label, whole))
        else:
            diffs.append(FieldDiff(field, label, segments(a, b)))
    return diffs
