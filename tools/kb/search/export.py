"""The site's search data: the audience's whoosh index written out as static files, so
the page script (`tools/kb/site/assets/kb-search.js`) ranks exactly as `kb search` does
(kb.search.ranking), over http or from file://, with no server.

Every file is a script that hands its part to the page: it pushes `[name, value]` onto
`window.kbSearchQueue`.
Scripts, not JSON: a page opened from file:// may load scripts but not fetch files. The
data are split so that a query loads only what it needs:

    meta             counts, field averages, the ranking constants, synonyms, shard counts:
                     written into kb-search.js itself (no request before the first query)
    lengths.js       every article's two field lengths (whoosh's, as BM25 reads them)
    v/<n>.js         query vocabulary (word → articles), by the word's first character
    t/<n>.js         postings (per field: idf, article, weight) and document frequency, by
                     term; a term in many articles has a file of its own (t/x<n>.js, listed
                     in the meta), so a shard never makes a rare word costly
    phrases.js       where each synonym variant of several words stands as a phrase (so
                     the page needs no positions for synonyms)
    p/<n>.js         positions, by term (p/x<n>.js for a term of its own): loaded only for
                     other phrases ("quoted", 合作方)
    d/<n>.js         one article: id, title, module, symptoms, plain body for the snippet
    s/<n>.js         symptom bigrams → symptoms, for "nearest symptoms" when nothing is found
    y/<n>.js         the symptoms themselves, in blocks
    l/<n>.js         Latin terms by their first two characters, for spelling suggestions

Shards are picked by `shard(key, count)` (FNV-1a over code points), the same in the page.
Only live documents of the audience's index are written: nothing of an article outside
the audience (or of a deleted one still in a segment) reaches these files.
"""

from __future__ import annotations

import gc
import json
import shutil
import struct
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

from kb.search import ranking
from kb.search.index import FIELDS, MANIFEST, index_dir

DATA_VERSION = 2  # bump when the files' layout changes
# Rough targets for one shard's size, so that a query loads little whatever the corpus.
TERMS_PER_SHARD = 16
# A term with this many postings or more is a file of its own (6 KB gzipped at 1,500).
OWN_FILE_POSTINGS = 128
# The vocabulary is one file up to this size (one request for any query, started by the
# search page before its script runs), else split.
VOCABULARY_FILE_BYTES = 256_000
SYMPTOMS_PER_BLOCK = 64


def shard(key: str, count: int) -> int:
    """FNV-1a (32-bit) over the key's code points, modulo `count`."""
    h = 0x811C9DC5
    for ch in key:
        h ^= ord(ch)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h % count


def _shard_count(items: int, per_shard: int) -> int:
    count = 1
    while count * per_shard < items:
        count *= 2
    return count


def float32_text(value: float) -> str:
    """The shortest decimal that reads back as the same float32: whoosh stores weights as
    float32, and the page reads them with Math.fround, so 1.8 stands for 1.7999999523…"""
    exact = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        text = f"{exact:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == exact:
            return text
    return repr(exact)


@dataclass
class ExportReport:
    articles: int
    terms: int
    files: int
    bytes: int
    seconds: float
    meta: dict

    def meta_script(self) -> str:
        """The meta file's script, for the page script to carry."""
        return _script("meta", self.meta)


def write_search_data(project, audience: str, dest: Path) -> ExportReport:
    """Write the audience's search data into `dest` (replaced whole). The index is brought
    up to date first (incrementally, as `kb index` does)."""
    import time

    from kb.search.index import update_index

    started = time.perf_counter()
    update_index(project, audience)
    with _without_cycle_collection():
        report = _write(project, audience, dest)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


