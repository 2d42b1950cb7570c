from datetime import date
from itertools import pairwise

import pytest

from bot.cases import check_digit, format_case_number, is_valid_case_number, normalise_case_number


def test_format_reads_as_date_sequence_and_check_digit() -> None:
    number = format_case_number(date(2026, 11, 22), 42)
    assert number.startswith("261122-0042-")
    assert is_valid_case_number(number)


def test_every_single_digit_error_and_neighbour_swap_is_caught() -> None:
    number = format_case_number(date(2026, 1, 5), 317)
    digits = number.replace("-", "")
    for i, ch in enumerate(digits):
        for wrong in "0123456789":
            if wrong != ch:
                typo = digits[:i] + wrong + digits[i + 1 :]
                assert not is_valid_case_number(typo), typo
    for i, (a, b) in enumerate(pairwise(digits)):
        if a != b:
            swapped = digits[:i] + b + a + digits[i + 2 :]
            assert not is_valid_case_number(swapped), swapped


def test_what_citizens_type_is_understood() -> None:
    number = format_case_number(date(2026, 11, 22), 7)
    spoken = number.replace("-", " ").translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert normalise_case_number(spoken) == number
    assert is_valid_case_number(spoken)
    assert not is_valid_case_number("hello")
    assert check_digit("") == 0


def test_sequences_grow_beyond_four_digits() -> None:
    assert is_valid_case_number(format_case_number(date(2026, 11, 22), 12345))
    with pytest.raises(ValueError, match="sequence"):
        format_case_number(date(2026, 11, 22), 0)


def test_a_case_number_is_found_in_a_sentence() -> None:
    from bot.cases.numbers import find_case_number

    assert find_case_number("查詢案件 261207-0001-4") == "261207-0001-4"
    assert find_case_number("我的案號是２６１２０７－０００１－４，幫我查") == "261207-0001-4"
    assert find_case_number("案件編號 26120700014 現在狀態如何") == "261207-0001-4"
    assert find_case_number("我要查詢案件進度") is None
    assert find_case_number("電話 0912345678") is None
