from knowledge.calibrate import Evidence, ReplayRetriever, _fit_logistic, cross_validate, tune
from knowledge.evaluate import EvalCase, evaluate
from knowledge.retrieval_types import Candidate, RetrieverConfig


def _ranking(top: str, top_score: float, margin: float, bm25: float) -> tuple[Candidate, ...]:
    others = [Candidate(f"X-{i}", top_score - margin - 0.01 * i, 0.0, 0.0, bm25 / 2) for i in range(9)]
    return (Candidate(top, top_score, 0.0, 0.0, bm25), *others)


def _evidence() -> list[Evidence]:
    out: list[Evidence] = []
    for i in range(40):
        clear = i % 4 != 0  # three in four are clear wins, the rest close calls with the right one second
        gold = f"G-{i}"
        ranking = _ranking(gold if clear else "X-wrong", 1.6, 0.08 if clear else 0.005, 40.0)
        if not clear:
            ranking = (ranking[0], Candidate(gold, 1.595, 0.0, 0.0, 30.0), *ranking[2:])
        case: EvalCase = {"query": f"q{i}", "gold": [gold], "style": "short"}
        out.append(Evidence(case, ranking))
    for i in range(20):
        oos: EvalCase = {"query": f"oos{i}", "gold": None, "kind": "chitchat"}
        out.append(Evidence(oos, _ranking("X-any", 1.45, 0.004, 3.0)))
    return out


def test_logistic_fit_orders_probabilities_like_the_labels() -> None:
    slope, bias = _fit_logistic([0.0, 0.01, 0.02, 0.05, 0.08, 0.1], [False, False, True, False, True, True])
    assert slope > 0


def test_tune_abstains_on_out_of_scope_and_answers_only_clear_wins() -> None:
    evidence = _evidence()
    config = tune(evidence, RetrieverConfig())
    report = evaluate(ReplayRetriever(evidence, config), [e.case for e in evidence])
    assert report.oos_abstained >= 0.9
    assert report.answered_wrong <= 0.04
    assert report.answered_correct == 0.75
    assert report.clarified_correct == 0.25


def test_cross_validation_scores_every_fold_on_held_out_queries() -> None:
    results = cross_validate(_evidence(), RetrieverConfig(), folds=2, seed=1)
    assert len(results) == 2
    assert sum(r.n_in_scope + r.n_oos for _, r in results) == 60
    assert all(r.oos_abstained >= 0.9 for _, r in results)


def test_tune_offers_more_buttons_only_when_they_pay() -> None:
    from dataclasses import replace

    from knowledge.calibrate import extra_buttons

    evidence = _evidence()
    base = replace(RetrieverConfig(), clarify_candidates=5)
    free = tune(evidence, base, spans=(0.5, float("inf")), button_cost=0.0)
    dear = tune(evidence, base, spans=(0.5, float("inf")), button_cost=1.0)
    # the close calls have the right FAQ second: two buttons hold it, more only cost
    assert dear.clarify_span == 0.5
    assert extra_buttons(evidence, dear) < extra_buttons(evidence, replace(dear, clarify_span=float("inf")))
    assert free.clarify_span == 0.5  # equal value: the shorter list wins
    report = evaluate(ReplayRetriever(evidence, dear), [e.case for e in evidence])
    assert report.clarified_correct == 0.25
