"""How both search doors rank: `kb search` (over the whoosh index) and the site's search
page (over the static search data, `tools/kb/site/assets/kb-search.js`, a line-by-line
port of this module). The README's "How search ranks" is the specification; change one
and the other in the same commit — tests/test_search_doors.py compares them.

A query becomes a *plan*: a list of clauses, each the best of a few alternatives (a
word, a phrase, all of some words, any of some words), each alternative with a weight.
An article's score is the sum over clauses of the clause's boost times its best
alternative's weighted score; words score BM25F over the index's two fields.

Everything a plan and a score need comes from an `IndexData`: the whoosh index for `kb
search`, the static files for the page. Plans are plain lists and dicts, so the
page builds the same ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

import numpy as np

from kb.search.analysis import STOP_WORDS, tokenize
from kb.search.index import FIELDS
from kb.search.synonyms import Synonyms, normalise

K1, B = 1.2, 0.75
COMMON_SHARE = 0.5     # a plain word in more than this share of articles is dropped when others are found
CODE_BOOST = 3.0       # of an error code, against a word
SYNONYM_WEIGHT = 0.8   # of a synonym the caller did not say, against the one they did
SUBWORD_WEIGHT = 0.5   # of the words inside a query word, against the word
LOOSE_WEIGHT = 0.5     # of a synonym's words found apart, against the words side by side
RELEVANCE_CUTOFF = 0.2  # hits scoring under this share of the best one are not shown
# Left out when a synonym's words are looked for apart: degree words (很慢 is about 慢).
FILLERS = frozenset("很 太 挺 好 真 非常 特别 比较 有点 有些 老是 总是 一直 经常 突然".split())
# A synonym with a negation (发送不成功, 没收到) is only itself: apart, its words say the opposite.
NEGATIONS = frozenset("不没未无别非否莫勿")

_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')
# Letters or separators with digits, or five digits or more; not 365, 2016 or 500.
_CODE = re.compile(r"^(?=.*\d)(?:.*[a-z.\- ].*|\d{5,})$")
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


class IndexData(Protocol):
    """What ranking reads; the whoosh index (kb.search.query) and the static data
    (the page script) both provide it. Documents are numbered 0 … doc_count - 1."""

    doc_count: int                         # whoosh's doc_count_all (deleted ones included)
    avg_length: dict[str, float]           # field → average length

    def has_word(self, word: str) -> bool: ...          # in the query vocabulary
    def doc_frequency(self, term: str) -> int: ...      # the larger of the two fields'
    def postings(self, term: str, field: str) -> tuple[list, list]: ...  # docs, weights
    def idf(self, term: str, field: str) -> float: ...
    def positions(self, term: str, field: str, docs) -> dict: ...  # doc → positions, for `docs`
    def lengths(self, field: str): ...                  # numpy array: each document's length
    def terms_with_prefix(self, prefix: str) -> dict[str, int]: ...  # Latin terms → df (suggest)


# --- the plan ---------------------------------------------------------------------------

def word(term: str) -> dict:
    return {"kind": "word", "terms": [term]}


def plan_query(query: str, segment: Callable[[str], list[str]], synonyms: Synonyms, data: IndexData) -> dict:
    """The clauses of `query` and the words to mark in results ({"clauses", "terms"})."""
    def tokens_of(text: str) -> list[str]:
        return [t.text for t in tokenize(text, segment=segment)]

    clauses, terms = [], []
    rest = query
    for m in _QUOTED.finditer(query):
        tokens = tokens_of(m.group(1) or m.group(2))
        if tokens:
            clauses.append(_clause([(_phrase_alternatives(tokens, data, loose=False), 1.0)]))
            terms.append("".join(tokens) if _HAN_RUN.fullmatch("".join(tokens)) else " ".join(tokens))
        rest = rest.replace(m.group(0), " ")
    groups_seen = set()
    for variant, group in synonyms.find(rest):
        rest = normalise(rest).replace(variant, " ", 1)
        if group in groups_seen:  # 卡住…不动了: one thing said twice counts once
            continue
        groups_seen.add(group)
        # The best-matching way of saying it counts, not their sum: an article is not
        # more relevant for using five words for "frozen"; the caller's own word a bit more.
        weighted = []
        for v in group:
            tokens = tokens_of(v)
            if not tokens:
                continue
            weight = 1.0 if normalise(v) == variant else SYNONYM_WEIGHT
            alternatives = _phrase_alternatives(tokens, data, loose=True) if len(tokens) > 1 else _word_alternatives(tokens[0], data)
            weighted.append((alternatives, weight))
            terms.append(normalise(v))
            if weight == 1.0 and len(tokens) > 1:  # the caller's own words are marked one by one too
                terms += _loose_words(tokens)
        if weighted:
            clauses.append(_clause(weighted))
    # Characters the index has no word for come out one by one (合作方 → 合 作 方); as
    # separate terms each would match everywhere, so a run of them is one phrase.
    run: list[str] = []
    words = []
    for token in [*tokens_of(rest), ""]:
        if len(token) == 1 and _HAN_RUN.match(token) and token not in STOP_WORDS:
            run.append(token)
            continue
        if run:
            alternatives = _word_alternatives(run[0], data) if len(run) == 1 else _phrase_alternatives(run, data, loose=False)
            clauses.append(_clause([(alternatives, 1.0)]))
            terms.append("".join(run))
            run = []
        if token and token not in STOP_WORDS and token not in words:
            words.append(token)
            terms.append(token)
    # A word in most articles (错误 in an error knowledge base) hardly moves the ranking
    # but is the costliest to score: left out when other words of the query are found.
    common = data.doc_count * COMMON_SHARE
    frequency = {w: data.doc_frequency(w) for w in words}
    if any(0 < n <= common for n in frequency.values()):
        words = [w for w in words if frequency[w] <= common]
    # An error code read off the screen (0x80070005, 550 5.7.501, AADSTS50076, 4c7) names
    # the fault more precisely than any wording around it.
    for w in words:
        clauses.append(_clause([(_word_alternatives(w, data), 1.0)], CODE_BOOST if _CODE.search(w) else 1.0))
    return {"clauses": clauses, "terms": list(dict.fromkeys(terms))}


def _clause(weighted: list[tuple[list[dict], float]], boost: float = 1.0) -> dict:
    """One clause: the alternatives of every way of saying it, each with its weight."""
    alternatives = [{**alt, "weight": alt.get("weight", 1.0) * weight} for alts, weight in weighted for alt in alts]
    return {"boost": boost, "alternatives": alternatives}


def _word_alternatives(w: str, data: IndexData) -> list[dict]:
    """A word; a long Chinese word also finds articles with only the words inside it
    (会议室 → 会议), for less."""
    if not _HAN_RUN.fullmatch(w):
        return [word(w)]
    parts = [w[i:i + n] for n in (2, 3) for i in range(len(w) - n + 1) if n < len(w) and data.has_word(w[i:i + n])]
    parts = list(dict.fromkeys(parts))
    return [word(w)] + ([{"kind": "any", "terms": parts, "weight": SUBWORD_WEIGHT}] if parts else [])


def _phrase_alternatives(tokens: list[str], data: IndexData, loose: bool) -> list[dict]:
    """A phrase; also itself indexed as one word (发送 失败 → 发送失败, a synonym variant
    jieba was told to keep whole); with `loose`, also its words anywhere in the article
    (发送失败 finds 发送时……保存失败), for less."""
    alternatives = [{"kind": "phrase", "terms": tokens}]
    joined = "".join(tokens)
    if data.has_word(joined):
        alternatives.append(word(joined))
    apart = _loose_words(tokens) if loose else []
    if apart:
        alternatives.append({"kind": "all", "terms": apart, "weight": LOOSE_WEIGHT})
    return alternatives


def _loose_words(tokens: list[str]) -> list[str]:
    """The words of a synonym that must all be in an article found by them apart: none
    when the synonym is negated, without degree words and particles."""
    if any(ch in NEGATIONS for t in tokens for ch in t):
        return []
    return list(dict.fromkeys(t for t in tokens if t not in FILLERS and t not in STOP_WORDS))


# --- scoring ----------------------------------------------------------------------------

def bm25(idf: float, tf: float, fl: float, avgfl: float) -> float:
    return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))


class _Scores:
    """Every term's BM25 scores per field, computed once per term (and each phrase's, see
    _alternative_scores): per query, or for as long as `cache` is kept (it must be dropped
    when the index changes). Scores are numpy arrays over every document, zero where the
    term is absent: the same float operations as one document at a time, in the same
    order (so the page script's sums and ties are kept), at a fraction of the cost."""

    def __init__(self, data: IndexData, cache: ScoreCache | None = None):
        self.data = data
        self.cache = ScoreCache() if cache is None else cache

    def of(self, term: str) -> tuple:
        """One (docs, scores) pair of arrays per field; kept sparse in the cache."""
        found = self.cache.get(term)
        if found is None:
            found = []
            for field in FIELDS:
                docs, weights = self.data.postings(term, field)
                docs = np.asarray(docs, dtype=np.int64)
                if len(docs):
                    idf, avgfl = self.data.idf(term, field), self.data.avg_length[field] or 1
                    values = bm25(idf, np.asarray(weights, dtype=np.float64), self.data.lengths(field)[docs], avgfl)
                else:
                    values = np.zeros(0)
                found.append((docs, values))
            found = tuple(found)
            self.cache.keep(term, found)
        return found

    def field(self, term: str, i: int) -> np.ndarray:
        """The term's scores in field `i`, for every document."""
        docs, values = self.of(term)[i]
        out = np.zeros(self.data.doc_count)
        out[docs] = values
        return out

    def both(self, term: str) -> np.ndarray:
        """Head plus body, for every document (pair[0] + pair[1], head first)."""
        out = self.field(term, 0)
        docs, values = self.of(term)[1]
        out[docs] += values
        return out

    def docs(self, term: str, i: int | None = None) -> np.ndarray:
        """The documents with the term (in field `i`, or in either)."""
        if i is not None:
            return self.of(term)[i][0]
        return np.union1d(*(docs for docs, _ in self.of(term)))


class ScoreCache(dict):
    """Term and phrase scores kept between queries (see _Scores), with the number of
    postings they hold (about 20 bytes each), by which the owner bounds its memory."""
    postings = 0

    def keep(self, key: str, entry: tuple) -> None:
        self[key] = entry
        self.postings += sum(len(docs) for docs, _ in entry)

    def clear(self) -> None:
        super().clear()
        self.postings = 0


def _alternative_scores(alt: dict, scores: _Scores, data: IndexData, only=None) -> np.ndarray:
    """Every document's score for one alternative (0 where it does not match); of a phrase,
    only the documents in `only` are looked at when given (matched_share asks about one)."""
    kind, terms = alt["kind"], alt["terms"]
    if kind == "word":
        return scores.both(terms[0])
    if kind in ("any", "all"):
        out = np.zeros(data.doc_count)
        for term in terms:  # left to right, as the page script adds
            out += scores.both(term)
        if kind == "all":
            everywhere = scores.docs(terms[0])
            for term in terms[1:]:
                everywhere = np.intersect1d(everywhere, scores.docs(term), assume_unique=True)
            kept = np.zeros(data.doc_count, dtype=bool)
            kept[everywhere] = True
            out[~kept] = 0.0
        return out
    # phrase: in each field where the words stand side by side, the sum of their scores
    # there. Kept with the terms' scores: the same phrases recur across a session's queries.
    key = "\0".join(["phrase", *terms])
    known = scores.cache.get(key)
    if known is None:
        known = (_phrase_scores(terms, scores, data, only),)  # shaped like a term's entry
        if only is None:
            scores.cache.keep(key, known)
    docs, values = known[0]
    out = np.zeros(data.doc_count)
    out[docs] = values
    return out


def _phrase_scores(terms: list[str], scores: _Scores, data: IndexData, only) -> tuple:
    """(docs, scores) of the documents where `terms` stand side by side."""
    out = np.zeros(data.doc_count)
    for i, field in enumerate(FIELDS):
        in_field = scores.docs(terms[0], i)
        for term in terms[1:]:
            in_field = np.intersect1d(in_field, scores.docs(term, i), assume_unique=True)
        if only is not None:
            in_field = np.intersect1d(in_field, np.asarray(only, dtype=np.int64))
        if not len(in_field):
            continue
        in_field = in_field.tolist()
        # Decoding positions is most of a phrase's cost: only those of the candidates.
        positions = [data.positions(t, field, in_field) for t in terms]
        side_by_side = [doc for doc in in_field if adjacent([positions[k][doc] for k in range(len(terms))])]
        if side_by_side:
            total = np.zeros(len(side_by_side))
            for term in terms:
                total += scores.field(term, i)[side_by_side]
            out[side_by_side] += total
    docs = np.flatnonzero(out)
    return docs, out[docs]


def adjacent(position_lists: list[list[int]]) -> bool:
    """Whether the first word is followed by the second at the next position, and so on."""
    later = [set(p) for p in position_lists[1:]]
    return any(all(start + k + 1 in later[k] for k in range(len(later))) for start in position_lists[0])


def score(plan: dict, data: IndexData, cache: ScoreCache | None = None) -> dict:
    """doc → score for every document any clause matches; `cache` as in _Scores."""
    scores = _Scores(data, cache)
    total = np.zeros(data.doc_count)
    for clause in plan["clauses"]:
        best = np.zeros(data.doc_count)
        for alt in clause["alternatives"]:
            np.maximum(best, _alternative_scores(alt, scores, data) * alt.get("weight", 1.0), out=best)
        total += clause["boost"] * best
    docs = np.flatnonzero(total)
    return dict(zip(docs.tolist(), total[docs].tolist()))


def matched_share(plan: dict, data: IndexData, doc, cache: ScoreCache | None = None) -> float:
    """The share of the plan's clauses (by boost) that match `doc`: how much of what the
    caller said one article holds."""
    scores = _Scores(data, cache)
    total = sum(clause["boost"] for clause in plan["clauses"])
    matched = sum(clause["boost"] for clause in plan["clauses"]
                  if any(_alternative_scores(alt, scores, data, (doc,))[doc] for alt in clause["alternatives"]))
    return matched / total if total else 0.0


def rank(scored: dict, order: Callable, limit: int) -> list[tuple]:
    """(doc, score) best first, ties in `order(doc)`'s order (the article id), without the
    hits under RELEVANCE_CUTOFF of the best; at most `limit`."""
    if not scored:
        return []
    floor = max(scored.values()) * RELEVANCE_CUTOFF
    ranked = sorted((item for item in scored.items() if item[1] >= floor), key=lambda item: -item[1])
    if len(ranked) > limit:
        last = ranked[limit - 1][1]
        ranked = [item for item in ranked if item[1] >= last]  # all tied with the last place
    ranked.sort(key=lambda item: (-item[1], order(item[0])))
    return ranked[:limit]


# --- when nothing is found ----------------------------------------------------------------

def suggest(terms: list[str], data) -> list[str]:
    """Spelling suggestions for the Latin words (error codes, product names) the index does
    not know: indexed terms with the same first two characters at most two edits away,
    fewest edits first, then the most articles, then alphabetically."""
    suggestions = []
    for term in terms:
        if is_han(term[:1]) or _HAN_RUN.search(term) or len(term) < 3 or data.doc_frequency(term):
            continue
        found = sorted((d, -n, t) for t, n in data.terms_with_prefix(term[:2]).items()
                       if (d := edits(term, t)) <= 2)
        suggestions += [t for _, _, t in found[:2] if t not in suggestions]
    return suggestions[:5]


def edits(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours from a to b."""
    if abs(len(a) - len(b)) > 2:
        return 3
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], previous2[j - 2] + 1)
        previous2, previous = previous, row
    return previous[len(b)]


def is_han(text: str) -> bool:
    return bool(text) and bool(_HAN_RUN.match(text))


def constants() -> dict:
    """What the page script reads instead of repeating: the numbers and word lists above."""
    return {"k1": K1, "b": B, "commonShare": COMMON_SHARE, "codeBoost": CODE_BOOST,
            "synonymWeight": SYNONYM_WEIGHT, "subwordWeight": SUBWORD_WEIGHT, "looseWeight": LOOSE_WEIGHT,
            "relevanceCutoff": RELEVANCE_CUTOFF, "fillers": sorted(FILLERS), "negations": sorted(NEGATIONS),
            "stopWords": sorted(STOP_WORDS)}
