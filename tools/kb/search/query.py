"""`kb search`: a caller's words in, ranked articles with the link to send out.

Queries are segmented with the index's own vocabulary (like Material's browser search)
instead of jieba, so a cold `kb search` does not pay for loading jieba's dictionary.
Synonym groups widen the query; quoted text is a phrase; every clause is searched in
the `head` field (title, symptoms and reported symptoms, boosted) and the body.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from kb.project import Project
from kb.search.index import FIELDS, MANIFEST, IndexMissing, index_dir
from kb.search.synonyms import normalise

COMMON_SHARE = 0.5
CODE_BOOST = 3.0      # of an error code, against a word
SYNONYM_WEIGHT = 0.8  # of a synonym the caller did not say, against the one they did
SUBWORD_WEIGHT = 0.5  # of the words inside a query word, against the word
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')
# Letters or separators with digits, or five digits or more; not 365, 2016 or 500.
_CODE = re.compile(r"^(?=.*\d)(?:.*[a-z.\- ].*|\d{5,})$")
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
SNIPPET_WIDTH = 90


@dataclass
class Hit:
    id: str
    title: str
    url: str
    score: float
    path: str
    module: str
    symptoms: list[str]          # the article's symptoms that match the query
    snippet: str                 # matched words inside 【】

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SearchResult:
    query: str
    hits: list[Hit]
    terms: list[str]
    did_you_mean: list[str] = field(default_factory=list)
    nearest_symptoms: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _vocabulary(path: Path) -> dict[str, int]:
    """word → number of articles, from the index's vocabulary.txt (word TAB count)."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError:
        return {}
    vocabulary = {}
    for line in lines:
        word, _, count = line.partition("\t")
        if word:
            vocabulary[word] = int(count) if count.isdigit() else 1
    return vocabulary


def segment_with(vocabulary: dict[str, int]):
    """A segmenter for Chinese runs, as jieba's (the most probable split, each word's
    probability its share of the counts) with the index's words and article counts for
    a dictionary: 时候 + 报 rather than a rare 时候报 that jieba once guessed in some
    article. A character the index does not have counts as a word seen once."""
    from math import log

    longest = max(map(len, vocabulary), default=1)
    total = log(sum(vocabulary.values()) + 1)
    cost = {word: total - log(count) for word, count in vocabulary.items()}
    unknown = total

    def segment(run: str) -> list[str]:
        n = len(run)
        best = [0.0] + [float("inf")] * n     # least cost (-log probability) of run[:i]
        back = [0] * (n + 1)
        for i in range(1, n + 1):
            for j in range(max(0, i - longest), i):
                c = cost.get(run[j:i], unknown if i - j == 1 else None)
                if c is not None and best[j] + c < best[i]:
                    best[i], back[i] = best[j] + c, j
        pieces, i = [], n
        while i > 0:
            pieces.append(run[back[i]:i])
            i = back[i]
        return pieces[::-1]

    return segment


def query_tokens(text: str, segment) -> list[str]:
    from kb.search.analysis import tokenize

    return [t.text for t in tokenize(text, segment=segment)]


class _OpenIndex:
    """An opened index with its searcher, kept for the next query of this process while
    the folder is unchanged (a commit writes into it, a full build swaps in a new one):
    opening costs about 9 ms, a query a few."""

    def __init__(self, target: Path, key: tuple):
        from whoosh import index as windex

        self.target, self.key = target, key
        self.index = windex.open_dir(str(target))
        self.searcher = self.index.searcher()
        self.vocabulary = _vocabulary(target / "vocabulary.txt")

    @cached_property
    def segment(self):
        """The query segmenter over this index's words (its word costs take a while to
        compute at 10,000 articles, so once per opened index)."""
        return segment_with(self.vocabulary)

    @cached_property
    def symptom_table(self) -> SymptomTable:
        """Loaded on the first query that finds nothing."""
        import json

        return SymptomTable(json.loads((self.target / MANIFEST).read_text(encoding="utf-8")))

    def close(self) -> None:
        self.searcher.close()
        self.index.close()


_opened: dict[str, _OpenIndex] = {}


def _open(target: Path) -> _OpenIndex:
    # Every `kb index` run replaces stamps.json (a new inode) and a rebuild the folder:
    # unlike an mtime, neither can look unchanged after two quick updates.
    folder, stamps = target.stat(), (target / "stamps.json").stat()
    key = (folder.st_ino, folder.st_mtime_ns, stamps.st_ino, stamps.st_mtime_ns)
    opened = _opened.get(str(target))
    if opened is None or opened.key != key:
        if opened is not None:
            opened.close()
        _opened[str(target)] = opened = _OpenIndex(target, key)
    return opened


