"""Which fields of an entry staff overrode, and going back to what the source says.

An entry harvested or imported has a source layer; every field staff changed since is an
override (``bot.store.faq_layers``). The edit page lists them next to the source's text, and
:func:`use_source` drops one: the field says what the source says again, live at once, in the
entry's history and the audit log like any edit, made against the revision the page showed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.console.curation import FIELD_LABELS, ConflictError
from bot.store.faq_layers import SOURCE_FIELDS, drop_override, load_layers
from bot.store.faqs import FaqStore, row_to_record
from bot.store.models import FaqDraftRow, FaqRow
from bot.store.users import UserStore
from knowledge.faq import FaqRecord

__all__ = ["NoSource", "Override", "overrides", "use_source"]


class NoSource(LookupError):
    """The field is not overridden, or the entry has no source to go back to."""


@dataclass(frozen=True, slots=True)
class Override:
    """One field staff overrode: what citizens read (staff's) and what the source says."""

    field: str
    label: str
    ours: str
    source: str
    actor: str
    at: datetime


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def overrides(session: Session, faq_id: str) -> list[Override]:
    """The fields of ``faq_id`` staff overrode over its source, in the form's order; none for an
    entry staff made themselves (every field is theirs, there is no source to go back to)."""
    layers = load_layers(session, faq_id)
    source = layers.source_content
    if source is None:
        return []
    return [
        Override(
            field,
            FIELD_LABELS.get(field, field),
            _text(layers.overrides[field].value),
            _text(source[field]),
            layers.overrides[field].actor,
            layers.overrides[field].at,
        )
        for field in SOURCE_FIELDS
        if field in layers.overrides
    ]


def use_source(session: Session, faq_id: str, field: str, *, base_revision: int, actor: str) -> FaqRow:
    """Drop staff's override of ``field``: the entry takes the source's text for it again.

    Refused (``ConflictError``) when the entry moved past ``base_revision`` or has a draft
    waiting (publish or discard it first); ``NoSource`` when there is nothing to go back to."""
    store = FaqStore(session)
    row = store.get(faq_id)
    if row.revision != base_revision:
        raise ConflictError(f"{faq_id} is at revision {row.revision}, the page showed {base_revision}")
    if session.get(FaqDraftRow, faq_id) is not None:
        raise ConflictError(f"{faq_id} has a draft waiting")
    layers = load_layers(session, faq_id)
    source = layers.source_content
    if source is None or field not in layers.overrides:
        raise NoSource(f"{faq_id} has no override of {field!r} over a source")
    record = row_to_record(row)
    if record.content()[field] == source[field]:  # the source has since come round to staff's text
        drop_override(session, layers, field)
        return row
    back = FaqRecord.model_validate({**record.model_dump(mode="json"), field: source[field]})
    label = FIELD_LABELS.get(field, field)
    store.replace(
        back, actor=actor, expected_revision=base_revision, action="use-source", note=f"{label}改回來源的內容"
    )
    UserStore(session).audit(actor, "faq.use_source", faq_id, field=field, revision=row.revision)
    return row
