"""The adaptation as a cached artefact, with a fake trainer that speaks the Trainer protocol."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from knowledge.adapt import (
    AdaptConfig,
    Example,
    TrainingStats,
    adapt,
    adaptation_key,
    changed_share,
    examples_for,
    find_adapted,
)
from knowledge.encoder import HashingEncoder
from knowledge.faq import FaqRecord
from knowledge.vector_cache import VectorCache
from tests.knowledge._fixtures import faqs


class FakeTrainer:
    """Writes a model file naming how many examples it saw; can be told to fail or to run out of time."""

    def __init__(self, fail: bool = False, steps: int = 3) -> None:
        self.fail = fail
        self.steps = steps
        self.runs: list[list[Example]] = []

    def train(
        self,
        base: Path,
        examples: Sequence[Example],
        config: AdaptConfig,
        out: Path,
        clock: Callable[[], float],
    ) -> TrainingStats:
        self.runs.append(list(examples))
        (out / "weights.txt").write_text(f"{base.name} {len(examples)}", encoding="utf-8")
        if self.fail:
            raise RuntimeError("training failed half-way")
        return TrainingStats(
            examples=len(examples), steps=self.steps, planned_steps=3, seconds=1.0, losses=(1.0, 0.5)
        )


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _adapt(records: list[FaqRecord], root: Path, trainer: FakeTrainer, config: AdaptConfig | None = None):  # type: ignore[no-untyped-def]
    return adapt(records, root / "base", HashingEncoder(), root, trainer, config, clock=Ticks())


def test_the_second_run_on_the_same_content_is_a_cache_hit(tmp_path: Path) -> None:
    trainer = FakeTrainer()
    first = _adapt(faqs(), tmp_path, trainer)
    second = _adapt(list(reversed(faqs())), tmp_path, trainer)
    assert not first.cached
    assert second.cached
    assert second.folder == first.folder
    assert len(trainer.runs) == 1
    assert (first.folder / "weights.txt").read_text(encoding="utf-8") == f"base {len(trainer.runs[0])}"


def test_a_changed_answer_trains_a_new_model_beside_the_old(tmp_path: Path) -> None:
    trainer = FakeTrainer()
    first = _adapt(faqs(), tmp_path, trainer)
    changed = [
        r.model_copy(update={"answer": r.answer + "（已更新）"}) if r.id == "T-1" else r for r in faqs()
    ]
    second = _adapt(changed, tmp_path, trainer)
    assert not second.cached
    assert second.key != first.key
    assert first.folder.is_dir()
    assert second.folder.is_dir()
    assert len(trainer.runs) == 2


def test_the_key_follows_the_training_config_but_not_threads_or_time_budget() -> None:
    records = faqs()
    key = adaptation_key(records, "base-model", AdaptConfig())
    assert adaptation_key(records, "base-model", AdaptConfig(threads=1, time_budget_s=5)) == key
    assert adaptation_key(records, "base-model", AdaptConfig(epochs=2)) != key
    assert adaptation_key(records, "other-model", AdaptConfig()) != key
    renamed = [r.model_copy(update={"id": r.id + "x"}) for r in records]
    assert adaptation_key(renamed, "base-model", AdaptConfig()) == key


def test_a_failed_training_leaves_nothing_behind_and_the_next_run_trains_again(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="half-way"):
        _adapt(faqs(), tmp_path, FakeTrainer(fail=True))
    key = adaptation_key(faqs(), HashingEncoder().name, AdaptConfig())
    assert find_adapted(tmp_path, key) is None
    assert [p.name for p in (tmp_path / "adapted").iterdir() if not p.name.endswith(".lock")] == []
    assert not _adapt(faqs(), tmp_path, FakeTrainer()).cached


def test_a_run_cut_short_by_its_budget_is_returned_but_not_reused(tmp_path: Path) -> None:
    short = _adapt(faqs(), tmp_path, FakeTrainer(steps=1))
    assert not short.cached
    assert (short.folder / "weights.txt").is_file()
    trainer = FakeTrainer()
    again = _adapt(faqs(), tmp_path, trainer)
    assert not again.cached
    assert len(trainer.runs) == 1
    assert again.folder == short.folder
    assert _adapt(faqs(), tmp_path, trainer).cached


def test_the_marker_records_the_content_the_config_and_the_run(tmp_path: Path) -> None:
    result = _adapt(faqs(), tmp_path, FakeTrainer(), AdaptConfig(epochs=2))
    marker = json.loads((result.folder / "adapted.json").read_text(encoding="utf-8"))
    assert marker["key"] == result.key
    assert marker["config"]["epochs"] == 2
    assert marker["stats"]["complete"] is True
    assert marker["entries"] == sorted(r.content_hash() for r in faqs())


def test_an_empty_base_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        _adapt([], tmp_path, FakeTrainer())


def test_duplicates_are_one_group_and_never_each_other_s_negative() -> None:
    records = faqs()  # T-4 and T-6 ask the same question
    examples = examples_for(records, HashingEncoder(), AdaptConfig())
    group_of = {e.positive: e.group for e in examples if e.positive in {r.question for r in records}}
    by_id = {r.id: r for r in records}
    assert group_of[by_id["T-4"].question] == group_of[by_id["T-6"].question]
    for example in examples:
        if example.negative is not None:
            assert example.negative_group != example.group


def test_mining_reads_question_vectors_from_the_given_cache() -> None:
    cache = VectorCache(HashingEncoder())
    questions = len({r.question for r in faqs()})  # T-4 and T-6 share theirs
    examples_for(faqs(), HashingEncoder(), AdaptConfig(), vectors=cache)
    assert cache.misses == questions
    examples_for(faqs(), HashingEncoder(), AdaptConfig(), vectors=cache)
    assert cache.misses == questions
    assert cache.hits == len(faqs()) + 1


def test_without_hard_negatives_no_example_has_one() -> None:
    examples = examples_for(faqs(), HashingEncoder(), AdaptConfig(hard_negatives=False))
    assert all(e.negative is None for e in examples)


def test_changed_share_counts_added_changed_and_removed_entries() -> None:
    records = faqs()
    hashes = [r.content_hash() for r in records]
    assert changed_share(hashes, records) == 0.0
    changed = [records[0].model_copy(update={"answer": "新的答案。"}), *records[1:]]
    assert changed_share(hashes, changed) == pytest.approx(1 / len(records))
    assert changed_share(hashes, records[:-2]) == pytest.approx(
        1 / len(records)
    )  # two gone of seven: (2/2)/7
    assert changed_share([], records) == pytest.approx(0.5)
