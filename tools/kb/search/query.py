"""`kb search`: a caller's words in, ranked articles with the link to send out.

Queries are segmented with the index's own vocabulary (like Material's browser search)
instead of jieba, so a cold `kb search` does not pay for loading jieba's dictionary.
Synonym groups widen the query; quoted text is a phrase; every clause is searched in
title, symptoms, reported symptoms (from tickets) and body, with a coordination bonus
for articles that match more of the query.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from kb.project import Project
from kb.search.index import IndexMissing, index_dir
from kb.search.synonyms import normalise

FIELDS = ("title", "symptoms", "reported", "body")
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')
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


@lru_cache(maxsize=4)
def _vocabulary(path: str, mtime_ns: int) -> frozenset[str]:
    try:
        return frozenset(Path(path).read_text(encoding="utf-8").split("\n"))
    except OSError:
        return frozenset()


def segment_with(vocabulary: frozenset[str]):
    """A segmenter for Chinese runs: the split into index words that uses the fewest
    pieces (unknown characters stand alone), found by dynamic programming."""
    longest = max(map(len, vocabulary), default=1)

    def segment(run: str) -> list[str]:
        n = len(run)
        best = [0] + [n + 1] * n     # fewest pieces covering run[:i]
        back = [0] * (n + 1)
        for i in range(1, n + 1):
            for j in range(max(0, i - longest), i):
                if (i - j == 1 or run[j:i] in vocabulary) and best[j] + 1 < best[i]:
                    best[i], back[i] = best[j] + 1, j
        pieces, i = [], n
        while i > 0:
            pieces.append(run[back[i]:i])
            i = back[i]
        return pieces[::-1]

    return segment


def query_tokens(text: str, segment) -> list[str]:
    from kb.search.analysis import tokenize

    return [t.text for t in tokenize(text, segment=segment)]


def search(project: Project, query: str, *, audience: str = "public", limit: int = 10,
           module: str | None = None) -> SearchResult:
    from whoosh import index as windex
    from whoosh.query import Or, Phrase, Term

    target = index_dir(project, audience)
    fix = f"kb index --project {project.root}{'' if audience == 'public' else ' --audience internal'}"
    if not (target / "kb-index.json").is_file():
        raise IndexMissing(f"{project.display(target)}: 没有搜索索引（运行 {fix}）")
    try:
        ix = windex.open_dir(str(target))
    except Exception as err:  # whoosh raises many kinds for a damaged index; all mean "rebuild"
        raise IndexMissing(f"{project.display(target)}: 搜索索引已损坏（{type(err).__name__}）；运行 {fix} --rebuild") from None
    vocab_path = target / "vocabulary.txt"
    vocabulary = _vocabulary(str(vocab_path), vocab_path.stat().st_mtime_ns if vocab_path.exists() else 0)
    segment = segment_with(vocabulary)

    def clause(tokens: list[str]):
        if len(tokens) == 1:
            return Or([Term(f, tokens[0]) for f in FIELDS])
        return Or([Phrase(f, tokens) for f in FIELDS])

    clauses, terms = [], []
    rest = query
    for m in _QUOTED.finditer(query):
        tokens = query_tokens(m.group(1) or m.group(2), segment)
        if tokens:
            clauses.append(clause(tokens))
            terms += tokens
        rest = rest.replace(m.group(0), " ")
    for variant, group in project.synonyms.find(rest):
        alternatives = [tokens for v in group if (tokens := query_tokens(v, segment))]
        clauses.append(Or([clause(tokens) for tokens in alternatives]))
        terms += [t for tokens in alternatives for t in tokens]
        rest = normalise(rest).replace(variant, " ", 1)
    # Characters the index has no word for come out one by one (合作方 → 合 作 方); as
    # separate terms each would match everywhere, so a run of them is one phrase.
    from kb.search.analysis import STOP_WORDS
    run: list[str] = []
    for token in [*query_tokens(rest, segment), ""]:
        if len(token) == 1 and _HAN_RUN.match(token) and token not in STOP_WORDS:
            run.append(token)
            continue
        if run:
            clauses.append(clause(run))
            terms.append("".join(run))
            run = []
        if token and token not in STOP_WORDS:
            clauses.append(clause([token]))
            terms.append(token)
    terms = list(dict.fromkeys(terms))

    result = SearchResult(query, [], terms)
    if not clauses:
        return result
    with ix.searcher() as searcher:
        wanted = Or(clauses, scale=0.9)
        restrict = Term("module", module) if module else None
        for hit in searcher.search(wanted, limit=limit, filter=restrict):
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
            result.nearest_symptoms = _nearest_symptoms(searcher, query)
    ix.close()
    return result


def _contains_any(text: str, terms: list[str]) -> bool:
    low = normalise(text)
    return any(t in low for t in terms if len(t) > 1 or _HAN_RUN.match(t))


def snippet(text: str, terms: list[str], width: int = SNIPPET_WIDTH) -> str:
    """The window of `text` with the most query words, each marked 【like this】."""
    low = normalise(text)
    spans = sorted((m.start(), m.end()) for t in terms if len(t) > 1
                   for m in re.finditer(re.escape(t), low))
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
        if _HAN_RUN.search(term) or searcher.doc_frequency("body", term):
            continue
        for fieldname in ("symptoms", "title", "body"):
            found = searcher.corrector(fieldname).suggest(term, limit=2)
            suggestions += [s for s in found if s not in suggestions]
            if found:
                break
    return suggestions[:5]


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", "", normalise(text))
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def _nearest_symptoms(searcher, query: str, limit: int = 5) -> list[dict]:
    """Symptoms that look most like the query (character bigrams), when nothing matched."""
    wanted = _bigrams(query)
    scored = []
    for stored in searcher.all_stored_fields():
        for symptom in stored["symptoms"].split("\n"):
            grams = _bigrams(symptom)
            score = len(wanted & grams) / len(wanted | grams)
            if score > 0:
                scored.append((score, symptom, stored["id"], stored["title"]))
    scored.sort(key=lambda s: -s[0])
    return [{"symptom": s, "id": i, "title": t, "similarity": round(score, 2)} for score, s, i, t in scored[:limit]]
