"""The retriever every process builds from settings (bot/retrieval.py)."""

import pytest

from bot.retrieval import retriever_config
from bot.settings import SettingsError, load_settings
from knowledge.retrieval_types import RetrieverConfig


@pytest.fixture(autouse=True)
def no_settings_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT1999_SETTINGS_FILE", "")


def test_the_defaults_are_the_shipped_config() -> None:
    config = retriever_config(load_settings().knowledge)
    assert config == RetrieverConfig() == RetrieverConfig.reranked_defaults()
    assert config.rerank
    assert not config.calibrate


def test_without_the_second_stage_the_first_stage_brings_its_own_thresholds() -> None:
    config = retriever_config(load_settings(knowledge={"retrieval": {"rerank": False}}).knowledge)
    assert config == RetrieverConfig.first_stage_defaults()
    assert config.margin_slope != RetrieverConfig().margin_slope


def test_thresholds_set_by_hand_are_not_calibrated_away() -> None:
    knowledge = load_settings(knowledge={"retrieval": {"answer_confidence": 0.7}}).knowledge
    config = retriever_config(knowledge)
    assert (config.answer_confidence, config.calibrate) == (0.7, False)
    calibrated = load_settings(knowledge={"retrieval": {"calibrate": True}}).knowledge
    assert retriever_config(calibrated).calibrate
    both = load_settings(knowledge={"retrieval": {"answer_confidence": 0.7, "calibrate": True}}).knowledge
    assert retriever_config(both).calibrate


def test_up_to_five_buttons_and_a_span() -> None:
    knowledge = load_settings(
        knowledge={"retrieval": {"clarify_candidates": 5, "clarify_span": 3.0}}
    ).knowledge
    config = retriever_config(knowledge)
    assert (config.clarify_candidates, config.clarify_span) == (5, 3.0)
    with pytest.raises(SettingsError, match="clarify_candidates"):
        load_settings(knowledge={"retrieval": {"clarify_candidates": 6}})
