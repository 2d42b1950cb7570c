import numpy as np

from knowledge.lexical import LexicalConfig, LexicalIndex, bigrams, words
from knowledge.synonyms import parse_synonyms
from tests.knowledge._fixtures import faqs


def _index(**kwargs: object) -> LexicalIndex:
    index = LexicalIndex(**kwargs)  # type: ignore[arg-type]
    index.set_many((r.id, r.texts(), r.answer) for r in faqs())
    return index


def _top(index: LexicalIndex, query: str) -> str:
    return index.ids[int(np.argmax(index.scores(query)))]


def test_bigrams_stay_inside_chunks_and_keep_single_characters() -> None:
    assert bigrams("罰鍰繳納 a 期限") == ["罰鍰", "鍰繳", "繳納", "a", "期限"]


def test_words_segment_traditional_text() -> None:
    assert "垃圾" in list(words("大型垃圾如何清運"))


def test_ranks_the_faq_that_shares_the_rare_words() -> None:
    index = _index()
    assert _top(index, "罰鍰要在哪裡繳") == "T-3"
    assert _top(index, "圖書館可以借幾本書") == "T-7"


def test_synonyms_bridge_colloquial_words() -> None:
    plain = _index()
    with_synonyms = _index(rewrite=parse_synonyms(["罰單\t罰鍰", "紅單\t罰鍰"]).apply)
    assert plain.scores("紅單")[plain.row("T-3")] == 0.0
    assert _top(with_synonyms, "紅單") == "T-3"


def test_answer_weight_changes_answer_only_matches() -> None:
    no_answer = _index(config=LexicalConfig(answer_weight=0.0))
    with_answer = _index(config=LexicalConfig(answer_weight=1.0))
    assert float(no_answer.scores("續借").max()) == 0.0
    assert _top(with_answer, "續借") == "T-7"


def test_update_and_remove_take_effect_on_the_next_search() -> None:
    index = _index()
    index.set("T-7", ["圖書館停車場收費？"], "停車每小時二十元。")
    assert _top(index, "停車每小時多少") == "T-7"
    index.remove("T-3")
    assert "T-3" not in index.ids
    assert len(index) == 6


def test_coverage_is_the_share_of_query_bigrams_known_to_questions() -> None:
    index = _index()
    assert index.coverage("大型垃圾") == 1.0
    assert index.coverage("蝦皮退貨") == 0.0
    assert 0.0 < index.coverage("大型垃圾蝦皮") < 1.0
