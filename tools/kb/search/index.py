"""The whoosh index in the project's search_index/: one index per audience, built from the
Article model, updated incrementally, written under a lock and committed atomically.

Layout: search_index/<audience>/ holds the whoosh index (its TOC file is replaced
atomically on commit, so a reader sees the old or the new generation, never a mix), plus
`stamps.json` (path → mtime:size, for a cheap staleness check at query time) and
`vocabulary.txt` (the Chinese words in the index, for segmenting queries without
loading jieba's 0.7 s dictionary).
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
from kb.staging import remove_stale, staging_folder, swap_into_place

# Bump when the schema or the analysis changes: a mismatching index is rebuilt in full.
INDEX_VERSION = "1"
FIELD_BOOSTS = {"title": 3.0, "symptoms": 2.5, "reported": 2.0, "body": 1.0}


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

    @property
    def documents(self) -> int:
        return len(self.added) + len(self.updated) + self.unchanged

    def to_dict(self) -> dict:
        return {**asdict(self), "documents": self.documents}


def reported_symptoms(project: Project) -> Callable[[Article], list[str]]:
    """The symptoms callers reported for each article, from `kb link`'s data file."""
    from kb.tickets.linking import article_symptoms, load_links

    table = article_symptoms(load_links(project))
    return lambda article: [s.phrase for s in table.get(article.id, [])]


def watched_files(project: Project) -> list[Path]:
    """Files whose change makes an index stale: every article, and the ticket links."""
    links = project.ticket_links_path
    return project.article_paths() + ([links] if links.is_file() else [])


def index_dir(project: Project, audience: str) -> Path:
    return project.search_index_dir / audience


def searchable(project: Project, audience: str) -> list[Article]:
    """What the search finds: the audience's articles less the archived (as on the site)."""
    return [a for a in project.articles_for(audience) if a.status != "archived"]


def schema():
    from whoosh.fields import ID, STORED, TEXT, Schema

    from kb.search.analysis import analyzer

    a = analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=a, stored=True, field_boost=FIELD_BOOSTS["title"]),
        symptoms=TEXT(analyzer=a, stored=True, field_boost=FIELD_BOOSTS["symptoms"]),
        reported=TEXT(analyzer=a, stored=True, field_boost=FIELD_BOOSTS["reported"]),
        body=TEXT(analyzer=a, stored=True, field_boost=FIELD_BOOSTS["body"]),
        module=ID(stored=True),
        path=STORED(),
        digest=STORED(),
    )


def digest(article: Article, reported: list[str]) -> str:
    h = hashlib.sha1(INDEX_VERSION.encode())
    h.update(article.path.read_bytes())
    h.update("\n".join(reported).encode())
    return h.hexdigest()


def stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_mtime_ns}:{st.st_size}"


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
                 progress: Callable[[int, int], None] | None = None) -> IndexReport:
    """Bring the audience's index in line with the articles: add new ones, re-index the
    changed ones, delete the removed ones. `reported(article)` gives the symptoms
    callers reported for it (from linked tickets), indexed as their own field."""
    import time

    started = time.perf_counter()
    reported = reported or reported_symptoms(project)
    report = IndexReport(audience)
    articles = searchable(project, audience)
    target = index_dir(project, audience)
    with writer_lock(project):
        remove_stale(target)  # what a killed `kb index` left beside the index
        current = _open_if_current(target)
        if current is None or rebuild:
            report.rebuilt = True
            _full_build(project, audience, articles, reported, report, progress)
        else:
            _incremental(*current, articles, reported, report, progress)
            _write_sidecars(project, target)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _open_if_current(target: Path):
    """(index, {id: digest}) of a current, readable index; None to rebuild it."""
    from whoosh import index as windex

    meta = target / "kb-index.json"
    try:
        if json.loads(meta.read_text())["version"] != INDEX_VERSION:
            return None
        ix = windex.open_dir(str(target))
        # Reading every stored document also finds a truncated or damaged segment.
        with ix.searcher() as searcher:
            indexed = {fields["id"]: fields["digest"] for fields in searcher.all_stored_fields()}
        return ix, indexed
    except Exception:  # missing, old or damaged (whoosh raises EOFError, struct.error...): rebuilt in full
        return None


def _document(article: Article, symptoms_reported: list[str], digest_value: str) -> dict:
    from kb.search.analysis import plain_text

    return {
        "id": article.id,
        "title": article.title,
        "symptoms": "\n".join(article.symptoms),
        "reported": "\n".join(symptoms_reported),
        "body": plain_text(article.body),
        "module": article.module,
        "path": str(article.path),
        "digest": digest_value,
    }


def _full_build(project, audience, articles, reported, report, progress) -> None:
    """Build into a fresh folder beside the index, then swap it in: a reader keeps the
    old index until the new one is complete."""
    from whoosh import index as windex

    target = index_dir(project, audience)
    with staging_folder(target) as staging:
        ix = windex.create_in(str(staging), schema())
        writer = ix.writer(limitmb=256)
        for i, article in enumerate(articles, 1):
            symptoms = reported(article)
            writer.add_document(**_document(article, symptoms, digest(article, symptoms)))
            report.added.append(article.id)
            if progress:
                progress(i, len(articles))
        writer.commit()
        (staging / "kb-index.json").write_text(json.dumps({"version": INDEX_VERSION, "audience": audience}))
        # Complete before the swap: a `kb search` right after it needs the stamps and
        # the vocabulary (without it, Chinese queries are cut into single characters).
        _write_sidecars(project, staging)
        swap_into_place(staging, target)


def _incremental(ix, indexed, articles, reported, report, progress) -> None:
    wanted = {a.id for a in articles}
    writer = None
    for i, article in enumerate(articles, 1):
        symptoms = reported(article)
        value = digest(article, symptoms)
        if indexed.get(article.id) != value:
            writer = writer or ix.writer()
            writer.update_document(**_document(article, symptoms, value))
            (report.updated if article.id in indexed else report.added).append(article.id)
        else:
            report.unchanged += 1
        if progress:
            progress(i, len(articles))
    for gone in sorted(set(indexed) - wanted):
        writer = writer or ix.writer()
        writer.delete_by_term("id", gone)
        report.deleted.append(gone)
    if writer:
        # Compacted into one segment. Costly at 10,000 articles (25 s for one change), but
        # whoosh3 3.54 left matches out of a segment that holds deleted documents
        # (test_incremental_update_equals_full_rebuild caught KB-0014 missing).
        writer.commit(optimize=True)
    ix.close()


def _write_sidecars(project: Project, target: Path) -> None:
    # Every article file, not only the indexed ones: a draft turned validated must
    # make the public index stale too.
    stamps = {str(p): stamp(p) for p in watched_files(project)}
    _atomic_write(target / "stamps.json", json.dumps(stamps, ensure_ascii=False))
    from whoosh import index as windex

    ix = windex.open_dir(str(target))
    with ix.reader() as reader:
        words = set()
        for fieldname in ("title", "symptoms", "reported", "body"):
            for term in reader.lexicon(fieldname):
                word = term.decode("utf-8") if isinstance(term, bytes) else term
                if any("\u4e00" <= ch <= "\u9fff" for ch in word):
                    words.add(word)
    ix.close()
    _atomic_write(target / "vocabulary.txt", "\n".join(sorted(words)))


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
    if meta.get("version") != INDEX_VERSION:
        return [target]
    changed = []
    seen = set()
    for path in watched_files(project):
        key = str(path)
        seen.add(key)
        if stamps.get(key) != stamp(path):
            changed.append(path)
    changed += [Path(p) for p in stamps if p not in seen]
    return changed
