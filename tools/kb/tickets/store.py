"""The ticket store: what `kb link` keeps of each ticket, in SQLite (`docs/_data/tickets.sqlite`).

Per ticket (upserted by ticket id, so re-running on the same or an overlapping export
counts nothing twice): its month and day in the project's timezone, module, the articles
it cites, its dangling references (URLs cut to their article part) and its symptom
phrases, scrubbed. No description, resolution, reporter or contact field is stored.

Besides tickets, the store remembers reporters' names as keyed BLAKE2b digests (never in
clear: a later run scrubs last week's reporters from this week's text by hashing windows
of it) and the exports it has read (content hash → rejected rows), so an unchanged export
is skipped on a re-run.

Writers serialise: `kb link` holds one write transaction (BEGIN IMMEDIATE) from the first
ticket to the last, so two runs at once queue instead of overwriting each other, and a
run that fails half-way leaves the store as it was. WAL mode lets the site build and
`kb search` read the last committed state meanwhile. Everything the site, the index and
the reports show is an aggregate computed here in SQL.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kb.sqlite_wal import use_wal

SCHEMA_VERSION = 1
LEGACY_FILE = "ticket_links.json"  # kb link before the store; migrated once, then removed
WAIT_SECONDS = 3600                # for another kb link to finish

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    month TEXT NOT NULL,        -- YYYY-MM of the creation time, project timezone
    opened TEXT NOT NULL,       -- YYYY-MM-DD, same
    module TEXT NOT NULL,
    linked INTEGER NOT NULL     -- 1 when it cites at least one live article
) WITHOUT ROWID;
CREATE TABLE ticket_articles (
    ticket_id TEXT NOT NULL, article_id TEXT NOT NULL, PRIMARY KEY (ticket_id, article_id)
) WITHOUT ROWID;
CREATE INDEX ticket_articles_by_article ON ticket_articles (article_id);
CREATE TABLE ticket_dangling (
    ticket_id TEXT NOT NULL, reference TEXT NOT NULL, reason TEXT NOT NULL,
    article_id TEXT,            -- set when the article exists but is archived
    PRIMARY KEY (ticket_id, reference)
) WITHOUT ROWID;
CREATE TABLE ticket_symptoms (
    ticket_id TEXT NOT NULL, position INTEGER NOT NULL, phrase TEXT NOT NULL,
    PRIMARY KEY (ticket_id, position)
) WITHOUT ROWID;
CREATE INDEX ticket_symptoms_by_phrase ON ticket_symptoms (phrase);
CREATE TABLE reporter_names (digest BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE imports (
    fingerprint TEXT PRIMARY KEY, path TEXT NOT NULL, tickets INTEGER NOT NULL,
    rejected TEXT NOT NULL,     -- JSON [[row, reason], ...]
    imported_at TEXT NOT NULL
) WITHOUT ROWID;
"""


class StoreError(ValueError):
    """The store cannot be used; the message names the file and what to do."""


@dataclass(frozen=True, slots=True)
class StoredTicket:
    """What is kept of one ticket."""

    id: str
    month: str
    opened: str
    module: str
    articles: tuple[str, ...]
    dangling: tuple[tuple[str, str, str | None], ...]   # (reference, reason, archived article id)
    symptoms: tuple[str, ...]                           # scrubbed phrases, in order, distinct


@dataclass(frozen=True, slots=True)
class PhraseCount:
    """A scrubbed phrase and the distinct tickets that reported it (for one article, or
    among tickets that cite none)."""

    article_id: str | None
    phrase: str
    tickets: int
    first_seen: str
    last_seen: str