@contextmanager
def _without_cycle_collection():
    """The export makes millions of small lists that never form cycles; Python's cycle
    collector, run again and again as they pile up, cost a fifth of its time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _write(project, audience: str, dest: Path) -> ExportReport:
    from whoosh import index as windex

    from kb.search.query import read_vocabulary

    target = index_dir(project, audience)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    writer = _Writer(dest)
    ix = windex.open_dir(str(target))
    try:
        with ix.searcher() as searcher:
            reader = searcher.reader()
            docs = sorted(((stored["id"], n, stored) for n, stored in reader.iter_docs()), key=lambda d: d[0])
            index_of = {n: i for i, (_, n, _) in enumerate(docs)}
            modules = {m.slug: m.name for m in project.modules}
            for i, (article_id, _, stored) in enumerate(docs):
                writer.write(f"d/{i}", [article_id, stored["title"], modules.get(stored["module"], stored["module"]),
                                        [s for s in stored["symptoms"].split("\n") if s], stored["body"]])
            writer.write("lengths", [[reader.doc_field_length(n, f) for _, n, _ in docs] for f in FIELDS])
            terms = _postings(reader, searcher, index_of)
            vocabulary = read_vocabulary(target / "vocabulary.txt")
            counts = _write_sharded(writer, terms, vocabulary, reader)
            writer.write("phrases", _synonym_phrases(project, reader, vocabulary, index_of))
            symptoms = _write_symptoms(writer, json.loads((target / MANIFEST).read_text(encoding="utf-8")))
            meta = {
                "version": DATA_VERSION,
                "docCount": reader.doc_count_all(),
                "articles": len(docs),
                "avgLength": {f: searcher.avg_field_length(f) or 1 for f in FIELDS},
                "vocabularyTotal": sum(vocabulary.values()),
                "longestWord": max(map(len, vocabulary), default=1),
                "synonyms": [list(g) for g in project.synonyms.groups],
                "symptoms": symptoms,
                "shards": counts,
                "ranking": ranking.constants(),
            }
            writer.write("meta", meta)
    finally:
        ix.close()
        writer.close()
    return ExportReport(len(docs), len(terms), writer.files, writer.bytes, 0.0, meta)


def _postings(reader, searcher, index_of: dict[int, int]) -> dict[str, list]:
    """term → per field [idf, [article gap, weight, …], [article gap, [position gaps], …],
    df] (None where the field lacks it), in the form the files hold; only terms some live
    document has. Articles ascend, each written as its distance from the one before, and
    positions likewise: smaller numbers to download."""
    doc_of = [index_of.get(n, -1) for n in range(reader.doc_count_all())]
    weight_of = _page_weight
    terms: dict[str, list] = {}
    for f_index, field in enumerate(FIELDS):
        for raw in reader.lexicon(field):
            term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            m = reader.postings(field, term)
            found = []
            while m.is_active():
                found.append((doc_of[m.id()], m.weight(), m.value_as("positions")))
                m.next()
            if not found:
                continue  # only deleted documents had it
            found.sort(key=itemgetter(0))
            weights, positions, last = [], [], 0
            for doc, weight, at in found:
                weights += (doc - last, weight_of(weight))
                positions += (doc - last, [at[0], *[b - a for a, b in zip(at, at[1:])]] if at else at)
                last = doc
            entry = terms.setdefault(term, [None, None])
            entry[f_index] = [searcher.idf(field, term), weights, positions, reader.doc_frequency(field, term)]
    return terms


@lru_cache(maxsize=4096)
def _page_weight(weight: float) -> float:
    """A whoosh float32 weight as the shortest float that the page's Math.fround reads back."""
    return float(float32_text(weight))


