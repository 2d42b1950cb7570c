import pytest

from knowledge.normalize import for_retrieval
from knowledge.synonyms import SynonymError, default_synonyms, load_synonyms, parse_synonyms


def test_parse_skips_comments_and_blank_lines_and_folds_both_sides() -> None:
    synonyms = parse_synonyms(["# a comment", "", "当兵\t兵役  # simplified variant", "ＡＴＭ\t提款機"])
    assert synonyms.rules == {"當兵": "兵役", "atm": "提款機"}


def test_bad_line_names_its_number() -> None:
    with pytest.raises(SynonymError, match=":2:"):
        parse_synonyms(["當兵\t兵役", "只有一欄"], source="list")


def test_longest_variant_wins_and_output_is_not_rewritten_again() -> None:
    synonyms = parse_synonyms(["上班\t工作", "上班受傷\t職業災害", "職業\t行業"])
    assert synonyms.apply("上班受傷怎麼辦") == "職業災害怎麼辦"
    assert synonyms.apply("上班時間") == "工作時間"


def test_canonical_text_that_contains_a_variant_is_left_alone() -> None:
    synonyms = parse_synonyms(["違停\t違規停車", "停車\t泊車"])
    assert synonyms.apply("違規停車") == "違規停車"
    assert synonyms.apply("違停") == "違規停車"
    assert synonyms.apply("停車") == "泊車"


def test_load_from_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "syn.tsv"
    path.write_text("罰單\t罰鍰\n", encoding="utf-8")
    assert load_synonyms(path).apply("罰單") == "罰鍰"


def test_bundled_list_covers_everyday_civic_words() -> None:
    synonyms = default_synonyms()
    assert len(synonyms) > 50
    assert synonyms.apply(for_retrieval("我要去當兵")) == "我要服兵役"
    assert "職業災害" in synonyms.apply(for_retrieval("上班受傷"))
    assert "罰鍰" in synonyms.apply(for_retrieval("罰单怎么缴"))


def test_for_retrieval_folds_width_script_and_punctuation() -> None:
    assert for_retrieval("罰單要怎么繳？（ＡＢＣ）") == "罰單要怎麼繳 abc"
    assert for_retrieval("罰單要怎么繳？", default_synonyms().apply) == "罰鍰如何繳"
