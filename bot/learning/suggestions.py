"""Suggested alternative questions from confirmed pairings, and what staff decide about them.

A phrasing (its ``phrasing_key`` group) confirmed for one entry by at least ``min_citizens``
distinct citizens is a **suggestion** for that entry; confirmed for two or more entries it is
a **conflict**, shown apart and never suggested. Each citizen counts once per phrasing, however
often they confirm it. A phrasing the entry already has, or one decided before (approved,
auto-approved, rejected or rolled back), is not suggested again.

Approving publishes the phrasing as an alternative question through the FAQ store, like any
edit (``bot.learning.actions.add_alternatives``: a revision in the entry's history, a new
knowledge-base version, live within seconds); rolling back removes it again with a revision
of its own. The caller owns the transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.learning.actions import ActionError, Picked, add_alternatives
from bot.learning.confirmed import CONFIRMED, phrasing_key
from bot.store.faqs import FaqStore, row_to_record
from bot.store.models import FaqRow, LearnedPairingRow, LearnedPhrasingRow, utcnow
from bot.store.users import UserStore
from knowledge.faq import FaqStatus
from knowledge.normalize import question_key

__all__ = [
    "APPROVED",
    "AUTO",
    "Decided",
    "Suggestion",
    "Tally",
    "approve",
    "conflicts",
    "decisions",
    "reject",
    "roll_back",
    "suggestions",
    "tally",
]

APPROVED, AUTO, REJECTED, ROLLED_BACK = "approved", "auto", "rejected", "rolled_back"
AUTO_ACTOR = "自動核准"


@dataclass
class Tally:
    """The pairings of one phrasing group with one entry."""

    key: str
    faq_id: str
    citizens: set[str] = field(default_factory=set)  # confirmed it
    unhelpful: set[str] = field(default_factory=set)  # rated that answer "did not help"
    examples: Counter[str] = field(default_factory=Counter)
    last_at: datetime | None = None

    @property
    def phrasing(self) -> str:
        """The phrasing to publish: the most frequent one, the shortest of equals."""
        return min(self.examples.items(), key=lambda item: (-item[1], len(item[0]), item[0]))[0]


@dataclass(frozen=True)
class Suggestion:
    key: str
    faq_id: str
    phrasing: str
    examples: tuple[str, ...]
    citizens: int
    unhelpful: int
    last_at: datetime | None
    conflict_with: tuple[str, ...] = ()  # other entries this phrasing was confirmed for


@dataclass(frozen=True)
class Decided:
    id: int
    key: str
    faq_id: str
    phrasing: str
    status: str
    actor: str
    at: datetime
    citizens: int


def tally(session: Session, *, key: str | None = None) -> dict[str, dict[str, Tally]]:
    """phrasing key → entry → its tally (all pairings, or those of one ``key``)."""
    query = select(LearnedPairingRow)
    if key is not None:
        query = query.where(LearnedPairingRow.phrasing_key == key)
    out: dict[str, dict[str, Tally]] = {}
    for row in session.scalars(query.order_by(LearnedPairingRow.id)):
        item = out.setdefault(row.phrasing_key, {}).setdefault(
            row.faq_id, Tally(row.phrasing_key, row.faq_id)
        )
        if row.verdict == CONFIRMED:
            item.citizens.add(row.sender)
            item.examples[row.phrasing] += 1
        else:
            item.unhelpful.add(row.sender)
        if item.last_at is None or row.at > item.last_at:
            item.last_at = row.at
    return out


def _decided(session: Session) -> set[tuple[str, str]]:
    return {
        (key, faq_id)
        for key, faq_id in session.execute(select(LearnedPhrasingRow.phrasing_key, LearnedPhrasingRow.faq_id))
    }


def _known_keys(session: Session, faq_ids: set[str]) -> dict[str, set[str] | None]:
    """entry → the phrasing keys of its texts (None: no such entry, or archived)."""
    out: dict[str, set[str] | None] = dict.fromkeys(faq_ids)
    if not faq_ids:
        return out
    for row in session.scalars(select(FaqRow).where(FaqRow.id.in_(faq_ids))):
        if row.status != FaqStatus.ARCHIVED.value:
            out[row.id] = {phrasing_key(text) for text in row_to_record(row).texts()}
    return out


def _candidates(session: Session, min_citizens: int) -> tuple[list[Suggestion], list[Suggestion]]:
    """(suggestions, conflicts): open phrasing groups reaching ``min_citizens`` for some entry."""
    tallies = tally(session)
    decided = _decided(session)
    known = _known_keys(session, {faq_id for by_faq in tallies.values() for faq_id in by_faq})
    suggested: list[Suggestion] = []
    conflicting: list[Suggestion] = []
    for key, by_faq in tallies.items():
        confirmed = {faq_id: t for faq_id, t in by_faq.items() if t.citizens}
        open_ = {
            faq_id: t
            for faq_id, t in confirmed.items()
            if (key, faq_id) not in decided and (keys := known.get(faq_id)) is not None and key not in keys
        }
        for faq_id, t in open_.items():
            others = tuple(sorted(set(confirmed) - {faq_id}))
            suggestion = Suggestion(
                key,
                faq_id,
                t.phrasing,
                tuple(text for text, _ in t.examples.most_common(5)),
                len(t.citizens),
                len(t.unhelpful),
                t.last_at,
                others,
            )
            if others:
                if max(len(c.citizens) for c in confirmed.values()) >= min_citizens:
                    conflicting.append(suggestion)
            elif len(t.citizens) >= min_citizens:
                suggested.append(suggestion)
    suggested.sort(key=lambda s: (-s.citizens, s.faq_id, s.key))
    conflicting.sort(key=lambda s: (s.key, -s.citizens, s.faq_id))
    return suggested, conflicting


def suggestions(session: Session, *, min_citizens: int, faq_id: str | None = None) -> list[Suggestion]:
    """Open suggestions, most citizens first (of one entry with ``faq_id``)."""
    found, _ = _candidates(session, min_citizens)
    return [s for s in found if faq_id is None or s.faq_id == faq_id]


def conflicts(session: Session, *, min_citizens: int, faq_id: str | None = None) -> list[Suggestion]:
    """Phrasings confirmed for more than one entry (one item per entry), grouped by phrasing."""
    _, found = _candidates(session, min_citizens)
    return [s for s in found if faq_id is None or s.faq_id == faq_id]


def approve(
    session: Session,
    items: Sequence[tuple[str, str]],
    *,
    actor: str,
    min_citizens: int,
    status: str = APPROVED,
    allow_conflict: bool = False,
) -> list[Decided]:
    """Publish the suggestions ``(phrasing key, faq id)`` as alternative questions, one revision
    per entry. Each must still be open and reach ``min_citizens``; a conflict only with
    ``allow_conflict`` (a person chose the entry)."""
    if not items:
        raise ActionError("請至少勾選一個建議問法。")
    found, conflicting = _candidates(session, min_citizens)
    open_ = {(s.key, s.faq_id): s for s in found}
    if allow_conflict:
        open_ |= {(s.key, s.faq_id): s for s in conflicting}
    chosen: dict[str, list[Suggestion]] = {}
    for key, faq_id in dict.fromkeys(items):
        suggestion = open_.get((key, faq_id))
        if suggestion is None:
            raise ActionError(
                f"「{key}」→ {faq_id} 已不是待審的建議（可能已處理、有衝突或人數不足），請重新整理。"
            )
        chosen.setdefault(faq_id, []).append(suggestion)
    done: list[Decided] = []
    for faq_id, group in chosen.items():
        added = add_alternatives(
            session,
            faq_id=faq_id,
            picked=[Picked(question_key(s.phrasing), s.phrasing) for s in group],
            actor=actor,
            label=f"learned from citizens ({'auto-approved' if status == AUTO else 'approved'})",
            questions=sum(s.citizens for s in group),
        )
        for s in group:
            done.append(_decide(session, s, status, actor, added.revision))
    return done


def reject(
    session: Session, items: Sequence[tuple[str, str]], *, actor: str, min_citizens: int
) -> list[Decided]:
    """Turn the suggestions down: they are not suggested again (the pairings stay as they were)."""
    if not items:
        raise ActionError("請至少勾選一個建議問法。")
    found, conflicting = _candidates(session, min_citizens)
    open_ = {(s.key, s.faq_id): s for s in [*found, *conflicting]}
    done = []
    for item in dict.fromkeys(items):
        suggestion = open_.get(item)
        if suggestion is None:
            raise ActionError(f"「{item[0]}」→ {item[1]} 已不是待審的建議，請重新整理。")
        done.append(_decide(session, suggestion, REJECTED, actor, 0))
    UserStore(session).audit(
        actor,
        "learning.citizens.reject",
        ",".join(sorted({f for _, f in items})),
        items=[list(i) for i in items],
    )
    return done


def _decide(session: Session, s: Suggestion, status: str, actor: str, revision: int) -> Decided:
    row = LearnedPhrasingRow(
        phrasing_key=s.key,
        faq_id=s.faq_id,
        phrasing=s.phrasing,
        status=status,
        actor=actor,
        at=utcnow(),
        citizens=s.citizens,
        revision=revision,
    )
    session.add(row)
    session.flush()
    return _decided_of(row)


def _decided_of(row: LearnedPhrasingRow) -> Decided:
    return Decided(
        row.id, row.phrasing_key, row.faq_id, row.phrasing, row.status, row.actor, row.at, row.citizens
    )


def decisions(
    session: Session, *, statuses: Sequence[str] = (APPROVED, AUTO), faq_id: str | None = None
) -> list[Decided]:
    """Decisions, newest first (approved and auto-approved ones by default)."""
    query = select(LearnedPhrasingRow).where(LearnedPhrasingRow.status.in_(statuses))
    if faq_id is not None:
        query = query.where(LearnedPhrasingRow.faq_id == faq_id)
    return [
        _decided_of(row)
        for row in session.scalars(query.order_by(LearnedPhrasingRow.at.desc(), LearnedPhrasingRow.id.desc()))
    ]


def roll_back(session: Session, decision_id: int, *, actor: str) -> Decided:
    """Take an approval back: the phrasing leaves the entry's alternative questions (a revision of
    its own, live within seconds) and is not suggested again."""
    row = session.get(LearnedPhrasingRow, decision_id)
    if row is None or row.status not in {APPROVED, AUTO}:
        raise ActionError("這個問法不是已核准的學習結果，無法撤回。")
    store = FaqStore(session)
    entry = store.get(row.faq_id)
    record = row_to_record(entry)
    kept = [text for text in record.alt_questions if question_key(text) != question_key(row.phrasing)]
    if len(kept) != len(record.alt_questions):
        store.replace(
            record.model_copy(update={"alt_questions": kept}),
            actor=actor,
            note=f"learning from citizens: rolled back「{row.phrasing[:60]}」",
            action="update",
        )
    row.status = ROLLED_BACK
    row.actor = actor
    row.at = utcnow()
    session.flush()
    UserStore(session).audit(actor, "learning.citizens.rollback", row.faq_id, phrasing=row.phrasing)
    return _decided_of(row)