def _write_sharded(writer, terms: dict, vocabulary: dict[str, int], reader) -> dict:
    vocabulary_bytes = sum(len(w.encode()) + 8 for w in vocabulary)
    counts = {"t": _shard_count(len(terms), TERMS_PER_SHARD),
              "v": _shard_count(vocabulary_bytes, VOCABULARY_FILE_BYTES)}
    postings: list[dict] = [{} for _ in range(counts["t"])]
    positions: list[dict] = [{} for _ in range(counts["t"])]
    own: dict[str, list] = {}
    latin: dict[str, dict] = {}
    for term, per_field in terms.items():
        frequency = max(e[3] if e else 0 for e in per_field)
        entry = [frequency] + [[e[0], e[1]] if e else 0 for e in per_field]
        where = [e[2] if e else 0 for e in per_field]
        if sum(len(e[1]) // 2 for e in per_field if e) >= OWN_FILE_POSTINGS:
            n = len(own)
            own[term] = [n, frequency]  # with its document frequency: a word too common to
            # count in a query (ranking.COMMON_SHARE) is known as such without its file
            writer.write(f"t/x{n}", {term: entry})
            writer.write(f"p/x{n}", {term: where})
        else:
            n = shard(term, counts["t"])
            postings[n][term], positions[n][term] = entry, where
        if not ranking.is_han(term[:1]) and len(term) >= 2:
            latin.setdefault(term[:2], {})[term] = frequency
    for n in range(counts["t"]):
        writer.write(f"t/{n}", postings[n])
        writer.write(f"p/{n}", positions[n])
    counts["own"] = own
    counts["l"] = _shard_count(len(latin), 16)
    by_prefix: list[dict] = [{} for _ in range(counts["l"])]
    for prefix, found in latin.items():
        by_prefix[shard(prefix, counts["l"])][prefix] = found
    for n, part in enumerate(by_prefix):
        writer.write(f"l/{n}", part)
    words: list[dict] = [{} for _ in range(counts["v"])]
    for word, count in vocabulary.items():
        words[shard(word[0], counts["v"])][word] = count
    for n, part in enumerate(words):
        writer.write(f"v/{n}", part)
    return counts


def _synonym_phrases(project, reader, vocabulary: dict[str, int], index_of: dict[int, int]) -> dict:
    """"word\tword…" → [[articles], [articles]]: per field, where a synonym variant of several
    words stands as a phrase, its words split as the query segmenter splits them."""
    from kb.search.analysis import tokenize
    from kb.search.query import segment_with, term_positions

    segment = segment_with(vocabulary)
    out = {}
    for variant in sorted(project.synonyms.variants):
        tokens = [t.text for t in tokenize(variant, segment=segment)]
        if len(tokens) < 2 or "\t".join(tokens) in out:
            continue
        per_field = []
        for field in FIELDS:
            found = [term_positions(reader, field, t) for t in tokens]
            docs = set(found[0]).intersection(*found[1:])
            per_field.append(sorted(index_of[d] for d in docs if ranking.adjacent([f[d] for f in found])))
        out["\t".join(tokens)] = per_field
    return out


def _write_symptoms(writer, manifest: dict) -> dict:
    """The "nearest symptoms" table (kb.search.query.SymptomTable) as files: bigram → the
    symptoms that have it, each with its bigram count; the symptoms in blocks."""
    from kb.search.query import SymptomTable

    table = SymptomTable(manifest)
    count = _shard_count(len(table.by_bigram), TERMS_PER_SHARD * 4)
    shards: list[dict] = [{} for _ in range(count)]
    for gram, found in table.by_bigram.items():
        shards[shard(gram, count)][gram] = [x for i in found for x in (i, len(table.symptoms[i][3]))]
    for n, part in enumerate(shards):
        writer.write(f"s/{n}", part)
    for start in range(0, len(table.symptoms), SYMPTOMS_PER_BLOCK):
        block = table.symptoms[start:start + SYMPTOMS_PER_BLOCK]
        writer.write(f"y/{start // SYMPTOMS_PER_BLOCK}", [[s[0], s[1], s[2]] for s in block])
    return {"count": len(table.symptoms), "shards": count, "block": SYMPTOMS_PER_BLOCK}


def _script(name: str, value) -> str:
    # "<" only occurs inside strings: as \u003c no article text can ever read as a tag.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    # A queue, not a function call: the search page starts loading some files before the
    # page script that receives them has run.
    return f'(window.kbSearchQueue=window.kbSearchQueue||[]).push(["{name}",{text}]);\n'


class _Writer:
    """Writes the files on a few threads: creating thousands of small files is most of
    the cost, and the file system calls run outside the GIL."""

    def __init__(self, dest: Path):
        self.dest = dest
        self.files = 0
        self.bytes = 0
        self.folders: set[Path] = set()
        self.pool = ThreadPoolExecutor(max_workers=4)
        self.pending = []

    def write(self, name: str, value) -> None:
        path = self.dest / f"{name}.js"
        if path.parent not in self.folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(path.parent)
        data = _script(name, value).encode("utf-8")
        self.pending.append(self.pool.submit(path.write_bytes, data))
        self.files += 1
        self.bytes += len(data)

    def close(self) -> None:
        """Wait for every file; the first failure is raised."""
        self.pool.shutdown(wait=True)
        for future in self.pending:
            future.result()
