import pytest

from knowledge.adapt import KINDS, answer_sentences, training_pairs
from knowledge.faq import FaqRecord
from tests.knowledge._fixtures import faqs


def _with_alternatives() -> list[FaqRecord]:
    return [
        FaqRecord(
            id="A-1",
            question="路燈不亮要找誰？",
            alt_questions=["路燈壞了怎麼報修", "晚上路燈一直閃"],
            answer="請撥打市民專線報修路燈。維修人員將於三個工作天內到場處理。",
        )
    ]


def test_every_question_text_is_paired_with_its_own_first_answer_passage() -> None:
    records = _with_alternatives()
    pairs = [p for p in training_pairs(records, seed=1) if p.kind == "question→answer"]
    assert [p.anchor for p in pairs] == records[0].texts()
    assert {p.positive for p in pairs} == {records[0].answer}


def test_alternative_questions_point_at_the_question_and_the_question_at_the_first_alternative() -> None:
    pairs = [p for p in training_pairs(_with_alternatives(), seed=1) if p.kind == "alternative→question"]
    assert [(p.anchor, p.positive) for p in pairs] == [
        ("路燈壞了怎麼報修", "路燈不亮要找誰？"),
        ("晚上路燈一直閃", "路燈不亮要找誰？"),
        ("路燈不亮要找誰？", "路燈壞了怎麼報修"),
    ]


def test_a_base_without_alternatives_gets_no_alternative_pairs() -> None:
    assert not [p for p in training_pairs(faqs(), seed=1) if p.kind == "alternative→question"]


def test_the_sentence_pair_asks_with_a_sentence_of_the_entry_s_own_answer() -> None:
    records = faqs()
    for pair in (p for p in training_pairs(records, seed=3) if p.kind == "sentence→question"):
        assert pair.anchor in answer_sentences(records[pair.entry].answer)
        assert pair.positive == records[pair.entry].question


def test_every_text_of_every_pair_comes_from_the_base() -> None:
    records = [*faqs(), *_with_alternatives()]
    texts = {t for r in records for t in [*r.texts(), r.answer]}
    for pair in training_pairs(records, seed=5):
        for side in (pair.anchor, pair.positive):
            assert side in texts or any(side in r.answer for r in records)


def test_the_seed_only_changes_which_answer_sentence_is_picked() -> None:
    records = faqs()
    first, second = training_pairs(records, seed=1), training_pairs(records, seed=2)
    assert [p.kind for p in first] == [p.kind for p in second]
    assert training_pairs(records, seed=1) == first


def test_only_the_kinds_asked_for_are_built() -> None:
    pairs = training_pairs(faqs(), seed=1, kinds=("question→answer",))
    assert {p.kind for p in pairs} == {"question→answer"}


def test_an_unknown_kind_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="question→answer"):
        training_pairs(faqs(), seed=1, kinds=("query→answer",))


def test_answer_sentences_keep_moderate_lengths_only() -> None:
    sentences = answer_sentences("短句。" + "這是一個長度適中的句子，說明如何申請。" + "長" * 100 + "。")
    assert sentences == ["這是一個長度適中的句子，說明如何申請。"]
    assert set(KINDS) == {"question→answer", "alternative→question", "sentence→question"}