def search(project: Project, query: str, *, audience: str = "public", limit: int = 10,
           module: str | None = None) -> SearchResult:
    from whoosh.query import Or, Phrase, Term

    from kb.search.dismax import BestOf

    target = index_dir(project, audience)
    fix = f"kb index --project {project.root}{'' if audience == 'public' else ' --audience internal'}"
    if not (target / "kb-index.json").is_file():
        raise IndexMissing(f"{project.display(target)}: 没有搜索索引（运行 {fix}）")
    try:
        opened = _open(target)
    except Exception as err:  # whoosh raises many kinds for a damaged index; all mean "rebuild"
        _opened.pop(str(target), None)
        raise IndexMissing(f"{project.display(target)}: 搜索索引已损坏（{type(err).__name__}）；运行 {fix} --rebuild") from None
    searcher, segment, vocabulary = opened.searcher, opened.segment, opened.vocabulary

    def word(w: str):
        return Or([Term(f, w) for f in FIELDS])

    def clause(tokens: list[str]):
        """A word, or a phrase. A long Chinese word also finds articles with only the words
        inside it (会议室 → 会议), for less; a phrase also finds itself indexed as one word
        (发送 失败 → 发送失败, a synonym variant jieba was told to keep whole)."""
        if len(tokens) == 1:
            w = tokens[0]
            parts = [w[i:i + n] for n in (2, 3) for i in range(len(w) - n + 1)
                     if n < len(w) and w[i:i + n] in vocabulary] if _HAN_RUN.fullmatch(w) else []
            return BestOf([word(w), Or([word(part) for part in parts]).with_boost(SUBWORD_WEIGHT)]) if parts else word(w)
        phrase = Or([Phrase(f, tokens) for f in FIELDS])
        joined = "".join(tokens)
        return BestOf([phrase, word(joined)]) if joined in vocabulary else phrase

    clauses, terms = [], []
    rest = query
    for m in _QUOTED.finditer(query):
        tokens = query_tokens(m.group(1) or m.group(2), segment)
        if tokens:
            clauses.append(clause(tokens))
            terms += tokens
        rest = rest.replace(m.group(0), " ")
    groups_seen = set()
    for variant, group in project.synonyms.find(rest):
        rest = normalise(rest).replace(variant, " ", 1)
        if group in groups_seen:  # 卡住…不动了: one thing said twice counts once
            continue
        groups_seen.add(group)
        # The best-matching way of saying it counts, not their sum: an article is not
        # more relevant for using five words for "frozen"; the caller's own word a bit more.
        alternatives = [(tokens, 1.0 if normalise(v) == variant else SYNONYM_WEIGHT)
                        for v in group if (tokens := query_tokens(v, segment))]
        clauses.append(BestOf([clause(tokens).with_boost(weight) for tokens, weight in alternatives]))
        terms += [t for tokens, _ in alternatives for t in tokens]
    # Characters the index has no word for come out one by one (合作方 → 合 作 方); as
    # separate terms each would match everywhere, so a run of them is one phrase.
    from kb.search.analysis import STOP_WORDS
    run: list[str] = []
    words = []
    for token in [*query_tokens(rest, segment), ""]:
        if len(token) == 1 and _HAN_RUN.match(token) and token not in STOP_WORDS:
            run.append(token)
            continue
        if run:
            clauses.append(clause(run))
            terms.append("".join(run))
            run = []
        if token and token not in STOP_WORDS:
            words.append(token)
            terms.append(token)
    # A word in most articles (错误 in an error knowledge base) hardly moves the ranking
    # but is the costliest to score: left out when other words of the query are found.
    words = list(dict.fromkeys(words))
    common = searcher.doc_count_all() * COMMON_SHARE
    frequency = {w: max(searcher.doc_frequency(f, w) for f in FIELDS) for w in words}
    if any(0 < n <= common for n in frequency.values()):
        words = [w for w in words if frequency[w] <= common]

    # An error code read off the screen (0x80070005, 550 5.7.501, AADSTS50076, 4c7) names
    # the fault more precisely than any wording around it.
    clauses += [clause([w]).with_boost(CODE_BOOST if _CODE.search(w) else 1.0) for w in words]
    terms = list(dict.fromkeys(terms))

    result = SearchResult(query, [], terms)
    if not clauses:
        return result
    restrict = Term("module", module) if module else None
    for hit in searcher.search(Or(clauses), limit=limit, filter=restrict):
        stored = hit.fields()
        symptoms = stored["symptoms"].split("\n")
        result.hits.append(Hit(
            id=stored["id"], title=stored["title"], url=project.site_url + f"kb/{stored['id']}/",
            score=round(hit.score, 3), path=project.display(Path(stored["path"])), module=stored["module"],
            symptoms=[s for s in symptoms if _contains_any(s, terms)],
            snippet=snippet(stored["body"], terms),
        ))
    if not result.hits:
        result.did_you_mean = _did_you_mean(searcher, terms)
        result.nearest_symptoms = opened.symptom_table.nearest(query)
    return result


