"""A corrected whoosh DisjunctionMax: an article scores with the best of a synonym
group's alternatives, not their sum.

whoosh3 3.54's DisjunctionMaxMatcher.score() takes the max of both sub-matchers' scores
even when one of them is on another document, so an article could get the score of its
neighbour in the index (in the sample, KB-0008 got KB-0009's 8.75 for 附件 太大 instead of
its own 2.15). This matcher compares the documents first; the query only swaps it in.
"""

from __future__ import annotations

from whoosh.matching import DisjunctionMaxMatcher
from whoosh.query import DisjunctionMax


class _Matcher(DisjunctionMaxMatcher):
    def score(self):
        a, b = self.a, self.b
        if not b.is_active() or (a.is_active() and a.id() < b.id()):
            return a.score()
        if not a.is_active() or b.id() < a.id():
            return b.score()
        return max(a.score(), b.score())

    def supports_block_quality(self):
        # The inherited replace(minquality) drops both sub-matchers when one runs out.
        return False


class BestOf(DisjunctionMax):
    """Matches what any sub-query matches, scored by the best-scoring one."""

    def _matcher(self, subs, searcher, context):
        reader = searcher.reader()
        return self._tree_matcher(subs, _Matcher, searcher, context, lambda q: q.estimate_size(reader),
                                  tiebreak=self.tiebreak)
