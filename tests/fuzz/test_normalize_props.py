"""Properties of text normalisation (knowledge.normalize) and redaction (bot.privacy), on generated text.

Normalising never raises, is idempotent, and makes full-width and half-width the same
question; redaction is idempotent and lets no generated ID number, phone, e-mail or
house-number address through, whatever text surrounds it. The examples are the same on every
run (``BOT1999_FUZZ_RANDOM=1`` explores new ones).

Simplified and Traditional spellings of one question do not always get the same key yet:
OpenCC's s2twp, applied to text that is already Traditional, rewrites some characters and
phrases (干擾 → 幹擾, 里長 → 裡長, 文件 → 檔案), so a question typed in Simplified can miss its
Traditional twin. ``test_simplified_and_traditional_spellings_share_a_key`` records this as a
known failure on the default knowledge base until ``fold`` is made symmetric.
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.privacy import redact
from knowledge.importers import read_records
from knowledge.normalize import clean_text, fold, for_retrieval, question_key, to_simplified

BUDGET = settings(
    max_examples=200,
    deadline=None,
    derandomize=not os.environ.get("BOT1999_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
FULL_WIDTH = st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E)
PUNCT = st.sampled_from(list("，。？！、：；「」（）… \u3000\t\n\r-_/"))
ANY = st.characters(codec="utf-8")  # anything, controls and zero-width characters included
CITIZEN_TEXT = st.text(st.one_of(CJK, ASCII, FULL_WIDTH, PUNCT, ANY), max_size=80)
NOT_CJK = st.text(st.one_of(ASCII, FULL_WIDTH, PUNCT, ANY.filter(lambda ch: not 0x2E80 <= ord(ch) <= 0x9FFF)))
REPO = Path(__file__).resolve().parents[2]


@cache
def kb_texts() -> list[str]:
    """Every question, alternative and answer of the default knowledge base: real Traditional text."""
    records = [row.record for row in read_records(REPO / "knowledge" / "content")]
    return [text for r in records for text in (r.question, *r.alt_questions, r.answer)]


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if 0x21 <= ord(ch) <= 0x7E else ch for ch in text)


@BUDGET
@given(CITIZEN_TEXT)
def test_clean_text_is_tidy_and_idempotent(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    assert "\n\n\n" not in cleaned
    assert "  " not in cleaned
    assert "\r" not in cleaned
    assert not re.search(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\ufeff]", cleaned)
    assert unicodedata.is_normalized("NFC", cleaned)


@BUDGET
@given(NOT_CJK)
def test_fold_and_question_key_are_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    key = question_key(text)
    assert question_key(key) == key
    assert all(unicodedata.category(ch)[0] in "LN" for ch in key)


@BUDGET
@given(CITIZEN_TEXT)
def test_keys_never_raise_and_hold_only_letters_and_digits(text: str) -> None:
    assert all(unicodedata.category(ch)[0] in "LN" for ch in question_key(text))


def test_folding_real_traditional_text_is_idempotent() -> None:
    texts = kb_texts()
    assert len(texts) > 500
    assert [t for t in texts if fold(fold(t)) != fold(t)] == []


@BUDGET
@given(st.text(ASCII, max_size=40), st.sampled_from(range(10_000)))
def test_full_and_half_width_make_the_same_question(ascii_part: str, pick: int) -> None:
    texts = kb_texts()
    text = texts[pick % len(texts)][:60] + ascii_part
    assert question_key(_full_width(text)) == question_key(text)
    assert for_retrieval(_full_width(text)) == for_retrieval(text)


@pytest.mark.xfail(
    reason="knowledge.normalize.fold runs s2twp on Traditional text too (干擾 -> 幹擾, 文件 -> 檔案): "
    "about 5% of the default knowledge base's texts get another key when typed in Simplified",
    strict=True,
)
def test_simplified_and_traditional_spellings_share_a_key() -> None:
    differing = [t for t in kb_texts() if question_key(to_simplified(t)) != question_key(t)]
    assert differing == []


@BUDGET
@given(CITIZEN_TEXT)
def test_for_retrieval_is_spaced_words_only(text: str) -> None:
    out = for_retrieval(text)
    assert for_retrieval(out) == out
    assert out == out.strip()
    assert "  " not in out
    kept = set("%+# ")  # meaningful in a query (10%, C++, #1); words are split by single spaces
    assert all(ch in kept or not unicodedata.category(ch).startswith(("P", "S", "C", "Z")) for ch in out)


def test_known_pairs() -> None:
    assert question_key("ＡＢＣ身分證？") == question_key("abc 身分證")
    assert question_key("身份证怎么办") == question_key("身份證怎麼辦")
    assert question_key("大型垃圾要怎么预约清运") == question_key("大型垃圾要怎麼預約清運？")


ID = st.builds(
    lambda letter, gender, digits: letter + gender + digits,
    st.sampled_from("ABCDEFGHJKLMNPQRSTUVXYWZIO"),
    st.sampled_from("12"),
    st.text("0123456789", min_size=8, max_size=8),
)
MOBILE = st.builds(
    lambda digits, sep: f"09{digits[:2]}{sep}{digits[2:5]}{sep}{digits[5:]}",
    st.text("0123456789", min_size=8, max_size=8),
    st.sampled_from(["", "-", " "]),
)
EMAIL = st.builds(
    lambda user, host: f"{user}@{host}.gov.tw",
    st.text("abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=12),
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10),
)
ROAD = st.sampled_from(["中正", "五福一", "四維三", "和平一", "民族", "建國二", "中華", "自由"])
ADDRESS = st.builds(
    lambda road, suffix, lane, number: f"{road}{suffix}{lane}{number}號",
    ROAD,
    st.sampled_from(["路", "街", "路二段"]),
    st.sampled_from(["", "12巷", "3巷5弄"]),
    st.integers(1, 999),
)
PERSONAL = st.one_of(ID, MOBILE, EMAIL, ADDRESS)
FILLER = st.text(st.one_of(CJK, st.sampled_from(list("，。？！ 、"))), max_size=20)


@BUDGET
@given(FILLER, PERSONAL, FILLER)
def test_no_personal_data_survives_redaction(before: str, secret: str, after: str) -> None:
    text = f"{before} {secret} {after}"
    redacted = redact(text)
    assert secret not in redacted
    assert redact(redacted) == redacted
    assert redact(_full_width(text)) != _full_width(text), "full-width personal data is caught too"


@BUDGET
@given(CITIZEN_TEXT)
def test_redaction_never_raises_and_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
