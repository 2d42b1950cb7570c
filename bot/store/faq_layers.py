"""The two layers of an entry: what the source says, and what staff set over it.

The source layer (``faq_source``) is the entry as last harvested or imported; the staff layer
is one ``faq_override`` row per field staff changed, plus the entry's status (always staff's:
an import sets it only for a new entry). What citizens are answered from, the ``faq`` row, is
always :func:`merge` of the two. An import or harvest writes only the source layer
(:func:`harvest`); a staff edit writes only overrides (:func:`note_staff_edit`). An upstream
change to a field staff overrode, or any upstream change while ``hold`` is asked, becomes a
review item (``faq_review``) resolved by :func:`resolve`: keep ours, take theirs, or edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.agencies import canonical_agency
from bot.store.models import FaqOverrideRow, FaqReviewRow, FaqRow, FaqSourceRow, utcnow
from knowledge.faq import FaqRecord

__all__ = [
    "SOURCE_FIELDS",
    "Harvested",
    "Resolution",
    "Layers",
    "load_layers",
    "merge",
    "open_review",
    "source_content",
]

SOURCE_FIELDS = (
    "question",
    "answer",
    "alt_questions",
    "agency",
    "category",
    "keywords",
    "source_url",
    "sources",
    "post_date",
    "revise_date",
)
"""The fields a harvest brings. Status is staff's alone."""


