"""Adapt the encoder to a knowledge base in the foreground.

    python -m knowledge.adapt RECORDS [--models var/models] [--epochs 1] [--budget 600] ...

RECORDS is anything :func:`knowledge.importers.read_records` reads (a JSONL file, a folder of
content files). The adapted model is written under ``MODELS/adapted/`` (a cache hit if it is
there already); the last line printed is its folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from knowledge.adapt._cache import adapt
from knowledge.adapt._config import AdaptConfig
from knowledge.adapt._train import TorchTrainer
from knowledge.encoder import OFFLINE_E5, default_model_dir, load_encoder, materialise
from knowledge.importers import read_records
from knowledge.vector_cache import VectorCache


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("records", type=Path)
    parser.add_argument("--models", type=Path, default=Path("var/models"), help="cache root of the models")
    parser.add_argument("--vectors", type=Path, default=None, help="vector cache folder (base encoder)")
    parser.add_argument("--epochs", type=int, default=AdaptConfig.epochs)
    parser.add_argument("--batch-size", type=int, default=AdaptConfig.batch_size)
    parser.add_argument("--max-seq-length", type=int, default=AdaptConfig.max_seq_length)
    parser.add_argument("--lr", type=float, default=AdaptConfig.learning_rate)
    parser.add_argument("--frozen-layers", type=int, default=AdaptConfig.frozen_layers)
    parser.add_argument("--no-hard-negatives", action="store_true")
    parser.add_argument("--kinds", default=",".join(AdaptConfig.kinds))
    parser.add_argument(
        "--quantize", choices=["none", "int8"], default="int8", help="of the base encoder that mines"
    )
    parser.add_argument("--threads", type=int, default=AdaptConfig.threads)
    parser.add_argument(
        "--budget", type=float, default=AdaptConfig.time_budget_s, help="seconds of training at most"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    config = AdaptConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_seq_length=args.max_seq_length,
        learning_rate=args.lr,
        frozen_layers=args.frozen_layers,
        hard_negatives=not args.no_hard_negatives,
        kinds=tuple(k.strip() for k in args.kinds.split(",") if k.strip()),
        threads=args.threads,
        time_budget_s=args.budget,
    )
    records = [parsed.record for parsed in read_records(args.records)]
    folder = materialise(default_model_dir(args.models))
    base = load_encoder(OFFLINE_E5, args.models, quantize=args.quantize)
    started = time.monotonic()
    result = adapt(
        records,
        folder,
        base,
        args.models,
        TorchTrainer(),
        config,
        vectors=VectorCache(base, args.vectors),
    )
    marker = json.loads((result.folder / "adapted.json").read_text(encoding="utf-8"))
    print(
        json.dumps(
            {"cached": result.cached, "wall_s": round(time.monotonic() - started, 1), **marker["stats"]}
        )
    )
    print(result.folder)


if __name__ == "__main__":
    main()
