"""`kb link`: read ticket exports into the ticket store and measure the links (KCS).

Each export is streamed in chunks: its tickets' references are resolved against the
articles, their symptom phrases extracted and scrubbed, and each ticket upserted into
the store (`kb.tickets.store`) inside one transaction for the whole run. Memory stays
bounded by the chunk, whatever the export's size. An export read before, unchanged, with
the same articles and settings, is skipped (its rejected rows are reported again).

Everything shown elsewhere is computed from the store: per-article symptoms (the site
and the search index), link rates by month and module, KCS gaps and dangling references
(the report and the internal 知识健康度 page).

What reaches the public site is narrower than what the internal one shows: a reported
phrase is public only when at least PUBLIC_MIN_TICKETS distinct tickets reported it in
those words, and it holds no run of 5 or more digits outside an error code that the
articles themselves mention (a number one caller read out is more likely an account or
a phone number the scrubber did not recognise than anything a reader needs).
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from kb.articles import Article, error_codes
from kb.project import Project
from kb.tickets.dates import local_time
from kb.tickets.model import RejectedRow, Ticket
from kb.tickets.privacy import Scrubber, reporter_names, scrub_url
from kb.tickets.references import ReferenceResolver
from kb.tickets.store import LEGACY_FILE, PhraseCount, StoredTicket, TicketStore, legacy_entries, remove_file
from kb.tickets.symptoms import extract_symptoms, group_counted, half_width

# Part of an export's fingerprint: change it when what is extracted or scrubbed changes,
# so that re-running on an export read before reads it again.
EXTRACTION_VERSION = "2"
CHUNK = 5000                # tickets per upsert; bounds memory
MAX_WORKERS = 4             # extraction processes on a machine with that many cores
GAP_LIMIT = 30              # gap groups reported (largest first)
SUGGESTION_MIN_SCORE = 5.0  # below this a search hit is too weak to call the gap covered
PUBLIC_MIN_TICKETS = 3
_LONG_DIGITS = re.compile(r"\d{5,}")
_SPACES = re.compile(r"\s+")

Suggester = Callable[[str], "tuple[str, str, float] | None"]


# The store of a project ------------------------------------------------------------------

def open_store(project: Project, *, create: bool = False) -> TicketStore | None:
    """The project's ticket store; None when `kb link` has never run (and not `create`).
    A `ticket_links.json` from before the store is migrated into it once (its phrases
    scrubbed again with today's scrubber) and then removed."""
    path = project.ticket_store_path
    legacy = project.data_dir / LEGACY_FILE
    if not (create or TicketStore.exists(path) or legacy.is_file()):
        return None
    store = TicketStore(path, project.display(path))
    if legacy.is_file():
        try:
            _migrate(project, store, legacy)
        except BaseException:
            store.close()
            raise
    return store


def _migrate(project: Project, store: TicketStore, legacy: Path) -> None:
    with store.writing():
        if store.db.execute("SELECT 1 FROM meta WHERE key = 'migrated'").fetchone() is None:
            scrubber = Scrubber(keep_numbers=_keep_numbers(project), remembered=store.name_digests(), key=store.name_key)
            batch = []
            for ticket_id, t in legacy_entries(legacy, project.display(legacy)):
                dangling = []
                for text, reason in t.get("dangling") or []:
                    archived = re.search(r"KB-\d{4,}", reason) if "已归档" in reason else None
                    dangling.append((_reference(text, scrubber.scrub), scrubber.scrub(reason), archived and archived.group()))
                batch.append(StoredTicket(
                    str(ticket_id), str(t["month"]), str(t["opened"]), scrubber.scrub(str(t.get("module") or "")),
                    tuple(t.get("articles") or ()), tuple(dict.fromkeys(dangling)),
                    tuple(dict.fromkeys(p for s in t.get("symptoms") or () if (p := scrubber.scrub(s))))))
            store.upsert(batch)
            store.db.execute("INSERT INTO meta VALUES ('migrated', ?)", (project.display(legacy),))
    remove_file(legacy)


def _keep_numbers(project: Project) -> list[str]:
    """The service centre's own numbers are not personal data."""
    return [h.number for h in project.commitments.hotlines] if project.commitments else []


def _reference(text: str, scrub: Callable[[str], str]) -> str:
    """A dangling reference as stored: a URL keeps only its article part."""
    return scrub_url(text) if "/kb/" in text.casefold() else scrub(text)


# Linking ---------------------------------------------------------------------------------

class _Scrubbing:
    """The scrubber of a run: names remembered from earlier runs (as digests) plus the
    reporters read so far, recompiled when a text is scrubbed after new names came;
    results cached per distinct text, since the same phrases recur across thousands of
    tickets."""

    def __init__(self, key: bytes, remembered: frozenset[bytes], keep: list[str]):
        self.key, self.remembered, self.keep = key, remembered, keep
        self.names: dict[str, None] = {}
        self._scrubber: Scrubber | None = None
        self.cache: dict[str, str] = {}

    def learn(self, names: Iterable[str]) -> None:
        new = [n for n in names if n not in self.names]
        if new:
            self.names.update(dict.fromkeys(new))
            self._scrubber = None
            self.cache.clear()

    @property
    def scrubber(self) -> Scrubber:
        if self._scrubber is None:
            self._scrubber = Scrubber(self.names, self.keep, remembered=self.remembered, key=self.key)
        return self._scrubber

    def __call__(self, text: str) -> str:
        if (done := self.cache.get(text)) is None:
            if len(self.cache) > 200_000:
                self.cache.clear()
            done = self.cache[text] = self.scrubber.scrub(text)
        return done


class _Extraction:
    """Chunks of tickets → what the store keeps of them, in submission order. Extraction
    is pure Python CPU work (the GIL would serialise threads), so with more than one
    core it runs in forked worker processes while this one reads the export and writes
    the store; at most two chunks per worker are in flight, which bounds memory."""

    started = False  # the first chunk is extracted in this process: small exports need no pool

    def __init__(self, resolver: ReferenceResolver, zone: ZoneInfo, scrub: _Scrubbing):
        self.jobs = min(os.cpu_count() or 1, MAX_WORKERS)
        self.pending: deque[Future] = deque()
        self.pool: ProcessPoolExecutor | None = None
        self.setup = (resolver, zone, scrub)
        _start_worker(*self.setup)

    def submit(self, tickets: list[Ticket], names: tuple[str, ...]) -> Iterator[list[StoredTicket]]:
        """Hand over a chunk; yields the chunks that are done, oldest first."""
        if self.pool is None and (self.jobs == 1 or not self.pending and not self.started):
            self.started = True
            yield _extract(tickets, names)
            return
        if self.pool is None:
            self.pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_start_worker, initargs=self.setup)
        self.pending.append(self.pool.submit(_extract, tickets, names))
        while len(self.pending) > 2 * self.jobs:
            yield self.pending.popleft().result()

    def finish(self) -> Iterator[list[StoredTicket]]:
        while self.pending:
            yield self.pending.popleft().result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


