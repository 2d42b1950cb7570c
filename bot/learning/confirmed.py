"""Confirmed pairings: the phrasings citizens confirmed mean an FAQ.

Two signals are recorded, one row per answer turn (``LearnedPairingRow``):

- a **pick** from a "did you mean" list: the question that got the list, paired with the entry
  picked (``source="pick"``); rated "did not help" afterwards, it turns ``unhelpful``;
- a **direct answer rated helpful**: the question, paired with the entry that answered it
  (``source="helpful"``); a direct answer rated "did not help" is kept as ``unhelpful``, which
  counts against that pairing.

A phrasing is stored normalised (NFKC, single spaces) and only if redaction finds nothing in
it: a phrasing that carries an ID number, phone, e-mail, address, case number or a name is never
kept. One citizen (the sender pseudonym) contributes at most ``daily_cap`` pairings a UTC day;
what is over the cap is not recorded. The caller owns the transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.privacy import redact_identifiers
from bot.store.models import LearnedPairingRow, TurnRow, utcnow
from knowledge.faq import MAX_QUESTION_CHARS
from knowledge.normalize import clean_text, question_key

__all__ = [
    "PICK_INTENT",
    "Confirmation",
    "PairingRecorder",
    "learnable_phrasing",
    "phrasing_key",
]

PICK_INTENT = "pick_suggestion"
CONFIRMED, UNHELPFUL = "confirmed", "unhelpful"
_POLITE = re.compile(r"^(請問一下|請問|想請問|我想問|想問)")
_PARTICLES = re.compile(r"[嗎呢啊呀耶喔哦吧啦]+$")


def learnable_phrasing(text: str) -> str | None:
    """``text`` normalised for use as an alternative question, or None when it must not be
    used: empty, too long, or carrying personal data (redaction would change it)."""
    text = clean_text(unicodedata.normalize("NFKC", text)).replace("\n", " ")
    if not question_key(text) or len(text) > MAX_QUESTION_CHARS:
        return None
    if redact_identifiers(text) != text:
        return None
    return text


def phrasing_key(text: str) -> str:
    """The key under which near-identical phrasings count as one: width, script and punctuation
    folded (``question_key``), a leading 請問 and trailing particles (嗎, 呢, …) dropped."""
    key = question_key(text)
    stripped = _PARTICLES.sub("", _POLITE.sub("", key))
    return stripped or key


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What the recorder kept (or changed): the pairing and whether it counts for the entry."""

    pairing_id: int
    phrasing_key: str
    faq_id: str
    verdict: str


class PairingRecorder:
    """Records pairings from the turn log; one session, the caller's transaction."""

    def __init__(self, session: Session, *, daily_cap: int, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.daily_cap = daily_cap
        self.clock = clock

    def after_turn(self, turn_id: int) -> Confirmation | None:
        """The logged turn ``turn_id``: if it answers a pick from the "did you mean" list just
        before it, pair that list's question with the entry picked."""
        turn = self.session.get(TurnRow, turn_id)
        if turn is None or turn.intent != PICK_INTENT or turn.decision != "answer" or not turn.faq_id:
            return None
        asked = self.session.scalars(
            select(TurnRow)
            .where(
                TurnRow.conversation_id == turn.conversation_id, TurnRow.id != turn.id, TurnRow.at <= turn.at
            )
            .order_by(TurnRow.at.desc(), TurnRow.id.desc())
            .limit(1)
        ).first()
        if asked is None or asked.decision != "clarify" or turn.faq_id not in (asked.candidates or []):
            return None
        return self._record(turn, asked.text, "pick", CONFIRMED)

    def rated(self, turn_id: int | None, value: str) -> Confirmation | None:
        """The citizen rated answer turn ``turn_id`` ``good`` or ``bad``."""
        if turn_id is None:
            return None
        verdict = CONFIRMED if value == "good" else UNHELPFUL
        existing = self.session.scalars(
            select(LearnedPairingRow).where(LearnedPairingRow.turn_id == turn_id)
        ).first()
        if existing is not None:
            existing.verdict = verdict
            self.session.flush()
            return _confirmation(existing)
        turn = self.session.get(TurnRow, turn_id)
        if turn is None or turn.decision != "answer" or not turn.faq_id or turn.intent == PICK_INTENT:
            return None  # a pick whose phrasing was not kept stays unkept
        if turn.payload or not turn.text:
            return None
        return self._record(turn, turn.text, "helpful", verdict)

    def _record(self, turn: TurnRow, text: str, source: str, verdict: str) -> Confirmation | None:
        phrasing = learnable_phrasing(text)
        if phrasing is None or self.contributed_today(turn.sender) >= self.daily_cap:
            return None
        row = LearnedPairingRow(
            turn_id=turn.id,
            at=self.clock(),
            sender=turn.sender,
            faq_id=turn.faq_id,
            phrasing=phrasing,
            phrasing_key=phrasing_key(phrasing),
            source=source,
            verdict=verdict,
        )
        self.session.add(row)
        self.session.flush()
        return _confirmation(row)

    def contributed_today(self, sender: str) -> int:
        now = self.clock()
        midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(LearnedPairingRow)
                .where(LearnedPairingRow.sender == sender, LearnedPairingRow.at >= midnight)
            )
            or 0
        )


def _confirmation(row: LearnedPairingRow) -> Confirmation:
    return Confirmation(row.id, row.phrasing_key, row.faq_id, row.verdict)
