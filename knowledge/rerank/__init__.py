"""Second-stage re-ranking of the first stage's candidates (features among siblings, a linear model)."""

from knowledge.rerank._features import (
    FEATURES,
    GROUPS,
    FaqProfile,
    Matrix,
    QueryTerms,
    agency_keys,
    features,
    profile_faq,
    query_terms,
)
from knowledge.rerank._hub import hub_scores
from knowledge.rerank._model import WEIGHTS_FILE, Reranker, RerankWeights, fit
from knowledge.rerank._qtypes import QUESTION_TYPES, answer_types, question_types

__all__ = [
    "FEATURES",
    "GROUPS",
    "QUESTION_TYPES",
    "WEIGHTS_FILE",
    "FaqProfile",
    "Matrix",
    "QueryTerms",
    "RerankWeights",
    "Reranker",
    "agency_keys",
    "answer_types",
    "features",
    "fit",
    "hub_scores",
    "profile_faq",
    "query_terms",
    "question_types",
]
