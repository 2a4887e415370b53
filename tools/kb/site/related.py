"""Related articles for the 相关文章 list at the foot of an article page.

Two articles are related when they describe the same trouble: the cosine of their sets of
character bigrams (title and symptoms, as callers would say them), each bigram weighted
by its squared idf so that 提示 or 失败 count for little, plus RELATED_CODE for each error
code both mention and RELATED_MODULE when they are in the same module.
Bigrams found in more than COMMON_BIGRAM articles (公文, 失败 in a big knowledge base)
say nothing about a pair and are left out; candidates come from an inverted index of the
rest, so the cost grows with the articles that share a bigram, not with every pair.
Archived articles are never suggested.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

from kb.articles import Article, error_codes

RELATED_SHOWN = 3
RELATED_MIN_SCORE = 0.1   # a shared module and some shared words, or a strong overlap alone
RELATED_CODE = 0.5
RELATED_MODULE = 0.1
COMMON_BIGRAM = 50
_NON_WORD = re.compile(r"[\W_]+")


def _bigrams(article: Article) -> frozenset[str]:
    text = _NON_WORD.sub(" ", " ".join([article.title, *article.symptoms]).casefold())
    return frozenset(word[i:i + 2] for word in text.split() for i in range(max(len(word) - 1, 1)))


def related_articles(articles: list[Article]) -> dict[str, list[Article]]:
    """Article id → up to RELATED_SHOWN related live articles, best first (ties by id)."""
    live = sorted((a for a in articles if a.status != "archived"), key=lambda a: a.id)
    grams = {a.id: _bigrams(a) for a in live}
    codes = {a.id: set(error_codes(" ".join([a.title, *a.symptoms]))) for a in live}
    postings: dict[str, list[str]] = defaultdict(list)
    for a in live:
        for gram in grams[a.id]:
            postings[gram].append(a.id)
    by_code: dict[str, list[str]] = defaultdict(list)
    for a in live:
        for code in codes[a.id]:
            by_code[code].append(a.id)
    by_id = {a.id: a for a in live}
    weight = {gram: math.log(len(live) / len(ids)) ** 2 for gram, ids in postings.items()}
    norm = {a.id: math.sqrt(sum(weight[g] for g in grams[a.id])) or 1.0 for a in live}
    result = {}
    for a in live:
        shared: Counter = Counter()
        for gram in grams[a.id]:
            if len(postings[gram]) <= COMMON_BIGRAM:
                for other in postings[gram]:
                    shared[other] += weight[gram]
        shared.pop(a.id, None)
        shared_codes = Counter(other for code in codes[a.id] for other in by_code[code] if other != a.id)
        scores = []
        for other in shared.keys() | shared_codes.keys():
            score = shared[other] / (norm[a.id] * norm[other])
            score += RELATED_CODE * shared_codes[other]
            score += RELATED_MODULE if by_id[other].module == a.module else 0.0
            if score >= RELATED_MIN_SCORE:
                scores.append((-score, other))
        result[a.id] = [by_id[other] for _, other in sorted(scores)[:RELATED_SHOWN]]
    return result
