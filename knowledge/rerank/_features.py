"""Features of a query against each of its first-stage candidates, computed among the candidates.

The first stage scores every FAQ on its own; siblings of one agency then differ by
thousandths. These features look at what *distinguishes the candidates from each other*:
term weights are inverse document frequencies among the ~20 candidates (a word every
candidate shares weighs almost nothing, a word only one holds weighs most).

Groups (for ablation; the shipped weights name the features they use):
``first_stage`` (fused, dense and BM25 scores as gaps to the best candidate, rank),
``field_bm25`` (BM25 of the question and of the answer field apart), ``shape`` (length of
the main question), ``local`` (the query's words and character bigrams found in the
candidate's question / answer, and those found in neither), ``qualifier`` (the
candidate's distinctive question words the query does not mention), ``qtype``
(question-type agreement, :mod:`knowledge.rerank._qtypes`; with alternative questions the
best-agreeing phrasing counts), ``sentence`` (the best-matching answer sentence),
``agency`` (the query names the candidate's agency, or another candidate's), ``hub`` (how
close the candidate's question sits to its nearest other questions of the base).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.lexical import bigrams, words
from knowledge.normalize import to_simplified
from knowledge.rerank._qtypes import answer_types, question_types
from knowledge.retrieval_types import Candidate

__all__ = [
    "FEATURES",
    "GROUPS",
    "FaqProfile",
    "Matrix",
    "QueryTerms",
    "agency_keys",
    "features",
    "profile_faq",
    "query_terms",
]

Matrix = npt.NDArray[np.float64]

GROUPS: dict[str, tuple[str, ...]] = {
    "first_stage": ("fs_score", "fs_question", "fs_answer", "fs_bm25", "fs_rank"),
    "field_bm25": ("bm25_question", "bm25_answer"),
    "shape": ("question_length",),
    "local": ("local_q_word", "local_q_bigram", "local_a_word", "local_a_bigram", "local_miss"),
    "qualifier": ("qual_word", "qual_bigram", "qual_rare"),
    "qtype": ("qtype_match", "qtype_conflict", "qtype_extra", "qtype_answer"),
    "sentence": ("sentence_best",),
    "agency": ("agency_match", "agency_other"),
    "hub": ("hub",),
}
FEATURES: tuple[str, ...] = tuple(name for names in GROUPS.values() for name in names)

_SENTENCE_END = re.compile(r"[。！？；!?;\n]+")
_PREFIX = re.compile(r"^[^市縣]{1,3}[市縣](政府)?(市立|縣立)?")  # 高雄市政府…, 臺北市立…
_SUFFIX = re.compile(r"(委員會|區公所|公所|局|處|中心|署|部|會)$")


@dataclass(frozen=True)
class QueryTerms:
    """A normalised query analysed once: its text, a Simplified copy, words, bigrams and question types."""

    text: str
    simplified: str
    words: frozenset[str]
    bigrams: frozenset[str]
    types: frozenset[str]


@dataclass(frozen=True)
class FaqProfile:
    """What the features need of one FAQ, derived from its text once (see :func:`profile_faq`)."""

    question: str  # normalised question(s), Simplified (for substring tests of words)
    answer: str  # normalised answer, Simplified
    q_words: frozenset[str]
    q_bigrams: frozenset[str]
    a_words: frozenset[str]
    a_bigrams: frozenset[str]
    sentences: tuple[frozenset[str], ...]  # bigrams of each answer sentence
    q_types: tuple[frozenset[str], ...]  # question types of the question and of each alternative
    length: int  # characters of the (main) question
    a_types: frozenset[str]
    agency: tuple[str, ...]  # ways a query may name the FAQ's agency
    hub: float = 0.0


def _content_words(items: Sequence[str] | frozenset[str]) -> frozenset[str]:
    """Words of two or more characters (one-character words are mostly particles; bigrams see the rest)."""
    return frozenset(w for w in items if len(w) > 1)


def query_terms(normalised: str) -> QueryTerms:
    return QueryTerms(
        normalised,
        to_simplified(normalised),
        _content_words(words(normalised)),
        frozenset(bigrams(normalised)),
        question_types(normalised),
    )


def agency_keys(agency: str) -> tuple[str, ...]:
    """The agency's name without the city's prefix, and without its 局/處 suffix (two characters or more)."""
    core = _PREFIX.sub("", agency.strip())
    keys = [core] if len(core) > 1 else []
    short = _SUFFIX.sub("", core)
    if len(short) > 1 and short != core:
        keys.append(short)
    return tuple(keys)


def profile_faq(
    questions: Sequence[str],
    answer: str,
    agency: str,
    normalise: Callable[[str], str],
    hub: float = 0.0,
) -> FaqProfile:
    """The profile of one FAQ from its raw question(s), answer and agency."""
    question = normalise(" ".join(questions))
    answer_text = normalise(answer)
    sentences = tuple(frozenset(bigrams(normalise(s))) for s in _SENTENCE_END.split(answer) if s.strip())
    return FaqProfile(
        to_simplified(question),
        to_simplified(answer_text),
        _content_words(words(question)),
        frozenset(bigrams(question)),
        _content_words(words(answer_text)),
        frozenset(bigrams(answer_text)),
        tuple(s for s in sentences if s),
        tuple(question_types(normalise(q)) for q in questions),
        len(normalise(questions[0])) if questions else 0,
        answer_types(answer_text),
        agency_keys(normalise(agency)),
        hub,
    )


def _idf(terms: frozenset[str], fields: Sequence[frozenset[str]]) -> dict[str, float]:
    """Inverse document frequency of ``terms`` among ``fields`` (0 for a term no field holds)."""
    n = len(fields)
    out: dict[str, float] = {}
    for term in terms:
        df = sum(term in f for f in fields)
        out[term] = math.log((n + 1.0) / (df + 0.5)) if df else 0.0
    return out


def _share(found: Sequence[bool], weights: Sequence[float]) -> float:
    total = sum(weights)
    return sum(w for f, w in zip(found, weights, strict=True) if f) / total if total > 0 else 0.0


def features(
    query: QueryTerms,
    candidates: Sequence[Candidate],
    profiles: Sequence[FaqProfile],
    field_bm25: Mapping[str, npt.NDArray[np.float32]] | None = None,
) -> Matrix:
    """One row of :data:`FEATURES` per candidate (same order).

    ``field_bm25`` holds the query's BM25 score of each candidate per field ("question",
    "answer"; :meth:`knowledge.lexical.LexicalIndex.field_scores`), if known (else those features are 0).
    """
    n = len(candidates)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    col = {name: i for i, name in enumerate(FEATURES)}
    scores = np.array([c.score for c in candidates])
    dq = np.array([c.dense_question for c in candidates])
    da = np.array([c.dense_answer for c in candidates])
    bm25 = np.array([c.lexical for c in candidates])
    out[:, col["fs_score"]] = (scores - scores.max()) * 100.0
    out[:, col["fs_question"]] = (dq - dq.max()) * 100.0
    out[:, col["fs_answer"]] = (da - da.max()) * 100.0
    out[:, col["fs_bm25"]] = bm25 / bm25.max() if bm25.max() > 0 else 0.0
    out[:, col["fs_rank"]] = 1.0 / np.arange(1, n + 1)
    for name in ("question", "answer"):
        values = np.asarray(field_bm25[name], dtype=np.float64) if field_bm25 else np.zeros(n)
        out[:, col[f"bm25_{name}"]] = values / values.max() if values.max() > 0 else 0.0

    q_words, q_grams = sorted(query.words), sorted(query.bigrams)
    idf_qw = _idf(query.words, [p.q_words for p in profiles])
    idf_qb = _idf(query.bigrams, [p.q_bigrams for p in profiles])
    idf_aw = _idf(query.words, [p.a_words for p in profiles])
    idf_ab = _idf(query.bigrams, [p.a_bigrams for p in profiles])
    idf_any = {w: max(idf_qw[w], idf_aw[w]) for w in q_words}
    # the candidates' own question words, weighted by how rare they are among the candidates
    all_q_words = frozenset().union(*(p.q_words for p in profiles))
    all_q_grams = frozenset().union(*(p.q_bigrams for p in profiles))
    idf_cw = _idf(all_q_words, [p.q_words for p in profiles])
    idf_cb = _idf(all_q_grams, [p.q_bigrams for p in profiles])
    rare = math.log((n + 1.0) / 2.5)  # a word at most two candidates hold
    mentioned = {agency for p in profiles for agency in p.agency if agency in query.text}
    hubs = np.array([p.hub for p in profiles])
    out[:, col["hub"]] = (hubs - hubs.mean()) * 100.0

    for i, p in enumerate(profiles):
        in_q = [w in p.q_words or w in p.question for w in q_words]
        in_a = [w in p.a_words or w in p.answer for w in q_words]
        out[i, col["local_q_word"]] = _share(in_q, [idf_qw[w] for w in q_words])
        out[i, col["local_q_bigram"]] = _share(
            [g in p.q_bigrams for g in q_grams], [idf_qb[g] for g in q_grams]
        )
        out[i, col["local_a_word"]] = _share(in_a, [idf_aw[w] for w in q_words])
        out[i, col["local_a_bigram"]] = _share(
            [g in p.a_bigrams for g in q_grams], [idf_ab[g] for g in q_grams]
        )
        out[i, col["local_miss"]] = _share(
            [not (a or b) for a, b in zip(in_q, in_a, strict=True)], [idf_any[w] for w in q_words]
        )

        own = sorted(p.q_words)
        uncovered = [w not in query.simplified for w in own]
        weights = [idf_cw[w] for w in own]
        out[i, col["qual_word"]] = _share(uncovered, weights)
        out[i, col["qual_rare"]] = math.log1p(
            sum(1 for u, x in zip(uncovered, weights, strict=True) if u and x >= rare)
        )
        out[i, col["question_length"]] = math.log1p(p.length)
        grams = sorted(p.q_bigrams)
        out[i, col["qual_bigram"]] = _share(
            [g not in query.bigrams for g in grams], [idf_cb[g] for g in grams]
        )

        if query.types:
            # the phrasing (question or alternative) that agrees best with the query's types
            types = p.q_types or (frozenset(),)
            out[i, col["qtype_match"]] = max(len(query.types & t) for t in types) / len(query.types)
            out[i, col["qtype_conflict"]] = float(all(t and not query.types & t for t in types))
            out[i, col["qtype_extra"]] = float(min(len(t - query.types) for t in types))
            out[i, col["qtype_answer"]] = len(query.types & p.a_types) / len(query.types)

        best = 0.0
        weights_b = [idf_ab[g] for g in q_grams]
        for sentence in p.sentences:
            best = max(best, _share([g in sentence for g in q_grams], weights_b))
        out[i, col["sentence_best"]] = best

        named = any(agency in query.text for agency in p.agency)
        out[i, col["agency_match"]] = float(named)
        out[i, col["agency_other"]] = float(bool(mentioned) and not named)
    return out
