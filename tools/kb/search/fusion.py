"""Hybrid ranking: the lexical engine's scores and the dense retriever's cosines, fused.

Each retriever's scores are brought to 0..1: lexical scores divided by the best, cosines
min-max scaled over all articles; the candidates are the top CANDIDATES of either. An article's fused
score is LEXICAL_WEIGHT times the first plus the rest times the second; an article one
retriever did not return counts 0 there. The weight and the scaling were chosen on the dev
queries (benchmarks/search_bench.py --sweep: 0.5 over 0.3-0.7, min-max over all articles
over min-max over the candidates, z-scores and reciprocal-rank fusion) and are reported on
the held-out, test and hard sets.

Confidence: callers also ask about what no article covers (打印机卡纸了怎么办). When the
best cosine is low and the lexical engine matched little of the query, the result says
so (`SearchResult.confident`) and the doors show the hotline instead of a confident
wrong answer.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from operator import itemgetter

LEXICAL_WEIGHT = 0.5
CANDIDATES = 50
# e5-small's cosines are compressed: on the dev queries (articles embedded as the mean of
# passage and title, kb.search.embedding) the out-of-scope questions' best article scored
# 0.861-0.889, and 95 % of the answerable ones' 0.891 or more; these flag 7 of the 8 and
# none of the dev set's answerable questions, and 7 of the 200 ticket descriptions.
LOW_COSINE = 0.8875   # under this the best article is probably not about the question,
WEAK_COSINE = 0.89    # under this too, when none of the caller's words is in it,
CLAUSES_MATCHED = 0.75  # unless the lexical engine found this share of the words in one article.


@dataclass
class DenseScores:
    """The dense retriever's answer: the best articles' cosines, and the lowest and
    highest over the whole knowledge base, which scale them (a query whose nearest
    articles are all far keeps low dense scores)."""
    top: dict[int, float]  # docnum → cosine, the CANDIDATES best
    low: float
    high: float


def fuse(lexical: dict, dense: DenseScores) -> dict:
    """doc → fused score, for the top CANDIDATES of each retriever."""
    weight = LEXICAL_WEIGHT
    lexical_top = dict(heapq.nlargest(CANDIDATES, lexical.items(), key=itemgetter(1)))
    best = max(lexical_top.values(), default=0.0) or 1.0
    spread = (dense.high - dense.low) or 1.0
    return {doc: weight * lexical_top.get(doc, 0.0) / best
            + (1 - weight) * ((dense.top[doc] - dense.low) / spread if doc in dense.top else 0.0)
            for doc in lexical_top.keys() | dense.top.keys()}


def confident(best_cosine: float | None, clauses_matched: float) -> bool:
    """Whether the best hit is likely an answer (see the module's doc)."""
    if best_cosine is None:  # lexical only: whatever matched is shown, as before
        return clauses_matched > 0
    if clauses_matched >= CLAUSES_MATCHED:
        return True
    return best_cosine >= LOW_COSINE and (best_cosine >= WEAK_COSINE or clauses_matched > 0)
