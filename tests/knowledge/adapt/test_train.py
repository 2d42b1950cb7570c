"""The torch trainer on a tiny real model (a 2-layer BERT with a character vocabulary, built here):
the encoder tier, since it imports torch and trains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.adapt import AdaptConfig, Example, TorchTrainer, examples_for
from knowledge.encoder import HashingEncoder, SentenceTransformerEncoder
from tests.knowledge._fixtures import faqs

pytestmark = pytest.mark.encoder

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT (hidden 32) whose vocabulary is the fixture's characters."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as st_models
    from tokenizers import Regex, Tokenizer, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    characters = sorted({ch for r in faqs() for ch in f"query: passage: {r.question}{r.answer}"})
    vocabulary = {token: n for n, token in enumerate([*SPECIAL, *characters])}
    tokenizer = Tokenizer(WordLevel(vocabulary, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    raw = tmp_path_factory.mktemp("tiny-raw")
    PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    ).save_pretrained(raw)
    config = BertConfig(
        vocab_size=len(vocabulary),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(raw)
    transformer = st_models.Transformer(str(raw), max_seq_length=64)
    folder = tmp_path_factory.mktemp("tiny-st")
    SentenceTransformer(
        modules=[transformer, st_models.Pooling(32, "mean"), st_models.Normalize()], device="cpu"
    ).save(str(folder))
    return folder


def _config(**changes: object) -> AdaptConfig:
    values: dict[str, object] = {
        "epochs": 8,
        "batch_size": 4,
        "learning_rate": 3e-3,
        "warmup_share": 0.0,
        "frozen_layers": 0,
    }
    return AdaptConfig(**{**values, **changes})  # type: ignore[arg-type]


def _examples() -> list[Example]:
    return examples_for(faqs(), HashingEncoder(), _config())


def _agreement(folder: Path, examples: list[Example]) -> float:
    """How much closer each anchor (as a query) is to its own positive than to the other groups'
    positives (as passages), on average."""
    encoder = SentenceTransformerEncoder(str(folder), trace=False, threads=2)
    anchors = encoder.encode_queries([e.anchor for e in examples])
    positives = encoder.encode_passages([e.positive for e in examples])
    cosines = anchors @ positives.T
    groups = np.array([e.group for e in examples])
    others = groups[None, :] != groups[:, None]
    own = np.diag(cosines)
    return float(np.mean(own - np.sum(cosines * others, axis=1) / others.sum(axis=1)))


def _state(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


class Ticks:
    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_training_pulls_anchors_towards_their_positives_and_keeps_word_embeddings(
    tiny_model: Path, tmp_path: Path
) -> None:
    examples = _examples()
    stats = TorchTrainer().train(tiny_model, examples, _config(), tmp_path, Ticks(0.0))
    assert stats.complete
    per_epoch = -(-len(examples) // 4) - (len(examples) % 4 == 1)  # a last batch of one is dropped
    assert stats.steps == 8 * per_epoch
    assert _agreement(tmp_path, examples) > _agreement(tiny_model, examples)
    before, after = _state(tiny_model), _state(tmp_path)
    words = next(k for k in before if k.endswith("word_embeddings.weight"))
    np.testing.assert_array_equal(after[words], before[words])
    assert any(not np.array_equal(after[k], before[k]) for k in before if "encoder.layer.1." in k)


def test_the_same_seed_gives_the_same_model(tiny_model: Path, tmp_path: Path) -> None:
    examples = _examples()
    config = _config(epochs=1)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        TorchTrainer().train(tiny_model, examples, config, tmp_path / name, Ticks(0.0))
    first, second = _state(tmp_path / "a"), _state(tmp_path / "b")
    for key, value in first.items():
        np.testing.assert_array_equal(second[key], value)


def test_the_time_budget_stops_training_and_still_writes_a_model(tiny_model: Path, tmp_path: Path) -> None:
    examples = _examples()
    # the clock advances 10 s per reading: read at the start and before each step, the budget of 25 s allows two
    stats = TorchTrainer().train(tiny_model, examples, _config(time_budget_s=25.0), tmp_path, Ticks(10.0))
    assert stats.steps == 2
    assert not stats.complete
    assert (tmp_path / "model.safetensors").is_file()


def test_with_frozen_lower_layers_only_the_upper_ones_learn(tiny_model: Path, tmp_path: Path) -> None:
    examples = _examples()
    TorchTrainer().train(tiny_model, examples, _config(frozen_layers=1), tmp_path, Ticks(0.0))
    before, after = _state(tiny_model), _state(tmp_path)
    for key in (k for k in before if "encoder.layer.0." in k or "embeddings" in k):
        np.testing.assert_array_equal(after[key], before[key])
    assert any(not np.array_equal(after[k], before[k]) for k in before if "encoder.layer.1." in k)
    assert _agreement(tmp_path, examples) > _agreement(tiny_model, examples)


def test_freezing_every_layer_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="none of the model's 2 layers"):
        TorchTrainer().train(tiny_model, _examples(), _config(frozen_layers=2), tmp_path, Ticks(0.0))