class TicketStore:
    changed = False  # in a write transaction: whether content changed

    def __init__(self, path: Path, display: str | None = None):
        self.path = Path(path)
        self.display = display or str(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=WAIT_SECONDS, isolation_level=None)
            use_wal(self.db)
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
            # The phrase index takes inserts all over: with SQLite's default 2 MB cache a
            # million-ticket run spends its time re-reading index pages.
            self.db.execute("PRAGMA cache_size=-65536")
            self._create()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.display}: 工单数据库无法打开（{err}）；如已损坏，删除该文件后重新运行 kb link") from None

    def _create(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version not in (0, SCHEMA_VERSION):
            raise StoreError(f"{self.display}: 工单数据库的版本（{version}）比本程序新；请升级 kb，或删除该文件后重新运行 kb link")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if self.db.execute("PRAGMA user_version").fetchone()[0] == 0:  # not created meanwhile
                for statement in _SCHEMA.split(";"):  # executescript would commit first
                    self.db.execute(statement)
                self.db.execute("INSERT INTO meta VALUES ('name_key', ?)", (secrets.token_bytes(32),))
                self.db.execute("INSERT INTO meta VALUES ('version', ?)", (uuid.uuid4().hex,))
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    @classmethod
    def exists(cls, path: Path) -> bool:
        return path.is_file() and path.stat().st_size > 0

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> TicketStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Writing -----------------------------------------------------------------------------

    @contextmanager
    def writing(self, waiting: Callable[[], None] | None = None) -> Iterator[TicketStore]:
        """One write transaction: committed when the block ends, rolled back if it raises.
        `waiting()` is called once when another writer holds the store (we then wait).
        The version changes only when tickets, names or phrases did."""
        self.db.execute("PRAGMA busy_timeout = 0")
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
            if waiting:
                waiting()
            self.db.execute(f"PRAGMA busy_timeout = {WAIT_SECONDS * 1000}")
            self.db.execute("BEGIN IMMEDIATE")
        self.changed = False
        try:
            yield self
            if self.changed:
                self.db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (uuid.uuid4().hex,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def upsert(self, tickets: Iterable[StoredTicket]) -> None:
        tickets = list(tickets)
        self.changed = True
        ids = [(t.id,) for t in tickets]
        for table in ("ticket_articles", "ticket_dangling", "ticket_symptoms"):
            self.db.executemany(f"DELETE FROM {table} WHERE ticket_id = ?", ids)
        self.db.executemany("INSERT OR REPLACE INTO tickets VALUES (?, ?, ?, ?, ?)",
                            [(t.id, t.month, t.opened, t.module, int(bool(t.articles))) for t in tickets])
        self.db.executemany("INSERT INTO ticket_articles VALUES (?, ?)",
                            [(t.id, a) for t in tickets for a in t.articles])
        self.db.executemany("INSERT OR IGNORE INTO ticket_dangling VALUES (?, ?, ?, ?)",
                            [(t.id, *d) for t in tickets for d in t.dangling])
        self.db.executemany("INSERT INTO ticket_symptoms VALUES (?, ?, ?)",
                            [(t.id, i, p) for t in tickets for i, p in enumerate(t.symptoms)])

    @property
    def name_key(self) -> bytes:
        return self.db.execute("SELECT value FROM meta WHERE key = 'name_key'").fetchone()[0]

    def name_digests(self) -> frozenset[bytes]:
        return frozenset(d for (d,) in self.db.execute("SELECT digest FROM reporter_names"))

    def remember_names(self, digests: Iterable[bytes]) -> None:
        before = self.db.total_changes
        self.db.executemany("INSERT OR IGNORE INTO reporter_names VALUES (?)", [(d,) for d in digests])
        self.changed |= self.db.total_changes != before

    def rescrub_phrases(self, scrub: Callable[[str], str]) -> int:
        """Apply `scrub` to every stored phrase (names learned later in a run, or in a later
        run); returns how many distinct phrases changed."""
        changed = [(new, old) for (old,) in self.db.execute("SELECT DISTINCT phrase FROM ticket_symptoms").fetchall()
                   if (new := scrub(old)) != old]
        self.db.executemany("UPDATE ticket_symptoms SET phrase = ? WHERE phrase = ?", changed)
        self.changed |= bool(changed)
        return len(changed)

    def imported(self, fingerprint: str) -> list[tuple[int, str]] | None:
        """The rejected rows of an export read before with this fingerprint, else None."""
        row = self.db.execute("SELECT rejected FROM imports WHERE fingerprint = ?", (fingerprint,)).fetchone()
        return [tuple(r) for r in json.loads(row[0])] if row else None

    def record_import(self, fingerprint: str, path: str, tickets: int, rejected: list[tuple[int, str]]) -> None:
        # Not a change of content: the version (what indexes stamp) stays.
        self.db.execute("INSERT OR REPLACE INTO imports VALUES (?, ?, ?, ?, ?)",
                        (fingerprint, path, tickets, json.dumps(rejected, ensure_ascii=False),
                         time.strftime("%Y-%m-%dT%H:%M:%S")))

    # Reading ----------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """Changes with every committed write: what the search index stamps."""
        return self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]

    def counts(self) -> tuple[int, int]:
        """(tickets, tickets citing an article)."""
        return self.db.execute("SELECT COUNT(*), COALESCE(SUM(linked), 0) FROM tickets").fetchone()

    def tickets_since(self, month: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM tickets WHERE month >= ?", (month,)).fetchone()[0]

    def rate_table(self, column: str) -> list[tuple[str, int, int]]:
        """(month or module, tickets, linked), by the column's value."""
        if column not in ("month", "module"):  # it becomes part of the SQL
            raise ValueError(f"no rate table by {column!r}")
        return self.db.execute(f"SELECT {column}, COUNT(*), SUM(linked) FROM tickets GROUP BY {column} ORDER BY {column}").fetchall()

    def article_ticket_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT article_id, COUNT(*) FROM ticket_articles GROUP BY article_id ORDER BY article_id"))

    def article_phrases(self) -> list[PhraseCount]:
        """Each article's phrases with their distinct tickets, most reported first."""
        rows = self.db.execute("""
            SELECT a.article_id, s.phrase, COUNT(DISTINCT t.id), MIN(t.opened), MAX(t.opened)
            FROM ticket_articles a JOIN ticket_symptoms s ON s.ticket_id = a.ticket_id
                 JOIN tickets t ON t.id = a.ticket_id
            GROUP BY a.article_id, s.phrase ORDER BY a.article_id, 3 DESC, s.phrase""")
        return [PhraseCount(*row) for row in rows]

    def unlinked_phrases(self) -> list[PhraseCount]:
        """Phrases of tickets that cite no article (KCS gaps), most reported first."""
        rows = self.db.execute("""
            SELECT NULL, s.phrase, COUNT(DISTINCT t.id), MIN(t.opened), MAX(t.opened)
            FROM ticket_symptoms s JOIN tickets t ON t.id = s.ticket_id
            WHERE t.linked = 0 GROUP BY s.phrase ORDER BY 3 DESC, s.phrase""")
        return [PhraseCount(*row) for row in rows]

    def dangling(self) -> list[tuple[str, str, str]]:
        """(ticket id, reference, reason), by ticket id."""
        return self.db.execute("SELECT ticket_id, reference, reason FROM ticket_dangling ORDER BY ticket_id, reference").fetchall()

    def citations(self) -> list[tuple[str, str, str]]:
        """(ticket id, month, article id) for every live citation and every citation of an
        archived article, by ticket id."""
        return self.db.execute("""
            SELECT t.id, t.month, a.article_id FROM tickets t JOIN ticket_articles a ON a.ticket_id = t.id
            UNION ALL
            SELECT t.id, t.month, d.article_id FROM tickets t JOIN ticket_dangling d ON d.ticket_id = t.id
            WHERE d.article_id IS NOT NULL
            ORDER BY 1, 3""").fetchall()


def legacy_entries(path: Path, display: str) -> Iterator[tuple[str, dict]]:
    """The tickets of a `ticket_links.json` written by kb link before the store."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise StoreError(f"{display}: 无法读取旧的工单关联数据（{err}）；删除该文件后重新运行 kb link") from None
    tickets = data.get("tickets") if isinstance(data, dict) and data.get("version") == 1 else None
    if not isinstance(tickets, dict):
        raise StoreError(f"{display}: 不是 kb link 写出的工单关联数据；删除该文件后重新运行 kb link")
    yield from tickets.items()


def remove_file(path: Path) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