class Harvested(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    HELD = "held"


class Resolution(StrEnum):
    KEEP_OURS = "kept"
    TAKE_THEIRS = "taken"
    EDIT = "edited"
    ARCHIVE = "archived"


def source_content(record: FaqRecord) -> dict[str, Any]:
    """The source fields of ``record``, JSON-ready (as ``FaqRecord.content()``)."""
    content = record.content()
    return {field: content[field] for field in SOURCE_FIELDS}


def merge(source: Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The content citizens are answered from: each field staff's when they set it, else the source's.

    An entry staff made themselves has no source; every field is then an override. The agency
    is the canonical name of whichever layer gives it (``bot.agencies``): the source layer
    keeps the name the source used.
    """
    merged: dict[str, Any] = {}
    for field in SOURCE_FIELDS:
        if field in overrides:
            merged[field] = overrides[field]
        elif source is not None:
            merged[field] = source[field]
        else:
            raise ValueError(f"no source and no override for {field}")
    merged["agency"] = canonical_agency(str(merged["agency"] or ""))
    return merged


@dataclass(slots=True)
class Layers:
    """The source and staff layers of one entry as stored."""

    source: FaqSourceRow | None
    overrides: dict[str, FaqOverrideRow]

    @property
    def source_content(self) -> dict[str, Any] | None:
        return None if self.source is None else dict(self.source.content)

    @property
    def override_values(self) -> dict[str, Any]:
        return {field: row.value for field, row in self.overrides.items()}

    def merged(self) -> dict[str, Any]:
        return merge(self.source_content, self.override_values)


def load_layers(session: Session, faq_id: str) -> Layers:
    source = session.get(FaqSourceRow, faq_id)
    overrides = {
        row.field: row
        for row in session.scalars(select(FaqOverrideRow).where(FaqOverrideRow.faq_id == faq_id))
    }
    return Layers(source, overrides)


def open_review(session: Session, faq_id: str, kind: str = "upstream") -> FaqReviewRow | None:
    return session.scalars(
        select(FaqReviewRow).where(
            FaqReviewRow.faq_id == faq_id, FaqReviewRow.kind == kind, FaqReviewRow.status == "open"
        )
    ).first()


def set_override(session: Session, layers: Layers, faq_id: str, field: str, value: Any, actor: str) -> None:
    row = layers.overrides.get(field)
    if row is None:
        row = FaqOverrideRow(faq_id=faq_id, field=field)
        session.add(row)
        layers.overrides[field] = row
    row.value, row.actor, row.at = value, actor, utcnow()


def drop_override(session: Session, layers: Layers, field: str) -> None:
    row = layers.overrides.pop(field, None)
    if row is not None:
        session.delete(row)


def note_staff_edit(
    session: Session, faq_id: str, before: Mapping[str, Any] | None, after: Mapping[str, Any], actor: str
) -> None:
    """Record a staff change of the entry's content as overrides of the fields it changed.

    A field set back to what the source says is no longer overridden (staff took theirs).
    ``before`` None: a new entry made by staff, every field theirs.
    """
    layers = load_layers(session, faq_id)
    source = layers.source_content
    for field in SOURCE_FIELDS:
        if before is not None and before.get(field) == after[field]:
            continue
        if source is not None and source[field] == after[field]:
            drop_override(session, layers, field)
        else:
            set_override(session, layers, faq_id, field, after[field], actor)


def start_source(session: Session, faq_id: str, record: FaqRecord, origin: str, at: datetime) -> None:
    """The source layer of an entry a harvest or import has just made."""
    session.add(FaqSourceRow(faq_id=faq_id, content=source_content(record), origin=origin, harvested_at=at))


def harvest(
    session: Session,
    row: FaqRow,
    record: FaqRecord,
    *,
    origin: str,
    hold: bool,
    run_id: int | None = None,
) -> tuple[Harvested, dict[str, Any]]:
    """Bring ``record`` (as the source now says it) into the source layer of the existing ``row``.

    Returns what happened and the merged content citizens should now see (the caller writes
    it to the entry when it differs). Fields staff overrode keep staff's text; if the source
    changed such a field, or changed anything while ``hold``, a review item is opened (or
    brought up to date) and, when held, the source layer keeps the old text until resolved.
    """
    layers = load_layers(session, row.id)
    new = source_content(record)
    now = utcnow()
    old = layers.source_content
    if layers.source is not None:
        layers.source.origin = origin
        layers.source.harvested_at = now
        if layers.source.gone_at is not None:
            layers.source.gone_at = None
            _close_gone(session, row.id)
    item = open_review(session, row.id)
    if not hold and item is not None and item.held:
        item.held = False  # what it held back is superseded by what the source says now
        if old == new:
            item.status, item.resolved_at, item.resolved_by = "superseded", now, "harvest"
    if old == new:
        return Harvested.UNCHANGED, layers.merged()
    overrides = layers.override_values
    baseline = old if old is not None else layers.merged()
    changed = [field for field in SOURCE_FIELDS if baseline[field] != new[field]]
    conflicts = [field for field in changed if field in overrides and overrides[field] != new[field]]
    if old is None:  # an entry staff made: every field theirs, the source only now known
        layers.source = FaqSourceRow(faq_id=row.id, content=new, origin=origin, harvested_at=now)
        session.add(layers.source)
    if hold and changed:
        _review(session, row.id, item, baseline, new, layers.merged(), changed, conflicts, True, run_id)
        if old is None:
            layers.source.content = {**baseline}  # type: ignore[union-attr]
        return Harvested.HELD, layers.merged()
    assert layers.source is not None
    layers.source.content = new
    merged = merge(new, overrides)
    if conflicts:
        _review(session, row.id, item, baseline, new, merged, changed, conflicts, False, run_id)
        return Harvested.CONFLICT, merged
    if item is not None and item.status == "open":
        still = [field for field in item.conflicts if field in overrides and overrides[field] != new[field]]
        if not still:  # the source now agrees with staff: nothing left to review
            item.status, item.resolved_at, item.resolved_by = "superseded", now, "harvest"
    return (Harvested.CHANGED if changed else Harvested.UNCHANGED), merged


def _review(
    session: Session,
    faq_id: str,
    item: FaqReviewRow | None,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    ours: Mapping[str, Any],
    changed: list[str],
    conflicts: list[str],
    held: bool,
    run_id: int | None,
) -> None:
    now = utcnow()
    if item is None:
        item = FaqReviewRow(
            faq_id=faq_id, kind="upstream", status="open", created_at=now, old_source=dict(old)
        )
        session.add(item)
        fields = changed
        conflicting = conflicts
    else:  # still open from an earlier harvest: the oldest source text stays, the rest moves on
        fields = [f for f in SOURCE_FIELDS if f in {*item.fields, *changed}]
        conflicting = [f for f in SOURCE_FIELDS if f in {*item.conflicts, *conflicts}]
        item.old_source = {**dict(old), **dict(item.old_source)}
    item.fields, item.conflicts = fields, conflicting
    item.new_source, item.ours, item.held = dict(new), dict(ours), held
    item.run_id, item.updated_at = run_id, now


def flag_gone(session: Session, faq_id: str, *, run_id: int | None) -> bool:
    """Flag an entry the source no longer lists; True when it was not flagged already."""
    source = session.get(FaqSourceRow, faq_id)
    if source is None or source.gone_at is not None:
        return False
    now = utcnow()
    source.gone_at = now
    if open_review(session, faq_id, "gone") is None:
        session.add(
            FaqReviewRow(
                faq_id=faq_id,
                kind="gone",
                status="open",
                old_source=dict(source.content),
                run_id=run_id,
                created_at=now,
                updated_at=now,
            )
        )
    return True


def _close_gone(session: Session, faq_id: str) -> None:
    item = open_review(session, faq_id, "gone")
    if item is not None:
        item.status, item.resolved_at, item.resolved_by = "returned", utcnow(), "harvest"


def resolution_content(
    session: Session,
    item: FaqReviewRow,
    choice: Resolution,
    actor: str,
    edited: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply staff's choice on an upstream review item to the layers; the merged content after it.

    Keep ours: the changed fields stay as citizens see them now (overridden where the source
    differs). Take theirs: the source's new text, the overrides of those fields dropped. Edit:
    ``edited`` text for the fields given. A held change reaches the source layer now.
    """
    layers = load_layers(session, item.faq_id)
    current = layers.merged()
    if layers.source is not None and item.held:
        layers.source.content = {**dict(layers.source.content), **dict(item.new_source)}
    source = layers.source_content
    for field in item.fields:
        if choice is Resolution.TAKE_THEIRS:
            drop_override(session, layers, field)
            continue
        wanted = current[field]
        if choice is Resolution.EDIT and edited is not None and field in edited:
            wanted = edited[field]
        if source is not None and source[field] == wanted:
            drop_override(session, layers, field)
        else:
            set_override(session, layers, item.faq_id, field, wanted, actor)
    item.status, item.held = choice.value, False
    item.resolved_at, item.resolved_by, item.updated_at = utcnow(), actor, utcnow()
    return layers.merged()
