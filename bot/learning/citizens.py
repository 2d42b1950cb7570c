"""Learning from citizens, as the chat sees it: record what a turn or a rating confirms, and
auto-approve when that is switched on.

``after_turn`` and ``after_rating`` run in the transaction that logs the turn (the chat service)
or the rating (the feedback action). Auto-approval (``citizen_learning.auto_approve``, off by
default) publishes a phrasing once ``auto_min_citizens`` distinct citizens confirmed it for one
entry, nobody rated that pairing "did not help", and no other entry was confirmed for it; each
auto-approval is listed for staff (``suggestions.decisions``) and can be rolled back. It runs in
a savepoint: if it cannot publish (a concurrent edit), the turn is still logged and the phrasing
stays a suggestion for staff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.learning.confirmed import Confirmation, PairingRecorder
from bot.learning.suggestions import AUTO, AUTO_ACTOR, Decided, approve, suggestions, tally
from bot.settings import CitizenLearningSettings
from bot.store.db import unavailable

__all__ = ["after_rating", "after_turn", "auto_approve"]

log = logging.getLogger(__name__)


def after_turn(session: Session, turn_id: int, settings: CitizenLearningSettings) -> Confirmation | None:
    """What the logged turn ``turn_id`` confirms (a pick), recorded; None if nothing."""
    return _safely(session, lambda recorder: recorder.after_turn(turn_id), settings)


def after_rating(
    session: Session, turn_id: int | None, value: str, settings: CitizenLearningSettings
) -> Confirmation | None:
    """What rating answer turn ``turn_id`` ``value`` (good / bad) confirms, recorded."""
    return _safely(session, lambda recorder: recorder.rated(turn_id, value), settings)


def _safely(
    session: Session,
    step: Callable[[PairingRecorder], Confirmation | None],
    settings: CitizenLearningSettings,
) -> Confirmation | None:
    """``step`` in a savepoint: a bug in learning never costs the turn its log entry (an
    unavailable database still raises, so the caller retries the whole turn)."""
    try:
        with session.begin_nested():
            confirmation = step(PairingRecorder(session, daily_cap=settings.daily_cap))
    except Exception as error:
        if unavailable(error):
            raise
        log.exception("could not record what a turn confirms; the turn is logged without it")
        return None
    _maybe_auto(session, confirmation, settings)
    return confirmation


def _maybe_auto(
    session: Session, confirmation: Confirmation | None, settings: CitizenLearningSettings
) -> None:
    if confirmation is None or not settings.auto_approve:
        return
    try:
        with session.begin_nested():
            auto_approve(session, confirmation.phrasing_key, settings)
    except Exception as error:
        if unavailable(error):
            raise
        log.exception("could not auto-approve phrasing %s; it stays a suggestion", confirmation.phrasing_key)


def auto_approve(session: Session, key: str, settings: CitizenLearningSettings) -> list[Decided]:
    """Publish the phrasing group ``key`` if it qualifies for auto-approval; what was published."""
    if not settings.auto_approve:
        return []
    by_faq = tally(session, key=key).get(key, {})
    confirmed = [faq_id for faq_id, t in by_faq.items() if t.citizens]
    if len(confirmed) != 1:
        return []  # nothing confirmed, or a conflict
    (faq_id,) = confirmed
    if by_faq[faq_id].unhelpful or len(by_faq[faq_id].citizens) < settings.auto_min_citizens:
        return []
    open_ = [
        s
        for s in suggestions(session, min_citizens=settings.auto_min_citizens, faq_id=faq_id)
        if s.key == key
    ]
    if not open_:
        return []
    return approve(
        session,
        [(key, faq_id)],
        actor=AUTO_ACTOR,
        min_citizens=settings.auto_min_citizens,
        status=AUTO,
    )