def _term_pattern(term: str) -> re.Pattern:
    """Where `term` occurs in lower-cased text; a code or word in Latin letters and digits
    only as a whole (500 is not in DOC-5001), Chinese anywhere (there are no spaces)."""
    before = r"(?<![0-9a-z])" if term[:1].isascii() and term[:1].isalnum() else ""
    after = r"(?![0-9a-z])" if term[-1:].isascii() and term[-1:].isalnum() else ""
    return re.compile(before + re.escape(term) + after)


def _contains_any(text: str, terms: list[str]) -> bool:
    low = normalise(text)
    return any(_term_pattern(t).search(low) for t in terms if len(t) > 1 or _HAN_RUN.match(t))


def snippet(text: str, terms: list[str], width: int = SNIPPET_WIDTH) -> str:
    """The window of `text` with the most query words, each marked 【like this】."""
    low = normalise(text)
    spans = sorted((m.start(), m.end()) for t in terms if len(t) > 1
                   for m in _term_pattern(t).finditer(low))
    if not spans:
        return text[:width] + ("…" if len(text) > width else "")
    # Sliding window over the sorted matches: linear, however many matches one article has.
    best_start, best_count, right = spans[0][0], 0, 0
    for left, (start, _) in enumerate(spans):
        right = max(right, left)
        while right < len(spans) and spans[right][1] <= start + width:
            right += 1
        if right - left > best_count:
            best_start, best_count = start, right - left
    begin = max(0, best_start - width // 4)
    end = min(len(text), begin + width)
    out, cursor = [], begin
    for s, e in spans[bisect_left(spans, (begin, 0)):]:
        if s >= end:
            break
        if s >= cursor and e <= end:
            out += [text[cursor:s], "【", text[s:e], "】"]
            cursor = e
    out.append(text[cursor:end])
    return ("…" if begin else "") + "".join(out) + ("…" if end < len(text) else "")


def _did_you_mean(searcher, terms: list[str]) -> list[str]:
    """Spelling suggestions for the Latin words (error codes, product names) that the
    index does not know."""
    suggestions = []
    for term in terms:
        if _HAN_RUN.search(term) or any(searcher.doc_frequency(f, term) for f in FIELDS):
            continue
        for fieldname in FIELDS:
            found = searcher.corrector(fieldname).suggest(term, limit=2, prefix=2)
            suggestions += [s for s in found if s not in suggestions]
            if found:
                break
    return suggestions[:5]


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", "", normalise(text))
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


class SymptomTable:
    """Every indexed article's symptoms (from the index's manifest) with an inverted
    table of their character bigrams: the query is compared with only the symptoms that
    share a bigram with it, not with all of them."""

    def __init__(self, manifest: dict[str, dict]):
        self.symptoms: list[tuple[str, str, str, frozenset]] = []
        self.by_bigram: dict[str, list[int]] = {}
        for entry in manifest.values():
            for symptom in entry["symptoms"]:
                grams = frozenset(_bigrams(symptom))
                for gram in grams:
                    self.by_bigram.setdefault(gram, []).append(len(self.symptoms))
                self.symptoms.append((symptom, entry["id"], entry["title"], grams))

    def nearest(self, query: str, limit: int = 5) -> list[dict]:
        """Symptoms most like the query (Jaccard similarity of character bigrams)."""
        wanted = _bigrams(query)
        # Candidates share a bigram with the query; a bigram in most symptoms (0x, 失败)
        # would make nearly every symptom a candidate, so the rarer ones pick them.
        lists = sorted((self.by_bigram.get(gram, ()) for gram in wanted), key=len)
        rare = [found for found in lists if found and len(found) <= len(self.symptoms) * 0.05] or lists
        candidates = {i for found in rare for i in found}
        scored = []
        for i in candidates:
            symptom, article_id, title, grams = self.symptoms[i]
            scored.append((len(wanted & grams) / len(wanted | grams), i))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [{"symptom": self.symptoms[i][0], "id": self.symptoms[i][1], "title": self.symptoms[i][2],
                 "similarity": round(score, 2)} for score, i in scored[:limit]]
