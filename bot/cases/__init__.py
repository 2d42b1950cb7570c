"""Cases: categories with agencies and targets, readable case numbers, the status life cycle."""

from bot.cases.categories import CATEGORIES, Category, category_by_code, match_category
from bot.cases.numbers import check_digit, format_case_number, is_valid_case_number, normalise_case_number
from bot.cases.status import TRANSITIONS, CaseStatus, InvalidTransition, check_transition

__all__ = [
    "CATEGORIES",
    "Category",
    "CaseStatus",
    "InvalidTransition",
    "TRANSITIONS",
    "category_by_code",
    "check_digit",
    "check_transition",
    "format_case_number",
    "is_valid_case_number",
    "match_category",
    "normalise_case_number",
]
