"""materialise: a standard sentence-transformers folder, written once, atomically, re-made on a new source."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from knowledge.encoder import default_model_dir, materialise
from knowledge.encoder._e5file import E5File
from knowledge.encoder.materialise import MARKER, default_source, read_marker


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
    }


def test_folder_is_a_sentence_transformers_model(model_dir: Path, e5_file: E5File) -> None:
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    assert [module["type"].rsplit(".", 1)[1] for module in modules] == ["Transformer", "Pooling", "Normalize"]
    settings = json.loads((model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert settings["prompts"] == {"query": "query: ", "passage": "passage: "}
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    assert pooling["pooling_mode_mean_tokens"]
    assert pooling["word_embedding_dimension"] == 384
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"]) == ("bert", 384, 12)
    assert config["vocab_size"] == e5_file.header.vocab_rows
    assert (
        json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]["type"] == "Unigram"
    )


def test_weights_are_the_dequantised_file(model_dir: Path, e5_file: E5File) -> None:
    weights = load_file(str(model_dir / "model.safetensors"))
    query = weights["encoder.layer.3.attention.self.query.weight"]
    assert query.shape == (384, 384)
    np.testing.assert_array_equal(query.reshape(-1), e5_file.tensor("l3.q.w"))
    assert weights["encoder.layer.11.intermediate.dense.weight"].shape == (1536, 384)
    assert weights["embeddings.word_embeddings.weight"].shape == (e5_file.header.vocab_rows, 384)


def test_second_call_is_a_no_op(model_dir: Path) -> None:
    before = _snapshot(model_dir)
    assert materialise(model_dir) == model_dir
    assert _snapshot(model_dir) == before  # no file rewritten or replaced (same inode, same mtime)


def test_default_model_dir_is_under_the_cache_root(tmp_path: Path) -> None:
    assert default_model_dir(tmp_path).parent == tmp_path


def test_a_broken_source_leaves_nothing_behind(tmp_path: Path) -> None:
    source = tmp_path / "broken.bin"
    source.write_bytes(b"NOPE" + bytes(64))
    with pytest.raises(ValueError, match="magic"):
        materialise(tmp_path / "cache" / "model", source=source)
    assert [path.name for path in (tmp_path / "cache").iterdir()] == [".model.lock"]


@pytest.mark.slow
def test_a_changed_source_is_converted_again(model_dir: Path, e5_file: E5File, tmp_path: Path) -> None:
    source = tmp_path / "changed-q4.bin"
    shutil.copyfile(default_source(), source)
    bias = e5_file.tensors["l0.q.b"]
    with source.open("r+b") as stream:  # l0.q.b[0] := 0.5
        stream.seek(bias.offset)
        stream.write(struct.pack("<f", 0.5))
    target = tmp_path / "cache" / model_dir.name
    shutil.copytree(model_dir, target)
    old_digest = (read_marker(target) or {})["source_sha256"]

    assert materialise(target, source=source) == target

    assert (read_marker(target) or {})["source_sha256"] != old_digest
    assert load_file(str(target / "model.safetensors"))["encoder.layer.0.attention.self.query.bias"][0] == 0.5
    assert sorted(path.name for path in target.parent.iterdir()) == [f".{target.name}.lock", target.name]
    assert (target / MARKER).is_file()
