"""Resolutions: a cluster of failed questions that staff handled stays handled.

A resolution names the phrasings it covers by their normalised key (``question_key``).
Failures of those phrasings asked up to the moment of the resolution leave the queue;
if the same phrasing fails again afterwards, it comes back (marked as recurring), because
whatever was done did not help.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.learning.failures import aware
from bot.store.models import FailureResolutionKeyRow, FailureResolutionRow, utcnow

__all__ = ["Action", "ACTIONS", "Resolution", "ResolutionStore"]

Action = Literal["alternatives", "draft", "dismiss"]
ACTIONS: tuple[Action, ...] = ("alternatives", "draft", "dismiss")


@dataclass(frozen=True)
class Resolution:
    id: int
    at: datetime
    actor: str
    action: str
    faq_id: str
    label: str
    questions: int
    note: str
    keys: tuple[str, ...]


class ResolutionStore:
    """Repository over one session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        *,
        actor: str,
        action: Action,
        keys: Iterable[str],
        faq_id: str = "",
        label: str = "",
        questions: int = 0,
        note: str = "",
        at: datetime | None = None,
    ) -> int:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        unique = sorted({key for key in keys if key})
        if not unique:
            raise ValueError("a resolution needs at least one phrasing")
        row = FailureResolutionRow(
            at=at or utcnow(),
            actor=actor,
            action=action,
            faq_id=faq_id,
            label=label[:500],
            questions=questions,
            note=note,
        )
        self.session.add(row)
        self.session.flush()
        self.session.add_all(FailureResolutionKeyRow(resolution_id=row.id, key=key) for key in unique)
        self.session.flush()
        return row.id

    def resolved_at(self, since: datetime) -> dict[str, datetime]:
        """Each key resolved at or after ``since``, with its latest resolution time."""
        rows = self.session.execute(
            select(FailureResolutionKeyRow.key, func.max(FailureResolutionRow.at))
            .join(FailureResolutionRow, FailureResolutionRow.id == FailureResolutionKeyRow.resolution_id)
            .where(FailureResolutionRow.at >= since)
            .group_by(FailureResolutionKeyRow.key)
        )
        return {str(key): aware(at) for key, at in rows}

    def last_id(self) -> int:
        return int(self.session.scalar(select(func.max(FailureResolutionRow.id))) or 0)

    def recent(self, limit: int = 20) -> list[Resolution]:
        rows = self.session.scalars(
            select(FailureResolutionRow).order_by(FailureResolutionRow.id.desc()).limit(limit)
        ).all()
        keys: dict[int, list[str]] = {}
        if rows:
            for resolution_id, key in self.session.execute(
                select(FailureResolutionKeyRow.resolution_id, FailureResolutionKeyRow.key)
                .where(FailureResolutionKeyRow.resolution_id.in_([r.id for r in rows]))
                .order_by(FailureResolutionKeyRow.resolution_id, FailureResolutionKeyRow.key)
            ):
                keys.setdefault(int(resolution_id), []).append(str(key))
        return [
            Resolution(
                r.id,
                aware(r.at),
                r.actor,
                r.action,
                r.faq_id,
                r.label,
                r.questions,
                r.note,
                tuple(keys.get(r.id, [])),
            )
            for r in rows
        ]
