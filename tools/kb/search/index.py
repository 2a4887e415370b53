"""The whoosh index in the project's search_index/: one index per audience, built from the
Article model, updated incrementally, written under a lock and committed atomically.

Layout: search_index/<audience>/ holds the whoosh index (its TOC file is replaced
atomically on commit, so a reader sees the old or the new generation, never a mix), plus
`stamps.json` (path → mtime:size of every watched file, for a cheap staleness check at
query time and to find the files an incremental run must parse), `articles.json` (what
is indexed from each file) and `vocabulary.txt` (the Chinese words in the index, for
segmenting queries without loading jieba's 0.7 s dictionary).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kb.articles import Article
from kb.project import Project
from kb.search.typos import PINYIN_FILE, write_readings
from kb.staging import make_readable, remove_stale, staging_folder, swap_into_place

# Bump when the schema, the analysis or what is embedded changes: a mismatching index is
# rebuilt in full (its vectors too: they are keyed by what was embedded).
INDEX_VERSION = "6"
# The article's sections, stored one by one for display and indexed in two fields: the
# short ones together in `head` with a boost each, the body alone (its length must not
# dilute a title match). Two fields, not four: a query scans half the postings.
SECTION_BOOSTS = {"title": 3.0, "symptoms": 2.5, "reported": 2.0}
BODY_BOOST = 1.0
HEAD_BOOST = 0.6  # measured on the benchmark queries: 0.4-0.6 best, 1.0 and 2.0 worse
FIELDS = ("head", "body")  # what a query searches
# Beside the index: path -> id, digest, title and symptoms of each indexed article (what
# an incremental run compares against, and what "nearest symptoms" suggestions search).
MANIFEST = "articles.json"
# A word jieba guessed (not in its dictionary) goes into the query vocabulary when at
# least this many articles have it.
MIN_GUESSED_WORD_ARTICLES = 3


class IndexMissing(Exception):
    """No index for this audience yet; the message says which command builds it."""


@dataclass
class IndexReport:
    audience: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    rebuilt: bool = False
    seconds: float = 0.0
    model: str | None = None   # the dense retriever's model; None: search is lexical
    embedded: int = 0          # vectors computed in this run
    vectors_reused: int = 0    # vectors found by their content key

    @property
    def documents(self) -> int:
        return len(self.added) + len(self.updated) + self.unchanged

    def to_dict(self) -> dict:
        return {**asdict(self), "documents": self.documents}


def reported_symptoms(project: Project, audience: str) -> Callable[[Article], list[str]]:
    """The symptoms callers reported for each article (as the audience's site shows
    them), from `kb link`'s ticket store."""
    from functools import cache

    from kb.tickets.linking import article_symptoms

    # Read on the first article asked about: an incremental run that parses no article
    # (most `kb search` refreshes) never queries the store.
    table = cache(lambda: article_symptoms(project, audience))
    return lambda article: [s.phrase for s in table().get(article.id, [])]


def watched_stamps(project: Project) -> dict[str, str]:
    """What makes an index stale: every article file (mtime and size), the ticket store
    (its version, which every committed `kb link` changes) and the list of out-of-scope
    questions (its vectors are the index's too)."""
    stamps = {}
    for entry in project.article_files():
        try:
            st = entry.stat()
        except FileNotFoundError:  # removed while listing: stale all the same
            continue
        stamps[entry.path] = f"{st.st_mtime_ns}:{st.st_size}"
    version = _store_version(project)
    if version is not None:
        stamps[str(project.ticket_store_path)] = f"v:{version}"
    try:
        st = project.out_of_scope_path.stat()
        stamps[str(project.out_of_scope_path)] = f"{st.st_mtime_ns}:{st.st_size}"
    except FileNotFoundError:
        pass
    return stamps


def _store_version(project: Project) -> str | None:
    """The ticket store's version. Read here with sqlite3 in read-only mode rather than
    through kb.tickets, whose import (the scrubber, readers, pypinyin) would cost every
    `kb search` 0.3-0.4 s; a legacy JSON file still goes through kb.tickets to migrate."""
    import sqlite3

    path = project.ticket_store_path
    legacy = (project.data_dir / "ticket_links.json").is_file()
    if not legacy and not path.is_file():  # never linked: no import of kb.tickets for nothing
        return None
    if legacy or not path.stat().st_size:
        from kb.tickets.linking import open_store

        store = open_store(project)
        if store is None:
            return None
        with store:
            return store.version
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]  # kb.tickets.store's meta
    finally:
        db.close()


def index_dir(project: Project, audience: str) -> Path:
    return project.search_index_dir / audience


