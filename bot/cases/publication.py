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
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, true

from bot.privacy import redact_identifiers, street_level
from bot.store.models import CaseRow

__all__ = ["Audience", "PUBLIC_PRECISION", "coordinate", "description", "place", "visible"]

PUBLIC_PRECISION = 3  # decimal places of a public coordinate: about 100 m


class Audience(StrEnum):
    PUBLIC = "public"
    READER = "reader"


def visible(audience: Audience, public_categories: Sequence[str]) -> ColumnElement[bool]:
    """The SQL condition of the cases ``audience`` may read."""
    citizen_words = CaseRow.origin == "citizen"
    if audience is Audience.READER:
        return and_(citizen_words, true())
    return and_(citizen_words, CaseRow.category.in_(list(public_categories)))


def description(text: str) -> str:
    return redact_identifiers(text)


def place(text: str) -> str:
    return street_level(text)


def coordinate(value: float | None, audience: Audience) -> float | None:
    if value is None or audience is Audience.READER:
        return value
    return round(value, PUBLIC_PRECISION)
