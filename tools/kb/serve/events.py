"""The event store of `kb serve`: searches, results opened and votes, in SQLite
(`docs/_data/events.sqlite`, WAL, git-ignored like the ticket store).

What is kept, and nothing else (no IP address, no cookie, no user agent, no referrer):

| table | columns |
| --- | --- |
| searches | a random id (the page gets it as `X-KB-Search-Id`), time (UTC, to the second), day (project timezone), audience, the query scrubbed, result count, up to 5 top article ids, whether search was confident |
| clicks | search id, article opened from its results, time, day, audience |
| votes | article, helpful (1/0), comment scrubbed (plain text, at most 500 characters), the search id it came from if any, time, day, audience |

Queries and comments go through the ticket scrubber (`kb.tickets.privacy.Scrubber`, with
the service centre's own numbers kept and the reporters' names `kb link` remembers as
digests) on the writer thread, before anything reaches the disk. A comment is stored as
the text the caller typed: markup in it is never interpreted, and every output escapes it.

Requests never wait for the disk: they put events on a queue, and one writer thread
writes them in a single transaction per batch (every FLUSH_SECONDS, or sooner when
BATCH_EVENTS are waiting). `EventWriter.close()` writes what is queued before it
returns; a batch that fails to write (disk full, database locked) is kept and retried,
never dropped. The queue is bounded (QUEUE_LIMIT): past it `put` refuses, and the server
answers 503 to a vote rather than pretend to have kept it.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from kb.sqlite_wal import use_wal

SCHEMA_VERSION = 1
FLUSH_SECONDS = 0.2
BATCH_EVENTS = 500
QUEUE_LIMIT = 100_000     # events waiting for the disk: about 50 MB at worst
RETRY_SECONDS = 1.0
TOP_IDS = 5
COMMENT_LIMIT = 500       # characters, after trimming

_SCHEMA = """
CREATE TABLE searches (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,           -- UTC, YYYY-MM-DDTHH:MM:SSZ
    day TEXT NOT NULL,          -- YYYY-MM-DD, project timezone
    audience TEXT NOT NULL,
    query TEXT NOT NULL,        -- scrubbed
    results INTEGER NOT NULL,
    top TEXT NOT NULL,          -- up to 5 article ids, space-separated, best first
    confident INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX searches_by_day ON searches (day);
CREATE TABLE clicks (
    search_id TEXT NOT NULL, article TEXT NOT NULL, at TEXT NOT NULL, day TEXT NOT NULL, audience TEXT NOT NULL
);
CREATE INDEX clicks_by_search ON clicks (search_id);
CREATE TABLE votes (
    id INTEGER PRIMARY KEY,
    article TEXT NOT NULL, helpful INTEGER NOT NULL,
    comment TEXT NOT NULL,      -- scrubbed plain text, '' when none
    search_id TEXT,             -- the search the article was opened from, when known
    at TEXT NOT NULL, day TEXT NOT NULL, audience TEXT NOT NULL
);
CREATE INDEX votes_by_article ON votes (article);
"""


class EventStoreError(ValueError):
    """The event store cannot be used; the message names the file and what to do."""


def new_search_id() -> str:
    return secrets.token_hex(16)


def is_search_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def plain_comment(text: str) -> str:
    """A caller's comment as stored: NFC, trimmed, control characters but line breaks
    dropped (they would corrupt a terminal or a table)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    return "".join(c for c in text if c == "\n" or unicodedata.category(c)[0] != "C").strip()


@dataclass(frozen=True, slots=True)
class Stamp:
    """When an event happened: UTC time to the second, and the day in the project's timezone."""

    at: str
    day: str

    @classmethod
    def now(cls, zone: ZoneInfo) -> Stamp:
        moment = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        return cls(moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.astimezone(zone).date().isoformat())


@dataclass(frozen=True, slots=True)
class SearchEvent:
    id: str
    stamp: Stamp
    audience: str
    query: str             # as typed: scrubbed on the writer thread
    results: int
    top: tuple[str, ...]
    confident: bool


@dataclass(frozen=True, slots=True)
class ClickEvent:
    search_id: str
    article: str
    stamp: Stamp
    audience: str


@dataclass(frozen=True, slots=True)
class VoteEvent:
    article: str
    helpful: bool
    comment: str           # plain_comment of what was sent: scrubbed on the writer thread
    search_id: str | None
    stamp: Stamp
    audience: str


Event = SearchEvent | ClickEvent | VoteEvent


class EventStore:
    """One connection to the event store; the writer thread and the reports each open their own."""

    def __init__(self, path: Path, display: str | None = None, *, create: bool = True):
        self.path = Path(path)
        self.display = display or str(path)
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # Readers open it read-write too: a read-only connection to a WAL database
            # fails while the server has it open in some setups (no write access to -shm).
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            if create:
                use_wal(self.db)
                self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
                self._create()
            elif self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"版本 {self.db.execute('PRAGMA user_version').fetchone()[0]}，本程序只认 {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as err:
            raise EventStoreError(f"{self.display}: 反馈数据库无法打开（{err}）；如已损坏，把它移走后重新启动 kb serve") from None

    def _create(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version != 0:
            raise EventStoreError(f"{self.display}: 反馈数据库的版本（{version}）与本程序（{SCHEMA_VERSION}）不符；请升级 kb")
        with self.transaction():
            if self.db.execute("PRAGMA user_version").fetchone()[0] == 0:  # not created meanwhile
                for statement in _SCHEMA.split(";"):  # executescript would commit first
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @classmethod
    def exists(cls, path: Path) -> bool:
        return path.is_file() and path.stat().st_size > 0

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def write(self, events: list[Event], scrub: Callable[[str], str]) -> None:
        """Store `events` in one transaction, their free text scrubbed."""
        searches, clicks, votes = [], [], []
        for e in events:
            if isinstance(e, SearchEvent):
                searches.append((e.id, e.stamp.at, e.stamp.day, e.audience, scrub(e.query), e.results,
                                 " ".join(e.top[:TOP_IDS]), int(e.confident)))
            elif isinstance(e, ClickEvent):
                clicks.append((e.search_id, e.article, e.stamp.at, e.stamp.day, e.audience))
            else:
                votes.append((e.article, int(e.helpful), scrub(e.comment), e.search_id, e.stamp.at, e.stamp.day, e.audience))
        with self.transaction():
            # OR IGNORE: a retried batch that had in fact been committed counts nothing twice.
            self.db.executemany("INSERT OR IGNORE INTO searches VALUES (?, ?, ?, ?, ?, ?, ?, ?)", searches)
            self.db.executemany("INSERT INTO clicks VALUES (?, ?, ?, ?, ?)", clicks)
            self.db.executemany("INSERT INTO votes (article, helpful, comment, search_id, at, day, audience) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)", votes)

    def count(self, table: str) -> int:
        assert table in ("searches", "clicks", "votes")
        return self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    # Aggregates for `kb report feedback`: every one over the events of `audience` from `since` (a day) on.

    def vote_counts(self, audience: str, since: str) -> dict[str, tuple[int, int]]:
        """article → (helpful, not helpful)."""
        return {a: (h, n) for a, h, n in self.db.execute(
            "SELECT article, sum(helpful), sum(1 - helpful) FROM votes WHERE audience = ? AND day >= ? GROUP BY article",
            (audience, since))}

    def recent_comments(self, audience: str, since: str, per_article: int) -> dict[str, list[tuple[str, bool, str]]]:
        """article → its latest comments, newest first: (day, helpful, comment)."""
        found: dict[str, list[tuple[str, bool, str]]] = {}
        for article, day, helpful, comment in self.db.execute(
                "SELECT article, day, helpful, comment FROM votes WHERE audience = ? AND day >= ? AND comment != '' "
                "ORDER BY id DESC", (audience, since)):
            if len(found.setdefault(article, [])) < per_article:
                found[article].append((day, bool(helpful), comment))
        return found

    def search_counts(self, audience: str, since: str) -> dict[str, int]:
        """searches; with no result; with a result opened; that ended on an article the
        caller then voted helpful (a vote carrying the search's id, for an article opened
        from it)."""
        row = self.db.execute(
            """SELECT count(*), coalesce(sum(s.results = 0), 0),
                      coalesce(sum(EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.id)), 0),
                      coalesce(sum(EXISTS (SELECT 1 FROM votes v JOIN clicks c ON c.search_id = v.search_id
                                           AND c.article = v.article WHERE v.search_id = s.id AND v.helpful = 1)), 0)
               FROM searches s WHERE s.audience = ? AND s.day >= ?""", (audience, since)).fetchone()
        return dict(zip(("searches", "zero_results", "clicked", "successful"), row))

    def top_queries(self, audience: str, since: str, kind: str, limit: int) -> list[tuple[str, int, str]]:
        """The most frequent (query, searches, last day) among searches with no result
        (`kind` "zero") or with results none of which was opened ("no_click")."""
        condition = {"zero": "s.results = 0",
                     "no_click": "s.results > 0 AND NOT EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.id)"}[kind]
        return self.db.execute(
            f"""SELECT lower(trim(s.query)) AS q, count(*) AS n, max(s.day) FROM searches s
                WHERE s.audience = ? AND s.day >= ? AND {condition} GROUP BY q ORDER BY n DESC, q LIMIT ?""",
            (audience, since, limit)).fetchall()

    def opened_from_searches(self) -> list[tuple[str, str, int]]:
        """(query, article, searches): what callers searched and then opened, both
        audiences, except where the caller voted the article unhelpful from that search;
        for learning callers' words (kb.reports.vocabulary)."""
        return self.db.execute(
            """SELECT lower(trim(s.query)) AS q, c.article, count(DISTINCT s.id) FROM searches s
               JOIN clicks c ON c.search_id = s.id
               WHERE NOT EXISTS (SELECT 1 FROM votes v WHERE v.search_id = s.id AND v.article = c.article
                                 AND v.helpful = 0)
               GROUP BY q, c.article ORDER BY q, c.article""").fetchall()


@dataclass(frozen=True)
class Backup:
    path: Path
    searches: int
    clicks: int
    votes: int

    @property
    def events(self) -> int:
        return self.searches + self.clicks + self.votes


def backup_store(source: Path, dest: Path, display: str | None = None) -> Backup:
    """Copy the event store at `source` to the file `dest`, as it was at one moment, even
    while `kb serve` is writing to it: SQLite's online backup, in one step (one read
    transaction, which in WAL mode never holds the writer up). The copy is written to a
    temporary file beside `dest`, checked, made a single self-contained file (rollback
    journal, no -wal beside it), flushed to disk and only then renamed over `dest`: there
    is never a half-written backup at `dest`, and a failed backup leaves what was there."""
    display = display or str(source)
    dest = Path(dest)
    if not EventStore.exists(source):
        raise EventStoreError(f"{display}: 还没有反馈数据，没有可备份的内容（用 kb serve 提供站点后才会记录）")
    if dest.is_dir():
        raise EventStoreError(f"{dest}: 是一个文件夹；请给出备份文件的路径，例如 {dest / 'events-backup.sqlite'}")
    if not dest.parent.is_dir():
        raise EventStoreError(f"{dest}: 备份所在的文件夹 {dest.parent} 不存在；请先创建它，或换一个路径")
    if dest.exists() and dest.resolve() == Path(source).resolve():
        raise EventStoreError(f"{dest}: 这就是反馈数据库本身；请把备份写到别的文件")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as err:
        raise EventStoreError(f"{dest}: 无法在 {dest.parent} 中写入备份（{err.strerror or err}）；请检查权限和磁盘空间") from None
    os.close(fd)
    tmp = Path(name)
    try:
        with EventStore(source, display, create=False) as store:
            copy = sqlite3.connect(tmp, isolation_level=None)
            try:
                store.db.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
                if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("备份副本校验失败")
                counts = [copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                          for table in ("searches", "clicks", "votes")]
            finally:
                copy.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        _fsync_folder(dest.parent)
    except sqlite3.Error as err:
        _remove(tmp)
        raise EventStoreError(f"{display}: 备份失败（{err}）；{dest} 未改动，请稍后重试") from None
    except OSError as err:
        _remove(tmp)
        raise EventStoreError(f"{dest}: 备份无法写入（{err.strerror or err}）；请检查权限和磁盘空间，{dest} 未改动") from None
    except BaseException:
        _remove(tmp)
        raise
    return Backup(dest, *counts)


def _remove(database: Path) -> None:
    """A database file and what SQLite may have left beside it."""
    for path in (database, *(database.with_name(database.name + s) for s in ("-journal", "-wal", "-shm"))):
        path.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (where the system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class QueueFull(Exception):
    """More events are waiting for the disk than QUEUE_LIMIT."""


class EventWriter:
    """Takes events from request threads and writes them in batches on its own thread."""

    def __init__(self, path: Path, scrub: Callable[[str], str], display: str | None = None, *,
                 flush_seconds: float = FLUSH_SECONDS, batch_events: int = BATCH_EVENTS):
        self.store = EventStore(path, display)  # opened here: a store that cannot be used stops the start
        self.scrub = scrub
        self.flush_seconds, self.batch_events = flush_seconds, batch_events
        self.queue: queue.Queue[Event | None] = queue.Queue(QUEUE_LIMIT)
        self.written = 0
        self.refused = 0
        self._thread = threading.Thread(target=self._run, name="kb-events", daemon=True)
        self._thread.start()

    def put(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self.refused += 1
            raise QueueFull from None

    @property
    def waiting(self) -> int:
        return self.queue.qsize()

    def close(self) -> None:
        """Write every queued event, then stop. Call after the last request has finished."""
        self.queue.put(None)
        self._thread.join()
        self.store.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self.queue.get()
            if first is None:
                break
            batch = [first]
            deadline = time.monotonic() + self.flush_seconds
            while len(batch) < self.batch_events:
                try:
                    event = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if event is None:
                    stopping = True
                    break
                batch.append(event)
            self._write(batch)

    def _safe_scrub(self, text: str) -> str:
        try:
            return self.scrub(text)
        except Exception:  # a text the scrubber cannot read is not stored at all
            return "〔已隐去〕" if text else text

    def _write(self, batch: list[Event]) -> None:
        said = False
        while True:
            try:
                self.store.write(batch, self._safe_scrub)
                self.written += len(batch)
                return
            except sqlite3.Error as err:  # kept in memory and retried: an event is never dropped
                if not said:
                    print(f"警告：{self.store.display}: 写入反馈数据失败（{err}），{len(batch)} 条事件稍后重试",
                          file=sys.stderr, flush=True)
                    said = True
                time.sleep(RETRY_SECONDS)
