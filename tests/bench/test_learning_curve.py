"""The learning-curve benchmark's split: one query of each pair replayed, the other held back."""

from bench.learning_curve import split
from knowledge.evaluate import EvalCase


def test_each_entry_with_two_queries_gives_one_replayed_and_one_held_back() -> None:
    cases: list[EvalCase] = [
        {"query": "a1", "gold": ["A"]},
        {"query": "b1", "gold": "B"},
        {"query": "a2", "gold": ["A"]},
        {"query": "c1", "gold": ["C"]},
        {"query": "b2", "gold": ["B"]},
        {"query": "b3", "gold": ["B"]},
        {"query": "chitchat", "gold": None},
        {"query": "a or c", "gold": ["A", "C"]},
        {"query": "c or a", "gold": ["C", "A"]},
    ]
    replayed, held = split(cases)
    assert [c["query"] for c in replayed] == ["a1", "b1", "a or c"]
    assert [c["query"] for c in held] == ["a2", "b2", "c or a"]