_worker: tuple[ReferenceResolver, ZoneInfo, _Scrubbing] | None = None


def _start_worker(resolver: ReferenceResolver, zone: ZoneInfo, scrub: _Scrubbing) -> None:
    global _worker
    _worker = (resolver, zone, scrub)


def _extract(tickets: list[Ticket], names: tuple[str, ...]) -> list[StoredTicket]:
    resolver, zone, scrub = _worker
    scrub.learn(names)
    return [stored_ticket(t, resolver, scrub, zone) for t in tickets]


def stored_ticket(ticket: Ticket, resolver: ReferenceResolver, scrub: Callable[[str], str], zone: ZoneInfo) -> StoredTicket:
    """What the store keeps of a ticket."""
    links, dangling = resolver.ticket_references(ticket)
    opened = local_time(ticket.opened_at, zone)
    phrases = (scrub(s.text) for s in extract_symptoms(ticket.description))
    return StoredTicket(
        ticket.id, f"{opened.year:04d}-{opened.month:02d}", opened.date().isoformat(), scrub(ticket.module),
        tuple(sorted({ref.article_id for ref in links})),
        tuple(sorted({(_reference(d.text, scrub), scrub(d.reason), d.article_id) for d in dangling})),
        tuple(dict.fromkeys(p for p in phrases if p)),
    )


def export_fingerprints(project: Project, paths: list[Path], encoding: str | None,
                        mapping: Path | None) -> list[str | None]:
    """Same export, same articles, same settings: the same stored result. The settings
    and articles are hashed once, then each file's bytes on a copy. None for a file that
    cannot be read (the reader then says why, in its words)."""
    settings = hashlib.sha256(f"{EXTRACTION_VERSION}\0{encoding}\0{project.timezone}\0{_keep_numbers(project)}\0".encode())
    try:
        if mapping is not None:
            settings.update(Path(mapping).read_bytes())
    except OSError:
        return [None] * len(paths)
    for article in sorted(project.articles, key=lambda a: a.id):
        settings.update(f"\0{article.id}\0{article.aliases}\0{article.title}\0{article.status}".encode())
    fingerprints = []
    for path in paths:
        h = settings.copy()
        try:
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        except OSError:
            fingerprints.append(None)
            continue
        fingerprints.append(h.hexdigest())
    return fingerprints


