from knowledge.normalize import for_retrieval
from knowledge.rerank import QUESTION_TYPES, answer_types, question_types


def test_interrogatives_map_to_what_they_ask_for() -> None:
    assert "duration" in question_types(for_retrieval("護照補發要等多久"))
    assert "cost" in question_types(for_retrieval("護照補發的費用是多少"))
    assert "place" in question_types(for_retrieval("護照在哪裡申請"))
    assert "documents" in question_types(for_retrieval("申請護照要帶什麼證件"))
    assert "eligibility" in question_types(for_retrieval("誰可以申請低收入戶"))
    assert "penalty" in question_types(for_retrieval("違規停車會被罰多少"))
    assert question_types(for_retrieval("護照")) == frozenset()


def test_answers_giving_a_duration_or_an_amount_are_recognised() -> None:
    assert "duration" in answer_types("約需5個工作天")
    assert "cost" in answer_types("每件收費1,300元")
    assert "contact" in answer_types("請洽07-1234567")
    assert answer_types("請至櫃台辦理") & {"duration", "cost", "contact"} == frozenset()


def test_every_type_has_cues_and_distinct_name() -> None:
    names = [t.name for t in QUESTION_TYPES]
    assert len(names) == len(set(names))
    assert all(t.cues for t in QUESTION_TYPES)
