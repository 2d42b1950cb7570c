"""Decision thresholds calibrated on the base's own alternative questions (knowledge.base_calibration)."""

from __future__ import annotations

from pathlib import Path

import pytest

import knowledge.base_calibration as base_calibration
import knowledge.retriever as retriever_module
from knowledge.base_calibration import fit_decisions, held_out_evidence, held_out_pairs
from knowledge.calibrate import Evidence
from knowledge.faq import FaqRecord
from knowledge.importers import read_records
from knowledge.retrieval_types import Candidate, RetrieverConfig
from knowledge.retriever import Retriever
from tests.knowledge._fixtures import CountingEncoder, faqs

CONTENT = Path(__file__).resolve().parents[2] / "knowledge" / "content"


@pytest.fixture(scope="module")
def curated() -> list[FaqRecord]:
    """The shipped default base's first files: entries with alternative questions."""
    return [p.record for p in read_records(CONTENT / "A_env.jsonl")] + [
        p.record for p in read_records(CONTENT / "A_tax.jsonl")
    ]


@pytest.fixture(autouse=True)
def few_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base_calibration, "MAX_PAIRS", 60)
    monkeypatch.setattr(base_calibration, "MIN_PAIRS", 30)
    monkeypatch.setattr(retriever_module, "MIN_PAIRS", 30)


def test_pairs_hold_out_alternative_questions_only_their_own_entry_holds() -> None:
    shared = FaqRecord(
        id="S-1", question="房屋稅什麼時候繳？", answer="五月。", alt_questions=["房屋稅怎麼繳", "房屋稅期限"]
    )
    twin = FaqRecord(id="S-2", question="房屋稅可以刷卡嗎？", answer="可以。", alt_questions=["房屋稅怎麼繳"])
    pairs = held_out_pairs([shared, twin])
    assert [(r.id, r.alt_questions[i]) for r, i in pairs] == [("S-1", "房屋稅期限")]


def test_each_alternative_question_is_asked_with_itself_taken_out() -> None:
    record = FaqRecord(
        id="A-1", question="路燈不亮要找誰？", answer="撥1999。", alt_questions=["路燈壞了", "路燈故障"]
    )
    seen: list[list[str]] = []
    asked: list[str] = []

    def search(query: str) -> list[Candidate]:
        asked.append(query)
        return [Candidate("A-1", 1.0, 1.0, 0.0, 1.0)]

    evidence = held_out_evidence([(record, 0), (record, 1)], lambda r: seen.append(r.alt_questions), search)
    assert asked == ["路燈壞了", "路燈故障"]
    assert seen == [["路燈故障"], ["路燈壞了", "路燈故障"], ["路燈壞了"], ["路燈壞了", "路燈故障"]]
    assert [e.case["gold"] for e in evidence] == [["A-1"], ["A-1"]]


def _evidence(n: int, wrong_every: int) -> list[Evidence]:
    """Clear wins when right; every ``wrong_every``-th query has the wrong FAQ narrowly on top."""
    out = []
    for i in range(n):
        wrong = i % wrong_every == 0
        margin = 0.004 if wrong else 0.05 + 0.001 * (i % 7)
        top = Candidate("X" if wrong else f"G-{i}", 2.5, 0.9, 0.5, 5.0, matched=f"t{i}")
        second = Candidate(f"G-{i}" if wrong else "Y", 2.5 - margin, 0.8, 0.5, 5.0, matched=f"s{i}")
        out.append(Evidence({"query": f"q{i}", "gold": [f"G-{i}"]}, (top, second)))
    return out


def test_the_fit_answers_the_clear_wins_and_offers_the_close_calls() -> None:
    calibration = fit_decisions("k", _evidence(100, 5), RetrieverConfig())
    assert calibration is not None
    assert calibration.margin_slope > 0
    assert calibration.answered_wrong <= base_calibration.MAX_ANSWERED_WRONG
    assert calibration.answered_correct == pytest.approx(0.8)
    assert calibration.top1 == pytest.approx(0.8)
    assert fit_decisions("k", _evidence(10, 5), RetrieverConfig()) is None  # too few to fit


def test_a_base_with_alternative_questions_is_calibrated_once_and_cached(
    curated: list[FaqRecord], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = RetrieverConfig(calibrate=True)
    first = Retriever(CountingEncoder(), given, cache_root=tmp_path)
    first.build(curated)
    calibration = first.calibration
    assert calibration is not None
    assert calibration.pairs == 60
    assert first.config == calibration.apply(given)
    assert (first.config.margin_slope, first.config.answer_confidence) != (
        given.margin_slope,
        given.answer_confidence,
    )
    assert first.config.abstain_below == given.abstain_below  # no out-of-scope messages to fit it on
    assert len(list(tmp_path.glob("calibration-*.json"))) == 1

    def refit(*args: object) -> None:
        raise AssertionError("an unchanged base is not calibrated again")

    monkeypatch.setattr(retriever_module, "fit_decisions", refit)
    again = Retriever(CountingEncoder(), given, cache_root=tmp_path)
    again.build(curated)
    assert again.calibration == calibration
    # the retriever's own config can still be set by hand, as it is
    again.config = given
    assert again.config == given


def test_a_base_without_alternative_questions_keeps_the_given_thresholds(tmp_path: Path) -> None:
    given = RetrieverConfig(calibrate=True)
    built = Retriever(CountingEncoder(), given, cache_root=tmp_path)
    built.build(faqs())
    assert built.calibration is None
    assert built.config == given
    assert not list(tmp_path.glob("calibration-*.json"))


def test_calibration_can_be_turned_off(curated: list[FaqRecord], tmp_path: Path) -> None:
    given = RetrieverConfig(calibrate=False)
    built = Retriever(CountingEncoder(), given, cache_root=tmp_path)
    built.build(curated)
    assert built.calibration is None
    assert built.config == given


def test_a_changed_base_is_calibrated_again(curated: list[FaqRecord], tmp_path: Path) -> None:
    on = RetrieverConfig(calibrate=True)
    Retriever(CountingEncoder(), on, cache_root=tmp_path).build(curated)
    edited = [
        curated[0].model_copy(update={"alt_questions": [*curated[0].alt_questions, "新的問法"]}),
        *curated[1:],
    ]
    Retriever(CountingEncoder(), on, cache_root=tmp_path).build(edited)
    assert len(list(tmp_path.glob("calibration-*.json"))) == 2
