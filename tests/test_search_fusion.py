"""kb.search.fusion: the lexical engine's scores and the model's cosines fused."""

import pytest

from kb.search.fusion import CANDIDATES, CLAUSES_MATCHED, LEXICAL_WEIGHT, LEXICAL_WEIGHT_MATCHED, DenseScores, fuse

W = LEXICAL_WEIGHT
PARTLY = CLAUSES_MATCHED / 2  # the best article holds half the caller's words


def test_each_retriever_scores_every_candidate_with_its_own_score():
    # Article 1 is the lexical engine's first and only the model's 60th (outside its top):
    # it keeps its real cosine instead of counting 0 there, and stays first.
    lexical = {1: 10.0, 2: 4.0}
    dense = DenseScores(top={2: 0.90, 3: 0.92}, low=0.80, high=0.92, cosine={1: 0.91}.get)
    fused = fuse(lexical, dense, PARTLY)
    assert fused.keys() == {1, 2, 3}
    assert fused[1] == pytest.approx(W * 1.0 + (1 - W) * 0.11 / 0.12)
    assert fused[2] == pytest.approx(W * 0.4 + (1 - W) * 0.10 / 0.12)
    assert fused[3] == pytest.approx((1 - W) * 1.0)  # no word of the query in it
    assert max(fused, key=fused.get) == 1


def test_an_article_below_the_lexical_top_keeps_its_lexical_score():
    lexical = {doc: 100.0 - doc for doc in range(CANDIDATES + 10)}
    late = CANDIDATES + 5  # matched some words, below the lexical engine's top
    dense = DenseScores(top={late: 0.95}, low=0.80, high=0.95, cosine=lambda doc: 0.80)
    fused = fuse(lexical, dense, PARTLY)
    assert late in fused and CANDIDATES + 6 not in fused
    assert fused[late] == pytest.approx(W * (100.0 - late) / 100.0 + (1 - W) * 1.0)


def test_an_article_without_a_vector_counts_only_its_words():
    dense = DenseScores(top={2: 0.9}, low=0.8, high=0.9, cosine=lambda doc: None)
    assert fuse({1: 3.0}, dense, PARTLY)[1] == pytest.approx(W)


def test_an_article_with_all_the_words_is_not_put_below_one_with_none():
    # A word only one article has (a marker, a system's name) means nothing to the model.
    dense = DenseScores(top={2: 0.95}, low=0.80, high=0.95, cosine={1: 0.82}.get)
    fused = fuse({1: 7.0}, dense, 1.0)
    assert fused[1] == pytest.approx(LEXICAL_WEIGHT_MATCHED + (1 - LEXICAL_WEIGHT_MATCHED) * 0.02 / 0.15)
    assert fused[1] > fused[2]
    # With only part of the words matched, the model leads.
    partly = fuse({1: 7.0}, dense, PARTLY)
    assert partly[2] > partly[1]
