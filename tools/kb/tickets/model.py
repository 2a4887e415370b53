"""What a ticket export turns into: tickets, the rows that could not be used, and how
the file was read (encoding, which column fed which field)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Ticket:
    """One helpdesk ticket. Times are as exported: naive unless the export carried a
    timezone (applying the project's timezone is a later step's job)."""

    id: str
    opened_at: dt.datetime
    description: str
    resolution: str            # may be empty: a ticket still open has none yet
    responded_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    onsite_at: dt.datetime | None = None
    onsite: bool | None = None  # None: the export does not say
    priority: str = ""
    module: str = ""
    notes: str = ""
    reporter: str = ""
    phone: str = ""
    email: str = ""
    org: str = ""
    row: int = 0               # row in the export (as Excel numbers it, header = 1)

    @property
    def was_onsite(self) -> bool:
        """On-site visit: the 是否现场 flag, or else an arrival time being filled in."""
        return self.onsite if self.onsite is not None else self.onsite_at is not None


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row that was left out, and why; the reason is shown to the user as is, in reports
    and on the internal site, so it names the column and the problem, never a cell's text."""

    path: str
    row_number: int  # CSV, .xlsx: Excel row (header = 1); JSON Lines: line; JSON array: item (1 = first)
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.row_number}: {self.reason}"


@dataclass
class TicketBatch:
    """The result of reading one export file (kb.tickets.reader.read_tickets; row by row:
    open_export)."""

    path: Path
    format: str                      # "csv" | "xlsx" | "json" | "jsonl"
    encoding: str                    # codec actually used, e.g. "utf-8-sig", "gb18030"; "" for .xlsx
    columns: dict[str, str]          # our field → the header it was read from
    tickets: list[Ticket] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    blank_rows: int = 0              # rows with no value at all (skipped, nothing lost)

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)

    def __len__(self) -> int:
        return len(self.tickets)
