"""Clustering of failed questions: similar Chinese phrasings together, unrelated apart, deterministic."""

from __future__ import annotations

import random
import time

import pytest

from bot.learning.clustering import ClusterConfig, Item, cluster
from bot.learning.features import Featuriser, cosine
from knowledge.normalize import question_key


def groups_of(texts: list[str], weights: list[int] | None = None, threshold: float = 0.2) -> list[set[str]]:
    vectors = Featuriser().vectors(texts)
    weights = weights or [1] * len(texts)
    items = [Item(question_key(t), w, v) for t, w, v in zip(texts, weights, vectors, strict=True)]
    return [{texts[i] for i in group} for group in cluster(items, ClusterConfig(threshold=threshold))]


def group_with(groups: list[set[str]], text: str) -> set[str]:
    return next(g for g in groups if text in g)


GARBAGE = ["垃圾車幾點會來", "垃圾車什麼時候來收", "請問垃圾車來的時間"]
TAX = ["房屋稅什麼時候要繳", "房屋稅繳納期限是哪天", "房屋稅幾月繳"]
DOGS = ["路上有流浪狗追人", "好多流浪狗在公園追人怎麼辦"]


def test_similar_phrasings_share_a_cluster_and_unrelated_ones_do_not() -> None:
    groups = groups_of(GARBAGE + TAX + DOGS + ["公車卡儲值哪裡可以用"])
    assert group_with(groups, GARBAGE[0]) == set(GARBAGE)
    assert group_with(groups, TAX[0]) == set(TAX)
    assert group_with(groups, DOGS[0]) == set(DOGS)
    assert group_with(groups, "公車卡儲值哪裡可以用") == {"公車卡儲值哪裡可以用"}


def test_simplified_traditional_and_full_width_variants_come_together() -> None:
    variants = ["房屋稅什麼時候要繳？", "房屋税什么时候缴", "ＡＴＭ可以繳房屋稅嗎", "atm可以缴房屋税吗"]
    vectors = Featuriser().vectors(variants)
    assert cosine(vectors[0], vectors[1]) > 0.6
    assert cosine(vectors[2], vectors[3]) > 0.99  # width and script only: the same terms
    groups = groups_of([*variants, "路燈不亮要找誰"])
    assert group_with(groups, "房屋税什么时候缴") >= {"房屋稅什麼時候要繳？", "房屋税什么时候缴"}
    assert group_with(groups, "ＡＴＭ可以繳房屋稅嗎") >= {"ＡＴＭ可以繳房屋稅嗎", "atm可以缴房屋税吗"}
    assert group_with(groups, "路燈不亮要找誰") == {"路燈不亮要找誰"}


def test_question_words_alone_do_not_make_questions_alike() -> None:
    a, b = Featuriser().vectors(["請問要怎麼申請低收入戶", "請問要怎麼申請停車位"])
    c, d = Featuriser().vectors(["低收入戶申請", "停車位申請"])
    assert cosine(a, b) < 0.35
    assert cosine(a, b) <= cosine(c, d) + 1e-9  # the scaffolding adds nothing


def test_clusters_do_not_depend_on_input_order_and_repeat_exactly() -> None:
    texts = GARBAGE + TAX + DOGS + ["公車卡儲值哪裡可以用", "公車卡在哪裡儲值", "圖書館幾點開門"]
    weights = [3, 1, 1, 2, 2, 1, 1, 1, 2, 1, 1]
    first = groups_of(texts, weights)
    rng = random.Random(7)
    for _ in range(5):
        order = list(range(len(texts)))
        rng.shuffle(order)
        shuffled = groups_of([texts[i] for i in order], [weights[i] for i in order])
        assert shuffled == first


def test_heaviest_phrasing_leads_and_biggest_cluster_comes_first() -> None:
    texts = ["圖書館幾點開門", "圖書館開放時間", "房屋稅幾月繳"]
    vectors = Featuriser().vectors(texts)
    items = [Item(question_key(t), w, v) for t, w, v in zip(texts, [1, 5, 2], vectors, strict=True)]
    groups = cluster(items, ClusterConfig(threshold=0.2))
    assert [[texts[i] for i in g] for g in groups] == [["圖書館開放時間", "圖書館幾點開門"], ["房屋稅幾月繳"]]


def test_a_question_with_no_content_words_stays_alone() -> None:
    groups = groups_of(["請問一下", "怎麼辦", "房屋稅幾月繳"])
    assert {"請問一下"} in groups
    assert {"怎麼辦"} in groups


@pytest.mark.slow
def test_ten_thousand_phrasings_cluster_in_seconds() -> None:
    rng = random.Random(1999)
    topics = (
        GARBAGE + TAX + DOGS + ["公車卡儲值哪裡可以用", "圖書館幾點開門", "路燈不亮要找誰", "機車停車格收費"]
    )
    fillers = ["", "請問", "想問一下", "你好 ", "欸 "]
    endings = ["", "？", "嗎", "謝謝", "呢", "…", "!!"]
    texts = sorted(
        {f"{rng.choice(fillers)}{rng.choice(topics)}{rng.choice(endings)}{n % 97}" for n in range(10_000)}
    )
    vectors = Featuriser().vectors(texts)
    items = [Item(question_key(t), 1, v) for t, v in zip(texts, vectors, strict=True)]
    started = time.process_time()
    groups = cluster(items, ClusterConfig())
    assert time.process_time() - started < 10.0
    assert len(groups) < len(texts) / 10