def is_searchable(article: Article, audience: str) -> bool:
    """What the search finds: the audience's articles less the archived (as on the site)."""
    return article.in_build(audience) and article.status != "archived"


def searchable(project: Project, audience: str) -> list[Article]:
    return [a for a in project.articles if is_searchable(a, audience)]


def schema():
    from whoosh.fields import ID, STORED, TEXT, Schema

    from kb.search.analysis import analyzer

    return Schema(
        id=ID(stored=True, unique=True),
        head=TEXT(analyzer=analyzer(tuple(SECTION_BOOSTS.values())), field_boost=HEAD_BOOST),
        body=TEXT(analyzer=analyzer(), stored=True, field_boost=BODY_BOOST),
        **{section: STORED() for section in SECTION_BOOSTS},
        module=ID(stored=True),
        path=STORED(),
    )


def index_meta(project: Project, audience: str) -> dict:
    """What an index is built with besides the articles; an index built otherwise is
    rebuilt in full. The synonym variants are among jieba's words (kb.search.analysis.use_words)."""
    words = sorted(project.synonyms.variants)
    return {"version": INDEX_VERSION, "audience": audience,
            "words": hashlib.sha1("\n".join(words).encode()).hexdigest()}


def digest(article: Article, reported: list[str]) -> str:
    h = hashlib.sha1(INDEX_VERSION.encode())
    h.update(article.path.read_bytes())
    h.update("\n".join(reported).encode())
    return h.hexdigest()