@dataclass
class LinkReport:
    tickets: int
    linked: int
    link_rate: float
    files: list[dict] = field(default_factory=list)
    rows_rejected: list[dict] = field(default_factory=list)
    articles: dict[str, dict] = field(default_factory=dict)
    dangling: list[dict] = field(default_factory=list)
    gaps: list[dict] = field(default_factory=list)
    by_month: list[dict] = field(default_factory=list)
    by_module: list[dict] = field(default_factory=list)
    data_file: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def link_exports(project: Project, paths: Iterable[Path], *, encoding: str | None = None,
                 mapping: Path | None = None, suggest: Suggester | None = None,
                 progress: Callable[[int, int | None], None] | None = None,
                 waiting: Callable[[], None] | None = None) -> LinkReport:
    """Read every export into the store, in one transaction, and report on the whole store.
    Every export is opened (encoding, header, columns checked) before anything is
    written; a TicketFileError then or later leaves the store as it was."""
    from kb.tickets.reader import open_export

    paths = [Path(p) for p in paths]
    fingerprints = export_fingerprints(project, paths, encoding, mapping)
    # Every export that will be read is opened (and so checked) before the store is
    # created or written; an export read before, unchanged, is not even opened.
    existing = open_store(project)
    try:
        streams = [None if existing and fp and existing.imported(fp) is not None
                   else open_export(p, encoding=encoding, mapping=mapping) for p, fp in zip(paths, fingerprints)]
    except BaseException:
        if existing:
            existing.close()
        raise
    with contextlib.ExitStack() as opened:
        for stream in streams:
            if stream is not None:
                opened.callback(stream.close)
        return _link(project, paths, fingerprints, streams, existing, suggest, progress, waiting)


def _link(project: Project, paths: list[Path], fingerprints: list[str | None], streams: list,
          existing: TicketStore | None, suggest: Suggester | None, progress, waiting) -> LinkReport:
    zone = ZoneInfo(project.timezone)
    resolver = ReferenceResolver.for_project(project)
    rejected: list[RejectedRow] = []
    files = []
    done = 0
    with existing or open_store(project, create=True) as store:
        with store.writing(waiting):
            scrub = _Scrubbing(store.name_key, store.name_digests(), _keep_numbers(project))
            extraction = _Extraction(resolver, zone, scrub)
            names_in: dict[str, list[str]] = {}  # reporter cell → its names: the same people call again and again

            def reporters(tickets: list[Ticket]) -> list[str]:
                if len(names_in) > 100_000:  # cells with a phone number each: bound the memory
                    names_in.clear()
                for cell in {t.reporter for t in tickets} - names_in.keys():
                    names_in[cell] = reporter_names([cell])
                return [n for cell in dict.fromkeys(t.reporter for t in tickets) for n in names_in[cell]]

            try:
                for path, fingerprint, stream in zip(paths, fingerprints, streams):
                    # Asked again: another run may have read it while this one waited (an
                    # export skipped when opening has no stream, and stays skipped).
                    previous = store.imported(fingerprint) if fingerprint else None
                    if previous is not None:
                        file_rejected = [RejectedRow(str(path), row, reason) for row, reason in previous]
                        rejected += file_rejected
                        files.append({"path": str(path), "skipped": True, "rejected": len(file_rejected)})
                        continue
                    batch: list[Ticket] = []
                    file_rejected = []

                    def hand_over(chunks: Iterable[list[StoredTicket]]) -> None:
                        nonlocal done
                        for chunk in chunks:
                            store.upsert(chunk)
                            done += len(chunk)
                            if progress:
                                progress(done, None)

                    for item in stream:
                        if isinstance(item, RejectedRow):
                            file_rejected.append(item)
                            continue
                        batch.append(item)
                        if len(batch) >= CHUNK:
                            scrub.learn(reporters(batch))
                            hand_over(extraction.submit(batch, tuple(scrub.names)))
                            batch = []
                    scrub.learn(reporters(batch))
                    hand_over(extraction.submit(batch, tuple(scrub.names)))
                    hand_over(extraction.finish())
                    rejected += file_rejected
                    if fingerprint:
                        store.record_import(fingerprint, str(path), stream.tickets,
                                            [(r.row_number, r.reason) for r in file_rejected])
                    files.append({"path": str(path), "skipped": False, "format": stream.format,
                                  "encoding": stream.encoding, "tickets": stream.tickets, "rejected": len(file_rejected)})
            finally:
                extraction.close()
            if scrub.names:
                # A name first read in a later chunk may be in phrases stored before it,
                # this run's or an earlier run's.
                store.rescrub_phrases(scrub.scrubber.scrub)
                store.remember_names(scrub.scrubber.digests(scrub.key))
        if progress:
            progress(done, done)
        report = link_report(project, store, rejected, suggest)
    report.files = files
    return report


