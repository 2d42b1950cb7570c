"""Staff synonym rules: edited as a draft set, published as numbered versions over the shipped list.

The shipped list (``knowledge/lexicon/synonyms.tsv``) stays the base. Staff rules are kept
in ``synonym_rule`` while being edited; publishing snapshots them into ``synonym_version``
and adds a knowledge-base version, which is how every live index learns to rebuild its
normalisation. A rule with an empty canonical form switches the shipped rule for that
variant off. Rolling back publishes an earlier version's rules again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.store.faqs import FaqStore
from bot.store.models import SynonymRuleRow, SynonymVersionRow, utcnow
from knowledge.normalize import fold
from knowledge.synonyms import Synonyms, default_synonyms

__all__ = ["MAX_RULE_CHARS", "SynonymInputError", "SynonymStore", "merge_synonyms", "rule_error"]

MAX_RULE_CHARS = 50


class SynonymInputError(ValueError):
    """A rule that cannot be kept (the message says why, in Chinese for the console)."""


@dataclass(frozen=True, slots=True)
class Published:
    version: int
    rules: dict[str, str]


def merge_synonyms(staff: Mapping[str, str], base: Synonyms | None = None) -> Synonyms:
    """The shipped rules with the staff's on top (an empty canonical removes a shipped rule)."""
    rules = dict((base or default_synonyms()).rules)
    for variant, canonical in staff.items():
        if canonical:
            rules[variant] = canonical
        else:
            rules.pop(variant, None)
    return Synonyms(rules)


def rule_error(variant: str, canonical: str) -> str:
    """Why a folded rule cannot be kept, or ''."""
    if not variant:
        return "請填寫民眾的說法。"
    if len(variant) > MAX_RULE_CHARS or len(canonical) > MAX_RULE_CHARS:
        return f"每個詞最多 {MAX_RULE_CHARS} 個字。"
    if any(ch in variant + canonical for ch in "\t\n\r#"):
        return "詞裡不能有 Tab、換行或 #。"
    if variant == canonical:
        return "民眾的說法與標準說法相同，不需要規則。"
    if len(variant) < 2 and canonical:
        return "民眾的說法至少要 2 個字，單一個字容易誤改其他詞。"
    return ""


class SynonymStore:
    """Repository over one session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- the draft set ---------------------------------------------------------------
    def rules(self) -> list[SynonymRuleRow]:
        return list(self.session.scalars(select(SynonymRuleRow).order_by(SynonymRuleRow.variant)))

    def draft(self) -> dict[str, str]:
        return {row.variant: row.canonical for row in self.rules()}

    def set_rule(self, variant: str, canonical: str, *, actor: str, note: str = "") -> SynonymRuleRow:
        """Add or change one rule (both sides are folded as the shipped list's are)."""
        variant, canonical = fold(variant.strip()), fold(canonical.strip())
        problem = rule_error(variant, canonical)
        if problem:
            raise SynonymInputError(problem)
        row = self.session.get(SynonymRuleRow, variant)
        if row is None:
            row = SynonymRuleRow(variant=variant)
            self.session.add(row)
        row.canonical, row.note, row.actor, row.updated_at = canonical, note.strip(), actor, utcnow()
        self.session.flush()
        return row

    def delete_rule(self, variant: str) -> bool:
        result = self.session.execute(delete(SynonymRuleRow).where(SynonymRuleRow.variant == variant))
        return bool(getattr(result, "rowcount", 0))

    # --- published versions --------------------------------------------------------
    def live(self) -> Published:
        """The published staff rules (version 0 and no rules before the first publish)."""
        row = self.session.scalars(select(SynonymVersionRow).order_by(SynonymVersionRow.id.desc())).first()
        if row is None:
            return Published(0, {})
        return Published(row.id, {str(k): str(v) for k, v in row.rules.items()})

    def live_version(self) -> int:
        return int(self.session.scalar(select(func.max(SynonymVersionRow.id))) or 0)

    def versions(self, limit: int = 50) -> list[SynonymVersionRow]:
        return list(
            self.session.scalars(select(SynonymVersionRow).order_by(SynonymVersionRow.id.desc()).limit(limit))
        )

    def unpublished(self) -> bool:
        return self.draft() != self.live().rules

    def publish(self, *, actor: str, note: str = "") -> int:
        """Make the draft set live: a new synonym version and a new knowledge-base version."""
        row = SynonymVersionRow(actor=actor, note=note.strip(), rules=self.draft(), at=utcnow())
        self.session.add(row)
        self.session.flush()
        FaqStore(self.session).bump_version(actor=actor, note=f"synonyms v{row.id}", changed=0)
        return row.id

    def rollback(self, version: int, *, actor: str) -> int:
        """Replace the draft set with ``version``'s rules and publish them again."""
        old = self.session.get(SynonymVersionRow, version)
        if old is None:
            raise SynonymInputError(f"沒有第 {version} 版同義詞。")
        self.session.execute(delete(SynonymRuleRow))
        for variant, canonical in old.rules.items():
            self.session.add(
                SynonymRuleRow(
                    variant=variant, canonical=canonical, note="", actor=actor, updated_at=utcnow()
                )
            )
        self.session.flush()
        return self.publish(actor=actor, note=f"回復到第 {version} 版")