@contextmanager
def writer_lock(project: Project) -> Iterator[None]:
    """One writer at a time per project (kb index from two terminals, or a cron job)."""
    project.search_index_dir.mkdir(parents=True, exist_ok=True)
    with open(project.search_index_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def update_index(project: Project, audience: str = "public", *, rebuild: bool = False,
                 reported: Callable[[Article], list[str]] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 embedding_progress: Callable[[int, int], None] | None = None) -> IndexReport:
    """Bring the audience's index in line with the articles: add new ones, re-index the
    changed ones, delete the removed ones. `reported(article)` gives the symptoms
    callers reported for it (from linked tickets), indexed as their own field.

    Only files whose mtime or size changed since the last run are parsed (all of them
    when the ticket links changed, since any article's reported symptoms may have), and
    of those only the ones whose content changed are written. Then the dense
    retriever's vectors are brought in line (`kb.search.vectors`), embedding only texts
    no index of the project has embedded before."""
    import time

    from kb.search.analysis import use_words
    from kb.search.embedding import load_embedder

    started = time.perf_counter()
    use_words(project.synonyms.variants)
    reported = reported or reported_symptoms(project, audience)
    report = IndexReport(audience)
    target = index_dir(project, audience)
    embedder = load_embedder() if project.semantic_search else None
    with writer_lock(project):
        remove_stale(target)  # what a killed `kb index` left beside the index
        readings = project.search_index_dir / PINYIN_FILE
        if not readings.is_file():  # the same for every project and audience: written once
            write_readings(readings, _atomic_write)
        stamps = watched_stamps(project)
        previous = None if rebuild else _current_manifest(target, index_meta(project, audience))
        if previous is not None:
            try:
                entries, texts = _incremental(project, audience, target, previous, stamps, reported, report, progress, embedder)
                _vectors(project, target, entries, texts, embedder, report, embedding_progress)
            except Exception:  # noqa: BLE001 - a damaged index (whoosh raises EOFError, struct.error...) is rebuilt
                report = IndexReport(audience)
                previous = None
        if previous is None:
            report.rebuilt = True
            _full_build(project, audience, stamps, reported, report, progress, embedder, embedding_progress)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _current_manifest(target: Path, meta: dict) -> dict | None:
    """What the index holds ({"stamps": {path: stamp}, "articles": {path: entry}}) when it
    was built as `meta` says and is complete; None to rebuild it."""
    try:
        if json.loads((target / "kb-index.json").read_text()) != meta:
            return None
        (target / "vocabulary.txt").read_text(encoding="utf-8")  # damaged: rebuilt with the rest
        return {
            "stamps": json.loads((target / "stamps.json").read_text(encoding="utf-8")),
            "articles": json.loads((target / MANIFEST).read_text(encoding="utf-8")),
        }
    except (OSError, ValueError, KeyError):
        return None


def _entry(article: Article, digest_value: str, vector_key: str) -> dict:
    return {"id": article.id, "digest": digest_value, "title": article.title, "symptoms": article.symptoms,
            "vector": vector_key}


def _vector_key(texts: tuple[str, str], embedder) -> str:
    from kb.search.embedding import content_key

    return content_key(embedder.name if embedder else "", texts)


def _embedded_texts(document: dict) -> tuple[str, str]:
    from kb.search.embedding import article_texts

    return article_texts(document["title"], document["symptoms"].split("\n"),
                         [s for s in document["reported"].split("\n") if s], document["body"])


def _vectors(project, folder: Path, entries: dict[str, dict], texts: dict[str, tuple[str, str]], embedder,
             report: IndexReport, progress) -> None:
    """`folder`'s vectors for the articles of its manifest `entries`, and for the project's
    out-of-scope questions; `texts` holds the embedded texts of each article (re)indexed in
    this run. Vectors of the index being replaced and of the other audience's index are
    reused by content key."""
    from kb.search.vectors import OUT_OF_SCOPE_VECTORS, VECTORS, update_out_of_scope, update_vectors

    if embedder is None:
        (folder / VECTORS).unlink(missing_ok=True)
        (folder / OUT_OF_SCOPE_VECTORS).unlink(missing_ok=True)
        return
    known = [folder, *(index_dir(project, a) for a in ("public", "internal"))]
    update = update_vectors(folder, {e["id"]: e["vector"] for e in entries.values()}, texts, embedder, known, progress)
    report.model, report.embedded, report.vectors_reused = embedder.name, update.embedded, update.reused
    update_out_of_scope(folder, project.out_of_scope, embedder, known)


def _document(article: Article, symptoms_reported: list[str]) -> dict:
    from kb.search.analysis import SECTION_BREAK, plain_text

    sections = {
        "title": article.title,
        "symptoms": "\n".join(article.symptoms),
        "reported": "\n".join(symptoms_reported),
    }
    assert list(sections) == list(SECTION_BOOSTS)
    return {
        "id": article.id,
        "head": SECTION_BREAK.join(v.replace(SECTION_BREAK, " ") for v in sections.values()),
        **sections,
        "body": plain_text(article.body),
        "module": article.module,
        "path": str(article.path),
    }


def _full_build(project, audience, stamps, reported, report, progress, embedder, embedding_progress) -> None:
    """Build into a fresh folder beside the index, then swap it in: a reader keeps the
    old index until the new one is complete."""
    from whoosh import index as windex

    target = index_dir(project, audience)
    articles = searchable(project, audience)
    entries, texts = {}, {}
    with staging_folder(target) as staging:
        ix = windex.create_in(str(staging), schema())
        writer = ix.writer(limitmb=256)
        for i, article in enumerate(articles, 1):
            symptoms = reported(article)
            value = digest(article, symptoms)
            document = _document(article, symptoms)
            writer.add_document(**document)
            texts[article.id] = _embedded_texts(document)
            entries[str(article.path)] = _entry(article, value, _vector_key(texts[article.id], embedder))
            report.added.append(article.id)
            if progress:
                progress(i, len(articles))
        writer.commit()
        ix.close()
        (staging / "kb-index.json").write_text(json.dumps(index_meta(project, audience)))
        # Complete before the swap: a `kb search` right after it needs the stamps and
        # the vocabulary (without it, Chinese queries are cut into single characters).
        _write_sidecars(staging, stamps, entries)
        _vectors(project, staging, entries, texts, embedder, report, embedding_progress)
        swap_into_place(staging, target)


def _incremental(project, audience, target, previous, stamps, reported, report, progress,
                 embedder) -> tuple[dict[str, dict], dict[str, tuple[str, str]]]:
    """Update the index in place; returns the manifest entries and the embedded texts of
    each article (re)indexed."""
    from whoosh import index as windex

    from kb.articles import parse_article

    entries, texts = dict(previous["articles"]), {}
    links = str(project.ticket_store_path)
    not_articles = {links, str(project.out_of_scope_path)}
    if stamps.get(links) != previous["stamps"].get(links):
        examine = [p for p in stamps if p not in not_articles]  # reported symptoms may have changed anywhere
    else:
        examine = [p for p, value in stamps.items() if previous["stamps"].get(p) != value and p not in not_articles]
    gone = [p for p in entries if p not in stamps]

    ix = windex.open_dir(str(target))
    ix.reader().close()  # opens every segment: a missing or truncated one raises, and is rebuilt
    writer = None

    def write():
        nonlocal writer
        writer = writer or ix.writer()
        return writer

    try:
        for path in gone:
            write().delete_by_term("id", entries.pop(path)["id"])
        for i, path in enumerate(examine, 1):
            if progress:
                progress(i, len(examine))
            article, _ = parse_article(Path(path), project.display(Path(path)))
            before = entries.get(path)
            if article is None or not is_searchable(article, audience):
                if before:
                    write().delete_by_term("id", entries.pop(path)["id"])
                    report.deleted.append(before["id"])
                continue
            symptoms = reported(article)
            value = digest(article, symptoms)
            document = _document(article, symptoms)
            texts[article.id] = _embedded_texts(document)  # a moved project: found by key, not embedded
            if before and before["digest"] == value:
                continue
            if before and before["id"] != article.id:
                write().delete_by_term("id", before["id"])  # its id was edited
            write().update_document(**document)
            entries[path] = _entry(article, value, _vector_key(texts[article.id], embedder))
            (report.updated if before else report.added).append(article.id)
        report.deleted += [previous["articles"][p]["id"] for p in gone]
        changed = writer is not None
        if writer:
            writer.commit()
            writer = None
    finally:
        if writer:
            writer.cancel()
        ix.close()
    report.unchanged = len(entries) - len(report.added) - len(report.updated)
    _write_sidecars(target, stamps, entries, vocabulary=changed)
    make_readable(target)  # the new segment files were written with the umask's modes
    return entries, texts


def _write_sidecars(target: Path, stamps: dict[str, str], entries: dict[str, dict], vocabulary: bool = True) -> None:
    # Every article file, not only the indexed ones: a draft turned validated must
    # make the public index stale too.
    _atomic_write(target / "stamps.json", json.dumps(stamps, ensure_ascii=False))
    _atomic_write(target / MANIFEST, json.dumps(entries, ensure_ascii=False))
    if not vocabulary:  # the index did not change
        return
    from whoosh import index as windex

    ix = windex.open_dir(str(target))
    with ix.reader() as reader:
        words = _live_chinese_words(reader)
    ix.close()
    _atomic_write(target / "vocabulary.txt", "\n".join(f"{w}\t{n}" for w, n in sorted(words.items())))


def _live_chinese_words(reader) -> dict[str, int]:
    """The Chinese words of the indexed fields that some live document has, with the
    number of articles that have them (the query segmenter's word frequencies). A segment
    keeps the terms of its deleted documents until it is merged; were they in the
    vocabulary, a query would be segmented into a word nothing matches any more (视频会议
    instead of 视频 + 会议 once the only article with 视频会议 is gone)."""
    words: dict[str, int] = {}
    for leaf, _ in reader.leaf_readers():
        deleted = leaf.doc_count_all() - leaf.doc_count()
        in_leaf: dict[str, int] = {}
        for fieldname in FIELDS:
            for term in leaf.lexicon(fieldname):
                word = term.decode("utf-8") if isinstance(term, bytes) else term
                if not any("\u4e00" <= ch <= "\u9fff" for ch in word):
                    continue
                count = leaf.doc_frequency(fieldname, term)  # deleted documents included
                if count <= deleted:  # only then can every document with it be deleted
                    count = sum(1 for n in leaf.postings(fieldname, term).all_ids() if not leaf.is_deleted(n))
                in_leaf[word] = max(in_leaf.get(word, 0), count)  # articles with it in either field, about
        for word, count in in_leaf.items():
            if count:
                words[word] = words.get(word, 0) + count
    # Words jieba's HMM made up from a single article (摄像头别人, 时候报) would win a
    # query's segmentation over the real words they span; a made-up word used by a few
    # articles (a product name) is kept.
    from kb.search.analysis import dictionary_words

    known = dictionary_words()
    return {w: n for w, n in words.items() if n >= MIN_GUESSED_WORD_ARTICLES or known.get(w)}


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def staleness(project: Project, audience: str) -> list[Path]:
    """Article files added, changed or removed since the index was written (cheap: stat
    only). Raises IndexMissing when there is no index for the audience."""
    target = index_dir(project, audience)
    try:
        stamps = json.loads((target / "stamps.json").read_text(encoding="utf-8"))
        meta = json.loads((target / "kb-index.json").read_text())
    except (OSError, ValueError):
        raise IndexMissing(f"{project.display(target)}: 还没有{ '公开' if audience == 'public' else '内部'}搜索索引"
                           f"（运行 kb index --project {project.root}{'' if audience == 'public' else ' --audience internal'}）") from None
    if meta != index_meta(project, audience):
        return [target]  # another version, or the synonyms changed: rebuilt in full
    now = watched_stamps(project)
    return [Path(p) for p, value in now.items() if stamps.get(p) != value] + [Path(p) for p in stamps if p not in now]