# Reading the store -------------------------------------------------------------------------

@dataclass
class ArticleSymptom:
    phrase: str
    count: int          # tickets that reported it, in any of its variants
    first_seen: str
    last_seen: str


def known_error_codes(articles: Iterable[Article]) -> frozenset[str]:
    return frozenset(code for a in articles for text in (a.title, *a.symptoms, a.body) for code in error_codes(text))


def publishable(phrase: str, tickets: int, known_codes: frozenset[str]) -> bool:
    """Whether a reported phrase may appear on the public site (see the module docstring)."""
    if tickets < PUBLIC_MIN_TICKETS:
        return False
    rest = phrase
    for code in error_codes(phrase):
        if code in known_codes:
            rest = rest.replace(code, " ")
    return not _LONG_DIGITS.search(rest)


def group_phrases(rows: list[PhraseCount]) -> list[tuple[str | None, str, int, int, str, str]]:
    """Near-duplicate phrases merged: (article id, phrase shown, tickets in all variants,
    tickets in the words shown, first seen, last seen), most reported first."""
    dates: dict[tuple[str | None, str], tuple[str, str]] = {}
    for r in rows:
        written = _SPACES.sub(" ", half_width(r.phrase)).strip()
        first, last = dates.get((r.article_id, written), (r.first_seen, r.last_seen))
        dates[(r.article_id, written)] = (min(first, r.first_seen), max(last, r.last_seen))
    result = []
    for group in group_counted((r.article_id, r.phrase, r.tickets) for r in rows):
        seen = [dates[(group.article_id, v)] for v in group.variants]
        result.append((group.article_id, group.phrase, group.count, group.variants[group.phrase],
                       min(s[0] for s in seen), max(s[1] for s in seen)))
    return result


# The last store version's article phrases: after `kb link` reports, the search index it
# refreshes for the gap suggestions reads the same aggregates (seconds at a million tickets).
_phrases_read: list = [None, []]


def article_symptoms(project: Project, audience: str = "internal",
                     store: TicketStore | None = None) -> dict[str, list[ArticleSymptom]]:
    """Article id → the symptoms its tickets reported, near-duplicates merged, most
    reported first; for the public audience only the publishable ones."""
    own = store is None
    store = store or open_store(project)
    if store is None:
        return {}
    try:
        key = (str(store.path), store.version)
        if _phrases_read[0] != key:
            _phrases_read[:] = [key, store.article_phrases()]
        rows = _phrases_read[1]
    finally:
        if own:
            store.close()
    codes = known_error_codes(project.articles_for("public")) if audience == "public" else frozenset()
    result: dict[str, list[ArticleSymptom]] = {}
    for article_id, phrase, count, own_count, first, last in group_phrases(rows):
        if audience != "public" or publishable(phrase, own_count, codes):
            result.setdefault(article_id, []).append(ArticleSymptom(phrase, count, first, last))
    return result


def link_report(project: Project, store: TicketStore, rejected: list[RejectedRow],
                suggest: Suggester | None) -> LinkReport:
    """The KCS figures of everything in the store (internal: phrases are not filtered)."""
    tickets, linked = store.counts()
    per_article = article_symptoms(project, "internal", store)
    articles = {article_id: {"tickets": n, "symptoms": [asdict(s) for s in per_article.get(article_id, [])]}
                for article_id, n in store.article_ticket_counts().items()}
    gaps = []
    for _, phrase, count, _, _, _ in group_phrases(store.unlinked_phrases())[:GAP_LIMIT]:
        hit = suggest(phrase) if suggest else None
        gap = {"symptom": phrase, "tickets": count}
        if hit and hit[2] >= SUGGESTION_MIN_SCORE:
            gap["suggestion"] = {"id": hit[0], "title": hit[1], "score": round(hit[2], 2)}
        else:
            gap["suggestion"] = None
            gap["advice"] = "没有合适的文章——请新写一篇"
        gaps.append(gap)

    def rates(column: str) -> list[dict]:
        return [{column: value or "（未填）", "tickets": n, "linked": k, "link_rate": round(k / n, 3)}
                for value, n, k in store.rate_table(column)]
    return LinkReport(
        tickets=tickets, linked=linked, link_rate=round(linked / tickets, 3) if tickets else 0.0,
        rows_rejected=[{"path": r.path, "row": r.row_number, "reason": r.reason} for r in rejected],
        articles=articles,
        dangling=[{"ticket_id": t, "reference": ref, "reason": reason} for t, ref, reason in store.dangling()],
        gaps=gaps, by_month=rates("month"), by_module=rates("module"),
        data_file=store.display,
    )
