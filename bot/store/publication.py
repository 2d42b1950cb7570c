"""What of a case may leave the staff side, and to whom.

- **public** (no key): cases of the publishable dispatch categories (``open311.public_categories``:
  potholes, street lights, fallen trees, flooding, traffic signals) that the citizen described
  themselves — the description redacted (personal data, case numbers, check digits), the
  address cut to its street, the coordinates rounded to about 100 m, no photo;
- **reader** (an ``open311.read_keys`` key): also the other categories' cases described by the
  citizen, with exact coordinates and the photo reference; the same redacted description and
  street-level address, never a phone;
- never, to anyone: a case built from a conversation (``origin == "conversation"``: a request
  for a person filed as a case carries an excerpt of the chat). Staff read those after log-in.

Redaction finds identifiers, not a citizen's circumstances: a description that speaks of health,
family trouble or money (``SENSITIVE_WORDS``) is withheld as a whole rather than published.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import ColumnElement, and_

from bot.privacy import redact_identifiers, street_level
from bot.store.models import CaseRow

__all__ = [
    "Audience",
    "PUBLIC_PRECISION",
    "SENSITIVE_WORDS",
    "WITHHELD",
    "coordinate",
    "description",
    "place",
    "visible",
]

PUBLIC_PRECISION = 3  # decimal places of a public coordinate: about 100 m
WITHHELD = "（說明涉及個人狀況，不公開）"
# words of health, family and money: a description with one of them is not published
SENSITIVE_WORDS = (
    "病", "醫", "診", "住院", "開刀", "手術", "藥", "憂鬱", "焦慮", "精神", "身心", "障礙", "懷孕",
    "失智", "癌", "骨折", "受傷", "過世", "死亡", "自殺", "家暴", "離婚", "外遇", "小孩", "孩子",
    "父親", "母親", "爸爸", "媽媽", "先生", "太太", "老公", "老婆", "丈夫", "妻子", "兒子", "女兒",
    "債", "欠錢", "借錢", "貸款", "失業", "薪水", "存款", "收入", "低收", "補助", "保險", "房租",
)  # fmt: skip


class Audience(StrEnum):
    PUBLIC = "public"
    READER = "reader"


def visible(audience: Audience, public_categories: Sequence[str]) -> ColumnElement[bool]:
    """The SQL condition of the cases ``audience`` may read."""
    citizen_words = CaseRow.origin == "citizen"
    if audience is Audience.READER:
        return citizen_words
    return and_(citizen_words, CaseRow.category.in_(list(public_categories)))


def description(text: str) -> str:
    """The citizen's description as it may be published: without identifiers, or withheld."""
    if any(word in text for word in SENSITIVE_WORDS):
        return WITHHELD
    return redact_identifiers(text)


def place(text: str) -> str:
    return street_level(text)


def coordinate(value: float | None, audience: Audience) -> float | None:
    if value is None or audience is Audience.READER:
        return value
    return round(value, PUBLIC_PRECISION)
